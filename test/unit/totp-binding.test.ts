// A TOTP secret is sealed for its account and credential together: the context must name that pair
// unambiguously, or a secret bound to one pair opens for another whose ids join to the same text.
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/accounts/secret-box.ts';
import { openTotpSecret, totpContext } from '../../src/factors/totp/totp-binding.ts';

describe('totpContext', () => {
  it("names the account and the credential unambiguously: ids containing ':' do not collide", () => {
    expect(totpContext('a:b', 'c')).not.toBe(totpContext('a', 'b:c'));
    const box = new SecretBox(Buffer.alloc(32, 3));
    const sealed = box.seal('JBSWY3DPEHPK3PXP', totpContext('a:b', 'c'));
    expect(openTotpSecret(box, { accountId: 'a:b', id: 'c' }, sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(openTotpSecret(box, { accountId: 'a', id: 'b:c' }, sealed)).toBeUndefined();
  });
});
