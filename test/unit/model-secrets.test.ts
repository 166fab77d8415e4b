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

  it('seals the payload whole and keeps only hashed lookup members and its hashed id beside it', () => {
    const payload = { jti: 'session-cookie-value', uid: 'session-uid', grantId: 'grant-1', accountId: 'a1', kind: 'Session' };
    const key = secrets.key('session-cookie-value');
    const stored = secrets.seal('Session', key, payload);
    expect(Object.keys(stored).sort()).toEqual(['accountId', 'grantId', 'id', 'sealed', 'uid']);
    expect(stored.id).toBe(key);
    expect(stored.uid).toBe(secrets.key('session-uid'));
    expect(stored.grantId).toBe(secrets.key('grant-1'));
    expect(JSON.stringify(stored)).not.toMatch(/session-cookie-value|session-uid|grant-1/);
    expect(secrets.open('Session', stored, { member: 'jti', value: 'session-cookie-value' })).toEqual(payload);
    expect(secrets.open('Session', stored, { member: 'uid', value: 'session-uid' })).toEqual(payload);
  });

  it('opens a payload only as the model it was sealed for, and hands out a fresh object each time', () => {
    const stored = secrets.seal('AccessToken', secrets.key('at'), { jti: 'at', scope: 'openid' });
    const first = secrets.open('AccessToken', stored, { member: 'jti', value: 'at' })!;
    first.scope = 'changed by the caller';
    expect(secrets.open('AccessToken', stored, { member: 'jti', value: 'at' })).toEqual({ jti: 'at', scope: 'openid' });
    expect(secrets.open('RefreshToken', stored, { member: 'jti', value: 'at' })).toBeUndefined();
  });

  it("opens a payload only for the record it was sealed for: a victim's payload copied onto another row is refused", () => {
    const victim = secrets.seal('AccessToken', secrets.key('victim-token'), { jti: 'victim-token', accountId: 'victim' });
    // Copied whole (with its id hint), or with the attacker's id hint: neither opens as the attacker's token.
    expect(secrets.open('AccessToken', victim, { member: 'jti', value: 'attacker-token' })).toBeUndefined();
    expect(secrets.open('AccessToken', { ...victim, id: secrets.key('attacker-token') }, { member: 'jti', value: 'attacker-token' })).toBeUndefined();
    // Found by another uid than the one inside: refused too.
    const session = secrets.seal('Session', secrets.key('victim-cookie'), { jti: 'victim-cookie', uid: 'victim-uid' });
    expect(secrets.open('Session', { ...session, uid: secrets.key('attacker-uid') }, { member: 'uid', value: 'attacker-uid' })).toBeUndefined();
    // The victim's own record still opens (also after the cache saw the refused attempts).
    expect(secrets.open('AccessToken', victim, { member: 'jti', value: 'victim-token' })).toMatchObject({ accountId: 'victim' });
  });

  it('upgrades records sealed by the model only, and those in the clear, to records bound to their id', () => {
    const box = new SecretBox(key);
    const rowKey = secrets.key('old-token');
    const legacy = { sealed: box.seal(JSON.stringify({ jti: 'old-token', accountId: 'a' }), 'oidc:RefreshToken') };
    expect(secrets.open('RefreshToken', legacy, { member: 'jti', value: 'old-token' })).toBeUndefined();
    const upgraded = secrets.upgrade('RefreshToken', rowKey, legacy)!;
    expect(upgraded.id).toBe(rowKey);
    expect(secrets.open('RefreshToken', upgraded.payload, { member: 'jti', value: 'old-token' })).toMatchObject({ accountId: 'a' });
    expect(secrets.upgrade('RefreshToken', rowKey, upgraded.payload)).toBeUndefined();
    const plain = secrets.upgrade('AccessToken', 'plain-token', { jti: 'plain-token' })!;
    expect(plain.id).toBe(secrets.key('plain-token'));
    expect(secrets.open('AccessToken', plain.payload, { member: 'jti', value: 'plain-token' })).toEqual({ jti: 'plain-token' });
  });

  it('treats a payload from before sealing as unreadable', () => {
    expect(secrets.open('AccessToken', { jti: 'plain' }, { member: 'jti', value: 'plain' })).toBeUndefined();
  });
});
