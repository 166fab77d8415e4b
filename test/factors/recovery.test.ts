// Recovery codes as a patient who lost the phone meets them: "use another method" → a code
// (typed loosely) works once, a mail tells how many are left; new codes void the old ones.
// Mail goes through the real nodemailer transport to a real SMTP server.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { translator } from '../../src/i18n/i18n.ts';
import { recoveryFactor, generateRecoveryCodes, recoveryCodesLeft } from '../../src/factors/recovery/recovery-factor.ts';
import { useRecoveryCode } from '../../src/factors/recovery/recovery-codes.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp-server.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { STEP_MS, enrolWithApp, loginToSecondFactor, stepAlignedTime } from '../support/totp.ts';

describe('recovery codes', () => {
  let server: TestServer;
  let smtp: TestSmtpServer;
  let rp: RelyingParty;
  const clock = new FakeClock(stepAlignedTime());
  const allCodes: string[] = [];

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({ clock, env: { SMTP_URL: smtp.url, MAIL_FROM: 'Poortwachter <no-reply@poortwachter.test>' } });
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret);
  });

  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  async function enrolled(username: string, locale = 'nl') {
    const account = await server.addUser({ username, locale });
    const enrolment = await enrolWithApp(rp, new UserAgent(), clock, username);
    allCodes.push(...enrolment.recoveryCodes);
    // Setting up the app is announced by mail first (security notice); the tests read the mails after it.
    expect((await smtp.waitForMail(account.email)).subject).toMatch(/^(Er is een nieuwe inlogmethode|A new sign-in method)/);
    clock.advance(5 * STEP_MS);
    return { account, codes: enrolment.recoveryCodes };
  }

  /** Password, then "use another method" → recovery code page. */
  async function recoveryPage(agent: UserAgent, username: string, params: Record<string, string> = {}) {
    const { request, page } = await loginToSecondFactor(rp, agent, username, params);
    const recovery = await agent.submit(page, '/choose', { method: 'recovery' });
    return { request, page: recovery };
  }

  function enterCode(agent: UserAgent, page: Page, code: string) {
    return agent.submit(page, '/step/recovery/verify', { code }, REDIRECT_URI);
  }

  it('lets a patient without the phone in with a recovery code, once, and mails how many are left', async () => {
    const { account, codes } = await enrolled('hanna');
    const agent = new UserAgent();
    const { request, page } = await recoveryPage(agent, 'hanna');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Herstelcode gebruiken – Minddistrict</title>');
    expect(textOf(page)).toContain('U heeft nog 6 herstelcodes over.');
    expect(page.html).toContain('<label for="code">Herstelcode</label>');

    // Typed as people do: lower case, spaces instead of dashes.
    const typed = codes[0]!.toLowerCase().replace(/-/g, ' ');
    const done = await enterCode(agent, page, typed);
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    const claims = (await rp.callback(done.url, request)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(claims.acr).toBe('urn:poortwachter:acr:substantial');
    expect(await recoveryCodesLeft(server.services, account)).toBe(5);

    const mail = await smtp.waitForMail(account.email);
    expect(mail.subject).toBe('Er is een herstelcode gebruikt');
    expect(mail.text).toContain('U heeft nog 5 herstelcodes over.');
    expect(mail.text).toContain('Maak nieuwe herstelcodes aan');
    expect(mail.text).toContain(`${server.url}/account`);
    expect(mail.html).toContain('U heeft nog 5 herstelcodes over.');
    expect(mail.html).toContain(`href="${server.url}/account"`);
    for (const c of codes) {
      expect(mail.raw).not.toContain(c);
      expect(mail.raw).not.toContain(c.replace(/-/g, ''));
    }

    // The same code a second time: refused, and the count stays.
    const again = new UserAgent();
    const second = await recoveryPage(again, 'hanna');
    expect(textOf(second.page)).toContain('U heeft nog 5 herstelcodes over.');
    const refused = await enterCode(again, second.page, codes[0]!);
    expect(refused.status).toBe(401);
    // A spent code reads exactly like a wrong one: a list of codes tried tells nothing about
    // which were real. The audit trail keeps the difference.
    const wrongPage = await enterCode(again, refused, 'ABCD-EFGH-JKMN');
    expect(wrongPage.status).toBe(401);
    const message = (page: typeof refused) => page.html.match(/<div class="error-summary"[\s\S]*?<\/div>/)?.[0]?.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(message(refused)).toBe(message(wrongPage));
    expect(textOf(refused)).toContain('Deze herstelcode is onjuist of al gebruikt.');
    expect(textOf(refused)).not.toContain('Deze herstelcode is al gebruikt.');
    const reasons = (await server.services.store.audit.list({ type: 'login.recovery.failed' })).filter((e) => e.accountId === account.id).map((e) => e.detail.reason);
    expect(reasons).toEqual(expect.arrayContaining(['used', 'wrong']));
    expect(await recoveryCodesLeft(server.services, account)).toBe(5);

    // Another code, without dashes, works from the same page.
    const next = await enterCode(again, refused, codes[1]!.replace(/-/g, ''));
    expect(next.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await smtp.waitForMail(account.email)).text).toContain('U heeft nog 4 herstelcodes over.');
  });

  it('spends a code through compare-and-swap: of two racing uses of one code, one fails', async () => {
    const { account, codes } = await enrolled('ivo');
    const results = await Promise.all([useRecoveryCode(server.services, account, codes[2]), useRecoveryCode(server.services, account, codes[2])]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'used')).toHaveLength(1);
    expect(await recoveryCodesLeft(server.services, account)).toBe(5);
  });

  it('explains malformed and wrong codes, counts only the wrong ones, and locks after ten', async () => {
    const { codes } = await enrolled('jet');
    const agent = new UserAgent();
    let { page } = await recoveryPage(agent, 'jet');
    // Entries that cannot be a recovery code are explained, never counted: junk does not lock.
    for (const malformed of ['', 'ABCD-EFGH', 'OOOO-IIII-LLLL', `${codes[0]}-ABCD`, 'x', 'x', 'x', 'x', 'x', 'x']) {
      page = await enterCode(agent, page, malformed);
      expect(page.status).toBe(400);
      expect(textOf(page)).toContain('Een herstelcode bestaat uit 12 letters en cijfers');
      expect(page.html).toContain('aria-invalid="true"');
    }
    const wrong = 'ABCD-EFGH-JKMN';
    for (let i = 0; i < 9; i += 1) {
      page = await enterCode(agent, page, wrong);
      expect(page.status).toBe(401);
      expect(textOf(page)).toContain('Deze herstelcode is onjuist of al gebruikt.');
    }
    page = await enterCode(agent, page, wrong);
    expect(page.status).toBe(429);
    const locked = await enterCode(agent, page, codes[0]!);
    expect(locked.status).toBe(429);
    expect(textOf(locked)).toContain('Te veel onjuiste herstelcodes');
  });

  it('voids the old set when new codes are made, and shows the count on the settings page', async () => {
    const { account, codes: old } = await enrolled('kees');
    const t = translator('nl');
    const before = await recoveryFactor.settings!.summary(server.services, account, t);
    expect(before).toEqual({ text: 'U heeft nog 6 herstelcodes over.', actions: [{ name: 'regenerate', label: 'Nieuwe herstelcodes aanmaken' }] });

    const fresh = await generateRecoveryCodes(server.services, account);
    expect(fresh).toHaveLength(6);
    allCodes.push(...fresh);
    expect(fresh.some((c) => old.includes(c))).toBe(false);
    expect(await server.services.store.credentials.listByAccount(account.id, 'recovery')).toHaveLength(1);
    expect(await recoveryCodesLeft(server.services, account)).toBe(6);

    const agent = new UserAgent();
    const { page } = await recoveryPage(agent, 'kees');
    const voided = await enterCode(agent, page, old[0]!);
    expect(voided.status).toBe(401);
    expect(textOf(voided)).toContain('Deze herstelcode is onjuist of al gebruikt.');
    expect((await enterCode(agent, voided, fresh[0]!)).url.startsWith(REDIRECT_URI)).toBe(true);
    const after = await recoveryFactor.settings!.summary(server.services, account, t);
    expect(after?.text).toBe('U heeft nog 5 herstelcodes over.');
  });

  it('mails in the account language, and says so when the last code is gone', async () => {
    const { account, codes } = await enrolled('lena', 'en');
    for (const code of codes.slice(0, 5)) expect((await useRecoveryCode(server.services, account, code)).ok).toBe(true);
    const agent = new UserAgent();
    const { request, page } = await recoveryPage(agent, 'lena', { ui_locales: 'en' });
    expect(textOf(page)).toContain('You have 1 recovery code left.');
    const done = await enterCode(agent, page, codes[5]!);
    await rp.callback(done.url, request);
    const mail = await smtp.waitForMail(account.email);
    expect(mail.subject).toBe('A recovery code was used');
    expect(mail.text).toContain('You have no recovery codes left.');
    expect(mail.text).toContain('as soon as possible');
    expect(mail.html).toContain('<html lang="en">');

    // No codes left: recovery is no longer offered.
    expect(await recoveryFactor.isEnrolled(server.services, account)).toBe(false);
    const { page: appPage } = await loginToSecondFactor(rp, new UserAgent(), 'lena');
    expect(appPage.html).not.toContain('value="recovery"');
    expect((await recoveryFactor.settings!.summary(server.services, account, translator('en')))?.text).toBe('You have no recovery codes left.');
  });

  it('stores only argon2id hashes and logs no code', async () => {
    expect(allCodes.length).toBeGreaterThanOrEqual(30);
    const files = await readdir(server.dataDir, { recursive: true });
    const contents = await Promise.all(files.map((f) => readFile(path.join(server.dataDir, f)).catch(() => Buffer.alloc(0))));
    const logs = server.logs();
    const audit = JSON.stringify(await server.services.store.audit.list({ limit: 10_000 }));
    for (const code of allCodes) {
      for (const variant of [code, code.replace(/-/g, '')]) {
        for (const content of contents) expect(content.includes(variant)).toBe(false);
        expect(logs).not.toContain(variant);
        expect(audit).not.toContain(variant);
      }
    }
    expect(logs).toContain('mail sent');
  });
});
