// The password lifecycle service on the real store and the real SMTP server: which rules apply
// (the default plus the profiles of every portal the account signs in to), the history, the bad
// input of issue 8 (nothing changes, the field and rule are named), temporary passwords (mail,
// hash only, expiry, the own password keeps working) and what a change ends.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord } from '../../src/store/port.ts';
import type { ChangeRequest, ChangeResult } from '../../src/accounts/password-lifecycle.ts';
import { TEMPORARY_PASSWORD_ALPHABET } from '../../src/accounts/temporary-password.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';

const ZINN_SPECIALS = '-@#$%^&`[+=](.{)';
const HOUR = 3600_000;

let world: FactorWorld;
let zinn: string;
let flynth: string;

beforeAll(async () => {
  world = await startFactorWorld();
  const { passwordProfiles } = world.server.services;
  await passwordProfiles.add({ name: 'zinn', minLength: 8, maxLength: 128, require: ['digit', 'special'], specials: ZINN_SPECIALS, blocklist: true, notNames: false, history: 3 });
  await passwordProfiles.add({ name: 'flynth', minLength: 10, maxLength: 128, require: ['upper', 'digit'], specials: null, blocklist: true, notNames: true, history: 0 });
  zinn = (await world.server.addClient({ name: 'ZINN cliëntportaal', redirectUris: ['https://zinn.example/cb'], passwordProfile: 'zinn', mailFrom: 'ZINN cliëntportaal <no-reply@zinnzorg.example>' })).clientId;
  flynth = (await world.server.addClient({ name: 'Flynth Werkplek', redirectUris: ['https://flynth.example/cb'], passwordProfile: 'flynth' })).clientId;
});

afterAll(async () => {
  await world?.close();
});

let n = 0;
async function patient(overrides: Partial<AccountRecord> = {}): Promise<AccountRecord> {
  n += 1;
  return world.server.addUser({ username: `patient${n}`, familyName: 'Jansen', givenName: 'Anna', ...overrides });
}

function request(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return { actor: 'patient', current: TEST_PASSWORD, next: 'Zeilboot%Lantaarn7', confirm: overrides.next ?? 'Zeilboot%Lantaarn7', via: 'account', ip: '192.0.2.9', userAgent: 'Test/1.0', ...overrides };
}

const problemsOf = (result: ChangeResult) => (result.ok ? [] : result.problems.map((p) => `${p.field}:${p.problem}`));

describe('which rules apply', () => {
  it('the default alone for an account at no profiled portal: NIST, no composition', async () => {
    const account = await patient();
    const rules = await world.server.services.passwordLifecycle.rulesFor(account);
    expect(rules).toMatchObject({ minLength: 8, digit: false, upper: false, specialSets: [], history: 0, profiles: ['default'] });
  });

  it('the strictest combination of the portals it signs in to and the one it is at', async () => {
    const account = await patient();
    await world.server.services.store.accountPortals.record(account.id, zinn, world.clock.now());
    const atFlynth = await world.server.services.passwordLifecycle.rulesFor(account, flynth);
    expect(atFlynth).toMatchObject({ minLength: 10, digit: true, upper: true, specialSets: [ZINN_SPECIALS], history: 3, profiles: ['default', 'zinn', 'flynth'] });

    const lifecycle = world.server.services.passwordLifecycle;
    // Meets ZINN's rules but not Flynth's (length, upper case): refused there, with each rule named.
    const refused = await lifecycle.change(account, request({ next: 'zeil7-bo', clientId: flynth }));
    expect(problemsOf(refused)).toEqual(['new:too_short', 'new:needs_upper']);
    expect(refused.ok ? 0 : refused.status).toBe(400);
    expect(await world.server.services.passwords.verify(account, TEST_PASSWORD)).toBe(true);
    expect((await lifecycle.change(account, request({ next: 'Zeil7-boot-Haven', clientId: flynth }))).ok).toBe(true);
  });

  it('at login, the portal\'s own profile only, and never the history', async () => {
    const account = await patient();
    const lifecycle = world.server.services.passwordLifecycle;
    expect(await lifecycle.portalProblems(account, TEST_PASSWORD, null)).toEqual([]);
    // "Kastanje-Fietsbel-42" has a digit and a hyphen (in ZINN's set): fine there; Flynth wants 10+ and upper case: it has both.
    expect(await lifecycle.portalProblems(account, TEST_PASSWORD, zinn)).toEqual([]);
    expect(await lifecycle.portalProblems(account, 'kastanje fietsbel', zinn)).toEqual(['needs_digit', 'needs_special']);
    expect(await lifecycle.portalProblems(account, 'kastanje-fietsbel-4', flynth)).toEqual(['needs_upper']);
  });
});

describe('history', () => {
  it('refuses the last N passwords (the current one included) and accepts older ones', async () => {
    const account = await patient();
    const { passwordLifecycle: lifecycle, store } = world.server.services;
    await store.accountPortals.record(account.id, zinn, world.clock.now());
    const passwords = ['Eerste#wachtzin1', 'Tweede#wachtzin2', 'Derde#wachtzin3', 'Vierde#wachtzin4'];
    let current = TEST_PASSWORD;
    for (const next of passwords) {
      const result = await lifecycle.change(account, request({ current, next, clientId: zinn }));
      expect(result.ok, next).toBe(true);
      current = next;
    }
    // History 3: the current (Vierde), Derde and Tweede are refused; Eerste is the 4th back.
    for (const reused of ['Derde#wachtzin3', 'Tweede#wachtzin2']) {
      const refused = await lifecycle.change(account, request({ current, next: reused, clientId: zinn }));
      expect(problemsOf(refused), reused).toEqual(['new:reused']);
      if (!refused.ok) expect(refused.results.find((r) => r.id === 'history')).toMatchObject({ ok: false, params: { count: 3 } });
    }
    expect(problemsOf(await lifecycle.change(account, request({ current, next: current, clientId: zinn })))).toEqual(['new:same_as_current']);
    expect((await lifecycle.change(account, request({ current, next: 'Eerste#wachtzin1', clientId: zinn }))).ok).toBe(true);
  });

  it('keeps only hashes, as many as the deepest history in use needs', async () => {
    const account = await patient();
    const { passwordLifecycle: lifecycle, store } = world.server.services;
    let current = TEST_PASSWORD;
    for (const next of ['Een-lange-zin-1', 'Twee-lange-zin-2', 'Drie-lange-zin-3', 'Vier-lange-zin-4']) {
      expect((await lifecycle.change(account, request({ current, next }))).ok).toBe(true);
      current = next;
    }
    const [credential] = await store.credentials.listByAccount(account.id, 'password');
    const history = credential?.data.history as string[];
    // Deepest history in use: ZINN's 3 = the current password and 2 before it.
    expect(history).toHaveLength(2);
    for (const hash of history) expect(hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(credential)).not.toMatch(/lange-zin/);
  });
});

describe('bad input: a clear problem per field, a 4xx, nothing changed', () => {
  const cases: Array<[string, Partial<ChangeRequest>, number, string[]]> = [
    ['empty fields', { current: '', next: '', confirm: '' }, 400, ['current:required', 'new:required', 'confirm:required']],
    ['10 000 characters', { next: 'a'.repeat(10_000), confirm: 'a'.repeat(10_000) }, 413, ['new:input_too_long', 'confirm:input_too_long']],
    ['a lone surrogate (invalid UTF-8 on the wire)', { next: 'Zeilboot\uD800boot1', confirm: 'Zeilboot\uD800boot1' }, 400, ['new:invalid_characters', 'confirm:invalid_characters']],
    ['the replacement character a decoder leaves for invalid UTF-8', { next: 'Zeilboot\uFFFDboot1' }, 400, ['new:invalid_characters', 'confirm:invalid_characters']],
    ['a control character', { current: `${TEST_PASSWORD}\u0000` }, 400, ['current:invalid_characters']],
    ['new equal to current', { next: TEST_PASSWORD }, 400, ['new:same_as_current']],
    ['a mismatched confirmation', { next: 'Zeilboot%Lantaarn7', confirm: 'Zeilboot%Lantaarn8' }, 400, ['confirm:mismatch']],
    ['a wrong current password', { current: 'Niet-het-wachtwoord-9' }, 401, ['current:current_wrong']],
    ['a common password', { next: 'Welkom2026!' }, 400, ['new:common']],
    ['the own name', { next: 'Anna-Jansen-2026' }, 400, ['new:contains_name']],
  ];
  for (const [name, overrides, status, expected] of cases) {
    it(name, async () => {
      const account = await patient();
      const result = await world.server.services.passwordLifecycle.change(account, request(overrides));
      expect(result.ok).toBe(false);
      expect(result.ok ? 0 : result.status).toBe(status);
      expect(problemsOf(result)).toEqual(expected);
      expect(await world.server.services.passwords.verify(account, TEST_PASSWORD)).toBe(true);
      const [event] = await world.server.services.store.audit.list({ accountId: account.id, type: 'password.change_refused' });
      expect(event).toMatchObject({ actor: 'patient', ip: '192.0.2.9', userAgent: 'Test/1.0', detail: { outcome: 'refused', problems: expected } });
    });
  }

  it('a wrong current password counts towards the lock like a wrong login', async () => {
    const account = await patient();
    const lifecycle = world.server.services.passwordLifecycle;
    for (let i = 0; i < 5; i += 1) await lifecycle.change(account, request({ current: `Fout-${i}-wachtwoord` }));
    const locked = await lifecycle.change(account, request());
    expect(locked.ok ? 0 : locked.status).toBe(429);
    expect(problemsOf(locked)).toEqual(['current:too_many_attempts']);
    expect((await world.server.services.lockout.status(account)).state).toBe('locked');
    await world.server.services.lockout.unlock(account);
  });
});

describe('a change', () => {
  it('sets the password, ends remembered devices and every sign-in of the account, and audits who, where and what (the notice is the flow\'s hook)', async () => {
    const account = await patient({ locale: 'nl' });
    const { passwordLifecycle: lifecycle, passwords, store } = world.server.services;
    expect(await world.server.services.devices.remember(account, { factor: 'totp', amr: ['otp'], strength: 2 }, 'urn:poortwachter:acr:substantial', 'Firefox')).toBeDefined();
    expect(await store.devices.listByAccount(account.id, world.clock.now())).toHaveLength(1);
    const later = world.clock.now() + HOUR;
    await store.oidc.upsert('RefreshToken', 'rt-hash', { sealed: 'x', accountId: account.id }, later);
    await store.oidc.upsert('RefreshToken', 'rt-other', { sealed: 'x', accountId: 'someone-else' }, later);
    const result = await lifecycle.change(account, request({ clientId: zinn, portalName: 'ZINN cliëntportaal', via: 'forced' }));
    expect(result.ok).toBe(true);
    expect(await passwords.verify(account, 'Zeilboot%Lantaarn7')).toBe(true);
    expect(await passwords.verify(account, TEST_PASSWORD)).toBe(false);
    expect(await store.devices.listByAccount(account.id, world.clock.now())).toEqual([]);
    expect(await store.oidc.find('RefreshToken', 'rt-hash', world.clock.now())).toBeUndefined();
    expect(await store.oidc.find('RefreshToken', 'rt-other', world.clock.now())).toBeDefined();
    const [event] = await store.audit.list({ accountId: account.id, type: 'password.changed' });
    expect(event).toMatchObject({ actor: 'patient', clientId: zinn, ip: '192.0.2.9', userAgent: 'Test/1.0', detail: { via: 'forced', outcome: 'changed', revoked: 1 } });
    expect(JSON.stringify(await store.audit.list({ accountId: account.id }))).not.toMatch(/Zeilboot|Kastanje/);
  });
});

describe('temporary passwords', () => {
  it('mails a readable one from the portal\'s sender in the account\'s language, storing only its hash', async () => {
    const account = await patient({ locale: 'en' });
    const { passwordLifecycle: lifecycle, store } = world.server.services;
    const issued = await lifecycle.issueTemporary(account, { clientId: zinn, name: 'ZINN cliëntportaal', loginUrl: 'https://zinn.example', mailFrom: 'ZINN cliëntportaal <no-reply@zinnzorg.example>' }, { actor: 'operator:beheer', clientId: zinn });
    expect(issued.expiresAt).toBe(world.clock.now() + 72 * HOUR);
    const mail = await world.smtp.waitForMail(account.email);
    expect(mail.from).toContain('no-reply@zinnzorg.example');
    expect(mail.envelopeFrom).toBe('no-reply@zinnzorg.example');
    expect(mail.subject).toBe('Your temporary password for ZINN cliëntportaal');
    const password = /Temporary password: (\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    expect(password).toMatch(/^[^-]{4}-[^-]{4}-[^-]{4}$/);
    for (const c of password.replaceAll('-', '')) expect(TEMPORARY_PASSWORD_ALPHABET).toContain(c);
    expect(mail.text).toContain(account.username);
    expect(mail.text).toContain('https://zinn.example');
    expect(mail.html).toContain(password);

    const [credential] = await store.credentials.listByAccount(account.id, 'temporary-password');
    expect(credential?.data.hash).toMatch(/^\$argon2id\$/);
    const db = readFileSync(path.join(world.server.dataDir, 'poortwachter.sqlite'));
    const wal = readFileSync(path.join(world.server.dataDir, 'poortwachter.sqlite-wal'));
    expect(db.includes(password)).toBe(false);
    expect(wal.includes(password)).toBe(false);
    expect(world.server.logs()).not.toContain(password);
    expect(JSON.stringify(await store.audit.list({ accountId: account.id }))).not.toContain(password);
    const [event] = await store.audit.list({ accountId: account.id, type: 'password.temporary_issued' });
    expect(event).toMatchObject({ actor: 'operator:beheer', clientId: zinn, detail: { outcome: 'sent' } });

    // Both work until the change: nobody can lock a patient out by having one sent.
    const { passwords } = world.server.services;
    expect(await passwords.match(account, password)).toBe('temporary');
    expect(await passwords.match(account, TEST_PASSWORD)).toBe('password');
    expect(await passwords.match(account, 'Iets-anders-12')).toBe('none');

    // The forced change takes the temporary one as current, and ends it.
    expect(problemsOf(await lifecycle.change(account, request({ current: password, next: password, via: 'forced', clientId: zinn })))).toEqual(['new:same_as_current']);
    expect((await lifecycle.change(account, request({ current: password, next: 'Zeilboot%Lantaarn7', via: 'forced', clientId: zinn }))).ok).toBe(true);
    expect(await passwords.match(account, password)).toBe('none');
    expect(await passwords.temporary(account)).toBeUndefined();
  });

  it('expires: then it is told apart from a wrong password, and no longer changes anything', async () => {
    const account = await patient();
    const { passwordLifecycle: lifecycle, passwords } = world.server.services;
    await lifecycle.issueTemporary(account, undefined, { actor: 'operator:beheer' });
    const mail = await world.smtp.waitForMail(account.email);
    expect(mail.from).toContain('no-reply@poortwachter.test');
    expect(mail.subject).toBe('Uw tijdelijke wachtwoord voor uw zorgportaal');
    const password = /Tijdelijk wachtwoord: (\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    world.clock.advance(72 * HOUR);
    expect(await passwords.match(account, password)).toBe('temporary-expired');
    expect(await passwords.verify(account, password)).toBe(false);
    const refused = await lifecycle.change(account, request({ current: password }));
    expect(problemsOf(refused)).toEqual(['current:temporary_expired']);
    expect(await passwords.match(account, TEST_PASSWORD)).toBe('password');
  });

  it('a failed mail stores nothing', async () => {
    const account = await patient();
    world.smtp.rejectNextRecipient(550, 'Mailbox unavailable');
    await expect(world.server.services.passwordLifecycle.issueTemporary(account, undefined, { actor: 'operator:beheer' })).rejects.toThrow();
    expect(await world.server.services.passwords.temporary(account)).toBeUndefined();
    const [event] = await world.server.services.store.audit.list({ accountId: account.id, type: 'password.temporary_issued' });
    expect(event?.detail.outcome).toBe('mail_failed');
  });
});
