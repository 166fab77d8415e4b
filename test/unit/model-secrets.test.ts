import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/accounts/secret-box.ts';
import { ModelSecrets } from '../../src/oidc/model-secrets.ts';

const key = Buffer.alloc(32, 9);
const secrets = new ModelSecrets(key, new SecretBox(key));

describe('model secrets', () => {
  it('hashes ids with a key: the same value, the same key; another SECRETS_KEY, another key', () => {
    const token = 'Xq3sV0e1Kp2yzQ4dM5fN6gH7jR8kT9uW0aB1cD2eF3g';
    expect(secrets.key(token)).toBe(secrets.key(token));
    expect(secrets.key(token)).not.toContain(token);
    expect(secrets.key(`${token}x`)).not.toBe(secrets.key(token));
    const other = new ModelSecrets(Buffer.alloc(32, 8), new SecretBox(Buffer.alloc(32, 8)));
    expect(other.key(token)).not.toBe(secrets.key(token));
  });

  it('seals the payload whole and keeps only hashed lookup members beside it', () => {
    const payload = { jti: 'session-cookie-value', uid: 'session-uid', grantId: 'grant-1', accountId: 'account-1', kind: 'Session' };
    const stored = secrets.seal('Session', payload);
    // The account is a lookup member too (the account console lists sessions by it), hashed like the others.
    expect(Object.keys(stored).sort()).toEqual(['accountId', 'grantId', 'sealed', 'uid']);
    expect(stored.uid).toBe(secrets.key('session-uid'));
    expect(stored.grantId).toBe(secrets.key('grant-1'));
    expect(stored.accountId).toBe(secrets.key('account-1'));
    expect(JSON.stringify(stored)).not.toMatch(/session-cookie-value|session-uid|grant-1|account-1/);
    expect(secrets.open('Session', stored)).toEqual(payload);
  });

  it('opens a payload only as the model it was sealed for, and hands out a fresh object each time', () => {
    const stored = secrets.seal('AccessToken', { jti: 'at', scope: 'openid' });
    const first = secrets.open('AccessToken', stored)!;
    first.scope = 'changed by the caller';
    expect(secrets.open('AccessToken', stored)).toEqual({ jti: 'at', scope: 'openid' });
    expect(() => secrets.open('RefreshToken', stored)).toThrow();
  });

  it('treats a payload from before sealing as unreadable', () => {
    expect(secrets.open('AccessToken', { jti: 'plain' })).toBeUndefined();
  });
});
