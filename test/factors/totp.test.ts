// The authenticator app as a Minddistrict patient meets it: set up on the first login (after the
// password again), QR code and key, first code, recovery codes; then a code on every login. The
// app is played by otplib, time by a fake clock (codes for other moments via otplib's epoch).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { loadCatalog } from '../../src/i18n/i18n.ts';
import { verifyTotpLogin } from '../../src/factors/totp/totp-code.ts';
import { totpContext } from '../../src/factors/totp/totp-binding.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import {
  STEP_MS, enrolWithApp, keyFromPage, loginToSecondFactor, recoveryCodesFromPage, stepAlignedTime, totpCode,
} from '../support/totp.ts';

const RECOVERY_CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$/;

describe('authenticator app (TOTP) on a portal that requires it', () => {
  let server: TestServer;
  let rp: RelyingParty;
  const clock = new FakeClock(stepAlignedTime());
  const secrets: string[] = [];
  const shownCodes: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock });
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret);
  });

  afterAll(() => server?.close());

  /** Moves on a few steps, so earlier codes are out of every window. */
  const nextMinutes = () => clock.advance(5 * STEP_MS);

  async function enrolled(username: string) {
    await server.addUser({ username });
    const enrolment = await enrolWithApp(rp, new UserAgent(), clock, username);
    secrets.push(enrolment.key);
    shownCodes.push(...enrolment.recoveryCodes);
    nextMinutes();
    return enrolment;
  }

  /** Submits `code` on the app page; returns the page or the portal callback. */
  async function enterCode(agent: UserAgent, page: Page, code: string) {
    return agent.submit(page, '/step/totp/verify', { code }, REDIRECT_URI);
  }

  it('sets up the app on the first login: password again, QR code and key, first code, recovery codes', async () => {
    const account = await server.addUser({ username: 'anna' });
    const agent = new UserAgent();
    const request = await rp.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    const reauth = await agent.submit(login, '/step/password/verify', { login: 'anna', password: TEST_PASSWORD });
    expect(textOf(reauth)).toContain('Bevestig uw wachtwoord');

    const enrol = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    expect(enrol.status).toBe(200);
    expect(textOf(enrol)).toContain('Authenticator-app instellen');
    expect(enrol.html).toContain('<title>Authenticator-app instellen – Minddistrict</title>');
    // A QR code rendered by us (PNG data URL, no outside service) with its alt text…
    const img = /<img class="qr" src="data:image\/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"/.exec(enrol.html);
    expect(img, 'QR image').not.toBeNull();
    expect(img![2]).toBe('QR-code om te scannen met uw authenticator-app');
    const png = Buffer.from(img![1]!, 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(200);
    // …and the same key right below, in groups of four, and as an otpauth link.
    expect(enrol.html).toMatch(/id="totp-key"[^>]*>.*?([A-Z2-7]{4} ){7}[A-Z2-7]{4}</);
    const key = keyFromPage(enrol);
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrol.html).toContain(`href="otpauth://totp/Minddistrict:anna?secret=${key}&amp;issuer=Minddistrict&amp;algorithm=SHA1&amp;digits=6&amp;period=30"`);
    expect(enrol.html).toContain('autocomplete="one-time-code"');

    // A wrong first code keeps the same key on the page.
    const wrong = await agent.submit(enrol, '/step/totp/verify', { code: await totpCode(key, clock.now() + 10 * STEP_MS) });
    expect(wrong.status).toBe(401);
    expect(textOf(wrong)).toContain('Deze code klopt niet');
    expect(keyFromPage(wrong)).toBe(key);
    expect(await server.services.store.credentials.listByAccount(account.id, 'totp')).toEqual([]);

    const code = await totpCode(key, clock.now());
    const codesPage = await agent.submit(wrong, '/step/totp/verify', { code: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(codesPage.html).toContain('<title>Bewaar uw herstelcodes – Minddistrict</title>');
    const codes = recoveryCodesFromPage(codesPage);
    expect(codes).toHaveLength(6);
    for (const c of codes) expect(c).toMatch(RECOVERY_CODE);
    expect(new Set(codes).size).toBe(6);
    const download = /<a class="button button--secondary" href="(data:text\/plain;charset=utf-8,[^"]+)" download="herstelcodes-minddistrict.txt">/.exec(codesPage.html);
    expect(download, 'download link').not.toBeNull();
    const file = decodeURIComponent(download![1]!.replace('data:text/plain;charset=utf-8,', ''));
    for (const c of codes) expect(file).toContain(c);
    expect(file).toContain('Herstelcodes voor Minddistrict (anna)');
    expect(codesPage.html).toContain('<script src="/static/recovery-codes.js" defer>');
    const script = await fetch(`${server.url}/static/recovery-codes.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('navigator.clipboard');
    expect(await server.services.store.credentials.listByAccount(account.id, 'recovery')).toEqual([]);

    // Not confirmed: asked again, same codes.
    const unconfirmed = await agent.submit(codesPage, '/step/recovery/confirm', {});
    expect(unconfirmed.status).toBe(400);
    expect(textOf(unconfirmed)).toContain('Vink aan dat u de codes heeft bewaard.');
    expect(recoveryCodesFromPage(unconfirmed)).toEqual(codes);

    const done = await agent.submit(unconfirmed, '/step/recovery/confirm', { saved: 'on' }, REDIRECT_URI);
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await rp.callback(done.url, request);
    const claims = tokens.claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe('urn:poortwachter:acr:substantial');

    // Stored: the sealed secret and the step used, never the key; the codes only as hashes.
    const [totp] = await server.services.store.credentials.listByAccount(account.id, 'totp');
    expect(Object.keys(totp!.data).sort()).toEqual(['lastUsedStep', 'secretSealed']);
    expect(totp!.data.lastUsedStep).toBe(Math.floor(clock.now() / STEP_MS));
    // Bound to its account and credential: it opens as theirs only.
    expect(server.services.box.open(totp!.data.secretSealed as string, totpContext(account.id, totp!.id))).toBe(key);
    expect(() => server.services.box.open(totp!.data.secretSealed as string)).toThrow();
    const [recovery] = await server.services.store.credentials.listByAccount(account.id, 'recovery');
    const stored = recovery!.data.codes as Array<{ hash: string; usedAt: number | null }>;
    expect(stored).toHaveLength(6);
    for (const entry of stored) {
      expect(entry.hash).toMatch(/^\$argon2id\$/);
      expect(entry.usedAt).toBeNull();
    }
    const everything = JSON.stringify(await server.services.store.credentials.listByAccount(account.id));
    expect(everything).not.toContain(key);
    for (const c of codes) {
      expect(everything).not.toContain(c);
      expect(everything).not.toContain(c.replace(/-/g, ''));
    }
    secrets.push(key);
    shownCodes.push(...codes);
    nextMinutes();
  });

  it('asks for the app code on the next logins, with "remember me" and recovery codes as another method', async () => {
    const { key } = await enrolled('bas');
    const agent = new UserAgent();
    const { request, page } = await loginToSecondFactor(rp, agent, 'bas');
    expect(textOf(page)).toContain('Code uit uw authenticator-app');
    expect(textOf(page)).not.toContain('Bevestig uw wachtwoord');
    expect(page.html).toContain('name="remember_device"');
    expect(page.html).toMatch(/<button[^>]*name="method" value="recovery"[^>]*>Gebruik herstelcode<\/button>/);
    const done = await enterCode(agent, page, await totpCode(key, clock.now()));
    const claims = (await rp.callback(done.url, request)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe('urn:poortwachter:acr:substantial');
  });

  it('accepts a code once: the same code again is refused within its own 30 seconds', async () => {
    const { key } = await enrolled('cas');
    const code = await totpCode(key, clock.now());
    const first = new UserAgent();
    const one = await loginToSecondFactor(rp, first, 'cas');
    expect((await enterCode(first, one.page, code)).url.startsWith(REDIRECT_URI)).toBe(true);

    const second = new UserAgent();
    const two = await loginToSecondFactor(rp, second, 'cas');
    const replay = await enterCode(second, two.page, code);
    expect(replay.status).toBe(401);
    // The same words as for a wrong code: a replay must not tell that the code was right.
    const wrong = await enterCode(second, replay, code === '000000' ? '111111' : '000000');
    expect(wrong.status).toBe(401);
    const message = (page: typeof replay) => /<p class="field-error"[^>]*>([\s\S]*?)<\/p>/.exec(page.html)?.[1];
    expect(message(replay)).toBeDefined();
    expect(message(replay)).toBe(message(wrong));
    expect(textOf(replay)).toContain('Deze code is onjuist of al gebruikt.');
    // The next code from the app works.
    clock.advance(STEP_MS);
    expect((await enterCode(second, replay, await totpCode(key, clock.now()))).url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('lets only one of two simultaneous logins with the same code in', async () => {
    const { key } = await enrolled('dirk');
    const agents = [new UserAgent(), new UserAgent()];
    const pages = await Promise.all(agents.map((agent) => loginToSecondFactor(rp, agent, 'dirk')));
    const code = await totpCode(key, clock.now());
    const results = await Promise.all(agents.map((agent, i) => enterCode(agent, pages[i]!.page, code)));
    const inside = results.filter((r) => r.url.startsWith(REDIRECT_URI));
    const refused = results.filter((r) => r.status === 401);
    expect(inside).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(textOf(refused[0]!)).toContain('Deze code is onjuist of al gebruikt.');
  });

  it('spends a time step through compare-and-swap: of two racing checks of one code, one fails', async () => {
    const { key } = await enrolled('daan');
    const account = (await server.services.accounts.findByLogin('daan'))!;
    const code = await totpCode(key, clock.now());
    // Both checks read the credential before either writes; only the swap tells them apart.
    const results = await Promise.all([verifyTotpLogin(server.services, account, code), verifyTotpLogin(server.services, account, code)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'replayed')).toHaveLength(1);
  });

  it('accepts a code one step early or late, not two', async () => {
    const { key } = await enrolled('eva');
    const agent = new UserAgent();
    const { page } = await loginToSecondFactor(rp, agent, 'eva');
    const twoBehind = await enterCode(agent, page, await totpCode(key, clock.now() - 2 * STEP_MS));
    expect(twoBehind.status).toBe(401);
    expect(textOf(twoBehind)).toContain('Deze code is onjuist');
    const twoAhead = await enterCode(agent, twoBehind, await totpCode(key, clock.now() + 2 * STEP_MS));
    expect(twoAhead.status).toBe(401);
    const oneBehind = await enterCode(agent, twoAhead, await totpCode(key, clock.now() - STEP_MS));
    expect(oneBehind.url.startsWith(REDIRECT_URI)).toBe(true);

    nextMinutes();
    const again = new UserAgent();
    const next = await loginToSecondFactor(rp, again, 'eva');
    const oneAhead = await enterCode(again, next.page, await totpCode(key, clock.now() + STEP_MS));
    expect(oneAhead.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('explains malformed and wrong codes, counts only the wrong ones, and locks the app code after ten', async () => {
    const { key } = await enrolled('femke');
    const agent = new UserAgent();
    let { page } = await loginToSecondFactor(rp, agent, 'femke');
    const valid = new Set(await Promise.all([-1, 0, 1].map((d) => totpCode(key, clock.now() + d * STEP_MS))));
    const wrongCode = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;

    // Entries that cannot be a code are explained, never counted: junk does not lock the app.
    for (const malformed of ['', 'abcdef', '1234567', '12a456', 'x', 'x', 'x', 'x', 'x', 'x']) {
      page = await enterCode(agent, page, malformed);
      expect(page.status).toBe(400);
      expect(textOf(page)).toContain('Vul de code van 6 cijfers uit uw authenticator-app in.');
      expect(page.html).toContain('aria-invalid="true"');
      expect(page.html).toMatch(/class="error-summary"[^>]*autofocus/);
    }
    for (let i = 0; i < 9; i += 1) {
      page = await enterCode(agent, page, wrongCode);
      expect(page.status).toBe(401);
      expect(textOf(page)).toContain('Deze code is onjuist of al gebruikt.');
    }
    // The tenth failure locks; then even the right code is refused.
    page = await enterCode(agent, page, wrongCode);
    expect(page.status).toBe(429);
    const locked = await enterCode(agent, page, await totpCode(key, clock.now()));
    expect(locked.status).toBe(429);
    expect(textOf(locked)).toContain('Te veel onjuiste codes');
    const audit = await server.services.store.audit.list({ type: 'login.totp.failed' });
    expect(audit.filter((e) => e.detail.reason === 'malformed').length).toBeGreaterThanOrEqual(4);

    // An hour later the app code works again.
    clock.advance(61 * 60_000);
    const later = new UserAgent();
    const retry = await loginToSecondFactor(rp, later, 'femke');
    expect((await enterCode(later, retry.page, await totpCode(key, clock.now()))).url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('speaks English when the portal asks for it', async () => {
    const { key } = await enrolled('gijs');
    const agent = new UserAgent();
    const { page } = await loginToSecondFactor(rp, agent, 'gijs', { ui_locales: 'en' });
    expect(page.html).toContain('<html lang="en">');
    expect(textOf(page)).toContain('Code from your authenticator app');
    expect(textOf(page)).toContain('Use a recovery code');
    const wrong = await enterCode(agent, page, 'abc');
    expect(textOf(wrong)).toContain('Enter the 6-digit code from your authenticator app.');
    expect((await enterCode(agent, wrong, await totpCode(key, clock.now()))).url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('has every text in Dutch and English', () => {
    const keys = (lang: 'nl' | 'en') => [...loadCatalog(lang).keys()].filter((k) => k.startsWith('totp.') || k.startsWith('recovery.')).sort();
    expect(keys('nl').length).toBeGreaterThan(40);
    expect(keys('en')).toEqual(keys('nl'));
  });

  it('keeps the key out of the store files, the logs and the audit trail', async () => {
    expect(secrets.length).toBeGreaterThan(3);
    const files = await readdir(server.dataDir, { recursive: true });
    const contents = await Promise.all(files.map((f) => readFile(path.join(server.dataDir, f)).catch(() => Buffer.alloc(0))));
    const audit = JSON.stringify(await server.services.store.audit.list({ limit: 10_000 }));
    for (const secret of secrets) {
      for (const content of contents) expect(content.includes(secret)).toBe(false);
      expect(server.logs()).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    for (const code of shownCodes) {
      expect(server.logs()).not.toContain(code);
      expect(server.logs()).not.toContain(code.replace(/-/g, ''));
    }
  });
});
