// The storage contract: every implementation of the port must pass this same suite.
//
// `open` must return a store on the same database every time it is called (the persistence test
// closes and reopens). Tests share that database, so each one works with ids made unique by a
// per-test prefix, and never asserts on rows it did not create. Tests in one file run one after
// another, which the removeExpired test relies on.
//
// Times are explicit and far in the future: MongoDB's TTL monitor deletes by the real clock, and
// must not remove a record a test still expects to find.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DuplicateError,
  type AccountRecord,
  type CredentialRecord,
  type DeviceRecord,
  type FlowRecord,
  type LockoutRecord,
  type OneTimeCodeRecord,
  type SessionProofRecord,
  type Store,
  type TransferRecords,
  type TransferType,
} from '../../src/store/port.ts';

const T0 = Date.UTC(2200, 0, 1);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const FAR_FUTURE = Date.UTC(2900, 0, 1);

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    /** Unique per test, so tests sharing one database never see each other's rows. */
    let p: string;

    beforeEach(async () => {
      store = await open();
      p = randomUUID().slice(0, 8);
    });

    afterEach(async () => {
      await store.close();
    });

    function account(suffix: string, overrides: Partial<AccountRecord> = {}): AccountRecord {
      return {
        id: `${p}-${suffix}`,
        username: `user-${p}-${suffix}`,
        email: `${p}-${suffix}@example.nl`,
        emailVerified: false,
        phoneEncrypted: null,
        phoneHint: null,
        phoneVerified: false,
        givenName: null,
        familyName: null,
        locale: 'nl',
        status: 'active',
        settings: {},
        requiredActions: [],
        createdAt: T0,
        updatedAt: T0,
        ...overrides,
      };
    }

    async function createAccount(suffix: string, overrides: Partial<AccountRecord> = {}): Promise<AccountRecord> {
      const record = account(suffix, overrides);
      await store.accounts.create(record);
      return record;
    }

    function credential(accountId: string, suffix: string, overrides: Partial<CredentialRecord> = {}): CredentialRecord {
      return {
        id: `${p}-cred-${suffix}`,
        accountId,
        type: 'totp',
        data: { secret: 'encrypted-secret', lastStep: 1 },
        createdAt: T0,
        lastUsedAt: null,
        ...overrides,
      };
    }

    function flow(suffix: string, overrides: Partial<FlowRecord> = {}): FlowRecord {
      return {
        id: `${p}-flow-${suffix}`,
        kind: 'login',
        interactionUid: null,
        accountId: null,
        clientId: null,
        state: {},
        csrf: `csrf-${suffix}`,
        createdAt: T0,
        expiresAt: T0 + HOUR,
        ...overrides,
      };
    }

    function code(accountId: string, suffix: string, overrides: Partial<OneTimeCodeRecord> = {}): OneTimeCodeRecord {
      return {
        id: `${p}-code-${suffix}`,
        accountId,
        purpose: 'login:sms',
        flowId: `${p}-flow-${suffix}`,
        codeHash: `hash-${suffix}`,
        attempts: 0,
        sentAt: T0,
        expiresAt: T0 + 10 * MINUTE,
        consumedAt: null,
        ...overrides,
      };
    }

    function device(accountId: string, suffix: string, overrides: Partial<DeviceRecord> = {}): DeviceRecord {
      return {
        id: `${p}-device-${suffix}`,
        accountId,
        secretHash: `secret-hash-${suffix}`,
        factor: 'totp',
        strength: 2,
        amr: ['otp'],
        acr: 'urn:poortwachter:acr:mfa',
        label: 'Firefox on Linux',
        createdAt: T0,
        expiresAt: T0 + 7 * 24 * HOUR,
        lastUsedAt: null,
        ...overrides,
      };
    }

    describe('oidc models', () => {
      it('round-trips a record and scopes ids by model', async () => {
        const payload = { jti: `${p}-at`, kind: 'AccessToken', scope: 'openid', extra: { nested: [1, 'two', null] } };
        await store.oidc.upsert('AccessToken', `${p}-at`, payload, T0 + HOUR);

        expect(await store.oidc.find('AccessToken', `${p}-at`, T0)).toEqual({
          payload,
          expiresAt: T0 + HOUR,
          consumedAt: null,
        });
        expect(await store.oidc.find('RefreshToken', `${p}-at`, T0)).toBeUndefined();
        expect(await store.oidc.find('AccessToken', `${p}-unknown`, T0)).toBeUndefined();
      });

      it('replaces payload and expiry on a second upsert', async () => {
        await store.oidc.upsert('Session', `${p}-s`, { v: 1 }, T0 + MINUTE);
        await store.oidc.upsert('Session', `${p}-s`, { v: 2 }, T0 + HOUR);

        const found = await store.oidc.find('Session', `${p}-s`, T0 + 2 * MINUTE);
        expect(found?.payload).toEqual({ v: 2 });
        expect(found?.expiresAt).toBe(T0 + HOUR);
      });

      it('honours expiry: found until expiresAt, undefined from then on, never for null', async () => {
        await store.oidc.upsert('AuthorizationCode', `${p}-ac`, { kind: 'AuthorizationCode' }, T0 + 1000);
        await store.oidc.upsert('Client', `${p}-forever`, { kind: 'Client' }, null);

        expect(await store.oidc.find('AuthorizationCode', `${p}-ac`, T0 + 999)).toBeDefined();
        expect(await store.oidc.find('AuthorizationCode', `${p}-ac`, T0 + 1000)).toBeUndefined();
        expect(await store.oidc.find('AuthorizationCode', `${p}-ac`, T0 + 5000)).toBeUndefined();
        const forever = await store.oidc.find('Client', `${p}-forever`, FAR_FUTURE);
        expect(forever).toEqual({ payload: { kind: 'Client' }, expiresAt: null, consumedAt: null });
      });

      it('finds by uid within the model, unexpired only', async () => {
        await store.oidc.upsert('Session', `${p}-sess`, { uid: `${p}-uid`, accountId: 'a' }, T0 + HOUR);
        await store.oidc.upsert('Session', `${p}-old`, { uid: `${p}-old-uid` }, T0 + MINUTE);

        expect((await store.oidc.findByUid('Session', `${p}-uid`, T0))?.payload).toEqual({ uid: `${p}-uid`, accountId: 'a' });
        expect(await store.oidc.findByUid('Interaction', `${p}-uid`, T0)).toBeUndefined();
        expect(await store.oidc.findByUid('Session', `${p}-nope`, T0)).toBeUndefined();
        expect(await store.oidc.findByUid('Session', `${p}-old-uid`, T0)).toBeDefined();
        expect(await store.oidc.findByUid('Session', `${p}-old-uid`, T0 + MINUTE)).toBeUndefined();
      });

      it('lists the unexpired records of a model that name an account', async () => {
        await store.oidc.upsert('Session', `${p}-s1`, { uid: `${p}-u1`, accountId: `${p}-acc` }, T0 + HOUR);
        await store.oidc.upsert('Session', `${p}-s2`, { uid: `${p}-u2`, accountId: `${p}-acc` }, T0 + MINUTE);
        await store.oidc.upsert('Session', `${p}-s3`, { uid: `${p}-u3`, accountId: `${p}-other` }, T0 + HOUR);
        await store.oidc.upsert('Grant', `${p}-g1`, { accountId: `${p}-acc`, clientId: 'zinn' }, T0 + HOUR);

        const uids = async (at: number) => (await store.oidc.listByAccount('Session', `${p}-acc`, at)).map((r) => r.payload.uid).sort();
        expect(await uids(T0)).toEqual([`${p}-u1`, `${p}-u2`]);
        expect(await uids(T0 + MINUTE)).toEqual([`${p}-u1`]);
        expect((await store.oidc.listByAccount('Grant', `${p}-acc`, T0)).map((r) => r.payload.clientId)).toEqual(['zinn']);
        expect(await store.oidc.listByAccount('Session', `${p}-nobody`, T0)).toEqual([]);
        // A re-save that no longer names the account drops it from the list.
        await store.oidc.upsert('Session', `${p}-s1`, { uid: `${p}-u1` }, T0 + HOUR);
        expect(await uids(T0)).toEqual([`${p}-u2`]);
      });

      it('finds by user code within the model, unexpired only', async () => {
        await store.oidc.upsert('DeviceCode', `${p}-dc`, { userCode: `${p}-WDJB`, clientId: 'tv' }, T0 + 10 * MINUTE);

        expect((await store.oidc.findByUserCode('DeviceCode', `${p}-WDJB`, T0))?.payload).toEqual({
          userCode: `${p}-WDJB`,
          clientId: 'tv',
        });
        expect(await store.oidc.findByUserCode('DeviceCode', `${p}-XXXX`, T0)).toBeUndefined();
        expect(await store.oidc.findByUserCode('Session', `${p}-WDJB`, T0)).toBeUndefined();
        expect(await store.oidc.findByUserCode('DeviceCode', `${p}-WDJB`, T0 + 10 * MINUTE)).toBeUndefined();
      });

      it('consume records the first consumption time, and a re-save keeps it', async () => {
        await store.oidc.upsert('AuthorizationCode', `${p}-code`, { grantId: 'g' }, T0 + HOUR);
        expect((await store.oidc.find('AuthorizationCode', `${p}-code`, T0))?.consumedAt).toBeNull();

        expect(await store.oidc.consume('AuthorizationCode', `${p}-code`, T0 + 5 * SECOND)).toBe(true);
        expect((await store.oidc.find('AuthorizationCode', `${p}-code`, T0))?.consumedAt).toBe(T0 + 5 * SECOND);

        expect(await store.oidc.consume('AuthorizationCode', `${p}-code`, T0 + 9 * SECOND)).toBe(false);
        await store.oidc.upsert('AuthorizationCode', `${p}-code`, { grantId: 'g', touched: true }, T0 + HOUR);
        const found = await store.oidc.find('AuthorizationCode', `${p}-code`, T0);
        expect(found?.consumedAt).toBe(T0 + 5 * SECOND);
        expect(found?.payload).toEqual({ grantId: 'g', touched: true });
      });

      it('consume is false for a record that is not there (revoked or swept)', async () => {
        expect(await store.oidc.consume('RefreshToken', `${p}-never`, T0)).toBe(false);
      });

      it('consume lets exactly one of many racing calls win, also from a second connection', async () => {
        await store.oidc.upsert('RefreshToken', `${p}-raced`, { grantId: `${p}-g` }, T0 + HOUR);
        const other = await open();
        try {
          const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
            (i % 2 ? other : store).oidc.consume('RefreshToken', `${p}-raced`, T0 + i)));
          expect(results.filter(Boolean)).toHaveLength(1);
        } finally {
          await other.close();
        }
      });

      it('rotate consumes the old record and stores the new one, once', async () => {
        await store.oidc.upsert('RefreshToken', `${p}-rt0`, { grantId: `${p}-g` }, T0 + HOUR);

        expect(await store.oidc.rotate('RefreshToken', `${p}-rt0`, `${p}-rt1`, { grantId: `${p}-g`, n: 1 }, T0 + 2 * HOUR, T0 + SECOND)).toBe(true);
        expect((await store.oidc.find('RefreshToken', `${p}-rt0`, T0))?.consumedAt).toBe(T0 + SECOND);
        expect(await store.oidc.find('RefreshToken', `${p}-rt1`, T0)).toEqual({ payload: { grantId: `${p}-g`, n: 1 }, expiresAt: T0 + 2 * HOUR, consumedAt: null });

        expect(await store.oidc.rotate('RefreshToken', `${p}-rt0`, `${p}-rt2`, { grantId: `${p}-g`, n: 2 }, T0 + 2 * HOUR, T0 + 2 * SECOND)).toBe(false);
        expect(await store.oidc.find('RefreshToken', `${p}-rt2`, T0)).toBeUndefined();
        expect(await store.oidc.rotate('RefreshToken', `${p}-gone`, `${p}-rt3`, { grantId: `${p}-g` }, T0 + HOUR, T0)).toBe(false);
        expect(await store.oidc.find('RefreshToken', `${p}-rt3`, T0)).toBeUndefined();
      });

      it('rotate stores the records issued alongside in the same step, and none of them when it loses', async () => {
        await store.oidc.upsert('RefreshToken', `${p}-with-at`, { grantId: `${p}-g` }, T0 + HOUR);
        const accessToken = (n: number) => ({ model: 'AccessToken', id: `${p}-at${n}`, payload: { grantId: `${p}-g`, n }, expiresAt: T0 + HOUR });
        expect(await store.oidc.rotate('RefreshToken', `${p}-with-at`, `${p}-next-a`, { grantId: `${p}-g` }, T0 + HOUR, T0, [accessToken(1)])).toBe(true);
        expect(await store.oidc.find('AccessToken', `${p}-at1`, T0)).toEqual({ payload: { grantId: `${p}-g`, n: 1 }, expiresAt: T0 + HOUR, consumedAt: null });
        expect(await store.oidc.rotate('RefreshToken', `${p}-with-at`, `${p}-next-b`, { grantId: `${p}-g` }, T0 + HOUR, T0, [accessToken(2)])).toBe(false);
        expect(await store.oidc.find('AccessToken', `${p}-at2`, T0)).toBeUndefined();
      });

      it('rotate lets exactly one of racing rotations of one token win, also from a second connection', async () => {
        await store.oidc.upsert('RefreshToken', `${p}-shared`, { grantId: `${p}-g` }, T0 + HOUR);
        const other = await open();
        try {
          const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
            (i % 2 ? other : store).oidc.rotate('RefreshToken', `${p}-shared`, `${p}-next-${i}`, { grantId: `${p}-g` }, T0 + HOUR, T0 + i)));
          expect(results.filter(Boolean)).toHaveLength(1);
          const stored = await Promise.all(results.map((_, i) => store.oidc.find('RefreshToken', `${p}-next-${i}`, T0)));
          expect(stored.filter(Boolean)).toHaveLength(1);
        } finally {
          await other.close();
        }
      });

      it('rewriteAll never un-consumes a token consumed while it runs', async () => {
        await store.oidc.upsert('AuthorizationCode', `${p}-race`, { n: 1 }, FAR_FUTURE);
        let consuming: Promise<boolean> | undefined;
        await store.oidc.rewriteAll((model, id, payload) => {
          if (id !== `${p}-race`) return undefined;
          // Another process redeems the code after this one read the record.
          consuming = store.oidc.consume(model, id, T0);
          return { id: `${p}-race-moved`, payload };
        });
        // Whichever id the racing redemption met (the old, or none once moved), the code is
        // redeemed exactly once in all.
        const later = await store.oidc.consume('AuthorizationCode', `${p}-race-moved`, T0 + 1);
        expect([await consuming, later].filter(Boolean)).toHaveLength(1);
      });

      it('rewriteAll replaces ids and payloads (and their indexed members) where the transform says so', async () => {
        await store.oidc.upsert('Session', `${p}-old-id`, { uid: `${p}-old-uid`, v: 1 }, T0 + HOUR);
        await store.oidc.upsert('AccessToken', `${p}-at`, { grantId: `${p}-old-grant` }, T0 + HOUR);
        await store.oidc.consume('AccessToken', `${p}-at`, T0 + SECOND);
        await store.oidc.upsert('Session', `${p}-keep`, { uid: `${p}-keep-uid` }, T0 + HOUR);

        const changed = await store.oidc.rewriteAll((model, id, payload) => {
          if (!id.startsWith(p) || id === `${p}-keep`) return undefined;
          if (model === 'Session') return { id: `${p}-new-id`, payload: { ...payload, uid: `${p}-new-uid` } };
          return { id, payload: { grantId: `${p}-new-grant` } };
        });

        expect(changed).toBeGreaterThanOrEqual(2);
        expect(await store.oidc.find('Session', `${p}-old-id`, T0)).toBeUndefined();
        expect((await store.oidc.findByUid('Session', `${p}-new-uid`, T0))?.payload).toEqual({ uid: `${p}-new-uid`, v: 1 });
        expect((await store.oidc.find('AccessToken', `${p}-at`, T0))?.consumedAt).toBe(T0 + SECOND);
        await store.oidc.revokeByGrantId(`${p}-new-grant`);
        expect(await store.oidc.find('AccessToken', `${p}-at`, T0)).toBeUndefined();
        expect(await store.oidc.find('Session', `${p}-keep`, T0)).toBeDefined();
      });

      it('destroy removes only the named record', async () => {
        await store.oidc.upsert('Session', `${p}-a`, { n: 'a' }, T0 + HOUR);
        await store.oidc.upsert('Session', `${p}-b`, { n: 'b' }, T0 + HOUR);
        await store.oidc.upsert('Grant', `${p}-a`, { n: 'grant a' }, T0 + HOUR);

        await store.oidc.destroy('Session', `${p}-a`);

        expect(await store.oidc.find('Session', `${p}-a`, T0)).toBeUndefined();
        expect(await store.oidc.find('Session', `${p}-b`, T0)).toBeDefined();
        expect(await store.oidc.find('Grant', `${p}-a`, T0)).toBeDefined();
      });

      it('revokeByGrantId removes every model of that grant and nothing else', async () => {
        const g1 = `${p}-grant-1`;
        const g2 = `${p}-grant-2`;
        await store.oidc.upsert('AccessToken', `${p}-at1`, { grantId: g1 }, T0 + HOUR);
        await store.oidc.upsert('RefreshToken', `${p}-rt1`, { grantId: g1 }, T0 + HOUR);
        await store.oidc.upsert('AuthorizationCode', `${p}-ac1`, { grantId: g1 }, null);
        await store.oidc.upsert('AccessToken', `${p}-at2`, { grantId: g2 }, T0 + HOUR);
        await store.oidc.upsert('Session', `${p}-s`, { uid: `${p}-uid` }, T0 + HOUR);

        await store.oidc.revokeByGrantId(g1);

        expect(await store.oidc.find('AccessToken', `${p}-at1`, T0)).toBeUndefined();
        expect(await store.oidc.find('RefreshToken', `${p}-rt1`, T0)).toBeUndefined();
        expect(await store.oidc.find('AuthorizationCode', `${p}-ac1`, T0)).toBeUndefined();
        expect(await store.oidc.find('AccessToken', `${p}-at2`, T0)).toBeDefined();
        expect(await store.oidc.find('Session', `${p}-s`, T0)).toBeDefined();
      });
    });

    describe('accounts', () => {
      it('round-trips every field', async () => {
        const record = account('full', {
          emailVerified: true,
          phoneEncrypted: 'v1.iv.ciphertext.tag',
          phoneHint: '16',
          phoneVerified: true,
          givenName: 'Anne',
          familyName: 'de Vries',
          locale: 'en',
          status: 'disabled',
          settings: { rememberDeviceDays: 30, defaultFactor: 'totp', nested: { list: [1, 2] } },
          requiredActions: ['update-password', 'verify-email'],
          createdAt: T0 - HOUR,
          updatedAt: T0,
        });
        await store.accounts.create(record);

        expect(await store.accounts.findById(record.id)).toEqual(record);
        expect(await store.accounts.findById(`${p}-unknown`)).toBeUndefined();
      });

      it('replaces the sealed phone number only while it is the one expected, touching nothing else', async () => {
        const record = account('phone-cas', { phoneEncrypted: 'v2.k.old.body.tag', phoneHint: '16', phoneVerified: true });
        await store.accounts.create(record);
        expect(await store.accounts.replaceSealedPhone(record.id, 'v2.k.other.body.tag', 'v2.k.new.body.tag')).toBe(false);
        expect(await store.accounts.findById(record.id)).toEqual(record);
        expect(await store.accounts.replaceSealedPhone(record.id, 'v2.k.old.body.tag', 'v2.k.new.body.tag')).toBe(true);
        expect(await store.accounts.findById(record.id)).toEqual({ ...record, phoneEncrypted: 'v2.k.new.body.tag' });
        // The second of two processes doing the same finds it changed.
        expect(await store.accounts.replaceSealedPhone(record.id, 'v2.k.old.body.tag', 'v2.k.newer.body.tag')).toBe(false);
        expect(await store.accounts.replaceSealedPhone(`${p}-unknown`, 'v2.k.old.body.tag', 'v2.k.new.body.tag')).toBe(false);
      });

      it('keeps the required actions an update sets and clears', async () => {
        const record = await createAccount('actions');
        expect((await store.accounts.findById(record.id))?.requiredActions).toEqual([]);
        await store.accounts.update({ ...record, requiredActions: ['verify-phone'], updatedAt: T0 + 1 });
        expect((await store.accounts.findById(record.id))?.requiredActions).toEqual(['verify-phone']);
        await store.accounts.update({ ...record, requiredActions: [], updatedAt: T0 + 2 });
        expect((await store.accounts.findById(record.id))?.requiredActions).toEqual([]);
      });

      it('finds by username or e-mail, case-insensitively', async () => {
        const anne = await createAccount('anne', { username: `Anne-${p}`, email: `Anne.${p}@Example.NL` });
        const jorg = await createAccount('jorg', { username: `jörg-${p}`, email: `${p}-jorg@example.nl` });

        expect((await store.accounts.findByLogin(`anne-${p}`))?.id).toBe(anne.id);
        expect((await store.accounts.findByLogin(`ANNE-${p.toUpperCase()}`))?.id).toBe(anne.id);
        expect((await store.accounts.findByLogin(`anne.${p}@example.nl`))?.id).toBe(anne.id);
        expect((await store.accounts.findByLogin(`JÖRG-${p.toUpperCase()}`))?.id).toBe(jorg.id);
        expect(await store.accounts.findByLogin(`jorg-${p}`)).toBeUndefined();
        expect(await store.accounts.findByLogin(`nobody-${p}`)).toBeUndefined();
        expect(await store.accounts.findByLogin('')).toBeUndefined();
      });

      it('rejects a taken username or e-mail in another case with DuplicateError', async () => {
        await createAccount('first', { username: `Bob-${p}`, email: `bob.${p}@example.nl` });

        const sameUsername = account('second', { username: `BOB-${p.toUpperCase()}` });
        await expect(store.accounts.create(sameUsername)).rejects.toBeInstanceOf(DuplicateError);
        await expect(store.accounts.create(sameUsername)).rejects.toMatchObject({ field: 'username' });

        const sameEmail = account('third', { email: `BOB.${p.toUpperCase()}@EXAMPLE.NL` });
        await expect(store.accounts.create(sameEmail)).rejects.toMatchObject({ name: 'DuplicateError', field: 'email' });

        await createAccount('umlaut', { username: `jörg-${p}` });
        const umlaut = account('umlaut2', { username: `JÖRG-${p.toUpperCase()}` });
        await expect(store.accounts.create(umlaut)).rejects.toMatchObject({ name: 'DuplicateError', field: 'username' });

        expect(await store.accounts.findById(sameUsername.id)).toBeUndefined();
        expect(await store.accounts.findById(sameEmail.id)).toBeUndefined();
      });

      it('rejects a taken id with DuplicateError', async () => {
        const first = await createAccount('same');
        const again = account('same', { username: `other-${p}`, email: `other-${p}@example.nl` });
        await expect(store.accounts.create(again)).rejects.toMatchObject({ name: 'DuplicateError', field: 'id' });
        expect(await store.accounts.findById(first.id)).toEqual(first);
      });

      it('lets several accounts go without an e-mail address', async () => {
        const a = await createAccount('no-mail-a', { email: '' });
        const b = await createAccount('no-mail-b', { email: '' });
        expect((await store.accounts.findById(a.id))?.email).toBe('');
        expect((await store.accounts.findById(b.id))?.email).toBe('');
        expect(await store.accounts.findByLogin('')).toBeUndefined();
      });

      it('update replaces the whole record', async () => {
        const original = await createAccount('upd', { settings: { a: 1, b: 2 }, givenName: 'Old' });
        const changed: AccountRecord = {
          ...original,
          username: `renamed-${p}`,
          email: `renamed-${p}@example.nl`,
          emailVerified: true,
          givenName: null,
          settings: { b: 3 },
          status: 'disabled',
          updatedAt: T0 + MINUTE,
        };
        await store.accounts.update(changed);

        expect(await store.accounts.findById(original.id)).toEqual(changed);
        expect((await store.accounts.findByLogin(`renamed-${p}`))?.id).toBe(original.id);
        expect(await store.accounts.findByLogin(original.username)).toBeUndefined();
        expect(await store.accounts.findByLogin(original.email)).toBeUndefined();
      });

      it('update lets an account change the case of its own username', async () => {
        const original = await createAccount('case', { username: `casey-${p}` });
        await store.accounts.update({ ...original, username: `CASEY-${p}` });
        expect((await store.accounts.findById(original.id))?.username).toBe(`CASEY-${p}`);
      });

      it('update rejects a username or e-mail taken by another account', async () => {
        const taken = await createAccount('taken', { username: `taken-${p}`, email: `taken-${p}@example.nl` });
        const mover = await createAccount('mover');

        await expect(store.accounts.update({ ...mover, username: `TAKEN-${p.toUpperCase()}` }))
          .rejects.toMatchObject({ name: 'DuplicateError', field: 'username' });
        await expect(store.accounts.update({ ...mover, email: `Taken-${p}@Example.nl` }))
          .rejects.toMatchObject({ name: 'DuplicateError', field: 'email' });

        expect(await store.accounts.findById(mover.id)).toEqual(mover);
        expect(await store.accounts.findById(taken.id)).toEqual(taken);
      });

      it('update of an unknown account creates nothing', async () => {
        const ghost = account('ghost');
        await store.accounts.update(ghost);
        expect(await store.accounts.findById(ghost.id)).toBeUndefined();
      });

      it('lists by creation time, with limit and offset', async () => {
        // Neither insertion order nor id order matches creation order.
        await createAccount('b', { createdAt: T0 + 2 * SECOND });
        await createAccount('a', { createdAt: T0 + 3 * SECOND });
        await createAccount('c', { createdAt: T0 + 1 * SECOND });

        const all = await store.accounts.list();
        expect(all.filter((a) => a.id.startsWith(p)).map((a) => a.id)).toEqual([`${p}-c`, `${p}-b`, `${p}-a`]);
        const createdAts = all.map((a) => a.createdAt);
        expect(createdAts).toEqual([...createdAts].sort((x, y) => x - y));

        const page = await store.accounts.list({ offset: 1, limit: 2 });
        expect(page.map((a) => a.id)).toEqual(all.slice(1, 3).map((a) => a.id));
        expect(await store.accounts.list({ limit: 1 })).toHaveLength(1);
        expect(await store.accounts.list({ limit: 0 })).toEqual([]);
        expect(await store.accounts.list({ offset: all.length })).toEqual([]);
      });

      it('remove deletes the account with its credentials, codes and devices', async () => {
        const gone = await createAccount('gone');
        const kept = await createAccount('kept');
        for (const owner of [gone, kept]) {
          await store.credentials.put(credential(owner.id, owner.id));
          await store.codes.replace(code(owner.id, owner.id));
          await store.devices.put(device(owner.id, owner.id));
        }

        await store.accounts.remove(gone.id);

        expect(await store.accounts.findById(gone.id)).toBeUndefined();
        expect(await store.accounts.findByLogin(gone.username)).toBeUndefined();
        expect(await store.credentials.listByAccount(gone.id)).toEqual([]);
        expect(await store.codes.findActive(gone.id, 'login:sms', T0)).toBeUndefined();
        expect(await store.devices.listByAccount(gone.id, T0)).toEqual([]);

        expect(await store.accounts.findById(kept.id)).toEqual(kept);
        expect(await store.credentials.listByAccount(kept.id)).toHaveLength(1);
        expect(await store.codes.findActive(kept.id, 'login:sms', T0)).toBeDefined();
        expect(await store.devices.listByAccount(kept.id, T0)).toHaveLength(1);
      });
    });

    describe('credentials', () => {
      it('round-trips, lists by account and type in creation order, and replaces on put', async () => {
        const owner = await createAccount('owner');
        const other = await createAccount('other');
        const totp = credential(owner.id, 'totp', { createdAt: T0 + 2 * SECOND, lastUsedAt: T0 + HOUR });
        const key1 = credential(owner.id, 'key1', { type: 'webauthn', data: { credentialId: 'abc', counter: 0 }, createdAt: T0 + 3 * SECOND });
        const key2 = credential(owner.id, 'key2', { type: 'webauthn', data: { credentialId: 'def', counter: 5 }, createdAt: T0 + 1 * SECOND });
        const foreign = credential(other.id, 'foreign');
        for (const c of [totp, key1, key2, foreign]) await store.credentials.put(c);

        expect(await store.credentials.findById(totp.id)).toEqual(totp);
        expect(await store.credentials.findById(`${p}-unknown`)).toBeUndefined();
        expect((await store.credentials.listByAccount(owner.id)).map((c) => c.id)).toEqual([key2.id, totp.id, key1.id]);
        expect(await store.credentials.listByAccount(owner.id, 'webauthn')).toEqual([key2, key1]);
        expect(await store.credentials.listByAccount(owner.id, 'password')).toEqual([]);

        const renamed = { ...key1, data: { credentialId: 'abc', counter: 9, label: 'YubiKey' } };
        await store.credentials.put(renamed);
        expect(await store.credentials.findById(key1.id)).toEqual(renamed);
        expect(await store.credentials.listByAccount(owner.id)).toHaveLength(3);
      });

      it('remove and removeByAccount (all, or one type) delete only what they name', async () => {
        const owner = await createAccount('owner');
        const other = await createAccount('other');
        const totp = credential(owner.id, 'totp');
        const key = credential(owner.id, 'key', { type: 'webauthn' });
        const recovery = credential(owner.id, 'recovery', { type: 'recovery' });
        const foreign = credential(other.id, 'foreign', { type: 'webauthn' });
        for (const c of [totp, key, recovery, foreign]) await store.credentials.put(c);

        await store.credentials.remove(recovery.id);
        expect(await store.credentials.findById(recovery.id)).toBeUndefined();

        await store.credentials.removeByAccount(owner.id, 'webauthn');
        expect((await store.credentials.listByAccount(owner.id)).map((c) => c.id)).toEqual([totp.id]);
        expect(await store.credentials.findById(foreign.id)).toEqual(foreign);

        await store.credentials.removeByAccount(owner.id);
        expect(await store.credentials.listByAccount(owner.id)).toEqual([]);
        expect(await store.credentials.findById(foreign.id)).toEqual(foreign);
      });

      it('compareAndSwap succeeds once from the data it read, then fails', async () => {
        const owner = await createAccount('owner');
        const stored = credential(owner.id, 'cas', { data: { codes: ['a1', 'b2', 'c3'], meta: { used: 0 } } });
        await store.credentials.put(stored);

        const read = await store.credentials.findById(stored.id);
        if (!read) throw new Error('credential not stored');
        const next = { codes: ['b2', 'c3'], meta: { used: 1 } };

        expect(await store.credentials.compareAndSwap(stored.id, read.data, next, T0 + MINUTE)).toBe(true);
        expect(await store.credentials.compareAndSwap(stored.id, read.data, { codes: [], meta: { used: 3 } }, T0 + 2 * MINUTE)).toBe(false);

        const after = await store.credentials.findById(stored.id);
        expect(after?.data).toEqual(next);
        expect(after?.lastUsedAt).toBe(T0 + MINUTE);
      });

      it('compareAndSwap fails when the data changed meanwhile, and for an unknown id', async () => {
        const owner = await createAccount('owner');
        const stored = credential(owner.id, 'changed', { data: { lastStep: 100 } });
        await store.credentials.put(stored);
        const read = await store.credentials.findById(stored.id);
        if (!read) throw new Error('credential not stored');

        await store.credentials.put({ ...stored, data: { lastStep: 101 } });

        expect(await store.credentials.compareAndSwap(stored.id, read.data, { lastStep: 102 }, T0)).toBe(false);
        expect((await store.credentials.findById(stored.id))?.data).toEqual({ lastStep: 101 });
        expect(await store.credentials.compareAndSwap(`${p}-unknown`, read.data, { lastStep: 1 }, T0)).toBe(false);
      });

      it('compareAndSwap compares data, not the order its keys were written in', async () => {
        const owner = await createAccount('owner');
        const stored = credential(owner.id, 'order', { data: { b: 1, a: { y: 2, x: 1 } } });
        await store.credentials.put(stored);

        expect(await store.credentials.compareAndSwap(stored.id, { a: { y: 2, x: 1 }, b: 1 }, { b: 2 }, T0)).toBe(true);
        expect((await store.credentials.findById(stored.id))?.data).toEqual({ b: 2 });
      });

      it('compareAndSwap lets exactly one of two racing swaps win', async () => {
        const owner = await createAccount('owner');
        const stored = credential(owner.id, 'race', { data: { lastStep: 7 } });
        await store.credentials.put(stored);

        const results = await Promise.all([
          store.credentials.compareAndSwap(stored.id, { lastStep: 7 }, { lastStep: 8, by: 'first' }, T0),
          store.credentials.compareAndSwap(stored.id, { lastStep: 7 }, { lastStep: 8, by: 'second' }, T0),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('flows', () => {
      it('round-trips, replaces on put, and honours expiry', async () => {
        const record = flow('one', {
          kind: 'enrol',
          interactionUid: `${p}-uid`,
          accountId: 'acc',
          clientId: 'portal',
          state: { step: 'password', tries: 1, factors: ['totp'] },
          expiresAt: T0 + 30 * MINUTE,
        });
        await store.flows.put(record);

        expect(await store.flows.find(record.id, T0)).toEqual(record);
        expect(await store.flows.find(record.id, T0 + 30 * MINUTE - 1)).toBeDefined();
        expect(await store.flows.find(record.id, T0 + 30 * MINUTE)).toBeUndefined();
        expect(await store.flows.find(`${p}-unknown`, T0)).toBeUndefined();

        const advanced = { ...record, state: { step: 'totp' }, expiresAt: T0 + HOUR };
        await store.flows.put(advanced);
        expect(await store.flows.find(record.id, T0 + 30 * MINUTE)).toEqual(advanced);
      });

      it('finds the newest live flow of an interaction', async () => {
        const uid = `${p}-interaction`;
        await store.flows.put(flow('old', { interactionUid: uid, createdAt: T0, expiresAt: T0 + HOUR }));
        await store.flows.put(flow('new', { interactionUid: uid, createdAt: T0 + MINUTE, expiresAt: T0 + 2 * MINUTE }));
        await store.flows.put(flow('other', { interactionUid: `${p}-other`, createdAt: T0 + 2 * MINUTE }));

        expect((await store.flows.findByInteraction(uid, T0 + MINUTE))?.id).toBe(`${p}-flow-new`);
        expect((await store.flows.findByInteraction(uid, T0 + 2 * MINUTE))?.id).toBe(`${p}-flow-old`);
        expect(await store.flows.findByInteraction(uid, T0 + HOUR)).toBeUndefined();
        expect(await store.flows.findByInteraction(`${p}-none`, T0)).toBeUndefined();
      });

      it('remove deletes only that flow', async () => {
        await store.flows.put(flow('a'));
        await store.flows.put(flow('b'));
        await store.flows.remove(`${p}-flow-a`);
        expect(await store.flows.find(`${p}-flow-a`, T0)).toBeUndefined();
        expect(await store.flows.find(`${p}-flow-b`, T0)).toBeDefined();
      });
    });

    describe('one-time codes', () => {
      it('replace stores the code and voids the previous one of the same account and purpose', async () => {
        const owner = await createAccount('owner');
        const first = code(owner.id, 'first', { sentAt: T0 });
        const otherPurpose = code(owner.id, 'email', { purpose: 'verify-email' });
        await store.codes.replace(first);
        await store.codes.replace(otherPurpose);
        expect(await store.codes.findActive(owner.id, 'login:sms', T0)).toEqual(first);

        const second = code(owner.id, 'second', { sentAt: T0 + MINUTE, expiresAt: T0 + 11 * MINUTE });
        await store.codes.replace(second);

        expect(await store.codes.findActive(owner.id, 'login:sms', T0 + MINUTE)).toEqual(second);
        expect(await store.codes.consume(first.id, T0 + MINUTE)).toBe(false);
        expect(await store.codes.recordAttempt(first.id)).toBe(0);
        expect(await store.codes.findActive(owner.id, 'verify-email', T0 + MINUTE)).toEqual(otherPurpose);
      });

      it('keeps the flow that sent the code, or none', async () => {
        const owner = await createAccount('owner');
        const bound = code(owner.id, 'bound', { flowId: `${p}-flow-a` });
        await store.codes.replace(bound);
        expect((await store.codes.findActive(owner.id, 'login:sms', T0))?.flowId).toBe(`${p}-flow-a`);
        const unbound = code(owner.id, 'unbound', { purpose: 'verify-phone', flowId: null });
        await store.codes.replace(unbound);
        expect(await store.codes.findActive(owner.id, 'verify-phone', T0)).toEqual(unbound);
      });

      it('replace leaves other accounts alone', async () => {
        const a = await createAccount('a');
        const b = await createAccount('b');
        const codeA = code(a.id, 'a');
        await store.codes.replace(codeA);
        await store.codes.replace(code(b.id, 'b'));
        expect(await store.codes.findActive(a.id, 'login:sms', T0)).toEqual(codeA);
      });

      it('findActive skips expired and consumed codes', async () => {
        const owner = await createAccount('owner');
        const record = code(owner.id, 'x', { expiresAt: T0 + 10 * MINUTE });
        await store.codes.replace(record);

        expect(await store.codes.findActive(owner.id, 'login:sms', T0 + 10 * MINUTE - 1)).toBeDefined();
        expect(await store.codes.findActive(owner.id, 'login:sms', T0 + 10 * MINUTE)).toBeUndefined();
        expect(await store.codes.findActive(owner.id, 'enrol:sms', T0)).toBeUndefined();

        await store.codes.consume(record.id, T0 + SECOND);
        expect(await store.codes.findActive(owner.id, 'login:sms', T0 + 2 * SECOND)).toBeUndefined();
      });

      it('recordAttempt increments atomically and returns the new count', async () => {
        const owner = await createAccount('owner');
        const record = code(owner.id, 'tries', { attempts: 2 });
        await store.codes.replace(record);

        expect(await store.codes.recordAttempt(record.id)).toBe(3);
        expect(await store.codes.recordAttempt(record.id)).toBe(4);
        const racing = await Promise.all(Array.from({ length: 5 }, () => store.codes.recordAttempt(record.id)));
        expect([...racing].sort((x, y) => x - y)).toEqual([5, 6, 7, 8, 9]);
        expect((await store.codes.findActive(owner.id, 'login:sms', T0))?.attempts).toBe(9);
        expect(await store.codes.recordAttempt(`${p}-unknown`)).toBe(0);
      });

      it('consume is single use, also when two requests race', async () => {
        const owner = await createAccount('owner');
        const once = code(owner.id, 'once');
        const raced = code(owner.id, 'raced', { purpose: 'verify-phone' });
        await store.codes.replace(once);
        await store.codes.replace(raced);

        expect(await store.codes.consume(once.id, T0 + SECOND)).toBe(true);
        expect(await store.codes.consume(once.id, T0 + 2 * SECOND)).toBe(false);
        expect(await store.codes.consume(`${p}-unknown`, T0)).toBe(false);

        const results = await Promise.all([store.codes.consume(raced.id, T0), store.codes.consume(raced.id, T0)]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('removeByAccount removes one purpose or all', async () => {
        const owner = await createAccount('owner');
        const other = await createAccount('other');
        await store.codes.replace(code(owner.id, 'sms', { purpose: 'login:sms' }));
        await store.codes.replace(code(owner.id, 'mail', { purpose: 'login:email' }));
        await store.codes.replace(code(owner.id, 'phone', { purpose: 'verify-phone' }));
        await store.codes.replace(code(other.id, 'other-sms', { purpose: 'login:sms' }));

        await store.codes.removeByAccount(owner.id, 'login:sms');
        expect(await store.codes.findActive(owner.id, 'login:sms', T0)).toBeUndefined();
        expect(await store.codes.findActive(owner.id, 'login:email', T0)).toBeDefined();

        await store.codes.removeByAccount(owner.id);
        expect(await store.codes.findActive(owner.id, 'login:email', T0)).toBeUndefined();
        expect(await store.codes.findActive(owner.id, 'verify-phone', T0)).toBeUndefined();
        expect(await store.codes.findActive(other.id, 'login:sms', T0)).toBeDefined();
      });
    });

    describe('throttles', () => {
      it('counts hits within a window', async () => {
        const key = `${p}:login-failed`;
        expect(await store.throttles.hit(key, HOUR, T0)).toEqual({
          key, count: 1, windowStartedAt: T0, windowEndsAt: T0 + HOUR, lastHitAt: T0,
        });
        expect(await store.throttles.hit(key, HOUR, T0 + MINUTE)).toEqual({
          key, count: 2, windowStartedAt: T0, windowEndsAt: T0 + HOUR, lastHitAt: T0 + MINUTE,
        });
        expect(await store.throttles.get(key, T0 + 2 * MINUTE)).toEqual({
          key, count: 2, windowStartedAt: T0, windowEndsAt: T0 + HOUR, lastHitAt: T0 + MINUTE,
        });
      });

      it('starts a new window once the old one ended', async () => {
        const key = `${p}:sms-sent`;
        await store.throttles.hit(key, HOUR, T0);
        await store.throttles.hit(key, HOUR, T0 + 1);
        expect((await store.throttles.hit(key, HOUR, T0 + HOUR - 1)).count).toBe(3);

        expect(await store.throttles.hit(key, 2 * HOUR, T0 + HOUR)).toEqual({
          key, count: 1, windowStartedAt: T0 + HOUR, windowEndsAt: T0 + 3 * HOUR, lastHitAt: T0 + HOUR,
        });
      });

      it('get reports nothing for an unknown key or an ended window', async () => {
        const key = `${p}:get`;
        expect(await store.throttles.get(key, T0)).toBeUndefined();
        await store.throttles.hit(key, MINUTE, T0);
        expect(await store.throttles.get(key, T0 + MINUTE - 1)).toBeDefined();
        expect(await store.throttles.get(key, T0 + MINUTE)).toBeUndefined();
      });

      it('reset forgets the key and nothing else', async () => {
        await store.throttles.hit(`${p}:a`, HOUR, T0);
        await store.throttles.hit(`${p}:a`, HOUR, T0);
        await store.throttles.hit(`${p}:b`, HOUR, T0);

        await store.throttles.reset(`${p}:a`);

        expect(await store.throttles.get(`${p}:a`, T0)).toBeUndefined();
        expect((await store.throttles.hit(`${p}:a`, HOUR, T0 + SECOND)).count).toBe(1);
        expect((await store.throttles.get(`${p}:b`, T0))?.count).toBe(1);
      });

      it('loses no count when hits race', async () => {
        const key = `${p}:race`;
        const records = await Promise.all(Array.from({ length: 8 }, () => store.throttles.hit(key, HOUR, T0)));
        expect(records.map((r) => r.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect((await store.throttles.get(key, T0))?.count).toBe(8);
      });

      it('release gives back one hit of a live window, never below zero', async () => {
        const key = `${p}:release`;
        await store.throttles.hit(key, HOUR, T0);
        await store.throttles.hit(key, HOUR, T0);
        await store.throttles.release(key, T0 + 1);
        expect((await store.throttles.get(key, T0 + 1))?.count).toBe(1);
        await store.throttles.release(key, T0 + 2);
        await store.throttles.release(key, T0 + 3);
        expect((await store.throttles.get(key, T0 + 3))?.count).toBe(0);
        expect((await store.throttles.hit(key, HOUR, T0 + 4)).count).toBe(1);
        // An unknown key or an ended window: nothing to give back, nothing created.
        await store.throttles.release(`${p}:none`, T0);
        expect(await store.throttles.get(`${p}:none`, T0)).toBeUndefined();
        await store.throttles.release(key, T0 + HOUR);
        expect((await store.throttles.hit(key, HOUR, T0 + HOUR)).count).toBe(1);
      });
    });

    describe('lockouts', () => {
      function lockout(key: string, overrides: Partial<LockoutRecord> = {}): LockoutRecord {
        return {
          key, consecutiveFailures: 0, failuresSinceSuccess: 0, locks: 0, lockedUntil: null, hardLocked: false,
          updatedAt: T0, expiresAt: null, ...overrides,
        };
      }
      /** A change that adds one failure and reports the count it saw. */
      const addFailure = (now: number, expiresAt: number | null = null) => (current: LockoutRecord | undefined) => {
        const base = current ?? lockout('');
        const next = { ...base, failuresSinceSuccess: base.failuresSinceSuccess + 1, updatedAt: now, expiresAt };
        return { next, result: base.failuresSinceSuccess };
      };

      it('update creates, changes and deletes a record and returns the result of the change', async () => {
        const key = `${p}:acct`;
        expect(await store.lockouts.get(key, T0)).toBeUndefined();
        expect(await store.lockouts.update(key, T0, addFailure(T0))).toBe(0);
        expect(await store.lockouts.update(key, T0 + 1, addFailure(T0 + 1))).toBe(1);
        const locked = lockout(key, { consecutiveFailures: 5, failuresSinceSuccess: 2, locks: 1, lockedUntil: T0 + MINUTE, hardLocked: true, updatedAt: T0 + 2 });
        await store.lockouts.update(key, T0 + 2, () => ({ next: locked, result: undefined }));
        expect(await store.lockouts.get(key, T0 + 3)).toEqual(locked);
        expect(await store.lockouts.update(key, T0 + 4, () => ({ next: null, result: 'gone' }))).toBe('gone');
        expect(await store.lockouts.get(key, T0 + 5)).toBeUndefined();
        // Handing back the record it was given writes nothing.
        await store.lockouts.update(key, T0 + 3, addFailure(T0 + 3));
        await store.lockouts.update(key, T0 + 9, (current) => ({ next: current ?? null, result: undefined }));
        expect((await store.lockouts.get(key, T0 + 9))?.updatedAt).toBe(T0 + 3);
        await store.lockouts.update(key, T0 + 4, () => ({ next: null, result: undefined }));
        // Deleting what does not exist is fine.
        expect(await store.lockouts.update(key, T0 + 6, () => ({ next: null, result: 'still gone' }))).toBe('still gone');
      });

      it('an expired record reads as absent and is replaced, and removeExpired deletes it', async () => {
        const key = `${p}:name`;
        await store.lockouts.update(key, T0, addFailure(T0, T0 + HOUR));
        expect((await store.lockouts.get(key, T0 + HOUR - 1))?.failuresSinceSuccess).toBe(1);
        expect(await store.lockouts.get(key, T0 + HOUR)).toBeUndefined();
        expect(await store.lockouts.update(key, T0 + HOUR, addFailure(T0 + HOUR, T0 + 2 * HOUR))).toBe(0);

        await store.lockouts.update(`${p}:ended`, T0, addFailure(T0, T0 + MINUTE));
        await store.lockouts.update(`${p}:kept`, T0, addFailure(T0, null));
        await store.removeExpired(T0 + MINUTE);
        expect(await store.lockouts.get(`${p}:ended`, T0)).toBeUndefined();
        expect(await store.lockouts.get(`${p}:kept`, FAR_FUTURE)).toBeDefined();
        expect(await store.lockouts.get(key, T0 + HOUR)).toBeDefined();
      });

      it('remove forgets one key only', async () => {
        await store.lockouts.update(`${p}:a`, T0, addFailure(T0));
        await store.lockouts.update(`${p}:b`, T0, addFailure(T0));
        await store.lockouts.remove(`${p}:a`);
        expect(await store.lockouts.get(`${p}:a`, T0)).toBeUndefined();
        expect(await store.lockouts.get(`${p}:b`, T0)).toBeDefined();
      });

      it('never lets two racing updates change from the same record', async () => {
        const key = `${p}:race`;
        const seen = await Promise.all(Array.from({ length: 20 }, () => store.lockouts.update(key, T0, addFailure(T0))));
        expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect((await store.lockouts.get(key, T0))?.failuresSinceSuccess).toBe(20);
      });
    });

    describe('devices', () => {
      it('round-trips and honours expiry', async () => {
        const owner = await createAccount('owner');
        const record = device(owner.id, 'laptop', { lastUsedAt: T0 + MINUTE, expiresAt: T0 + HOUR });
        await store.devices.put(record);

        expect(await store.devices.find(record.id, T0)).toEqual(record);
        expect(await store.devices.find(record.id, T0 + HOUR - 1)).toBeDefined();
        expect(await store.devices.find(record.id, T0 + HOUR)).toBeUndefined();
        expect(await store.devices.find(`${p}-unknown`, T0)).toBeUndefined();

        const used = { ...record, lastUsedAt: T0 + 2 * MINUTE, expiresAt: T0 + 2 * HOUR };
        await store.devices.put(used);
        expect(await store.devices.find(record.id, T0 + HOUR)).toEqual(used);
      });

      it('lists the live devices of one account in creation order', async () => {
        const owner = await createAccount('owner');
        const other = await createAccount('other');
        // Neither insertion order nor id order matches creation order.
        const phone = device(owner.id, 'phone', { createdAt: T0 });
        const expiring = device(owner.id, 'expiring', { createdAt: T0 + 2 * SECOND, expiresAt: T0 + MINUTE });
        const laptop = device(owner.id, 'laptop', { createdAt: T0 + 1 * SECOND });
        for (const d of [expiring, laptop, phone, device(other.id, 'foreign')]) await store.devices.put(d);

        expect(await store.devices.listByAccount(owner.id, T0)).toEqual([phone, laptop, expiring]);
        expect(await store.devices.listByAccount(owner.id, T0 + MINUTE)).toEqual([phone, laptop]);
        expect(await store.devices.listByAccount(`${p}-nobody`, T0)).toEqual([]);
      });

      it('remove and removeByAccount delete only what they name', async () => {
        const owner = await createAccount('owner');
        const other = await createAccount('other');
        const foreign = device(other.id, 'foreign');
        for (const d of [device(owner.id, 'a'), device(owner.id, 'b'), foreign]) await store.devices.put(d);

        await store.devices.remove(`${p}-device-a`);
        expect((await store.devices.listByAccount(owner.id, T0)).map((d) => d.id)).toEqual([`${p}-device-b`]);

        await store.devices.removeByAccount(owner.id);
        expect(await store.devices.listByAccount(owner.id, T0)).toEqual([]);
        expect(await store.devices.find(foreign.id, T0)).toEqual(foreign);
      });
    });

    describe('session proofs', () => {
      function proofs(suffix: string, overrides: Partial<SessionProofRecord> = {}): SessionProofRecord {
        return {
          sessionUid: `${p}-session-${suffix}`,
          accountId: `${p}-account`,
          proofs: [
            { factor: 'password', amr: ['pwd'], strength: 1, at: T0, replayed: false },
            { factor: 'totp', amr: ['otp'], strength: 2, at: T0 + SECOND, replayed: true },
          ],
          login: { startedAt: T0 - MINUTE, completedAt: T0 + SECOND },
          expiresAt: T0 + 8 * HOUR,
          ...overrides,
        };
      }

      it('stores and finds the proofs of a session by its uid', async () => {
        const record = proofs('a');
        await store.sessionProofs.put(record);
        await store.sessionProofs.put(proofs('b', { accountId: `${p}-other` }));
        expect(await store.sessionProofs.find(record.sessionUid, T0)).toEqual(record);
        expect(await store.sessionProofs.find(`${p}-session-unknown`, T0)).toBeUndefined();
      });

      it('replaces the proofs of a session on a new login', async () => {
        await store.sessionProofs.put(proofs('a'));
        const stepUp = proofs('a', { proofs: [{ factor: 'sms', amr: ['sms'], strength: 2, at: T0 + MINUTE, replayed: false }], login: { startedAt: T0 + SECOND, completedAt: T0 + MINUTE }, expiresAt: T0 + 9 * HOUR });
        await store.sessionProofs.put(stepUp);
        expect(await store.sessionProofs.find(stepUp.sessionUid, T0 + MINUTE)).toEqual(stepUp);
      });

      it('keeps a record without the login that made it (written before it was kept)', async () => {
        const record = proofs('no-login', { login: null });
        await store.sessionProofs.put(record);
        expect(await store.sessionProofs.find(record.sessionUid, T0)).toEqual(record);
      });

      it('keeps only the fields of the port', async () => {
        const record = proofs('extra');
        const withExtra = { ...record, proofs: record.proofs.map((proof) => ({ ...proof, note: 'not stored' })) };
        await store.sessionProofs.put(withExtra);
        expect(await store.sessionProofs.find(record.sessionUid, T0)).toEqual(record);
      });

      it('expires with the session', async () => {
        const record = proofs('expiring', { expiresAt: T0 + HOUR });
        await store.sessionProofs.put(record);
        expect(await store.sessionProofs.find(record.sessionUid, T0 + HOUR - 1)).toBeDefined();
        expect(await store.sessionProofs.find(record.sessionUid, T0 + HOUR)).toBeUndefined();
      });
    });

    describe('audit', () => {
      it('lists newest first, filtered by account and type', async () => {
        const accountId = `${p}-acc`;
        const event = (n: number, at: number, type: string, account: string | null = accountId) => ({
          id: `${p}-ev-${n}`, at, type, accountId: account, clientId: 'portal', ip: '192.0.2.1', actor: 'patient', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', detail: { n },
        });
        // Appended out of time order: the list must sort by `at`, not by insertion.
        await store.audit.append(event(2, T0 + 2 * SECOND, `${p}.login.failed`));
        await store.audit.append(event(1, T0 + 1 * SECOND, `${p}.login.succeeded`));
        await store.audit.append(event(3, T0 + 3 * SECOND, `${p}.login.failed`));
        await store.audit.append(event(4, T0 + 4 * SECOND, `${p}.login.failed`, `${p}-someone-else`));

        const mine = await store.audit.list({ accountId });
        expect(mine.map((e) => e.id)).toEqual([`${p}-ev-3`, `${p}-ev-2`, `${p}-ev-1`]);
        expect(mine[0]).toEqual(event(3, T0 + 3 * SECOND, `${p}.login.failed`));

        expect((await store.audit.list({ type: `${p}.login.failed` })).map((e) => e.id))
          .toEqual([`${p}-ev-4`, `${p}-ev-3`, `${p}-ev-2`]);
        expect((await store.audit.list({ accountId, type: `${p}.login.failed` })).map((e) => e.id))
          .toEqual([`${p}-ev-3`, `${p}-ev-2`]);
        expect((await store.audit.list({ accountId, limit: 2 })).map((e) => e.id)).toEqual([`${p}-ev-3`, `${p}-ev-2`]);

        const unfiltered = await store.audit.list();
        const ats = unfiltered.map((e) => e.at);
        expect(ats).toEqual([...ats].sort((x, y) => y - x));
      });

      it('pages oldest first by (at, id) up to a limit, for an export', async () => {
        const at = T0 - 1000 * HOUR;
        const ids = ['b', 'a', 'c', 'd'];
        for (const [n, id] of ids.entries()) {
          await store.audit.append({ id: `${p}-x-${id}`, at: at + (n < 2 ? 0 : n) * SECOND, type: `${p}.export`, accountId: null, clientId: null, ip: null, actor: null, userAgent: null, detail: {} });
        }
        const mine = (events: { id: string }[]) => events.map((e) => e.id).filter((id) => id.startsWith(`${p}-x-`));
        const until = at + 3 * SECOND;
        const first = await store.audit.listOldestFirst({ until, limit: 1000 });
        expect(mine(first)).toEqual([`${p}-x-a`, `${p}-x-b`, `${p}-x-c`]);
        const a = first.find((e) => e.id === `${p}-x-a`)!;
        expect(mine(await store.audit.listOldestFirst({ until, after: { at: a.at, id: a.id }, limit: 1000 }))).toEqual([`${p}-x-b`, `${p}-x-c`]);
      });

      it('removeBefore deletes exactly the events before the limit', async () => {
        const at = T0 - 2000 * HOUR;
        for (const n of [0, 1, 2]) {
          await store.audit.append({ id: `${p}-old-${n}`, at: at + n * SECOND, type: `${p}.old`, accountId: null, clientId: null, ip: null, actor: null, userAgent: null, detail: {} });
        }
        expect(await store.audit.removeBefore(at + 2 * SECOND)).toBeGreaterThanOrEqual(2);
        expect((await store.audit.list({ type: `${p}.old` })).map((e) => e.id)).toEqual([`${p}-old-2`]);
      });

      it('orders events of the same millisecond newest first', async () => {
        const accountId = `${p}-acc`;
        for (const n of [1, 2, 3]) {
          await store.audit.append({ id: `${p}-same-${n}`, at: T0, type: 'x', accountId, clientId: null, ip: null, actor: null, userAgent: null, detail: {} });
        }
        expect((await store.audit.list({ accountId })).map((e) => e.id)).toEqual([`${p}-same-3`, `${p}-same-2`, `${p}-same-1`]);
      });

      it('returns at most 100 events unless told otherwise', async () => {
        const accountId = `${p}-busy`;
        for (let n = 0; n < 105; n++) {
          await store.audit.append({ id: `${p}-many-${n}`, at: T0 + n, type: 'x', accountId, clientId: null, ip: null, actor: null, userAgent: null, detail: {} });
        }
        const events = await store.audit.list({ accountId });
        expect(events).toHaveLength(100);
        expect(events[0]?.id).toBe(`${p}-many-104`);
        expect(events[99]?.id).toBe(`${p}-many-5`);
        expect(await store.audit.list({ accountId, limit: 200 })).toHaveLength(105);
      });
    });

    describe('clients', () => {
      it('put, find, list, replace and remove', async () => {
        const a = { clientId: `${p}-a`, metadata: { redirect_uris: ['https://a.example/cb'], client_name: 'A' }, createdAt: T0 + 2, updatedAt: T0 + 2 };
        const b = { clientId: `${p}-b`, metadata: { redirect_uris: ['https://b.example/cb'], nested: { x: 1 } }, createdAt: T0 + 1, updatedAt: T0 + 1 };
        await store.clients.put(a);
        await store.clients.put(b);

        expect(await store.clients.find(a.clientId)).toEqual(a);
        expect(await store.clients.find(`${p}-unknown`)).toBeUndefined();
        expect((await store.clients.list()).filter((c) => c.clientId.startsWith(p))).toEqual([b, a]);

        const renamed = { ...a, metadata: { ...a.metadata, client_name: 'A2' }, updatedAt: T0 + 10 };
        await store.clients.put(renamed);
        expect(await store.clients.find(a.clientId)).toEqual(renamed);

        expect(await store.clients.remove(a.clientId)).toBe(true);
        expect(await store.clients.remove(a.clientId)).toBe(false);
        expect(await store.clients.find(a.clientId)).toBeUndefined();
        expect((await store.clients.list()).filter((c) => c.clientId.startsWith(p))).toEqual([b]);
      });

      it('putIfAbsent stores a new client once; racing writers from two connections get one winner', async () => {
        const client = (n: number) => ({ clientId: `${p}-first-start`, metadata: { n }, createdAt: T0 + n, updatedAt: T0 + n });
        const other = await open();
        try {
          const results = await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 ? other : store).clients.putIfAbsent(client(n))));
          expect(results.filter(Boolean)).toHaveLength(1);
          const winner = results.indexOf(true);
          expect(await store.clients.find(`${p}-first-start`)).toEqual(client(winner));
        } finally {
          await other.close();
        }
      });
    });

    describe('settings', () => {
      it('round-trips JSON values and overwrites', async () => {
        const name = `${p}:jwks`;
        expect(await store.settings.get(name)).toBeUndefined();

        const jwks = { keys: [{ kty: 'EC', crv: 'P-256', d: 'private', use: 'sig' }], rotatedAt: T0 };
        await store.settings.put(name, jwks);
        expect(await store.settings.get<typeof jwks>(name)).toEqual(jwks);

        await store.settings.put(name, { keys: [] });
        expect(await store.settings.get(name)).toEqual({ keys: [] });

        for (const value of ['text', 42, true, null, [1, 'two', { three: 3 }]]) {
          await store.settings.put(`${p}:scalar`, value);
          expect(await store.settings.get(`${p}:scalar`)).toEqual(value);
        }

        await store.settings.put(name, undefined);
        expect(await store.settings.get(name)).toBeUndefined();
      });

      it('putIfAbsent writes only a new name; of racing writers on two connections exactly one wins', async () => {
        const name = `${p}:keys`;
        const other = await open();
        try {
          const results = await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 ? other : store).settings.putIfAbsent(name, { keys: [n] })));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await store.settings.get(name)).toEqual({ keys: [results.indexOf(true)] });
          expect(await store.settings.putIfAbsent(name, { keys: ['late'] })).toBe(false);
        } finally {
          await other.close();
        }
      });

      it('compareAndSet replaces only the value it was given, whatever the key order', async () => {
        const name = `${p}:cas`;
        expect(await store.settings.compareAndSet(name, { v: 1 }, { v: 2 })).toBe(false);
        await store.settings.put(name, { stage: 'current', list: [{ a: 1, b: 2 }] });
        const read = await store.settings.get<Record<string, unknown>>(name);

        expect(await store.settings.compareAndSet(name, { stage: 'other' }, { stage: 'x' })).toBe(false);
        expect(await store.settings.compareAndSet(name, read, { stage: 'rotated' })).toBe(true);
        expect(await store.settings.get(name)).toEqual({ stage: 'rotated' });
        expect(await store.settings.compareAndSet(name, read, { stage: 'again' })).toBe(false);
      });

      it('compareAndSet lets exactly one of racing updates from one read win', async () => {
        const name = `${p}:race`;
        await store.settings.put(name, { version: 0 });
        const other = await open();
        try {
          const read = await store.settings.get(name);
          const results = await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 ? other : store).settings.compareAndSet(name, read, { version: n + 1 })));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await store.settings.get(name)).toEqual({ version: results.indexOf(true) + 1 });
        } finally {
          await other.close();
        }
      });
    });

    describe('removeExpired', () => {
      it('removes exactly the expired rows of every kind and counts them', async () => {
        // Start from a store without expiring rows, so the count is exactly ours.
        await store.removeExpired(FAR_FUTURE);
        const now = T0 + HOUR;
        const owner = await createAccount('owner');

        await store.oidc.upsert('AccessToken', `${p}-expired`, {}, now);
        await store.oidc.upsert('AccessToken', `${p}-live`, {}, now + 1);
        await store.oidc.upsert('Client', `${p}-forever`, {}, null);
        await store.flows.put(flow('expired', { expiresAt: now - 1 }));
        await store.flows.put(flow('live', { expiresAt: now + MINUTE }));
        await store.codes.replace(code(owner.id, 'expired', { purpose: 'a', expiresAt: now }));
        await store.codes.replace(code(owner.id, 'live', { purpose: 'b', expiresAt: now + MINUTE }));
        await store.devices.put(device(owner.id, 'expired', { expiresAt: now - HOUR }));
        await store.devices.put(device(owner.id, 'live', { expiresAt: now + HOUR }));
        const sessionProofs = (suffix: string, expiresAt: number) => ({ sessionUid: `${p}-session-${suffix}`, accountId: owner.id, proofs: [], login: null, expiresAt });
        await store.sessionProofs.put(sessionProofs('expired', now));
        await store.sessionProofs.put(sessionProofs('live', now + HOUR));
        await store.throttles.hit(`${p}:ended`, MINUTE, now - MINUTE);
        await store.throttles.hit(`${p}:running`, MINUTE, now - 1);
        await store.credentials.put(credential(owner.id, 'kept'));

        expect(await store.removeExpired(now)).toBe(6);

        // Asked with an earlier `now`, the removed rows would still be live: they are really gone.
        const earlier = T0;
        expect(await store.oidc.find('AccessToken', `${p}-expired`, earlier)).toBeUndefined();
        expect(await store.flows.find(`${p}-flow-expired`, earlier)).toBeUndefined();
        expect(await store.codes.findActive(owner.id, 'a', earlier)).toBeUndefined();
        expect(await store.devices.find(`${p}-device-expired`, earlier)).toBeUndefined();
        expect(await store.sessionProofs.find(`${p}-session-expired`, earlier)).toBeUndefined();
        expect(await store.throttles.get(`${p}:ended`, now - MINUTE)).toBeUndefined();

        expect(await store.oidc.find('AccessToken', `${p}-live`, earlier)).toBeDefined();
        expect(await store.oidc.find('Client', `${p}-forever`, earlier)).toBeDefined();
        expect(await store.flows.find(`${p}-flow-live`, earlier)).toBeDefined();
        expect(await store.codes.findActive(owner.id, 'b', earlier)).toBeDefined();
        expect(await store.devices.find(`${p}-device-live`, earlier)).toBeDefined();
        expect(await store.sessionProofs.find(`${p}-session-live`, earlier)).toBeDefined();
        expect(await store.throttles.get(`${p}:running`, now - 1)).toBeDefined();
        expect(await store.credentials.findById(`${p}-cred-kept`)).toBeDefined();
        expect(await store.accounts.findById(owner.id)).toEqual(owner);

        expect(await store.removeExpired(now)).toBe(0);
      });
    });

    describe('schemaVersion', () => {
      it('reports the schema an opened store has as the one it expects', async () => {
        const { current, expected } = await store.schemaVersion();
        expect(Number.isInteger(current)).toBe(true);
        expect(current).toBe(expected);
      });

      it('migrate is idempotent and leaves the expected version', async () => {
        const { expected } = await store.schemaVersion();
        expect((await store.migrate()).to).toBe(expected);
        expect((await store.migrate()).to).toBe(expected);
        expect((await store.schemaVersion()).current).toBe(expected);
      });
    });

    describe('transfer (db export / import)', () => {
      async function allOf<K extends TransferType>(type: K): Promise<TransferRecords[K][]> {
        const records: TransferRecords[K][] = [];
        for (let page = await store.transfer.page(type, undefined, 2); page.length; page = await store.transfer.page(type, page.at(-1), 2)) records.push(...page);
        return records;
      }

      it('pages through every record of a type, expired ones too, each once', async () => {
        const owner = await createAccount('paged');
        for (const n of [1, 2, 3]) await store.credentials.put(credential(owner.id, `paged-${n}`));
        await store.oidc.upsert('AccessToken', `${p}-expired`, { n: 1 }, T0 - HOUR);
        await store.oidc.consume('AccessToken', `${p}-expired`, T0 - 2 * HOUR);
        const credentials = (await allOf('credential')).filter((c) => c.accountId === owner.id);
        expect(credentials.map((c) => c.id).sort()).toEqual([1, 2, 3].map((n) => `${p}-cred-paged-${n}`));
        const tokens = (await allOf('oidc')).filter((o) => o.id === `${p}-expired`);
        expect(tokens).toEqual([{ model: 'AccessToken', id: `${p}-expired`, payload: { n: 1 }, expiresAt: T0 - HOUR, consumedAt: T0 - 2 * HOUR }]);
      });

      it('imports records whose key is free, keeps existing ones, and abort takes back what it wrote', async () => {
        const existing = await createAccount('existing');
        const fresh = account('imported');
        const changedCopy = { ...existing, givenName: 'Overwritten' };
        const accounts = await store.transfer.begin('account');
        expect(await accounts.add([fresh, changedCopy])).toEqual({ kept: [existing.id] });
        await accounts.commit();
        expect(await store.accounts.findById(fresh.id)).toEqual(fresh);
        expect(await store.accounts.findById(existing.id)).toEqual(existing);

        const consumed = { model: 'RefreshToken', id: `${p}-rt`, payload: { grantId: `${p}-g` }, expiresAt: FAR_FUTURE, consumedAt: T0 };
        const tokens = await store.transfer.begin('oidc');
        await tokens.add([consumed]);
        await tokens.commit();
        expect(await store.oidc.find('RefreshToken', `${p}-rt`, T0)).toEqual({ payload: consumed.payload, expiresAt: FAR_FUTURE, consumedAt: T0 });
        expect(await store.oidc.consume('RefreshToken', `${p}-rt`, T0 + 1)).toBe(false);

        const events = await store.transfer.begin('audit');
        await events.add([{ id: `${p}-ev`, at: T0, type: 'test', accountId: null, clientId: null, ip: null, actor: null, userAgent: null, detail: {} }]);
        await events.abort();
        expect(await store.audit.list({ type: 'test', limit: 1000 })).not.toContainEqual(expect.objectContaining({ id: `${p}-ev` }));
        // The store takes writes as before once an import ended.
        await store.settings.put(`${p}:after`, 1);
        expect(await store.settings.get(`${p}:after`)).toBe(1);
      });

      it('imports organisation memberships one by one beside those there, and each account\'s portals with both times', async () => {
        const owner = await createAccount('member');
        const organisations = await store.transfer.begin('organisation');
        await organisations.add(['a', 'b'].map((n) => ({ id: `${p}-org-${n}`, name: `Org ${n}`, createdAt: T0, updatedAt: T0 })));
        await organisations.commit();
        const members = await store.transfer.begin('membership');
        expect(await members.add(['a', 'b'].map((n) => ({ organisationId: `${p}-org-${n}`, kind: 'account' as const, memberId: owner.id })))).toEqual({ kept: [] });
        await members.commit();
        expect(await store.organisations.memberships('account', owner.id)).toEqual([`${p}-org-a`, `${p}-org-b`]);
        expect((await allOf('membership')).filter((m) => m.memberId === owner.id)).toHaveLength(2);

        const portals = await store.transfer.begin('account-portal');
        await portals.add([{ accountId: owner.id, clientId: `${p}-portal`, firstLoginAt: T0 - HOUR, lastLoginAt: T0 }]);
        await portals.commit();
        expect(await store.accountPortals.listByAccount(owner.id)).toEqual([{ accountId: owner.id, clientId: `${p}-portal`, firstLoginAt: T0 - HOUR, lastLoginAt: T0 }]);
        expect((await allOf('account-portal')).filter((a) => a.accountId === owner.id)).toHaveLength(1);
      });
    });

    describe('persistence', () => {
      it('keeps data across close and reopen', async () => {
        const owner = await createAccount('durable', { settings: { theme: 'dark' } });
        await store.oidc.upsert('Grant', `${p}-grant`, { accountId: owner.id }, T0 + HOUR);
        await store.settings.put(`${p}:setting`, { value: 1 });
        await store.credentials.put(credential(owner.id, 'durable'));

        await store.close();
        store = await open();

        expect(await store.accounts.findById(owner.id)).toEqual(owner);
        expect((await store.accounts.findByLogin(owner.username.toUpperCase()))?.id).toBe(owner.id);
        expect((await store.oidc.find('Grant', `${p}-grant`, T0))?.payload).toEqual({ accountId: owner.id });
        expect(await store.settings.get(`${p}:setting`)).toEqual({ value: 1 });
        expect(await store.credentials.listByAccount(owner.id)).toHaveLength(1);
      });
    });
  });
}
