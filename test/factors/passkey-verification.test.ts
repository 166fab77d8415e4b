// Server-side passkey verification against responses recorded from Chromium's virtual
// authenticator (test/fixtures/passkey/README.md): each test changes one thing — challenge,
// origin, RP ID, used mark, counter, owner, bytes — and expects its typed failure. Nothing here
// may throw: whatever a browser or a script posts ends in a result.
import { describe, expect, it } from 'vitest';
import { verifyPasskeyRegistration, type RegistrationInput } from '../../src/factors/passkey/verify-registration.ts';
import { verifyPasskeyAuthentication, type AuthenticationInput } from '../../src/factors/passkey/verify-authentication.ts';
import { passkeyRecord, type PasskeyCredentialData } from '../../src/factors/passkey/passkey-credential.ts';
import { PASSKEY_CHALLENGE_TTL_MS, type PasskeyChallenge } from '../../src/factors/passkey/passkey-challenge.ts';
import { PASSKEY_RESPONSE_MAX_BYTES } from '../../src/factors/passkey/passkey-response.ts';
import type { CredentialRecord } from '../../src/store/port.ts';
import { fixture, recordedRp, type FixtureName, type PasskeyFixture } from '../fixtures/passkey/fixtures.ts';

// The accounts the recordings were made for (the test page's random ids).
const ALICE = fixture('device-bound-registration').challenge.accountId!;
const BOB = fixture('synced-registration').challenge.accountId!;

const at = (f: PasskeyFixture) => f.challenge.createdAt + 1000;

function registrationInput(name: FixtureName, change: Partial<RegistrationInput> = {}): RegistrationInput {
  const f = fixture(name);
  return {
    rp: recordedRp(f),
    challenge: f.challenge,
    flowId: f.challenge.flowId,
    use: f.challenge.use,
    accountId: f.challenge.accountId!,
    response: f.response,
    name: 'iPhone van Pat',
    now: at(f),
    ...change,
  };
}

/** The passkey as stored after its recorded registration, owned by `owner`. */
async function registered(name: FixtureName, owner: string, change: Partial<PasskeyCredentialData> = {}): Promise<CredentialRecord> {
  const result = await verifyPasskeyRegistration(registrationInput(name));
  if (!result.ok) throw new Error(`registration fixture ${name} does not verify: ${result.reason}`);
  return passkeyRecord(owner, { ...result.passkey, ...change }, at(fixture(name)));
}

function authenticationInput(name: FixtureName, stored: CredentialRecord[], change: Partial<AuthenticationInput> = {}): AuthenticationInput {
  const f = fixture(name);
  return {
    rp: recordedRp(f),
    challenge: f.challenge,
    flowId: f.challenge.flowId,
    use: f.challenge.use,
    accountId: f.challenge.accountId,
    response: f.response,
    now: at(f),
    findCredential: async (id) => stored.find((r) => r.data.credentialId === id),
    ...change,
  };
}

/** The fixture's challenge, as a flow of another kind would have stored it. */
function challengeOf(name: FixtureName, change: Partial<PasskeyChallenge>): PasskeyChallenge {
  return { ...fixture(name).challenge, ...change };
}

/** A recorded response as JSON; which fields are there depends on the ceremony. */
interface ResponseJson {
  id: string;
  rawId: string;
  type: string;
  response: { clientDataJSON: string; attestationObject: string; authenticatorData: string; signature: string; userHandle: string };
}

/** The response JSON with `edit` applied. */
function edited(name: FixtureName, edit: (response: ResponseJson) => void): string {
  const response = JSON.parse(fixture(name).response) as ResponseJson;
  edit(response);
  return JSON.stringify(response);
}

const flipLastByte = (base64url: string) => {
  const bytes = Buffer.from(base64url, 'base64url');
  bytes[bytes.length - 1]! ^= 0x01;
  return bytes.toString('base64url');
};

const clientData = (name: FixtureName) => JSON.parse(Buffer.from(JSON.parse(fixture(name).response).response.clientDataJSON, 'base64url').toString('utf8')) as Record<string, unknown>;
const encodeClientData = (data: Record<string, unknown>) => Buffer.from(JSON.stringify(data)).toString('base64url');

describe('passkey registration (recorded responses)', () => {
  it('accepts a device-bound passkey and returns what to store', async () => {
    const f = fixture('device-bound-registration');
    const result = await verifyPasskeyRegistration(registrationInput('device-bound-registration'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const sent = JSON.parse(f.response) as { id: string };
    expect(result.passkey).toMatchObject({
      credentialId: sent.id,
      transports: ['internal'],
      backupEligible: false,
      backedUp: false,
      userHandle: f.challenge.userHandle,
      name: 'iPhone van Pat',
      userVerifiedAtRegistration: true,
    });
    expect(result.passkey.aaguid).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.passkey.publicKey.length).toBeGreaterThan(40);
    expect(result.userVerified).toBe(true);
    // One attempt per challenge: the caller saves this spent challenge in the flow.
    expect(result.challenge).toEqual({ ...f.challenge, usedAt: at(f) });
  });

  it('accepts a synced passkey for second-factor use and records its backup flags', async () => {
    const result = await verifyPasskeyRegistration(registrationInput('synced-registration'));
    expect(result.ok && result.passkey).toMatchObject({ backupEligible: true, backedUp: true });
  });

  it('refuses a response to another challenge', async () => {
    const other = challengeOf('device-bound-registration', { value: Buffer.alloc(32, 7).toString('base64url') });
    const result = await verifyPasskeyRegistration(registrationInput('device-bound-registration', { challenge: other }));
    expect(result).toMatchObject({ ok: false, reason: 'challenge-mismatch', challenge: { usedAt: expect.any(Number) } });
  });

  it('refuses a response made on another origin', async () => {
    const f = fixture('device-bound-registration');
    const result = await verifyPasskeyRegistration(registrationInput('device-bound-registration', { rp: { rpId: f.rpId, origins: ['https://login.zorg.example'] } }));
    expect(result).toMatchObject({ ok: false, reason: 'wrong-origin' });
  });

  it('refuses a response for another RP ID', async () => {
    const f = fixture('device-bound-registration');
    const result = await verifyPasskeyRegistration(registrationInput('device-bound-registration', { rp: { rpId: 'zorg.example', origins: [f.origin] } }));
    expect(result).toMatchObject({ ok: false, reason: 'wrong-rp-id' });
  });

  it('refuses a replay: a challenge with the used mark, also the one the first attempt returned', async () => {
    const first = await verifyPasskeyRegistration(registrationInput('device-bound-registration'));
    expect(first.ok).toBe(true);
    const again = await verifyPasskeyRegistration(registrationInput('device-bound-registration', { challenge: first.challenge }));
    expect(again).toEqual({ ok: false, reason: 'challenge-used' });
  });

  it('refuses an expired challenge, a challenge of another flow, purpose or account, and none', async () => {
    const f = fixture('device-bound-registration');
    const late = f.challenge.createdAt + PASSKEY_CHALLENGE_TTL_MS + 1;
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { now: late }))).toEqual({ ok: false, reason: 'challenge-expired' });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { flowId: 'another-flow' }))).toEqual({ ok: false, reason: 'wrong-flow' });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { use: 'second-factor' }))).toEqual({ ok: false, reason: 'wrong-purpose' });
    const signInChallenge = challengeOf('device-bound-registration', { ceremony: 'authentication' });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { challenge: signInChallenge }))).toEqual({ ok: false, reason: 'wrong-purpose' });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { accountId: 'someone-else' }))).toEqual({ ok: false, reason: 'wrong-account' });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { challenge: undefined }))).toEqual({ ok: false, reason: 'no-challenge' });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { challenge: { value: 42 } }))).toEqual({ ok: false, reason: 'no-challenge' });
  });

  it('refuses a key whose id is not the one in the signed authenticator data', async () => {
    const other = Buffer.alloc(32, 1).toString('base64url');
    const response = edited('device-bound-registration', (r) => {
      r.id = other;
      r.rawId = other;
    });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { response }))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a sign-in response posted as a registration', async () => {
    const response = fixture('device-bound-sign-in-1').response;
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { response }))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('turns malformed and oversized input into typed failures, never an exception', async () => {
    const malformed = [
      undefined,
      '',
      'not json',
      '{}',
      'null',
      '[]',
      '"string"',
      JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key', response: {} }),
      edited('device-bound-registration', (r) => { r.type = 'password'; }),
      edited('device-bound-registration', (r) => { r.rawId = `${r.rawId}A`; }),
      edited('device-bound-registration', (r) => { r.response.clientDataJSON = 'not+base64/url'; }),
      edited('device-bound-registration', (r) => { r.response.clientDataJSON = Buffer.from('{"type":').toString('base64url'); }),
      edited('device-bound-registration', (r) => { r.response.attestationObject = 'AAAA'; }),
      edited('device-bound-registration', (r) => { r.response.attestationObject = Buffer.alloc(300, 0xff).toString('base64url'); }),
      edited('device-bound-registration', (r) => { r.response.clientDataJSON = encodeClientData({ ...clientData('device-bound-registration'), type: 'webauthn.get' }); }),
    ];
    for (const response of malformed) {
      const result = await verifyPasskeyRegistration(registrationInput('device-bound-registration', { response }));
      expect(result, String(response).slice(0, 80)).toMatchObject({ ok: false, reason: 'malformed' });
    }
    const huge = edited('device-bound-registration', (r) => { r.response.attestationObject += 'A'.repeat(PASSKEY_RESPONSE_MAX_BYTES); });
    expect(await verifyPasskeyRegistration(registrationInput('device-bound-registration', { response: huge }))).toMatchObject({ ok: false, reason: 'too-large' });
  });
});

describe('passkey sign-in (recorded responses)', () => {
  it('signs Alice in without a password: hwk + user, multi-factor and phishing-resistant', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const result = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice]));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.accountId).toBe(ALICE);
    expect(result.proof).toEqual({ factor: 'passkey', amr: ['hwk', 'user'], strength: 2, multiFactor: true, phishingResistant: true, at: at(fixture('device-bound-sign-in-1')), credential: alice.id });
    expect(result.updated.signCount).toBeGreaterThan(Number(alice.data.signCount));
    expect(result.record).toBe(alice);
  });

  it('accepts the next sign-in whose counter went up', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const first = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice]));
    if (!first.ok) throw new Error(first.reason);
    const afterFirst = { ...alice, data: { ...first.updated } };
    const second = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-2', [afterFirst]));
    expect(second.ok && second.updated.signCount).toBe(first.updated.signCount + 1);
  });

  it('rejects a counter that did not go up and reports a possible clone', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const second = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-2', [alice]));
    if (!second.ok) throw new Error(second.reason);
    const storedAfterSecond = await registered('device-bound-registration', ALICE, { signCount: second.updated.signCount });
    // The first sign-in's response (a lower count) after the second was stored.
    const lower = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [storedAfterSecond]));
    expect(lower).toMatchObject({
      ok: false,
      reason: 'counter-regression',
      clone: { recordId: alice.id, accountId: ALICE, storedCount: second.updated.signCount, receivedCount: second.updated.signCount - 1 },
    });
    // The same count again is no increase either.
    const equal = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-2', [storedAfterSecond]));
    expect(equal).toMatchObject({ ok: false, reason: 'counter-regression' });
  });

  it('accepts passkeys that never count (0 stored, 0 received); a counting one dropping to 0 is a clone', async () => {
    const neverCounted = await registered('synced-registration', BOB, { signCount: 0 });
    const result = await verifyPasskeyAuthentication(authenticationInput('synced-second-factor-zero-counter', [neverCounted]));
    expect(result.ok && result.updated.signCount).toBe(0);
    expect(result.ok && result.proof.amr).toEqual(['swk', 'user']);
    const counted = await registered('synced-registration', BOB, { signCount: 5 });
    expect(await verifyPasskeyAuthentication(authenticationInput('synced-second-factor-zero-counter', [counted]))).toMatchObject({ ok: false, reason: 'counter-regression' });
  });

  it('as a second factor: a synced passkey is swk; without user verification it is not multi-factor', async () => {
    const bob = await registered('synced-registration', BOB);
    const synced = await verifyPasskeyAuthentication(authenticationInput('synced-second-factor', [bob]));
    expect(synced.ok && synced.proof).toMatchObject({ amr: ['swk', 'user'], multiFactor: true });
    const alice = await registered('device-bound-registration', ALICE);
    const noUv = await verifyPasskeyAuthentication(authenticationInput('device-bound-second-factor-no-uv', [alice]));
    expect(noUv.ok && noUv.proof).toMatchObject({ amr: ['hwk'], multiFactor: false, strength: 2 });
  });

  it('refuses a passwordless sign-in without user verification', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const passwordless = challengeOf('device-bound-second-factor-no-uv', { use: 'passwordless', accountId: null });
    const result = await verifyPasskeyAuthentication(authenticationInput('device-bound-second-factor-no-uv', [alice], { use: 'passwordless', accountId: null, challenge: passwordless }));
    expect(result).toMatchObject({ ok: false, reason: 'user-not-verified' });
  });

  it('refuses a bad challenge, another origin, another RP ID, a replay and an expired challenge', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const f = fixture('device-bound-sign-in-1');
    const input = (change: Partial<AuthenticationInput>) => verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], change));
    expect(await input({ challenge: challengeOf('device-bound-sign-in-1', { value: Buffer.alloc(32, 9).toString('base64url') }) })).toMatchObject({ ok: false, reason: 'challenge-mismatch' });
    expect(await input({ rp: { rpId: f.rpId, origins: ['https://login.zorg.example'] } })).toMatchObject({ ok: false, reason: 'wrong-origin' });
    expect(await input({ rp: { rpId: 'zorg.example', origins: [f.origin] } })).toMatchObject({ ok: false, reason: 'wrong-rp-id' });
    const first = await input({});
    expect(first.ok).toBe(true);
    expect(await input({ challenge: first.challenge })).toEqual({ ok: false, reason: 'challenge-used' });
    expect(await input({ now: f.challenge.createdAt + PASSKEY_CHALLENGE_TTL_MS + 1 })).toEqual({ ok: false, reason: 'challenge-expired' });
    expect(await input({ flowId: 'another-flow' })).toEqual({ ok: false, reason: 'wrong-flow' });
    // A sign-in challenge for a second factor cannot be answered as a passwordless one.
    expect(await input({ use: 'second-factor' })).toEqual({ ok: false, reason: 'wrong-purpose' });
  });

  it('refuses a ceremony in a frame on another site', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const framed = edited('device-bound-sign-in-1', (r) => {
      r.response.clientDataJSON = encodeClientData({ ...clientData('device-bound-sign-in-1'), crossOrigin: true, topOrigin: 'https://phish.example' });
    });
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], { response: framed }))).toMatchObject({ ok: false, reason: 'wrong-origin' });
  });

  it('does not know a passkey that is not stored, or whose user handle is not its own', async () => {
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', []))).toMatchObject({ ok: false, reason: 'unknown-credential' });
    const otherHandle = await registered('device-bound-registration', ALICE, { userHandle: Buffer.alloc(32, 3).toString('base64url') });
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [otherHandle]))).toMatchObject({ ok: false, reason: 'unknown-credential' });
    const broken = { ...(await registered('device-bound-registration', ALICE)), data: { credentialId: JSON.parse(fixture('device-bound-sign-in-1').response).id } };
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [broken]))).toMatchObject({ ok: false, reason: 'unknown-credential' });
  });

  it("refuses another account's passkey as the second factor", async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const forMallory = challengeOf('device-bound-second-factor-no-uv', { accountId: 'mallory-account' });
    const result = await verifyPasskeyAuthentication(authenticationInput('device-bound-second-factor-no-uv', [alice], { accountId: 'mallory-account', challenge: forMallory }));
    expect(result).toMatchObject({ ok: false, reason: 'other-account' });
  });

  it('refuses a tampered signature or authenticator data, without a clone alarm', async () => {
    const alice = await registered('device-bound-registration', ALICE, { signCount: 1000 });
    const badSignature = edited('device-bound-sign-in-1', (r) => { r.response.signature = flipLastByte(r.response.signature); });
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], { response: badSignature }))).toEqual(expect.objectContaining({ ok: false, reason: 'invalid' }));
    // A forged low counter must not raise a clone alarm: the counter counts only once signed.
    const lowCounter = edited('device-bound-sign-in-1', (r) => {
      const data = Buffer.from(r.response.authenticatorData, 'base64url');
      data.writeUInt32BE(1, 33);
      r.response.authenticatorData = data.toString('base64url');
    });
    const forged = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], { response: lowCounter }));
    expect(forged).toMatchObject({ ok: false, reason: 'invalid' });
    expect(forged).not.toHaveProperty('clone');
  });

  it('turns malformed and oversized input into typed failures, never an exception', async () => {
    const alice = await registered('device-bound-registration', ALICE);
    const malformed = [
      undefined,
      '',
      '{',
      '{"id":1}',
      fixture('device-bound-registration').response,
      edited('device-bound-sign-in-1', (r) => { r.type = 'passkey'; }),
      edited('device-bound-sign-in-1', (r) => { r.id = 'AAAA'; }),
      edited('device-bound-sign-in-1', (r) => { r.response.authenticatorData = 'AAAA'; }),
      edited('device-bound-sign-in-1', (r) => { r.response.authenticatorData = '%%%'; }),
      edited('device-bound-sign-in-1', (r) => { r.response.userHandle = 'x'.repeat(200); }),
      edited('device-bound-sign-in-1', (r) => { r.response.clientDataJSON = encodeClientData({ ...clientData('device-bound-sign-in-1'), type: 'webauthn.create' }); }),
      edited('device-bound-sign-in-1', (r) => { r.response.clientDataJSON = Buffer.from('[]').toString('base64url'); }),
    ];
    for (const response of malformed) {
      const result = await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], { response }));
      expect(result, String(response).slice(0, 80)).toMatchObject({ ok: false, reason: 'malformed' });
    }
    const huge = 'x'.repeat(PASSKEY_RESPONSE_MAX_BYTES + 1);
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], { response: huge }))).toMatchObject({ ok: false, reason: 'too-large' });
    // Multi-byte characters count as bytes, not characters.
    const wide = 'é'.repeat(PASSKEY_RESPONSE_MAX_BYTES / 2 + 1);
    expect(await verifyPasskeyAuthentication(authenticationInput('device-bound-sign-in-1', [alice], { response: wide }))).toMatchObject({ ok: false, reason: 'too-large' });
  });
});
