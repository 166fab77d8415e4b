// The storage contract of the account lifecycle (password profiles, the portals of an account,
// erasure): every implementation of the port must pass it, beside test/store/contract.ts. Same
// rules as there: one shared database, per-test prefixes, explicit times far in the future.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountRecord, AuditEvent, PasswordProfileRecord, Store } from '../../src/store/port.ts';

const T0 = Date.UTC(2200, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function runLifecycleStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`${name} store contract: account lifecycle`, () => {
    let store: Store;
    let p: string;

    beforeEach(async () => {
      store = await open();
      p = randomUUID().slice(0, 8);
    });

    afterEach(async () => {
      await store.close();
    });

    async function createAccount(suffix: string): Promise<AccountRecord> {
      const record: AccountRecord = {
        id: `${p}-${suffix}`, username: `user-${p}-${suffix}`, email: `${p}-${suffix}@example.nl`, emailVerified: true,
        phoneEncrypted: null, phoneHint: null, phoneVerified: false, givenName: null, familyName: null, locale: 'nl',
        status: 'active', settings: {}, requiredActions: [], createdAt: T0, updatedAt: T0,
      };
      await store.accounts.create(record);
      return record;
    }

    function profile(suffix: string, overrides: Partial<PasswordProfileRecord> = {}): PasswordProfileRecord {
      return {
        name: `${p}-${suffix}`, minLength: 8, maxLength: 128, require: ['digit', 'special'], specials: '-@#$%^&`[+=](.{)',
        blocklist: true, notNames: false, history: 5, createdAt: T0, updatedAt: T0, ...overrides,
      };
    }

    describe('password profiles', () => {
      it('round-trips every field, also no classes and "any special"', async () => {
        const zinn = profile('zinn');
        const plain = profile('plain', { require: [], specials: null, blocklist: false, notNames: true, history: 0, maxLength: 64 });
        await store.passwordProfiles.put(zinn);
        await store.passwordProfiles.put(plain);
        expect(await store.passwordProfiles.find(zinn.name)).toEqual(zinn);
        expect(await store.passwordProfiles.find(plain.name)).toEqual(plain);
        expect(await store.passwordProfiles.find(`${p}-unknown`)).toBeUndefined();
      });

      it('put replaces the profile of that name; list is by name', async () => {
        await store.passwordProfiles.put(profile('b'));
        await store.passwordProfiles.put(profile('a'));
        const changed = profile('b', { minLength: 12, require: ['upper', 'digit'], specials: null, history: 24, updatedAt: T0 + HOUR });
        await store.passwordProfiles.put(changed);
        const mine = (await store.passwordProfiles.list()).filter((x) => x.name.startsWith(p));
        expect(mine.map((x) => x.name)).toEqual([`${p}-a`, `${p}-b`]);
        expect(mine[1]).toEqual(changed);
      });

      it('remove says whether there was such a profile, and removes only that one', async () => {
        await store.passwordProfiles.put(profile('gone'));
        await store.passwordProfiles.put(profile('kept'));
        expect(await store.passwordProfiles.remove(`${p}-gone`)).toBe(true);
        expect(await store.passwordProfiles.remove(`${p}-gone`)).toBe(false);
        expect(await store.passwordProfiles.find(`${p}-gone`)).toBeUndefined();
        expect(await store.passwordProfiles.find(`${p}-kept`)).toBeDefined();
      });
    });

    describe('account portals', () => {
      it('records the first and the latest login per portal, never moving backwards', async () => {
        const account = await createAccount('a');
        await store.accountPortals.record(account.id, 'zinn', T0 + MINUTE);
        await store.accountPortals.record(account.id, 'flynth', T0 + 2 * MINUTE);
        await store.accountPortals.record(account.id, 'zinn', T0 + HOUR);
        // A login that finished late must not undo a newer one.
        await store.accountPortals.record(account.id, 'zinn', T0 + 30 * MINUTE);
        expect(await store.accountPortals.listByAccount(account.id)).toEqual([
          { accountId: account.id, clientId: 'zinn', firstLoginAt: T0 + MINUTE, lastLoginAt: T0 + HOUR },
          { accountId: account.id, clientId: 'flynth', firstLoginAt: T0 + 2 * MINUTE, lastLoginAt: T0 + 2 * MINUTE },
        ]);
      });

      it('keeps accounts apart; removeByAccount and removing the account forget them', async () => {
        const a = await createAccount('a');
        const b = await createAccount('b');
        const c = await createAccount('c');
        for (const account of [a, b, c]) await store.accountPortals.record(account.id, 'zinn', T0);
        await store.accountPortals.removeByAccount(a.id);
        await store.accounts.remove(b.id);
        expect(await store.accountPortals.listByAccount(a.id)).toEqual([]);
        expect(await store.accountPortals.listByAccount(b.id)).toEqual([]);
        expect(await store.accountPortals.listByAccount(c.id)).toHaveLength(1);
      });

      it('records nothing for an account that does not exist (removed while its login finished)', async () => {
        await store.accountPortals.record(`${p}-nobody`, 'zinn', T0);
        expect(await store.accountPortals.listByAccount(`${p}-nobody`)).toEqual([]);
      });
    });

    describe('erasure', () => {
      it('pseudonymise renames the account in its audit events only, keeping everything else', async () => {
        const event = (n: number, accountId: string): AuditEvent => ({
          id: `${p}-ev-${n}`, at: T0 + n, type: `${p}.x`, accountId, clientId: 'zinn', ip: '192.0.2.1', actor: 'patient', userAgent: 'UA', detail: { n },
        });
        await store.audit.append(event(1, `${p}-gone`));
        await store.audit.append(event(2, `${p}-gone`));
        await store.audit.append(event(3, `${p}-kept`));
        expect(await store.audit.pseudonymise(`${p}-gone`, `${p}-pseudonym`)).toBe(2);
        expect(await store.audit.list({ accountId: `${p}-gone` })).toEqual([]);
        expect(await store.audit.list({ accountId: `${p}-pseudonym` })).toEqual([
          { ...event(2, `${p}-pseudonym`) },
          { ...event(1, `${p}-pseudonym`) },
        ]);
        expect(await store.audit.list({ accountId: `${p}-kept` })).toEqual([event(3, `${p}-kept`)]);
      });

      it('flows.removeByAccount and sessionProofs.removeByAccount remove that account\'s only', async () => {
        const flow = (suffix: string, accountId: string | null) => ({
          id: `${p}-flow-${suffix}`, kind: 'login', interactionUid: null, accountId, clientId: null, state: {}, csrf: 'x', createdAt: T0, expiresAt: T0 + HOUR,
        });
        await store.flows.put(flow('gone', `${p}-gone`));
        await store.flows.put(flow('kept', `${p}-kept`));
        await store.flows.put(flow('anonymous', null));
        const proofs = (suffix: string, accountId: string) => ({
          sessionUid: `${p}-session-${suffix}`, accountId, proofs: [{ factor: 'password', amr: ['pwd'], strength: 1, at: T0, replayed: false }], login: null, expiresAt: T0 + HOUR,
        });
        await store.sessionProofs.put(proofs('gone', `${p}-gone`));
        await store.sessionProofs.put(proofs('kept', `${p}-kept`));

        await store.flows.removeByAccount(`${p}-gone`);
        await store.sessionProofs.removeByAccount(`${p}-gone`);

        expect(await store.flows.find(`${p}-flow-gone`, T0)).toBeUndefined();
        expect(await store.flows.find(`${p}-flow-kept`, T0)).toBeDefined();
        expect(await store.flows.find(`${p}-flow-anonymous`, T0)).toBeDefined();
        expect(await store.sessionProofs.find(`${p}-session-gone`, T0)).toBeUndefined();
        expect(await store.sessionProofs.find(`${p}-session-kept`, T0)).toBeDefined();
      });

      it('flows.removeByAccount with an exception keeps that flow of the account', async () => {
        const flow = (suffix: string) => ({
          id: `${p}-except-${suffix}`, kind: 'account-recovery', interactionUid: null, accountId: `${p}-reset`, clientId: null, state: {}, csrf: 'x', createdAt: T0, expiresAt: T0 + HOUR,
        });
        await store.flows.put(flow('this'));
        await store.flows.put(flow('other'));
        await store.flows.removeByAccount(`${p}-reset`, `${p}-except-this`);
        expect(await store.flows.find(`${p}-except-this`, T0)).toBeDefined();
        expect(await store.flows.find(`${p}-except-other`, T0)).toBeUndefined();
      });
    });

    describe('revocation by account', () => {
      it('removes every model record naming the account but the session kept, and nothing of other accounts', async () => {
        const me = `${p}-me`;
        const later = T0 + HOUR;
        const record = (accountId: string, extra: Record<string, unknown> = {}) => ({ sealed: 'opaque', accountId, ...extra });
        await store.oidc.upsert('Session', `${p}-s-here`, record(me, { uid: `${p}-uid-here` }), later);
        await store.oidc.upsert('Session', `${p}-s-there`, record(me, { uid: `${p}-uid-there` }), later);
        await store.oidc.upsert('Grant', `${p}-g`, record(me), later);
        await store.oidc.upsert('RefreshToken', `${p}-rt`, record(me, { grantId: `${p}-g` }), later);
        await store.oidc.upsert('AccessToken', `${p}-at`, record(me, { grantId: `${p}-g` }), later);
        await store.oidc.upsert('RefreshToken', `${p}-rt-other`, record(`${p}-other`), later);
        // A record with the kept uid under another model is no session: it goes.
        await store.oidc.upsert('AuthorizationCode', `${p}-code`, record(me, { uid: `${p}-uid-here` }), later);
        await store.oidc.upsert('Interaction', `${p}-i`, { sealed: 'opaque' }, later);

        expect(await store.oidc.revokeByAccount(me, { exceptSessionUid: `${p}-uid-here` })).toBe(5);
        const live = async (model: string, id: string) => (await store.oidc.find(model, id, T0)) !== undefined;
        expect(await live('Session', `${p}-s-here`)).toBe(true);
        for (const [model, id] of [['Session', 's-there'], ['Grant', 'g'], ['RefreshToken', 'rt'], ['AccessToken', 'at'], ['AuthorizationCode', 'code']] as const) {
          expect(await live(model, `${p}-${id}`), `${model} ${id}`).toBe(false);
        }
        expect(await live('RefreshToken', `${p}-rt-other`)).toBe(true);
        expect(await live('Interaction', `${p}-i`)).toBe(true);
        // Without a session to keep, that one goes too.
        expect(await store.oidc.revokeByAccount(me)).toBe(1);
        expect(await live('Session', `${p}-s-here`)).toBe(false);
      });
    });
  });
}
