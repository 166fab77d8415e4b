import { describe, expect, it } from 'vitest';
import { checkPassword } from '../../src/accounts/password-policy.ts';
import { hashPassword, verifyPassword } from '../../src/accounts/password-hash.ts';

const policy = { minLength: 8, maxLength: 128 };
const person = { username: 'jdevries', familyName: 'de Vries', givenName: 'Jan', email: 'jan.devries@example.nl' };

describe('password policy', () => {
  it('accepts a long unusual passphrase', () => {
    expect(checkPassword(policy, 'paars-konijn-fietst-naar-Utrecht', person)).toEqual([]);
  });

  it('enforces the length range in characters, not bytes', () => {
    expect(checkPassword(policy, 'kort1!', person)).toContain('too_short');
    expect(checkPassword(policy, 'ééééééé', person)).toContain('too_short');
    expect(checkPassword(policy, 'x'.repeat(129), person)).toContain('too_long');
  });

  it('blocks common Dutch and English passwords, also with digits or symbols appended', () => {
    for (const common of ['wachtwoord', 'Welkom2026!', 'password123', 'Feyenoord1', 'qwerty123']) {
      expect(checkPassword(policy, common, person), common).toContain('common');
    }
  });

  it('refuses the username, names and e-mail name inside the password', () => {
    expect(checkPassword(policy, 'XXjdevriesXX-2024', person)).toContain('contains_name');
    expect(checkPassword(policy, 'mijnnaamisdevries!', { ...person, familyName: 'devries' })).toContain('contains_name');
  });
});

describe('password hashing', () => {
  it('uses argon2id with at least 19 MiB and two passes', async () => {
    const hash = await hashPassword('paars-konijn-fietst');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('matches the same password typed in another Unicode form (NFKC)', async () => {
    const composed = 'café-wachtwoordzin';
    const decomposed = 'cafe\u0301-wachtwoordzin';
    const hash = await hashPassword(composed);
    expect(await verifyPassword(hash, decomposed)).toBe(true);
    expect(await verifyPassword(hash, 'cafe-wachtwoordzin')).toBe(false);
  });
});
