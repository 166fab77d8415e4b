// The storage contract of administration (organisations and their members, admin roles, the admin
// search of accounts and of the audit trail): every implementation of the port must pass it,
// beside test/store/contract.ts. Same rules: one shared database, per-test prefixes.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateError, type AccountRecord, type AuditEvent, type Store } from '../../src/store/port.ts';

const T0 = Date.UTC(2200, 0, 1);
const MINUTE = 60_000;

export function runAdminStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`${name} store contract: administration`, () => {
    let store: Store;
    let p: string;

    beforeEach(async () => {
      store = await open();
      p = randomUUID().slice(0, 8);
    });

    afterEach(async () => {
      await store.close();
    });

    async function account(suffix: string, fields: Partial<AccountRecord> = {}): Promise<AccountRecord> {
      const record: AccountRecord = {
        id: `${p}-${suffix}`, username: `${p}-${suffix}`, email: `${p}-${suffix}@example.nl`, emailVerified: true,
        phoneEncrypted: null, phoneHint: null, phoneVerified: false, givenName: null, familyName: null, locale: 'nl',
        status: 'active', settings: {}, requiredActions: [], createdAt: T0, updatedAt: T0, ...fields,
      };
      await store.accounts.create(record);
      return record;
    }

    const org = async (suffix: string) => {
      const record = { id: `${p}-${suffix}`, name: `Praktijk ${suffix}`, createdAt: T0, updatedAt: T0 };
      await store.organisations.create(record);
      return record;
    };

    describe('organisations', () => {
      it('creates, finds, lists by id and refuses a taken id', async () => {
        const b = await org('b');
        const a = await org('a');
        expect(await store.organisations.find(a.id)).toEqual(a);
        expect((await store.organisations.list()).filter((o) => o.id.startsWith(p))).toEqual([a, b]);
        await expect(store.organisations.create({ ...a, name: 'other' })).rejects.toBeInstanceOf(DuplicateError);
        expect(await store.organisations.find(`${p}-none`)).toBeUndefined();
      });

      it('replaces memberships of accounts and portals, finds members, and removal takes memberships along', async () => {
        const a = await org('a');
        const b = await org('b');
        const patient = await account('patient');
        await store.organisations.setMemberships('account', patient.id, [a.id, b.id]);
        await store.organisations.setMemberships('client', `${p}-portal`, [b.id]);
        expect(await store.organisations.memberships('account', patient.id)).toEqual([a.id, b.id]);
        expect(await store.organisations.members('account', [a.id])).toEqual([patient.id]);
        expect(await store.organisations.members('client', [a.id])).toEqual([]);
        expect(await store.organisations.members('client', [a.id, b.id])).toEqual([`${p}-portal`]);
        expect(await store.organisations.members('account', [])).toEqual([]);

        await store.organisations.setMemberships('account', patient.id, [b.id]);
        expect(await store.organisations.memberships('account', patient.id)).toEqual([b.id]);
        expect(await store.organisations.remove(b.id)).toBe(true);
        expect(await store.organisations.remove(b.id)).toBe(false);
        expect(await store.organisations.memberships('account', patient.id)).toEqual([]);
        expect(await store.organisations.memberships('client', `${p}-portal`)).toEqual([]);
      });

      it('refuses a membership of an organisation that does not exist, changing nothing', async () => {
        const a = await org('a');
        const patient = await account('patient');
        await store.organisations.setMemberships('account', patient.id, [a.id]);
        await expect(store.organisations.setMemberships('account', patient.id, [`${p}-ghost`])).rejects.toThrow();
        expect(await store.organisations.memberships('account', patient.id)).toEqual([a.id]);
      });
    });

    describe('admin grants', () => {
      it('puts (replacing), finds, lists and removes; an account removal takes its grant along', async () => {
        const admin = await account('admin');
        const other = await account('other');
        await store.adminGrants.put({ accountId: admin.id, role: 'practice', organisations: [`${p}-a`], grantedAt: T0, grantedBy: 'operator:root' });
        await store.adminGrants.put({ accountId: other.id, role: 'auditor', organisations: [], grantedAt: T0 + 1, grantedBy: 'operator:root' });
        await store.adminGrants.put({ accountId: admin.id, role: 'operator', organisations: [], grantedAt: T0 + 2, grantedBy: 'operator:ops' });
        expect(await store.adminGrants.find(admin.id)).toEqual({ accountId: admin.id, role: 'operator', organisations: [], grantedAt: T0 + 2, grantedBy: 'operator:ops' });
        expect((await store.adminGrants.list()).filter((g) => g.accountId.startsWith(p)).map((g) => g.accountId)).toEqual([other.id, admin.id]);
        expect(await store.adminGrants.remove(other.id)).toBe(true);
        expect(await store.adminGrants.remove(other.id)).toBe(false);
        await store.accounts.remove(admin.id);
        expect(await store.adminGrants.find(admin.id)).toBeUndefined();
      });
    });

    describe('account search', () => {
      it('matches part of username, e-mail or names, case-insensitively, ordered by username, paged by cursor', async () => {
        const jan = await account('jan', { givenName: 'Jörg', familyName: 'de Vries' });
        const piet = await account('piet', { email: `${p}-pietje@zorg.example` });
        const klaas = await account('klaas', { familyName: 'Jansen' });
        const byText = async (text: string) => (await store.accounts.search({ text, limit: 10 })).map((a) => a.id);
        expect(await byText(`${p}-JAN`)).toEqual([jan.id]);
        expect(await byText('JÖRG')).toContain(jan.id);
        expect(await byText('de vries')).toContain(jan.id);
        expect(await byText(`${p}-pietje@`)).toEqual([piet.id]);
        expect(await byText('jansen')).toContain(klaas.id);
        expect(await byText('%')).toEqual([]);

        const first = await store.accounts.search({ text: p, limit: 2 });
        expect(first.map((a) => a.id)).toEqual([jan.id, klaas.id]);
        const last = first.at(-1)!;
        const next = await store.accounts.search({ text: p, limit: 2, after: { username: last.username, id: last.id } });
        expect(next.map((a) => a.id)).toEqual([piet.id]);
      });

      it('keeps only members of the given organisations (none for an empty list)', async () => {
        const a = await org('a');
        const mine = await account('mine');
        await account('theirs');
        await store.organisations.setMemberships('account', mine.id, [a.id]);
        expect((await store.accounts.search({ text: p, organisations: [a.id], limit: 10 })).map((x) => x.id)).toEqual([mine.id]);
        expect(await store.accounts.search({ text: p, organisations: [], limit: 10 })).toEqual([]);
      });
    });

    describe('audit search', () => {
      function event(suffix: string, at: number, fields: Partial<AuditEvent> = {}): AuditEvent {
        return { id: `${p}-${suffix}`, at, type: `${p}.login`, accountId: `${p}-acc`, clientId: `${p}-portal`, ip: '192.0.2.1', actor: 'patient', userAgent: null, detail: {}, ...fields };
      }

      it('filters by account, actor, type, portal and time, newest first, paged by cursor', async () => {
        const events = [
          event('1', T0, {}),
          event('2', T0 + MINUTE, { actor: `${p}:admin` }),
          event('3', T0 + 2 * MINUTE, { type: `${p}.admin`, clientId: null }),
          event('4', T0 + 2 * MINUTE, { accountId: `${p}-other` }),
          event('5', T0 + 3 * MINUTE, { clientId: `${p}-other-portal` }),
        ];
        for (const e of events) await store.audit.append(e);
        const ids = async (filter: Omit<Parameters<Store['audit']['search']>[0], 'limit'>) =>
          (await store.audit.search({ limit: 10, from: T0, ...filter })).map((e) => e.id.slice(p.length + 1));
        expect(await ids({ accountId: `${p}-acc` })).toEqual(['5', '3', '2', '1']);
        expect(await ids({ actor: `${p}:admin` })).toEqual(['2']);
        expect(await ids({ type: `${p}.admin` })).toEqual(['3']);
        expect(await ids({ clientId: `${p}-portal`, accountId: `${p}-acc` })).toEqual(['2', '1']);
        expect(await ids({ accountId: `${p}-acc`, from: T0 + MINUTE, until: T0 + 3 * MINUTE })).toEqual(['3', '2']);

        const page1 = await store.audit.search({ limit: 2, from: T0, until: T0 + 4 * MINUTE, type: `${p}.login` });
        expect(page1.map((e) => e.id)).toEqual([`${p}-5`, `${p}-4`]);
        const last = page1.at(-1)!;
        const page2 = await store.audit.search({ limit: 2, from: T0, until: T0 + 4 * MINUTE, type: `${p}.login`, before: { at: last.at, id: last.id } });
        expect(page2.map((e) => e.id)).toEqual([`${p}-2`, `${p}-1`]);
      });
    });
  });
}
