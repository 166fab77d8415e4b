// The operator side of issue 8, run in-process against the data of a running server (same
// DATA_DIR, real SMTP server): password profiles, a portal naming one, user show / update /
// temp-password / remove. Exit codes, stdout (JSON), the mails and the audit trail are the proof.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCliWith, type CliRun } from '../support/cli.ts';
import { auditPseudonym } from '../../src/accounts/erasure.ts';
import { finishAtPortal, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';
import { TEST_PASSWORD } from '../support/server.ts';

let world: FactorWorld;

beforeAll(async () => {
  world = await startFactorWorld();
});
afterAll(() => world?.close());

/** The CLI against this test's server. */
async function cli(args: string[], input = ''): Promise<CliRun> {
  return runCliWith(args, {
    DATA_DIR: world.server.dataDir, PATH: process.env.PATH ?? '', ISSUER: world.server.url,
    SMTP_URL: world.smtp.url, MAIL_FROM: 'Poortwachter <no-reply@poortwachter.test>', DEV_OUTBOX: 'false',
  }, input);
}

async function json<T>(args: string[], input?: string): Promise<T> {
  const run = await cli([...args, '--json'], input);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

const ZINN_SPECIALS = '-@#$%^&`[+=](.{)';
/** The CLI audits the operating-system user who ran it. */
const OPERATOR = `operator:${os.userInfo().username}`;

describe('password-profile', { timeout: 120_000 }, () => {
  it('add, list, update and remove, with the built-in default listed first', async () => {
    const added = await json<Record<string, unknown>>(['password-profile', 'add', '--name', 'zinn-test', '--min-length', '8', '--require', 'digit,special', `--specials=${ZINN_SPECIALS}`, '--history', '5']);
    expect(added).toMatchObject({ name: 'zinn-test', min_length: 8, require: ['digit', 'special'], specials: ZINN_SPECIALS, blocklist: true, not_names: false, history: 5 });

    const listed = await json<Array<Record<string, unknown>>>(['password-profile', 'list']);
    expect(listed[0]).toMatchObject({ name: 'default', built_in: true, require: [], history: 0, blocklist: true, not_names: true });
    expect(listed.find((p) => p.name === 'zinn-test')).toMatchObject({ built_in: false, used_by: [] });

    const updated = await json<Record<string, unknown>>(['password-profile', 'update', '--name', 'zinn-test', '--require', 'digit,special,upper', '--not-names', 'on']);
    expect(updated).toMatchObject({ require: ['digit', 'special', 'upper'], specials: ZINN_SPECIALS, not_names: true, history: 5 });
    const human = await cli(['password-profile', 'list']);
    expect(human.stdout).toMatch(/^NAME\s+LENGTH\s+REQUIRE/m);
    expect(human.stdout).toContain('default (built-in)');

    expect(await json(['password-profile', 'remove', '--name', 'zinn-test'])).toEqual({ name: 'zinn-test', removed: true });
    const again = await cli(['password-profile', 'remove', '--name', 'zinn-test']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no password profile zinn-test');
    const events = await world.server.services.store.audit.list({ type: 'admin.password_profile.added' });
    expect(events[0]).toMatchObject({ actor: OPERATOR, detail: { profile: 'zinn-test' } });
  });

  it('refuses what is not a profile, naming the rule', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--name', 'Te Kort', '--min-length', '6'], 1, /--name must be .*\n.*--min-length must be 8 to 64/],
      [['--name', 'default'], 1, /built-in profile/],
      [['--name', 'x', '--max-length', '32'], 1, /allow at least 64/],
      [['--name', 'x', '--require', 'digit,emoji'], 2, /unknown: emoji/],
      [['--name', 'x', '--specials', '!?'], 1, /--specials only matters with --require special/],
      [['--name', 'x', '--require', 'special', '--specials', 'ab'], 1, /not letters, digits or spaces/],
      [['--name', 'x', '--history', '25'], 1, /--history must be 0 \(off\) to 24/],
      [['--name', 'x', '--history', 'veel'], 2, /--history must be a whole number/],
    ];
    for (const [args, code, message] of cases) {
      const run = await cli(['password-profile', 'add', ...args]);
      expect(run.code, args.join(' ')).toBe(code);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    expect((await json<Array<{ name: string }>>(['password-profile', 'list'])).map((p) => p.name)).not.toContain('x');
  });

  it('a portal names a profile that exists; one in use cannot be removed', async () => {
    await json(['password-profile', 'add', '--name', 'flynth-test', '--require', 'upper,digit', '--not-names', '--history', '24']);
    const refused = await cli(['client', 'add', '--name', 'Onbekend', '--redirect-uri', 'https://x.example/cb', '--password-profile', 'bestaat-niet']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no password profile bestaat-niet');
    const badSender = await cli(['client', 'add', '--name', 'Onbekend', '--redirect-uri', 'https://x.example/cb', '--mail-from', 'a@x.nl, b@y.nl']);
    expect(badSender.code).toBe(1);
    expect(badSender.stderr).toContain('mail_from');

    const client = await json<{ client_id: string; metadata: Record<string, unknown> }>(['client', 'add', '--name', 'Flynth Werkplek', '--redirect-uri', 'https://flynth.example/cb', '--password-profile', 'flynth-test', '--mail-from', 'Flynth <no-reply@flynth.example>']);
    expect(client.metadata).toMatchObject({ password_profile: 'flynth-test', mail_from: 'Flynth <no-reply@flynth.example>' });
    const inUse = await cli(['password-profile', 'remove', '--name', 'flynth-test']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`used by ${client.client_id}`);

    const updated = await json<{ metadata: Record<string, unknown> }>(['client', 'update', client.client_id, '--password-profile', 'default', '--mail-from', 'none']);
    expect(updated.metadata.password_profile).toBeUndefined();
    expect(updated.metadata.mail_from).toBeUndefined();
    expect((await cli(['password-profile', 'remove', '--name', 'flynth-test'])).code).toBe(0);
  });
});

describe('user show, update, temp-password, remove', { timeout: 120_000 }, () => {
  it('user --help says why no command sets a chosen password', async () => {
    const run = await cli(['user', '--help']);
    expect(run.stdout).toContain('ASVS 5.0 6.4.6');
    expect(run.stdout).toContain('user temp-password');
  });

  it('show: lock state, password, factors and portals used; never a secret or a full number', async () => {
    const account = await userWithFactors(world.server, { username: 'toon', phoneE164: '+31612345678' }, ['sms', 'totp']);
    const client = await world.server.addClient({ name: 'ZINN cliëntportaal', redirectUris: ['https://zinn.example/cb'] });
    await world.server.services.store.accountPortals.record(account.id, client.clientId, world.clock.now());
    const shown = await json<Record<string, unknown>>(['user', 'show', 'toon']);
    expect(shown).toMatchObject({
      username: 'toon', phone: '*****78', lock: { state: 'open' }, factors: ['sms', 'totp'], temporary_password: null,
      portals: [{ client_id: client.clientId, name: 'ZINN cliëntportaal' }],
    });
    expect((shown.password as { set_at: string | null }).set_at).not.toBeNull();
    const human = await cli(['user', 'show', 'toon']);
    expect(human.stdout).toContain('ZINN cliëntportaal');
    expect(human.stdout + JSON.stringify(shown)).not.toMatch(/612345678|argon2|Kastanje/);
  });

  it('update: a new address and number are unverified, and the old address hears of both', async () => {
    await world.server.addUser({ username: 'uma', email: 'uma@example.nl', emailVerified: true, phoneE164: '+31611111111', phoneVerified: true, locale: 'nl' });
    const updated = await json<Record<string, unknown>>(['user', 'update', 'uma', '--email', 'uma.nieuw@example.nl', '--phone', '06 22222222', '--given-name', 'Uma', '--locale', 'en']);
    expect(updated).toMatchObject({ email: 'uma.nieuw@example.nl', email_verified: false, phone: '*****22', phone_verified: false, given_name: 'Uma', locale: 'en', changed: ['email', 'phone', 'givenName', 'locale'] });
    const mails = [await world.smtp.waitForMail('uma@example.nl'), await world.smtp.waitForMail('uma@example.nl')];
    const subjects = mails.map((m) => m.subject).sort();
    expect(subjects).toEqual(['The e-mail address of your account was changed', 'The phone number of your account was changed']);
    for (const mail of mails) expect(mail.text).toContain('administrator of your account');
    expect(world.smtp.messages.some((m) => m.envelopeTo.includes('uma.nieuw@example.nl'))).toBe(false);
    const account = await world.server.services.accounts.findByLogin('uma');
    expect(world.server.services.accounts.phoneOf(account!)).toBe('+31622222222');
    const [event] = await world.server.services.store.audit.list({ accountId: account!.id, type: 'admin.user.updated' });
    expect(event).toMatchObject({ actor: OPERATOR, detail: { changed: ['email', 'phone', 'givenName', 'locale'] } });
    expect(JSON.stringify(event)).not.toMatch(/2222|nieuw/);
  });

  it('update refuses a bad or taken address and a bad number, changing nothing', async () => {
    await world.server.addUser({ username: 'vera', email: 'vera@example.nl' });
    for (const [args, message] of [
      [['--email', 'geen-adres'], /not a valid e-mail address/],
      [['--email', 'uma.nieuw@example.nl'], /is taken/],
      [['--phone', '12'], /not a valid phone number/],
    ] as const) {
      const run = await cli(['user', 'update', 'vera', ...args]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
    }
    expect((await cli(['user', 'update', 'vera'])).code).toBe(2);
    expect((await world.server.services.accounts.findByLogin('vera'))?.email).toBe('vera@example.nl');
  });

  it('temp-password: mailed from the portal\'s sender, never printed, audited with the operator', async () => {
    const account = await world.server.addUser({ username: 'wim', email: 'wim@example.nl', locale: 'nl' });
    const client = await world.server.addClient({ name: 'Mijn Therapie Dossier', redirectUris: ['https://mtd.example/cb'], mailFrom: 'Mijn Therapie Dossier <no-reply@mijntherapiedossier.example>' });
    const run = await cli(['user', 'temp-password', 'wim', '--client', client.clientId]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Mailed a temporary password to w\*\*\*@example\.nl for Mijn Therapie Dossier; it works until/);
    const mail = await world.smtp.waitForMail('wim@example.nl');
    expect(mail.from).toContain('no-reply@mijntherapiedossier.example');
    expect(mail.subject).toBe('Uw tijdelijke wachtwoord voor Mijn Therapie Dossier');
    const password = /Tijdelijk wachtwoord: (\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    expect(password).toHaveLength(14);
    expect(run.stdout + run.stderr).not.toContain(password);
    expect(await world.server.services.passwords.match(account, password)).toBe('temporary');
    const [event] = await world.server.services.store.audit.list({ accountId: account.id, type: 'password.temporary_issued' });
    expect(event).toMatchObject({ actor: OPERATOR, clientId: client.clientId, detail: { outcome: 'sent' } });
    const shown = await json<{ temporary_password: { expired: boolean; client_id: string } }>(['user', 'show', 'wim']);
    expect(shown.temporary_password).toMatchObject({ expired: false, client_id: client.clientId });

    const unknownClient = await cli(['user', 'temp-password', 'wim', '--client', 'bestaat-niet']);
    expect(unknownClient.code).toBe(1);
  });

  it('remove: erases the account and everything it had; the audit trail keeps a keyed pseudonym', async () => {
    const account = await userWithFactors(world.server, { username: 'xander', phoneE164: '+31633333333' }, ['sms', 'totp']);
    const { store, clock, audit } = world.server.services;
    const now = clock.now();
    await world.server.services.devices.remember(account, { factor: 'totp', amr: ['otp'], strength: 2 }, 'urn:poortwachter:acr:substantial', 'Firefox');
    await store.codes.replace({ id: 'code-x', accountId: account.id, purpose: 'login:sms', flowId: null, codeHash: 'h', attempts: 0, sentAt: now, expiresAt: now + 600_000, consumedAt: null });
    await store.flows.put({ id: 'flow-x', kind: 'login', interactionUid: null, accountId: account.id, clientId: null, state: {}, csrf: 'c', createdAt: now, expiresAt: now + 600_000 });
    await store.sessionProofs.put({ sessionUid: 'session-x', accountId: account.id, proofs: [], login: null, expiresAt: now + 600_000 });
    await store.accountPortals.record(account.id, 'zinn', now);
    await world.server.services.lockout.admitAccount(account.id);
    await audit.record({ type: 'login.password.ok', accountId: account.id, ip: '192.0.2.1' });
    await store.oidc.upsert('RefreshToken', 'rt-x', { sealed: 'opaque', accountId: account.id }, now + 600_000);
    await store.oidc.upsert('Session', 'session-x', { sealed: 'opaque', accountId: account.id, uid: 'uid-x' }, now + 600_000);

    const removed = await json<{ removed: boolean; audit_pseudonym: string; audit_events: number }>(['user', 'remove', 'xander']);
    expect(removed.removed).toBe(true);
    const pseudonym = auditPseudonym(world.server.services.config.secretsKey, account.id);
    expect(removed.audit_pseudonym).toBe(pseudonym);

    expect(await store.accounts.findById(account.id)).toBeUndefined();
    expect(await store.credentials.listByAccount(account.id)).toEqual([]);
    expect(await store.devices.listByAccount(account.id, now)).toEqual([]);
    expect(await store.codes.findActive(account.id, 'login:sms', now)).toBeUndefined();
    expect(await store.flows.find('flow-x', now)).toBeUndefined();
    expect(await store.sessionProofs.find('session-x', now)).toBeUndefined();
    expect(await store.oidc.find('RefreshToken', 'rt-x', now)).toBeUndefined();
    expect(await store.oidc.find('Session', 'session-x', now)).toBeUndefined();
    expect(await store.accountPortals.listByAccount(account.id)).toEqual([]);
    expect(await store.lockouts.get(`acct:${account.id}`, now)).toBeUndefined();
    expect(await store.audit.list({ accountId: account.id })).toEqual([]);
    const kept = await store.audit.list({ accountId: pseudonym });
    expect(kept.map((e) => e.type)).toEqual(expect.arrayContaining(['admin.user.removed', 'login.password.ok']));
    expect(kept.find((e) => e.type === 'admin.user.removed')).toMatchObject({ actor: OPERATOR, detail: { outcome: 'erased' } });
    expect((await cli(['user', 'show', 'xander'])).code).toBe(1);
  });
});

describe('user require-action', { timeout: 120_000 }, () => {
  it('stores the action (audited with the operator); the next login runs it before the portal gets the login, then it is gone', async () => {
    const account = await world.server.addUser({ username: 'yara' });
    const required = await json<{ required_actions: string[] }>(['user', 'require-action', 'yara', '--action', 'update-password']);
    expect(required.required_actions).toEqual(['update-password']);
    // Asking twice changes nothing.
    expect((await json<{ required_actions: string[] }>(['user', 'require-action', 'yara', '--action', 'update-password'])).required_actions).toEqual(['update-password']);
    expect((await json<{ required_actions: string[] }>(['user', 'show', 'yara'])).required_actions).toEqual(['update-password']);
    const [event] = await world.server.services.store.audit.list({ accountId: account.id, type: 'admin.user.action_required' });
    expect(event).toMatchObject({ actor: OPERATOR, detail: { action: 'update-password' } });

    const rp = await world.portal({ name: 'Flynth' });
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, 'yara');
    expect(textOf(page)).toContain('U bent verplicht uw wachtwoord te wijzigen.');
    const done = await submitStep(agent, page, 'update-password', 'change', { current: TEST_PASSWORD, new: 'Vlinder-Regenton-58', confirm: 'Vlinder-Regenton-58' });
    expect((await finishAtPortal(rp, done, request)).claims.sub).toBe(account.id);
    expect((await world.server.services.accounts.findById(account.id))!.requiredActions).toEqual([]);
  });

  it('refuses an unknown action or user with a clear message and changes nothing', async () => {
    await world.server.addUser({ username: 'zeno' });
    const unknown = await cli(['user', 'require-action', 'zeno', '--action', 'set-password']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--action must be one of update-password, verify-email, verify-phone, enrol-second-factor');
    expect((await cli(['user', 'require-action', 'zeno'])).code).toBe(2);
    expect((await cli(['user', 'require-action', 'niemand', '--action', 'verify-email'])).code).toBe(1);
    expect((await json<{ required_actions: string[] }>(['user', 'show', 'zeno'])).required_actions).toEqual([]);
  });
});
