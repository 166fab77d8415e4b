// Phone numbers and TOTP secrets are sealed bound to their owner. Someone with write access to the
// database but without SECRETS_KEY copies a victim's sealed number or secret onto another row: it
// does not open there, and the login that needs it answers a clear refusal, sending nothing. Values
// an earlier version sealed unbound are bound by a one-time re-seal at start (also when two
// processes start together), after which an unbound value is refused like a copied one.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCipheriv, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildServices } from '../../src/bootstrap.ts';
import { createApp } from '../../src/web/app.ts';
import type { Services } from '../../src/services.ts';
import type { AccountRecord, CredentialRecord } from '../../src/store/port.ts';
import { phoneContext } from '../../src/accounts/accounts.ts';
import { BOUND_SECRETS_MARKER, bindSealedSecrets, phoneRebinder, readBoundMarker, writeBoundMarker } from '../../src/accounts/bound-secrets.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/port.ts';
import { totpContext } from '../../src/factors/totp/totp-binding.ts';
import { verifyTotpLogin } from '../../src/factors/totp/totp-code.ts';
import { randomId } from '../../src/accounts/random.ts';
import { migrateSecretsAtRest } from '../../src/oidc/secrets-at-rest.ts';
import { cli } from '../support/cli.ts';
import { textOf, UserAgent } from '../support/user-agent.ts';
import { type RelyingParty } from '../support/relying-party.ts';
import { giveTotp, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { stepAlignedTime, totpCode } from '../support/totp.ts';

const VICTIM_KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const ATTACKER_KEY = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';

/** Runs `change` on the server's SQLite file, as someone with write access to it would. */
function onDatabase<T>(dataDir: string, change: (db: Database.Database) => T): T {
  const db = new Database(path.join(dataDir, 'poortwachter.sqlite'));
  try {
    return change(db);
  } finally {
    db.close();
  }
}

describe('sealed phone numbers and TOTP secrets are bound to their owner', () => {
  let world: FactorWorld;
  let rp: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld({ now: stepAlignedTime() });
    rp = await world.portal({ name: 'Testportaal' });
  });
  afterAll(() => world?.close());

  it("a victim's sealed phone number copied onto another account opens as no number: its SMS login is refused with a clear 409 and sends nothing", async () => {
    const victim = await userWithFactors(world.server, { username: 'slachtoffer-sms', phoneE164: '+31612345671' }, ['sms']);
    const other = await userWithFactors(world.server, { username: 'aanvaller-sms', phoneE164: '+31612345672' }, ['sms']);
    onDatabase(world.server.dataDir, (db) => {
      const { phone_encrypted: sealed } = db.prepare<[string], { phone_encrypted: string }>('SELECT phone_encrypted FROM accounts WHERE id = ?').get(victim.id)!;
      expect(db.prepare('UPDATE accounts SET phone_encrypted = ? WHERE id = ?').run(sealed, other.id).changes).toBe(1);
    });
    const { accounts } = world.server.services;
    const copied = (await accounts.findById(other.id))!;
    expect(accounts.phoneOf(copied)).toBeNull();
    expect(accounts.phoneOf((await accounts.findById(victim.id))!)).toBe('+31612345671');

    const sentBefore = world.twilio.messages.length;
    const { page } = await loginUntilSecondFactor(rp, new UserAgent(), 'aanvaller-sms');
    expect(page.status).toBe(409);
    expect(textOf(page)).toContain('Er is geen telefoonnummer bekend voor uw account');
    expect(world.twilio.messages.length).toBe(sentBefore);
    // Logged as such, without the number.
    expect(world.server.logs()).toContain('does not open as its own');
    expect(world.server.logs()).not.toContain('31612345671');
  });

  it("a victim's sealed TOTP secret copied onto another credential does not open there: the victim's codes are refused with a clear 409", async () => {
    const victim = await world.server.addUser({ username: 'slachtoffer-app', emailVerified: true });
    const other = await world.server.addUser({ username: 'aanvaller-app', emailVerified: true });
    await giveTotp(world.server, victim, VICTIM_KEY);
    await giveTotp(world.server, other, ATTACKER_KEY);
    const { store } = world.server.services;
    const [victimCredential] = await store.credentials.listByAccount(victim.id, 'totp');
    const [otherCredential] = await store.credentials.listByAccount(other.id, 'totp');
    onDatabase(world.server.dataDir, (db) => {
      const { data } = db.prepare<[string], { data: string }>('SELECT data FROM credentials WHERE id = ?').get(victimCredential!.id)!;
      expect(db.prepare('UPDATE credentials SET data = ? WHERE id = ?').run(data, otherCredential!.id).changes).toBe(1);
    });

    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(rp, agent, 'aanvaller-app');
    expect(page.html).toContain('/step/totp/verify');
    const answer = await submitStep(agent, page, 'totp', 'verify', { code: await totpCode(VICTIM_KEY, world.clock.now()) });
    expect(answer.status).toBe(409);
    expect(textOf(answer)).toContain('Codes uit uw authenticator-app kunnen voor dit account niet worden gecontroleerd');
    expect(answer.url).not.toContain('code=');
    const check = await verifyTotpLogin(world.server.services, other, await totpCode(VICTIM_KEY, world.clock.now()));
    expect(check).toEqual({ ok: false, reason: 'unreadable' });
    // The victim's own credential still works for the victim.
    expect(await verifyTotpLogin(world.server.services, victim, await totpCode(VICTIM_KEY, world.clock.now() + 30_000))).toMatchObject({ ok: true });
  });
});

/** A value sealed the way versions before binding did: the empty context. */
function unbound(services: Services, value: string): string {
  return services.box.seal(value);
}

/** What the version before key ids wrote: `v1.iv.body.tag`, SECRETS_KEY used directly, no context. */
function sealV1(value: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

interface Legacy {
  accounts: Array<{ account: AccountRecord; phone: string }>;
  credentials: Array<{ credential: CredentialRecord; key: string }>;
}

/** Accounts with phone numbers and TOTP credentials sealed unbound, written straight into the store. */
async function writeLegacyRows(services: Services, count: number): Promise<Legacy> {
  const legacy: Legacy = { accounts: [], credentials: [] };
  const now = services.clock.now();
  for (let i = 0; i < count; i += 1) {
    const phone = `+316200000${String(i).padStart(2, '0')}`;
    const account = await services.accounts.create({ username: `oud-${i}`, email: `oud-${i}@example.nl`, phoneVerified: true });
    // The first one as the oldest versions wrote it (v1, no key id).
    const phoneEncrypted = i === 0 ? sealV1(phone, services.config.secretsKey) : unbound(services, phone);
    const record = { ...account, phoneEncrypted, phoneHint: phone.slice(-2) };
    await services.store.accounts.update(record);
    const key = `${VICTIM_KEY.slice(0, 31)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[i % 32]}`;
    const credential: CredentialRecord = { id: randomId(16), accountId: account.id, type: 'totp', data: { secretSealed: unbound(services, key), lastUsedStep: 7 }, createdAt: now, lastUsedAt: null };
    await services.store.credentials.put(credential);
    legacy.accounts.push({ account: record, phone });
    legacy.credentials.push({ credential, key });
  }
  return legacy;
}

/** Every value of `legacy` now opens bound to its owner, and no longer unbound. */
async function expectAllBound(services: Services, legacy: Legacy): Promise<void> {
  for (const { account, phone } of legacy.accounts) {
    const stored = (await services.store.accounts.findById(account.id))!;
    expect(stored.phoneEncrypted).not.toBe(account.phoneEncrypted);
    expect(services.box.open(stored.phoneEncrypted!, phoneContext(account.id))).toBe(phone);
    expect(() => services.box.open(stored.phoneEncrypted!)).toThrow();
    expect(services.accounts.phoneOf(stored)).toBe(phone);
    // Nothing else of the account changed.
    expect({ ...stored, phoneEncrypted: null }).toEqual({ ...account, phoneEncrypted: null });
  }
  for (const { credential, key } of legacy.credentials) {
    const stored = (await services.store.credentials.findById(credential.id))!;
    const sealed = stored.data.secretSealed as string;
    expect(services.box.open(sealed, totpContext(credential.accountId, credential.id))).toBe(key);
    expect(() => services.box.open(sealed)).toThrow();
    expect(stored.data.lastUsedStep).toBe(7);
  }
}

describe('the start-up re-seal of values sealed before binding', () => {
  const dirs: string[] = [];
  const open: Services[] = [];

  let logLines: string[] = [];
  async function servicesOn(dataDir: string, env: Record<string, string> = {}): Promise<Services> {
    const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });
    const services = await buildServices(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ISSUER: 'http://127.0.0.1:1', LOG_LEVEL: 'silent', ...env }), { logger });
    open.push(services);
    return services;
  }

  async function close(services: Services): Promise<void> {
    open.splice(open.indexOf(services), 1);
    await services.store.close();
  }

  async function legacyDatabase(count: number): Promise<{ dataDir: string; legacy: Legacy }> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-bind-'));
    dirs.push(dataDir);
    const services = await servicesOn(dataDir);
    const legacy = await writeLegacyRows(services, count);
    // The older version had run: its signing and cookie keys are there, sealed with SECRETS_KEY.
    await migrateSecretsAtRest(services.store, services.box, services.modelSecrets, services.clock.now());
    await close(services);
    return { dataDir, legacy };
  }

  afterAll(async () => {
    for (const services of [...open]) await close(services);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('binds unbound values at start, records that it did, and refuses an unbound value written afterwards (also after the next start)', async () => {
    const { dataDir, legacy } = await legacyDatabase(3);
    const before = await servicesOn(dataDir);
    // Before the start, nothing reads them: there is no fallback to the empty context.
    expect(before.accounts.phoneOf(legacy.accounts[1]!.account)).toBeNull();
    expect(await before.store.settings.get(BOUND_SECRETS_MARKER)).toBeUndefined();

    await createApp(before);
    await expectAllBound(before, legacy);
    expect(await readBoundMarker(before.store, before.box)).toMatchObject({ version: 1, state: 'done' });
    const { account } = legacy.accounts[0]!;
    expect(await verifyTotpLogin(before, account, await totpCode(legacy.credentials[0]!.key, before.clock.now()))).toMatchObject({ ok: true });

    // Written unbound after the re-seal (a copy from an old backup, say): refused, now and later.
    const planted = { ...(await before.store.accounts.findById(account.id))!, phoneEncrypted: unbound(before, '+31699999999') };
    await before.store.accounts.update(planted);
    const { credential } = legacy.credentials[1]!;
    const plantedSecret = { secretSealed: unbound(before, VICTIM_KEY), lastUsedStep: 0 };
    await before.store.credentials.put({ ...credential, data: plantedSecret });
    expect(before.accounts.phoneOf(planted)).toBeNull();
    await close(before);

    const after = await servicesOn(dataDir);
    await createApp(after);
    const stored = (await after.store.accounts.findById(account.id))!;
    expect(stored.phoneEncrypted).toBe(planted.phoneEncrypted);
    expect(after.accounts.phoneOf(stored)).toBeNull();
    expect((await after.store.credentials.findById(credential.id))!.data).toEqual(plantedSecret);
    const owner = legacy.accounts[1]!.account;
    expect(await verifyTotpLogin(after, owner, await totpCode(VICTIM_KEY, after.clock.now()))).toEqual({ ok: false, reason: 'unreadable' });
    await close(after);
  });

  it('a CLI command that seals a new number before the first start of this version binds the older values first: none is left unbound', async () => {
    const { dataDir, legacy } = await legacyDatabase(2);
    const added = await cli(['user', 'add', '--username', 'nieuw', '--email', 'nieuw@example.nl', '--phone', '06 12345699', '--password-stdin'], { DATA_DIR: dataDir, ISSUER: 'http://127.0.0.1:1' }, 'Zeilboot-Haven-2026\n');
    expect(added.code, added.stderr).toBe(0);
    const server = await servicesOn(dataDir);
    await createApp(server);
    await expectAllBound(server, legacy);
    const fresh = (await server.accounts.findByLogin('nieuw'))!;
    expect(server.accounts.phoneOf(fresh)).toBe('+31612345699');
    await close(server);
  });

  it('a start with a mistyped SECRETS_KEY stops before the re-seal: the start with the right key binds every value', async () => {
    const { dataDir, legacy } = await legacyDatabase(2);
    const mistyped = await servicesOn(dataDir, { SECRETS_KEY: randomBytes(32).toString('base64') });
    await expect(createApp(mistyped)).rejects.toThrow();
    await close(mistyped);
    const fixed = await servicesOn(dataDir);
    await createApp(fixed);
    await expectAllBound(fixed, legacy);
    await close(fixed);
  });

  it('two processes starting on one file at once both leave every value bound once', async () => {
    const { dataDir, legacy } = await legacyDatabase(40);
    const first = await servicesOn(dataDir);
    const second = await servicesOn(dataDir);
    await Promise.all([createApp(first), createApp(second)]);
    await expectAllBound(first, legacy);
    await expectAllBound(second, legacy);
    expect(await readBoundMarker(second.store, second.box)).toMatchObject({ version: 1, state: 'done' });
    await close(first);
    await close(second);
  });

  /** A bound installation whose marker a database writer replaced, and an unbound value planted on a victim's row. */
  async function boundThenPlanted(marker: unknown): Promise<{ dataDir: string; legacy: Legacy; planted: AccountRecord; plantedSecret: CredentialRecord['data'] }> {
    const { dataDir, legacy } = await legacyDatabase(2);
    const services = await servicesOn(dataDir);
    await createApp(services);
    await expectAllBound(services, legacy);
    // The attacker's own number and app secret, sealed unbound (as an older version did), on the victim's rows.
    const planted = { ...(await services.store.accounts.findById(legacy.accounts[0]!.account.id))!, phoneEncrypted: sealV1('+31699999999', services.config.secretsKey) };
    await services.store.accounts.update(planted);
    const plantedSecret = { secretSealed: unbound(services, ATTACKER_KEY), lastUsedStep: 0 };
    await services.store.credentials.put({ ...legacy.credentials[1]!.credential, data: plantedSecret });
    await services.store.settings.put(BOUND_SECRETS_MARKER, marker);
    await close(services);
    return { dataDir, legacy, planted, plantedSecret };
  }

  for (const [how, marker] of [
    ['replaced by the old plain marker', { version: 0, at: '2026-01-01T00:00:00.000Z' }],
    ['replaced by a forged sealed one', { sealed: 'v2.AAAAAAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA' }],
  ] as const) {
    it(`a marker ${how} while values are bound: the next start re-seals none of the planted unbound values, names their accounts in the log, and records that it is done`, async () => {
      const { dataDir, legacy, planted, plantedSecret } = await boundThenPlanted(marker);
      logLines = [];
      const next = await servicesOn(dataDir);
      await createApp(next);
      const stored = (await next.store.accounts.findById(planted.id))!;
      expect(stored.phoneEncrypted).toBe(planted.phoneEncrypted);
      expect(next.accounts.phoneOf(stored)).toBeNull();
      const { credential } = legacy.credentials[1]!;
      expect((await next.store.credentials.findById(credential.id))!.data).toEqual(plantedSecret);
      expect(await verifyTotpLogin(next, legacy.accounts[1]!.account, await totpCode(ATTACKER_KEY, next.clock.now()))).toEqual({ ok: false, reason: 'unreadable' });
      expect(await readBoundMarker(next.store, next.box)).toMatchObject({ state: 'done' });
      const log = logLines.join('');
      expect(log).toContain('stay unreadable');
      expect(log).toContain(planted.id);
      expect(log).toContain(credential.id);
      expect(log).not.toContain('31699999999');
      await close(next);
    });
  }

  it("a start that finds the marker in state 'binding' (a crash part-way) goes on re-sealing", async () => {
    const { dataDir, legacy } = await legacyDatabase(3);
    const services = await servicesOn(dataDir);
    // Part-way: the first account's number was bound, the rest not yet.
    const first = legacy.accounts[0]!;
    await services.store.accounts.update({ ...first.account, phoneEncrypted: services.box.seal(first.phone, phoneContext(first.account.id)) });
    await writeBoundMarker(services.store, services.box, 'binding', services.clock.now());
    await createApp(services);
    await expectAllBound(services, legacy);
    expect(await readBoundMarker(services.store, services.box)).toMatchObject({ state: 'done' });
    await close(services);
  });

  it('values that do not open are named in the log by account and credential id (never the value), and the start still records that it is done', async () => {
    const { dataDir, legacy } = await legacyDatabase(2);
    const services = await servicesOn(dataDir);
    const elsewhere = await servicesOn(dataDir, { SECRETS_KEY: randomBytes(32).toString('base64') });
    const damaged = { ...legacy.accounts[1]!.account, phoneEncrypted: elsewhere.box.seal('+31688888888') };
    await services.store.accounts.update(damaged);
    const { credential } = legacy.credentials[0]!;
    await services.store.credentials.put({ ...credential, data: { ...credential.data, secretSealed: 'v2.x.AAAAAAAAAAAAAAAA.x.AAAA' } });
    await close(elsewhere);
    logLines = [];
    await createApp(services);
    const log = logLines.join('');
    expect(log).toContain('could not be opened');
    expect(log).toContain(damaged.id);
    expect(log).toContain(credential.id);
    expect(log).not.toContain('31688888888');
    expect(services.accounts.phoneOf(legacy.accounts[0]!.account)).toBeNull();
    expect(services.accounts.phoneOf((await services.store.accounts.findById(legacy.accounts[0]!.account.id))!)).toBe(legacy.accounts[0]!.phone);
    expect(await readBoundMarker(services.store, services.box)).toMatchObject({ state: 'done' });
    await close(services);
  });

  it("a number that keeps changing under the re-seal is 'contended': the marker stays 'binding', so the next start tries again", async () => {
    const { dataDir, legacy } = await legacyDatabase(1);
    const services = await servicesOn(dataDir);
    // Every conditional write loses (another writer changed the number each time).
    const losing: Store = { ...services.store, accounts: Object.assign(Object.create(services.store.accounts) as Store['accounts'], { replaceSealedPhone: async () => false }) };
    const accounts = new Accounts(losing, services.box, services.clock);
    expect(await accounts.rebindPhone(legacy.accounts[0]!.account)).toBe('contended');
    const report = await bindSealedSecrets(losing, services.box, { phones: phoneRebinder(losing, accounts) }, services.clock.now());
    expect(report?.phones?.counts.contended).toBe(1);
    expect(await readBoundMarker(services.store, services.box)).toMatchObject({ state: 'binding' });
    // The next start (whose writes succeed) binds it.
    await createApp(services);
    await expectAllBound(services, legacy);
    await close(services);
  });
});
