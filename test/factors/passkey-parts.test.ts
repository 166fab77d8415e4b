// The small parts of the passkey core: challenge records as read back from flow state, the amr a
// proof carries, names, what passkey.js reports, and the texts every failure shows.
import { describe, expect, it } from 'vitest';
import { checkPasskeyChallenge, newPasskeyChallenge, readPasskeyChallenge, PASSKEY_CHALLENGE_TTL_MS } from '../../src/factors/passkey/passkey-challenge.ts';
import { passkeyAmr, passkeyProof } from '../../src/factors/passkey/passkey-proof.ts';
import { defaultPasskeyName, normalisePasskeyName, PASSKEY_NAME_MAX } from '../../src/factors/passkey/passkey-name.ts';
import { ceremonyError, PASSKEY_ERROR_FIELD } from '../../src/factors/passkey/passkey-response.ts';
import { PASSKEY_FAILURES } from '../../src/factors/passkey/passkey-failure.ts';
import { readPasskeyData, passkeyRecord, type PasskeyCredentialData } from '../../src/factors/passkey/passkey-credential.ts';
import { registrationAuditEvents, signInAuditEvents } from '../../src/factors/passkey/passkey-audit.ts';
import { deriveAssurance, ACR } from '../../src/oidc/assurance.ts';
import { loadCatalog, translator } from '../../src/i18n/i18n.ts';

describe('passkey challenge records', () => {
  const expected = { ceremony: 'authentication', use: 'second-factor', flowId: 'flow-1', accountId: 'acct-1' } as const;
  const issued = newPasskeyChallenge({ ...expected, now: 1_000 });

  it('are 32 random bytes, live for five minutes, for one flow, purpose and account', () => {
    expect(Buffer.from(issued.value, 'base64url')).toHaveLength(32);
    expect(newPasskeyChallenge({ ...expected, now: 1_000 }).value).not.toBe(issued.value);
    expect(checkPasskeyChallenge(issued, expected, 1_000 + PASSKEY_CHALLENGE_TTL_MS)).toEqual({ ok: true, challenge: issued });
    expect(checkPasskeyChallenge(issued, expected, 1_001 + PASSKEY_CHALLENGE_TTL_MS)).toEqual({ ok: false, reason: 'challenge-expired' });
    expect(checkPasskeyChallenge(issued, { ...expected, flowId: 'flow-2' }, 1_000)).toEqual({ ok: false, reason: 'wrong-flow' });
    expect(checkPasskeyChallenge(issued, { ...expected, use: 'passwordless' }, 1_000)).toEqual({ ok: false, reason: 'wrong-purpose' });
    expect(checkPasskeyChallenge(issued, { ...expected, ceremony: 'registration' }, 1_000)).toEqual({ ok: false, reason: 'wrong-purpose' });
    expect(checkPasskeyChallenge(issued, { ...expected, accountId: null }, 1_000)).toEqual({ ok: false, reason: 'wrong-account' });
    expect(checkPasskeyChallenge({ ...issued, usedAt: 2_000 }, expected, 2_000)).toEqual({ ok: false, reason: 'challenge-used' });
  });

  it('survive a round trip through JSON flow state, and anything else is no challenge', () => {
    expect(readPasskeyChallenge(JSON.parse(JSON.stringify(issued)))).toEqual(issued);
    for (const junk of [undefined, null, 'abc', 42, [], {}, { ...issued, value: '' }, { ...issued, ceremony: 'login' }, { ...issued, use: 'any' }, { ...issued, createdAt: '1' }, { ...issued, usedAt: 'no' }, { ...issued, accountId: 7 }]) {
      expect(readPasskeyChallenge(junk), JSON.stringify(junk)).toBeUndefined();
      expect(checkPasskeyChallenge(junk, expected, 1_000)).toEqual({ ok: false, reason: 'no-challenge' });
    }
  });
});

describe('what a passkey proves', () => {
  it('hwk for a device-bound key, swk for a synced one, user when verified', () => {
    expect(passkeyAmr({ backupEligible: false, userVerified: true })).toEqual(['hwk', 'user']);
    expect(passkeyAmr({ backupEligible: true, userVerified: true })).toEqual(['swk', 'user']);
    expect(passkeyAmr({ backupEligible: false, userVerified: false })).toEqual(['hwk']);
  });

  it('with user verification, multi-factor on its own: the phishing-resistant level and mfa without a password', () => {
    expect(deriveAssurance([passkeyProof({ credential: 'pk-1', backupEligible: true, userVerified: true, at: 1 })])).toEqual({ acr: ACR.phishingResistant, amr: ['swk', 'user', 'mfa'] });
    // Without user verification a passkey alone is one factor; after a password it is the strong second one.
    expect(deriveAssurance([passkeyProof({ credential: 'pk-1', backupEligible: false, userVerified: false, at: 1 })]).amr).not.toContain('mfa');
    const password = { factor: 'password', amr: ['pwd'], strength: 1 as const, at: 1 };
    expect(deriveAssurance([password, passkeyProof({ credential: 'pk-1', backupEligible: false, userVerified: false, at: 2 })])).toEqual({ acr: ACR.phishingResistant, amr: ['pwd', 'hwk', 'mfa'] });
    // A passkey that was not proved in this login (replayed) is substantial, never phishing-resistant.
    expect(deriveAssurance([password, { ...passkeyProof({ credential: 'pk-1', backupEligible: false, userVerified: false, at: 2 }), replayed: true }]).acr).toBe(ACR.substantial);
    expect(passkeyProof({ credential: 'pk-1', backupEligible: false, userVerified: false, at: 2 })).toMatchObject({ strength: 2, phishingResistant: true, credential: 'pk-1' });
  });
});

describe('passkey names', () => {
  it('are trimmed, single-spaced, without control or direction characters, at most 50 characters', () => {
    expect(normalisePasskeyName('  iPhone   van\tPat  ')).toEqual({ ok: true, name: 'iPhone van Pat' });
    expect(normalisePasskeyName('Pat\u202Eenohp\u202C')).toEqual({ ok: true, name: 'Pat enohp' });
    expect(normalisePasskeyName('Cafe\u0301 laptop')).toEqual({ ok: true, name: 'Café laptop' });
    expect(normalisePasskeyName('   ')).toEqual({ ok: true, name: undefined });
    expect(normalisePasskeyName(undefined)).toEqual({ ok: true, name: undefined });
    expect(normalisePasskeyName('😀'.repeat(PASSKEY_NAME_MAX))).toEqual({ ok: true, name: '😀'.repeat(PASSKEY_NAME_MAX) });
    expect(normalisePasskeyName('x'.repeat(PASSKEY_NAME_MAX + 1))).toEqual({ ok: false, reason: 'too-long' });
  });

  it('default to the browser and system the passkey was made on, in the page language', () => {
    const nl = translator('nl');
    const cases: Array<[string, string]> = [
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari op iPhone'],
      ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome op Android'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Edge op Windows'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox op Mac'],
      ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36', 'Samsung Internet op Android'],
      ['Mozilla/5.0 (X11; Linux x86_64)', 'Passkey op Linux'],
      ['curl/8.0', 'Passkey'],
    ];
    for (const [ua, name] of cases) expect(defaultPasskeyName(ua, nl), ua).toBe(name);
    expect(defaultPasskeyName(undefined, translator('en'))).toBe('Passkey');
    expect(defaultPasskeyName(cases[0]![0], translator('en'))).toBe('Safari on iPhone');
  });
});

describe('stored passkey data', () => {
  const data: PasskeyCredentialData = {
    credentialId: 'AQID', publicKey: 'pQECAyYgASFYIA', signCount: 3, transports: ['internal', 'hybrid'], backupEligible: true, backedUp: true,
    aaguid: '00000000-0000-0000-0000-000000000000', userHandle: 'dXNlcg', name: 'Telefoon', userVerifiedAtRegistration: true,
  };

  it('is read back as stored, unknown transports dropped', () => {
    const record = passkeyRecord('acct', data, 5);
    expect(readPasskeyData(record)).toEqual(data);
    expect(readPasskeyData({ ...record, data: { ...record.data, transports: ['usb', 'carrier-pigeon', 3] } })?.transports).toEqual(['usb']);
  });

  it('is refused when any part has the wrong shape, or the record id does not match the credential id', () => {
    const record = passkeyRecord('acct', data, 5);
    const broken: Array<Record<string, unknown>> = [
      { credentialId: 'not base64url!' }, { publicKey: 5 }, { signCount: -1 }, { signCount: 1.5 }, { signCount: 2 ** 32 }, { backupEligible: 'yes' },
      { aaguid: 'apple' }, { name: null }, { userHandle: '' }, { userVerifiedAtRegistration: undefined },
    ];
    for (const change of broken) expect(readPasskeyData({ ...record, data: { ...record.data, ...change } }), JSON.stringify(change)).toBeUndefined();
    expect(readPasskeyData({ ...record, id: 'passkey:other' })).toBeUndefined();
    expect(readPasskeyData({ ...record, type: 'totp' })).toBeUndefined();
  });
});

describe('what the page tells the patient', () => {
  it('reads the dialog outcome passkey.js posts, and nothing else', () => {
    expect(ceremonyError({ [PASSKEY_ERROR_FIELD]: 'cancelled' })).toBe('cancelled');
    expect(ceremonyError({ [PASSKEY_ERROR_FIELD]: 'exists' })).toBe('exists');
    expect(ceremonyError({ [PASSKEY_ERROR_FIELD]: 'failed' })).toBe('failed');
    expect(ceremonyError({ [PASSKEY_ERROR_FIELD]: '<script>' })).toBeUndefined();
    expect(ceremonyError({})).toBeUndefined();
  });

  it('has a 4xx status and a Dutch and English text for every failure and dialog outcome', () => {
    const nl = loadCatalog('nl');
    const en = loadCatalog('en');
    const keys = [...Object.values(PASSKEY_FAILURES).map((f) => f.messageKey), 'passkey.errors.cancelled', 'passkey.errors.exists', 'passkey.errors.failed'];
    for (const key of keys) {
      expect(nl.has(key), key).toBe(true);
      expect(en.has(key), key).toBe(true);
    }
    for (const [reason, info] of Object.entries(PASSKEY_FAILURES)) expect(info.status, reason).toBeGreaterThanOrEqual(400);
    for (const [reason, info] of Object.entries(PASSKEY_FAILURES)) expect(info.status, reason).toBeLessThan(500);
    expect(translator('nl')(PASSKEY_FAILURES['unknown-credential'].messageKey)).toMatch(/^Deze passkey kennen wij niet\./);
  });
});

describe('what the audit trail keeps', () => {
  const record = passkeyRecord('owner', {
    credentialId: 'AQID', publicKey: 'pQECAyYgASFYIA', signCount: 3, transports: [], backupEligible: true, backedUp: true,
    aaguid: '00000000-0000-0000-0000-000000000000', userHandle: 'dXNlcg', name: 'Telefoon', userVerifiedAtRegistration: true,
  }, 1);
  const challenge = newPasskeyChallenge({ ceremony: 'authentication', use: 'passwordless', flowId: 'f', accountId: null, now: 1 });

  it('writes a suspected clone on the owner’s account, next to the failed sign-in, without key material', () => {
    const events = signInAuditEvents(null, { ok: false, reason: 'counter-regression', challenge, clone: { recordId: record.id, accountId: 'owner', storedCount: 7, receivedCount: 7 } });
    expect(events).toEqual([
      { type: 'login.passkey.failed', accountId: 'owner', detail: { reason: 'counter-regression' } },
      { type: 'passkey.clone_suspected', accountId: 'owner', detail: { passkey: record.id, storedCount: 7, receivedCount: 7 } },
    ]);
    expect(JSON.stringify(events)).not.toContain('pQECAyYgASFYIA');
  });

  it('writes sign-ins and registrations with the passkey’s record id and what was proved', () => {
    const proof = passkeyProof({ credential: 'pk-1', backupEligible: true, userVerified: true, at: 2 });
    expect(signInAuditEvents(null, { ok: true, accountId: 'owner', record, proof, challenge })).toEqual([
      { type: 'login.passkey.ok', accountId: 'owner', detail: { passkey: record.id, amr: ['swk', 'user'] } },
    ]);
    expect(signInAuditEvents('acct', { ok: false, reason: 'other-account', challenge })).toEqual([{ type: 'login.passkey.failed', accountId: 'acct', detail: { reason: 'other-account' } }]);
    expect(registrationAuditEvents('owner', { ok: true, record, userVerified: false, challenge })).toEqual([
      { type: 'passkey.registered', accountId: 'owner', detail: { passkey: record.id, synced: true, userVerified: false } },
    ]);
    expect(registrationAuditEvents('owner', { ok: false, reason: 'already-registered' })).toEqual([
      { type: 'passkey.registration_failed', accountId: 'owner', detail: { reason: 'already-registered' } },
    ]);
  });
});
