// ZINN's first login in real Chromium, with ZINN's rules as a password profile (at least 8, a
// digit, one of ZINN's special characters, not the last 3): the practice issues a temporary
// password (`user temp-password` does the same), the mail comes from ZINN's sender; the patient
// signs in with it, types the SMS code from ZINNZORG, must change the password (a failed rule is
// shown first, named in the error summary), and reaches the portal in the same flow. Every page is
// axe-clean in Dutch and English and the strict CSP blocks nothing of ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { extractCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, describeFocus, runAxe, startPortal, useBrowser, type BrowserPage, type StubPortal } from '../support/browser.ts';
import { isSecurityNotice } from '../support/fake-twilio.ts';

const ZINN_SPECIALS = '-@#$%^&`[+=](.{)';

describe('a temporary password at ZINN in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let rp: RelyingParty;
  let clientId: string;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld(), startPortal()]);
    await world.server.services.passwordProfiles.add({ name: 'zinn', minLength: 8, maxLength: 128, require: ['digit', 'special'], specials: ZINN_SPECIALS, blocklist: true, notNames: false, history: 3 });
    const client = await world.server.addClient({
      redirectUris: [portal.redirectUri], name: 'ZINN cliëntportaal', mfa: 'required', mfaMethods: ['sms'], smsSender: 'ZINNZORG',
      passwordProfile: 'zinn', mailFrom: 'ZINN cliëntportaal <no-reply@zinnzorg.example>',
    });
    clientId = client.clientId;
    rp = await relyingParty(world.server.url, client.clientId, client.clientSecret, portal.redirectUri);
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  const texts = {
    nl: {
      login: 'Inloggen', loginField: 'Gebruikersnaam of e-mailadres', password: 'Wachtwoord', submit: 'Inloggen',
      codeLabel: 'Code uit de sms', continue: 'Doorgaan', changeTitle: 'Wachtwoord wijzigen',
      temporaryLine: 'U bent ingelogd met een tijdelijk wachtwoord.', current: 'Huidig wachtwoord (het tijdelijke wachtwoord uit de e-mail)',
      next: 'Nieuw wachtwoord', confirm: 'Bevestig nieuw wachtwoord', change: 'Wachtwoord wijzigen',
      failed: `Het nieuwe wachtwoord moet een van deze vreemde tekens bevatten: ${ZINN_SPECIALS}`,
    },
    en: {
      login: 'Sign in', loginField: 'Username or e-mail address', password: 'Password', submit: 'Sign in',
      codeLabel: 'Code from the text message', continue: 'Continue', changeTitle: 'Change password',
      temporaryLine: 'You signed in with a temporary password.', current: 'Current password (the temporary password from the e-mail)',
      next: 'New password', confirm: 'Confirm new password', change: 'Change password',
      failed: `The new password must contain one of these special characters: ${ZINN_SPECIALS}`,
    },
  } as const;

  async function journey(lang: 'nl' | 'en', username: string, phone: string) {
    const t = texts[lang];
    const account = await userWithFactors(world.server, { username, phoneE164: phone, locale: lang }, ['sms']);
    // What `poortwachter user temp-password USERNAME --client zinn` does.
    await world.server.services.passwordLifecycle.issueTemporary(account, { clientId, name: 'ZINN cliëntportaal', mailFrom: 'ZINN cliëntportaal <no-reply@zinnzorg.example>' }, { actor: 'operator:test', clientId });
    const mail = await world.smtp.waitForMail(account.email);
    expect(mail.envelopeFrom).toBe('no-reply@zinnzorg.example');
    const temporary = /(?:Tijdelijk wachtwoord|Temporary password): (\S+)/.exec(mail.text ?? '')![1]!;

    const tab = await chromium.newPage();
    const { page } = tab;
    const zinn = rp;
    const request = await zinn.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    if (lang === 'en') await page.getByRole('link', { name: 'English', exact: true }).click();
    await expect.poll(() => page.title()).toBe(`${t.login} – ZINN cliëntportaal`);
    await page.getByLabel(t.loginField, { exact: true }).fill(username);
    await page.getByLabel(t.password, { exact: true }).fill(temporary);
    await page.getByRole('button', { name: t.submit, exact: true }).click();

    // The second factor first: the temporary password alone changes nothing.
    const field = page.getByLabel(t.codeLabel, { exact: true });
    await field.waitFor();
    const sms = await world.twilio.waitForSms(phone);
    expect(sms.from).toBe('ZINNZORG');
    await field.fill(extractCode(sms.body));
    await page.getByRole('button', { name: t.continue, exact: true }).click();

    await expect.poll(() => page.title()).toBe(`${t.changeTitle} – ZINN cliëntportaal`);
    expect(await page.locator('main').innerText()).toContain(t.temporaryLine);
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel(t.current, { exact: true }).fill(temporary);
    // Meets every rule but ZINN's special characters ('!' is not among them).
    await page.getByLabel(t.next, { exact: true }).fill('Zonnebloem!Kapstok77');
    await page.getByLabel(t.confirm, { exact: true }).fill('Zonnebloem!Kapstok77');
    await page.getByRole('button', { name: t.change, exact: true }).click();
    await expect.poll(() => page.locator('.error-summary').count()).toBe(1);
    expect(await page.locator('.error-summary').innerText()).toContain(t.failed);
    await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    expect(await page.locator('.error-summary a').first().getAttribute('href')).toBe('#new');
    expect(await runAxe(page)).toEqual([]);

    await page.getByLabel(t.current, { exact: true }).fill(temporary);
    await page.getByLabel(t.next, { exact: true }).fill('Zonnebloem#Kapstok77');
    await page.getByLabel(t.confirm, { exact: true }).fill('Zonnebloem#Kapstok77');
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: t.change, exact: true }).click(), portal.redirectUri);
    const claims = (await zinn.callback(callback, request)).claims()!;
    expect(claims.sub).toBe(account.id);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(await world.server.services.passwords.verify(account, 'Zonnebloem#Kapstok77')).toBe(true);
    expect(await world.server.services.passwords.temporary(account)).toBeUndefined();
    // One code SMS: no second login. And the notice that the password changed, on the phone too.
    expect(world.twilio.messages.filter((m) => m.to === phone && !isSecurityNotice(m))).toHaveLength(1);
    expect((await world.twilio.waitForNotice(phone)).body).toMatch(lang === 'nl' ? /^ZINN cliëntportaal: het wachtwoord van uw account is gewijzigd/ : /^ZINN cliëntportaal: the password of your account was changed/);
    expectClean(tab);
  }

  it('mail, login with it, SMS code from ZINNZORG, forced change with a failed rule shown, portal (Dutch)', async () => {
    await journey('nl', 'zinn-tijdelijk', '+31611112222');
  });

  it('the same in English', async () => {
    await journey('en', 'zinn-temporary', '+31633334444');
  });
});
