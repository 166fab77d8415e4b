// The patient's own account page (/account) in real Chromium: a patient with the authenticator
// app set up is sent through the regular login (password and app code) and lands on the settings
// page; there they choose how long a device is remembered (with the keyboard only), forget all
// devices, make new recovery codes, add the e-mail code as a second method (the code arrives by
// real SMTP) and make it the default. Every page passes axe-core (WCAG 2.1 A/AA), notices are
// announced (role=status), and the strict CSP blocks nothing of ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/server.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';
import { extractCode, startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { enrolWithApp, STEP_MS, totpCode } from '../support/totp.ts';
import { describeFocus, runAxe, useBrowser, type BrowserPage, type Page } from '../support/browser.ts';

const REMEMBER_LEGEND = 'Hoe lang mag een apparaat onthouden worden?';

describe('the account page (/account) in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let minddistrict: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld();
    // The app is set up the way patients do it: at a portal that requires it (no browser needed).
    minddistrict = await world.portal({ name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
  });

  afterAll(async () => {
    await world?.close();
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  /** A patient with the authenticator app and recovery codes set up. */
  async function patientWithApp(username: string) {
    const account = await world.server.addUser({ username });
    const { key, recoveryCodes } = await enrolWithApp(minddistrict, new UserAgent(), world.clock, username);
    // Setting up the app is announced by mail (security notice); later mails come after it.
    expect((await world.smtp.waitForMail(account.email)).subject).toBe('Er is een nieuwe inlogmethode toegevoegd aan uw account');
    return { account, key, recoveryCodes };
  }

  /** Opens /account: the regular login (password, then a fresh app code) leads back to it. */
  async function signInToAccount(page: Page, username: string, key: string): Promise<void> {
    await page.goto(`${world.server.url}/account`);
    await expect.poll(() => page.title()).toBe('Inloggen – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();

    await expect.poll(() => page.title()).toBe('Code uit uw authenticator-app – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    // The next 30-second step: a code is accepted once only.
    world.clock.advance(STEP_MS);
    await page.getByLabel('Code van 6 cijfers', { exact: true }).fill(await totpCode(key, world.clock.now()));
    // The account pages always want the real second factor: no "onthoud mij" here.
    expect(await page.getByLabel('Onthoud mij op dit apparaat', { exact: true }).count()).toBe(0);
    await Promise.all([
      page.waitForURL(`${world.server.url}/account`),
      page.getByRole('button', { name: 'Doorgaan', exact: true }).click(),
    ]);
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
  }

  /** The form around a fieldset, found by its legend. */
  function formWith(page: Page, legend: string) {
    return page.locator('form').filter({ has: page.getByRole('group', { name: legend, exact: true }) });
  }

  function notice(page: Page) {
    return page.getByRole('status');
  }

  /** Presses Tab until focus matches `wanted` (at most `max` times); returns what has focus. */
  async function tabUntil(page: Page, wanted: RegExp, max = 60): Promise<string> {
    const seen: string[] = [];
    for (let i = 0; i < max; i += 1) {
      await page.keyboard.press('Tab');
      const focus = await describeFocus(page);
      if (wanted.test(focus)) return focus;
      seen.push(focus);
    }
    throw new Error(`Tab never reached ${wanted}; visited: ${seen.join(' | ')}`);
  }

  it('signs in through the login, and sets how long devices are remembered with the keyboard only; forgets all devices', async () => {
    const { account, key } = await patientWithApp('instellingen');
    const tab = await chromium.newPage();
    const { page } = tab;
    // A device remembered at a portal login earlier.
    await world.server.services.devices.remember(account, { factor: 'totp', amr: ['otp'], strength: 2 }, 'urn:poortwachter:acr:substantial', 'test browser');
    await signInToAccount(page, 'instellingen', key);

    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Mijn account');
    const main = await page.locator('main').innerText();
    expect(main).toContain('Ingelogd als instellingen.');
    expect(main).toContain('Authenticator-app —');
    expect(main).toContain('U heeft nog 6 herstelcodes over.');
    expect(main).toContain('Onthouden apparaten: 1.');
    expect(await runAxe(page)).toEqual([]);
    expect(await formWith(page, REMEMBER_LEGEND).getByLabel('12 uur', { exact: true }).isChecked()).toBe(true);

    // Keyboard only: the skip link, Tab into the radio group, arrow to "1 week", Tab to its button, Enter.
    await page.keyboard.press('Tab');
    expect(await describeFocus(page)).toBe('a.skip-link "Direct naar de inhoud"');
    await page.keyboard.press('Enter');
    await expect.poll(() => describeFocus(page)).toMatch(/^main#main/);
    await tabUntil(page, /^input#remember-/);
    expect(await describeFocus(page)).toBe('input#remember-12h');
    for (let i = 0; i < 4 && (await describeFocus(page)) !== 'input#remember-1w'; i += 1) await page.keyboard.press('ArrowDown');
    expect(await describeFocus(page)).toBe('input#remember-1w');
    await page.keyboard.press('Tab');
    expect(await describeFocus(page)).toBe('button.button "Opslaan"');
    await Promise.all([page.waitForURL(/\/account\/remember$/), page.keyboard.press('Enter')]);

    expect(await notice(page).innerText()).toBe('Uw instellingen zijn opgeslagen.');
    expect(await formWith(page, REMEMBER_LEGEND).getByLabel('1 week', { exact: true }).isChecked()).toBe(true);
    expect(await page.title()).toBe('Mijn account – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    expect((await world.server.services.accounts.findById(account.id))!.settings.rememberDevice).toBe('1w');

    // "Alle apparaten vergeten": the device remembered at this login is forgotten.
    expect(await world.server.services.devices.list(account.id)).toHaveLength(1);
    await Promise.all([page.waitForURL(/\/account\/forget-devices$/), page.getByRole('button', { name: 'Alle apparaten vergeten', exact: true }).click()]);
    expect(await notice(page).innerText()).toBe('Alle onthouden apparaten zijn vergeten. Bij de volgende keer inloggen vragen wij weer om een code.');
    expect(await page.locator('main').innerText()).toContain('Onthouden apparaten: 0.');
    expect(await runAxe(page)).toEqual([]);
    expect(await world.server.services.devices.list(account.id)).toEqual([]);
    expectClean(tab);
  });

  it('makes 6 new recovery codes that replace the old ones', async () => {
    const { key, recoveryCodes } = await patientWithApp('herstel');
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInToAccount(page, 'herstel', key);

    await page.getByRole('button', { name: 'Nieuwe herstelcodes aanmaken', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Bewaar uw herstelcodes – Poortwachter');
    const codes = await page.locator('ul.codes li').allInnerTexts();
    expect(codes).toHaveLength(6);
    for (const code of codes) expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    expect(codes.filter((code) => recoveryCodes.includes(code))).toEqual([]);
    expect(await page.getByRole('list', { name: 'Uw herstelcodes' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Downloaden', exact: true }).getAttribute('download')).toBe('herstelcodes-poortwachter.txt');
    expect(await runAxe(page)).toEqual([]);

    await Promise.all([page.waitForURL(`${world.server.url}/account`), page.getByRole('link', { name: 'Terug naar mijn account', exact: true }).click()]);
    expect(await page.locator('main').innerText()).toContain('U heeft nog 6 herstelcodes over.');
    expectClean(tab);
  });

  it('adds the e-mail code as a second method, with the code from the mail, and makes it the default', async () => {
    const { account, key } = await patientWithApp('tweede');
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInToAccount(page, 'tweede', key);
    expect(await page.locator('main').innerText()).toContain('Code per e-mail — niet ingesteld');

    await formWith(page, 'Methode toevoegen of wijzigen').getByLabel('Code per e-mail', { exact: true }).check();
    await page.getByRole('button', { name: 'Instellen', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Bevestig uw e-mailadres – Poortwachter');
    expect(await page.locator('main').innerText()).toContain('We hebben een e-mail met een code van 6 cijfers gestuurd naar t***@example.nl.');
    await expect.poll(() => describeFocus(page)).toBe('input#code');
    // There is no portal here: cancelling goes back to the account page, and the button says so.
    expect(await page.locator('form.cancel button').innerText()).toBe('Annuleren en terug naar mijn account');
    expect(await page.locator('.portal-name').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    const mail = await world.smtp.waitForMail('tweede@example.nl');
    expect(mail.subject).toBe('Bevestig uw e-mailadres voor Poortwachter');
    await page.getByLabel('Sessiecode uit de e-mail', { exact: true }).fill(extractCode(mail.text ?? ''));
    await page.getByRole('button', { name: 'Tweestapsverificatie inschakelen', exact: true }).click();

    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
    expect(await notice(page).innerText()).toBe('Code per e-mail is ingesteld.');
    expect(await page.locator('main').innerText()).toContain('Code per e-mail — E-mail naar t***@example.nl');
    // The patient hears of the new method on their existing address.
    const announced = await world.smtp.waitForMail('tweede@example.nl');
    expect(announced.subject).toBe('Er is een nieuwe inlogmethode toegevoegd aan uw account');
    expect(announced.text).toContain('op uw accountpagina');
    expect(await runAxe(page)).toEqual([]);

    const defaults = formWith(page, 'Standaardmethode bij het inloggen');
    await defaults.getByLabel('Code per e-mail', { exact: true }).check();
    await Promise.all([page.waitForURL(/\/account\/default-method$/), defaults.getByRole('button', { name: 'Opslaan', exact: true }).click()]);
    expect(await notice(page).innerText()).toBe('Uw instellingen zijn opgeslagen.');
    expect(await page.locator('main').innerText()).toContain('Code per e-mail — E-mail naar t***@example.nl (standaard)');
    expect(await formWith(page, 'Standaardmethode bij het inloggen').getByLabel('Code per e-mail', { exact: true }).isChecked()).toBe(true);
    expect(await runAxe(page)).toEqual([]);
    expect((await world.server.services.accounts.findById(account.id))!.settings.defaultFactor).toBe('email');
    expectClean(tab);

    // The next login asks for the e-mail code first.
    world.clock.advance(31_000);
    const next = await chromium.newPage();
    await next.page.goto(`${world.server.url}/account`);
    await next.page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill('tweede');
    await next.page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await next.page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => next.page.title()).toBe('Vul uw sessiecode in – Poortwachter');
    const loginMail = await world.smtp.waitForMail('tweede@example.nl');
    await next.page.getByLabel('Sessiecode uit de e-mail', { exact: true }).fill(extractCode(loginMail.text ?? ''));
    await next.page.getByRole('button', { name: 'Doorgaan', exact: true }).click();
    // Changing 2FA needs the strongest factor the account has: the app code as well.
    await expect.poll(() => next.page.title()).toBe('Code uit uw authenticator-app – Poortwachter');
    world.clock.advance(STEP_MS);
    await next.page.getByLabel('Code van 6 cijfers', { exact: true }).fill(await totpCode(key, world.clock.now()));
    await Promise.all([next.page.waitForURL(`${world.server.url}/account`), next.page.getByRole('button', { name: 'Doorgaan', exact: true }).click()]);
    expect(await next.page.getByRole('heading', { level: 1 }).innerText()).toBe('Mijn account');
    expectClean(next);
  });
});
