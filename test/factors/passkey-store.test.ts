// Passkeys in a real store (SQLite always, MongoDB where MONGODB_URL is set): the facade a flow will call (start/finish a ceremony), the
// options it hands the browser, and the store rules: no credential id twice (not even for another
// account), a counter that only moves forward across racing sign-ins, and an account that can
// rename and remove only its own passkeys.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { openStore } from '../../src/store/open.ts';
import { openMongoStore } from '../../src/store/mongo/index.ts';
import type { AccountRecord, Store } from '../../src/store/port.ts';
import { Passkeys } from '../../src/factors/passkey/passkeys.ts';
import { PasskeyCredentials } from '../../src/factors/passkey/passkey-store.ts';
import { passkeyRecordId, PASSKEY_CREDENTIAL } from '../../src/factors/passkey/passkey-credential.ts';
import { verifyPasskeyAuthentication } from '../../src/factors/passkey/verify-authentication.ts';
import type { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { fixture, recordedRp, type FixtureName } from '../fixtures/passkey/fixtures.ts';

const ALICE = fixture('device-bound-registration').challenge.accountId!;
const BOB = fixture('synced-registration').challenge.accountId!;
const RP = recordedRp(fixture('device-bound-registration'));

class SettableClock implements Clock {
  current = 0;
  now() {
    return this.current;
  }
}

let store: Store;
let clock: SettableClock;
let passkeys: Passkeys;

async function account(id: string, username: string): Promise<AccountRecord> {
  const record: AccountRecord = {
    id, username, email: `${username}@example.nl`, emailVerified: true, phoneEncrypted: null, phoneHint: null, phoneVerified: false,
    givenName: null, familyName: null, locale: 'nl', status: 'active', settings: {}, requiredActions: [], createdAt: 0, updatedAt: 0,
  };
  await store.accounts.create(record);
  return record;
}

/** Sets the clock to just after the fixture's challenge was issued. */
function during(name: FixtureName) {
  const f = fixture(name);
  clock.current = f.challenge.createdAt + 1000;
  return f;
}

async function register(name: FixtureName, change: { accountId?: string; name?: string } = {}) {
  const f = during(name);
  const challenge = { ...f.challenge, accountId: change.accountId ?? f.challenge.accountId };
  return passkeys.finishRegistration({
    accountId: challenge.accountId!, use: f.challenge.use, flowId: f.challenge.flowId, challenge, response: f.response, name: change.name ?? 'Laptop van Alice',
  });
}

async function signIn(name: FixtureName, challenge?: unknown) {
  const f = during(name);
  return passkeys.finishAuthentication({ use: f.challenge.use, flowId: f.challenge.flowId, accountId: f.challenge.accountId, challenge: challenge ?? f.challenge, response: f.response });
}

/**
 * The stores the passkey rules run on: SQLite always; MongoDB where MONGODB_URL names one (as the
 * store contract does: `npm run test:mongo`), in a throw-away database per test.
 */
interface Backend { name: string; skip: boolean; open(): Promise<{ store: Store; dispose(): Promise<void> }> }
const mongoUrl = process.env.MONGODB_URL ?? '';
const BACKENDS: Backend[] = [
  {
    name: 'SQLite', skip: false,
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-passkeys-'));
      const opened = await openStore({ kind: 'sqlite', file: path.join(dir, 'store.sqlite') });
      return { store: opened, dispose: async () => { await opened.close(); await rm(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'MongoDB', skip: !mongoUrl,
    async open() {
      const dbName = `poortwachter_passkeys_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const opened = await openMongoStore(mongoUrl, { dbName });
      return {
        store: opened,
        dispose: async () => {
          await opened.close();
          const connection = await mongoose.createConnection(mongoUrl, { dbName }).asPromise();
          try { await connection.dropDatabase(); } finally { await connection.close(); }
        },
      };
    },
  },
];

for (const backend of BACKENDS) describe.skipIf(backend.skip)(`passkeys on ${backend.name}`, () => {
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ store, dispose } = await backend.open());
    clock = new SettableClock();
    passkeys = new Passkeys(store.credentials, clock, RP);
    await account(ALICE, 'alice');
    await account(BOB, 'bob');
  });

  afterEach(() => dispose());

  describe('Passkeys (the API the flows call)', () => {
    it('registers a passkey: one credential record, found by its credential id', async () => {
      const result = await register('device-bound-registration');
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      const credentialId = (JSON.parse(fixture('device-bound-registration').response) as { id: string }).id;
      expect(result.record).toMatchObject({ id: passkeyRecordId(credentialId), accountId: ALICE, type: PASSKEY_CREDENTIAL, createdAt: clock.current, lastUsedAt: null });
      expect(await passkeys.credentials.find(credentialId)).toEqual(result.record);
      expect(await passkeys.credentials.summaries(ALICE)).toEqual([{ id: result.record.id, name: 'Laptop van Alice', synced: false, createdAt: clock.current, lastUsedAt: null }]);
      expect(result.challenge.usedAt).toBe(clock.current);
    });

    it('signs in, stores the new counter and the time of use, and refuses the spent challenge', async () => {
      await register('device-bound-registration');
      const first = await signIn('device-bound-sign-in-1');
      expect(first.ok).toBe(true);
      if (!first.ok) return;
      expect(first.accountId).toBe(ALICE);
      expect(first.proof.amr).toEqual(['hwk', 'user']);
      const stored = (await passkeys.credentials.list(ALICE))[0]!;
      expect(stored.record.lastUsedAt).toBe(clock.current);
      expect(stored.data.signCount).toBe(first.record.data.signCount);
      expect(await signIn('device-bound-sign-in-1', first.challenge)).toEqual({ ok: false, reason: 'challenge-used' });
      expect((await signIn('device-bound-sign-in-2')).ok).toBe(true);
      // Replaying the first response with a fresh copy of its challenge: its count is old now.
      expect(await signIn('device-bound-sign-in-1')).toMatchObject({ ok: false, reason: 'counter-regression', clone: { accountId: ALICE } });
    });

    it("never stores a credential id twice: another account's registration of it is refused and changes nothing", async () => {
      const alice = await register('device-bound-registration');
      if (!alice.ok) throw new Error(alice.reason);
      // The same attestation answered to a challenge the flow issued for Bob (a malicious authenticator may pick any id).
      const forBob = await register('device-bound-registration', { accountId: BOB, name: 'overgenomen' });
      expect(forBob).toMatchObject({ ok: false, reason: 'already-registered' });
      expect(await store.credentials.findById(alice.record.id)).toEqual(alice.record);
      expect(await passkeys.credentials.list(BOB)).toEqual([]);
    });

    it('keeps one WebAuthn user handle per account, random and not the account id', async () => {
      const first = await passkeys.startRegistration({ account: { id: BOB, username: 'bob' }, use: 'passwordless', flowId: 'f1', rpName: 'Poortwachter' });
      expect(first.options.user.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.options.user.id).not.toContain(Buffer.from(BOB).toString('base64url'));
      expect(first.challenge.userHandle).toBe(first.options.user.id);
      const again = await passkeys.startRegistration({ account: { id: BOB, username: 'bob' }, use: 'passwordless', flowId: 'f2', rpName: 'Poortwachter' });
      expect(again.options.user.id).not.toBe(first.options.user.id);
      // Once the account has a passkey, every next one carries its handle.
      const registered = await register('device-bound-registration');
      if (!registered.ok) throw new Error(registered.reason);
      const next = await passkeys.startRegistration({ account: { id: ALICE, username: 'alice' }, use: 'second-factor', flowId: 'f3', rpName: 'Poortwachter' });
      expect(next.options.user.id).toBe(registered.record.data.userHandle);
    });

    it('takes its relying party from the configuration at the time it is made', () => {
      const config = loadConfig({ ISSUER: 'https://login.zorg.example', WEBAUTHN_RP_ID: 'zorg.example' });
      expect(Passkeys.from({ store, clock, config }).rp).toEqual({ rpId: 'zorg.example', origins: ['https://login.zorg.example'] });
    });

    it('builds registration options: discoverable, UV by use, attestation none, own passkeys excluded', async () => {
      const registered = await register('device-bound-registration');
      if (!registered.ok) throw new Error(registered.reason);
      clock.current = 1_000_000;
      const { challenge, options } = await passkeys.startRegistration({ account: { id: ALICE, username: 'alice' }, use: 'passwordless', flowId: 'flow-1', rpName: 'Poortwachter' });
      expect(challenge).toMatchObject({ ceremony: 'registration', use: 'passwordless', flowId: 'flow-1', accountId: ALICE, createdAt: 1_000_000, usedAt: null });
      expect(options).toMatchObject({
        challenge: challenge.value,
        rp: { id: RP.rpId, name: 'Poortwachter' },
        user: { name: 'alice', displayName: 'alice' },
        timeout: 300_000,
        attestation: 'none',
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
        excludeCredentials: [{ id: registered.record.data.credentialId, type: 'public-key', transports: ['internal'] }],
      });
      expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-8, -7, -257]);
      const second = await passkeys.startRegistration({ account: { id: BOB, username: 'bob' }, use: 'second-factor', flowId: 'flow-2', rpName: 'Poortwachter' });
      expect(second.options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'preferred' });
      expect(second.options.excludeCredentials).toEqual([]);
    });

    it('builds sign-in options: passwordless for any passkey with UV required; second factor for the own ones, UV preferred', async () => {
      const registered = await register('device-bound-registration');
      if (!registered.ok) throw new Error(registered.reason);
      const passwordless = await passkeys.startAuthentication({ use: 'passwordless', flowId: 'flow-1', accountId: ALICE });
      expect(passwordless.challenge).toMatchObject({ ceremony: 'authentication', use: 'passwordless', accountId: null });
      expect(passwordless.options).toMatchObject({ rpId: RP.rpId, challenge: passwordless.challenge.value, userVerification: 'required', allowCredentials: [], timeout: 300_000 });
      const second = await passkeys.startAuthentication({ use: 'second-factor', flowId: 'flow-2', accountId: ALICE });
      expect(second.challenge).toMatchObject({ use: 'second-factor', accountId: ALICE });
      expect(second.options).toMatchObject({ userVerification: 'preferred', allowCredentials: [{ id: registered.record.data.credentialId, type: 'public-key', transports: ['internal'] }] });
    });
  });

  describe('PasskeyCredentials (the store rules)', () => {
    it('lets only one of two racing sign-ins with the same count through', async () => {
      await register('device-bound-registration');
      const f = during('device-bound-sign-in-1');
      const credentials = new PasskeyCredentials(store.credentials);
      const verify = () => verifyPasskeyAuthentication({
        rp: RP, challenge: f.challenge, flowId: f.challenge.flowId, use: f.challenge.use, accountId: null, response: f.response, now: clock.current,
        findCredential: (id) => credentials.find(id),
      });
      // Both verified against the same stored counter before either was saved (two processes).
      const [a, b] = await Promise.all([verify(), verify()]);
      if (!a.ok || !b.ok) throw new Error('both should verify');
      const saved = [await credentials.recordUse(a, clock.current), await credentials.recordUse(b, clock.current)];
      expect(saved.map((s) => s.ok)).toEqual([true, false]);
      expect(saved[1]).toMatchObject({ ok: false, reason: 'counter-regression' });
    });

    it('keeps a rename made while a sign-in was being verified', async () => {
      const registered = await register('device-bound-registration');
      if (!registered.ok) throw new Error(registered.reason);
      const f = during('device-bound-sign-in-1');
      const credentials = new PasskeyCredentials(store.credentials);
      const verified = await verifyPasskeyAuthentication({
        rp: RP, challenge: f.challenge, flowId: f.challenge.flowId, use: f.challenge.use, accountId: null, response: f.response, now: clock.current,
        findCredential: (id) => credentials.find(id),
      });
      if (!verified.ok) throw new Error(verified.reason);
      expect(await credentials.rename(ALICE, registered.record.id, 'Werklaptop')).toBe(true);
      const saved = await credentials.recordUse(verified, clock.current);
      expect(saved.ok).toBe(true);
      const [stored] = await credentials.list(ALICE);
      expect(stored!.data).toMatchObject({ name: 'Werklaptop', signCount: verified.updated.signCount });
    });

    it('renames and removes only the account’s own passkeys; renaming keeps "last used"', async () => {
      const registered = await register('device-bound-registration');
      if (!registered.ok) throw new Error(registered.reason);
      const id = registered.record.id;
      const credentials = passkeys.credentials;
      expect(await credentials.rename(BOB, id, 'van Bob')).toBe(false);
      expect(await credentials.remove(BOB, id)).toBe(false);
      expect(await credentials.rename(ALICE, 'passkey:nope', 'x')).toBe(false);
      expect(await credentials.rename(ALICE, id, 'Nooit gebruikt')).toBe(true);
      expect((await store.credentials.findById(id))!.lastUsedAt).toBeNull();
      await signIn('device-bound-sign-in-1');
      const usedAt = (await store.credentials.findById(id))!.lastUsedAt;
      expect(usedAt).toBe(clock.current);
      clock.current += 60_000;
      expect(await credentials.rename(ALICE, id, 'Wel gebruikt')).toBe(true);
      expect(await store.credentials.findById(id)).toMatchObject({ lastUsedAt: usedAt, data: { name: 'Wel gebruikt' } });
      expect(await credentials.remove(ALICE, id)).toBe(true);
      expect(await credentials.list(ALICE)).toEqual([]);
      expect(await signIn('device-bound-sign-in-2')).toMatchObject({ ok: false, reason: 'unknown-credential' });
    });

    it('treats records that are not well-formed passkeys as absent', async () => {
      await store.credentials.put({ id: 'passkey:broken', accountId: ALICE, type: PASSKEY_CREDENTIAL, data: { credentialId: 'abc', signCount: -1 }, createdAt: 0, lastUsedAt: null });
      await store.credentials.put({ id: 'totp-1', accountId: ALICE, type: 'totp', data: {}, createdAt: 0, lastUsedAt: null });
      expect(await passkeys.credentials.list(ALICE)).toEqual([]);
      expect(await passkeys.credentials.remove(ALICE, 'passkey:broken')).toBe(false);
    });
  });
});
