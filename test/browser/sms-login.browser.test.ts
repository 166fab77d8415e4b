// The ZINN login in real Chromium: password, then a code by SMS from the sender ZINNZORG (through
// Twilio's real client and the fake Twilio API), typed by the visible labels; the portal gets amr
// `sms` and acr substantial. Also the first login of an account without a phone number (password
// again, number, code, recovery codes), and a code with letters in it, in Dutch and in English.
// Every page on the way passes axe-core (WCAG 2.1 A/AA) and the strict CSP blocks nothing of ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, describeFocus, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';

const SMS_TITLE = 'Vul de code uit de sms in';

describe('ZINN login with an SMS code in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let zinn: RelyingParty;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld(), startPortal()]);
    zinn = await world.portal({ redirectUris: [portal.redirectUri], name: 'ZINN cliëntportaal', mfa: 'required', mfaMethods: ['sms'], smsSender: 'ZINNZORG' });
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function expectAxeClean(page: Page): Promise<void> {
    expect(await runAxe(page)).toEqual([]);
  }

  /** Authorizes at ZINN (back to the stub portal) and signs in with the password, by the labels. */
  async function passwordStep(page: Page, username: string) {
    const request = await zinn.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await expect.poll(() => page.title()).toBe('Inloggen – ZINN cliëntportaal');
    expect(await page.getByText('Inloggen bij ZINN cliëntportaal').count()).toBe(1);
    await expectAxeClean(page);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    return request;
  }

  /** The next SMS to `phone`: it must come from ZINN's own sender. */
  async function smsCode(phone: string, wording: string): Promise<string> {
    const sms = await world.twilio.waitForSms(phone);
    expect(sms.from).toBe('ZINNZORG');
    expect(sms.body).toContain(wording);
    return extractCode(sms.body);
  }

  async function claimsAt(callbackUrl: string, request: Awaited<ReturnType<RelyingParty['authorize']>>) {
    return (await zinn.callback(callbackUrl, request)).claims()!;
  }

  it('signs in with the code from the ZINNZORG text message, shown to a masked number', async () => {
    const account = await userWithFactors(world.server, { username: 'zinn-bekend', phoneE164: '+31612345678' }, ['sms']);
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await passwordStep(page, 'zinn-bekend');

    await expect.poll(() => page.title()).toBe(`${SMS_TITLE} – ZINN cliëntportaal`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(SMS_TITLE);
    const main = await page.locator('main').innerText();
    expect(main).toContain('We hebben een sms met een code van 6 cijfers gestuurd naar *****78.');
    expect(main).toContain('Verstuurd om 11:50.');
    expect(main).toContain('Geen sms ontvangen?');
    // The page never shows the number itself.
    const html = await page.content();
    for (const form of ['+31612345678', '0612345678', '612345678', '12345678']) expect(html).not.toContain(form);
    // The code field has focus, a numeric keyboard, and may be filled in from the SMS.
    await expect.poll(() => describeFocus(page)).toBe('input#code');
    const field = page.getByLabel('Code uit de sms', { exact: true });
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await field.getAttribute('inputmode')).toBe('numeric');
    await expectAxeClean(page);

    const code = await smsCode('+31612345678', 'Uw inlogcode voor ZINN cliëntportaal is');
    await field.fill(code);
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), portal.redirectUri);
    const claims = await claimsAt(callback, request);
    expect(claims.sub).toBe(account.id);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);
    // One SMS, not one per page view.
    expect(world.twilio.messages.filter((m) => m.to === '+31612345678')).toHaveLength(1);
    expectClean(tab);
  });

  it('puts the error summary in focus for a code with letters, then takes the right code', async () => {
    await userWithFactors(world.server, { username: 'zinn-letters', phoneE164: '+31623456789' }, ['sms']);
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await passwordStep(page, 'zinn-letters');
    await expect.poll(() => page.title()).toBe(`${SMS_TITLE} – ZINN cliëntportaal`);
    const code = await smsCode('+31623456789', 'Uw inlogcode voor ZINN cliëntportaal is');

    // The letters l and O look like digits on a small screen.
    const field = page.getByLabel('Code uit de sms', { exact: true });
    await field.fill('l2345O');
    await Promise.all([page.waitForURL(/\/step\/sms\/verify$/), page.getByRole('button', { name: 'Doorgaan', exact: true }).click()]);
    const summary = page.locator('.error-summary');
    expect(await summary.getAttribute('role')).toBe('alert');
    expect(await summary.innerText()).toContain('De code bestaat alleen uit cijfers. Controleer wat u heeft ingevuld.');
    await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    expect(await summary.getByRole('link').getAttribute('href')).toBe('#code');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect((await field.getAttribute('aria-describedby'))!.split(' ')).toContain('code-error');
    expect((await page.locator('#code-error').innerText()).replace(/\s+/g, ' ').trim()).toBe('Fout: De code bestaat alleen uit cijfers. Controleer wat u heeft ingevuld.');
    expect(await page.title()).toBe(`${SMS_TITLE} – ZINN cliëntportaal`);
    await expectAxeClean(page);

    // The link in the summary leads to the field; the right code, typed, gets in.
    await page.locator('.error-summary a').click();
    await expect.poll(() => describeFocus(page)).toBe('input#code');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(code);
    const callback = await arriveAtPortal(page, () => page.keyboard.press('Enter'), portal.redirectUri);
    const claims = await claimsAt(callback, request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);
    expect(world.twilio.messages.filter((m) => m.to === '+31623456789')).toHaveLength(1);
    expectClean(tab);
  });

  it('works in English after the language link, also for a code with letters', async () => {
    await userWithFactors(world.server, { username: 'zinn-english', phoneE164: '+31634567890' }, ['sms']);
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await zinn.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.getByText('Signing in to ZINN cliëntportaal').count()).toBe(1);
    await page.getByLabel('Username or e-mail address', { exact: true }).fill('zinn-english');
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await expect.poll(() => page.title()).toBe('Enter the code from the text message – ZINN cliëntportaal');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const main = await page.locator('main').innerText();
    expect(main).toContain('We sent a text message with a 6-digit code to *****90.');
    expect(main).toContain('Sent at 11:50.');
    expect(main).toContain('No text message received?');
    await expectAxeClean(page);
    // The patient chose English on the page, so the SMS is English too (not the account's Dutch).
    const code = await smsCode('+31634567890', 'Your sign-in code for ZINN cliëntportaal is');

    const field = page.getByLabel('Code from the text message', { exact: true });
    await field.fill('abc123');
    await Promise.all([page.waitForURL(/\/step\/sms\/verify$/), page.getByRole('button', { name: 'Continue', exact: true }).click()]);
    const summary = page.locator('.error-summary');
    expect(await summary.innerText()).toContain('There is a problem');
    expect(await summary.innerText()).toContain('The code consists of digits only. Check what you entered.');
    await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    expect((await page.locator('#code-error').innerText()).replace(/\s+/g, ' ').trim()).toBe('Error: The code consists of digits only. Check what you entered.');
    await expectAxeClean(page);

    await field.fill(code);
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Continue', exact: true }).click(), portal.redirectUri);
    const claims = await claimsAt(callback, request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);
    expectClean(tab);
  });

  // A page rendered in answer to a POST must link its language switch to the page itself (GET),
  // not to the form action it answered.
  it('the language link on the SMS page (rendered after a POST) shows that page in English', async () => {
    await userWithFactors(world.server, { username: 'zinn-taal', phoneE164: '+31645678901' }, ['sms']);
    const { page } = await chromium.newPage();
    await passwordStep(page, 'zinn-taal');
    await expect.poll(() => page.title()).toBe(`${SMS_TITLE} – ZINN cliëntportaal`);
    await Promise.all([page.waitForURL(/lang=en$/), page.getByRole('link', { name: 'English', exact: true }).click()]);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Enter the code from the text message');
  });

  it('sets up SMS on the first login: password again, a 06 number, the code, the recovery codes', async () => {
    const account = await world.server.addUser({ username: 'zinn-nieuw' });
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await passwordStep(page, 'zinn-nieuw');

    await expect.poll(() => page.title()).toBe('Bevestig uw wachtwoord – ZINN cliëntportaal');
    expect(await page.locator('main').innerText()).toContain('Voer nogmaals uw wachtwoord in om tweestapsverificatie in te stellen.');
    await expect.poll(() => describeFocus(page)).toBe('input#password');
    await expectAxeClean(page);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();

    await expect.poll(() => page.title()).toBe('Vul uw mobiele telefoonnummer in – ZINN cliëntportaal');
    const phone = page.getByLabel('Mobiel telefoonnummer', { exact: true });
    expect(await phone.getAttribute('type')).toBe('tel');
    expect(await phone.getAttribute('autocomplete')).toBe('tel');
    expect(await page.locator(`#${await phone.getAttribute('aria-describedby')}`).innerText()).toBe('Bijvoorbeeld 06 12345678 of +31 6 12345678.');
    await expect.poll(() => describeFocus(page)).toBe('input#phone');
    await expectAxeClean(page);
    expect(world.twilio.messages.filter((m) => m.to === '+31687654321')).toHaveLength(0);

    await phone.fill('06 87654321');
    await page.getByRole('button', { name: 'Code versturen', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Sms-verificatie instellen – ZINN cliëntportaal');
    expect(await page.locator('main').innerText()).toContain('gestuurd naar *****21.');
    expect(await page.content()).not.toContain('87654321');
    expect(await page.getByRole('button', { name: 'Mobiele telefoonnummer aanpassen', exact: true }).count()).toBe(1);
    await expectAxeClean(page);

    const code = await smsCode('+31687654321', 'Uw code om sms-verificatie in te stellen voor ZINN cliëntportaal is');
    await page.getByLabel('Code uit de sms', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Tweestapsverificatie inschakelen', exact: true }).click();

    await expect.poll(() => page.title()).toBe('Bewaar uw herstelcodes – ZINN cliëntportaal');
    const codes = await page.locator('ul.codes li').allInnerTexts();
    expect(codes).toHaveLength(6);
    await expectAxeClean(page);
    // Going on without ticking the box is refused, accessibly.
    await page.getByRole('button', { name: 'Doorgaan', exact: true }).click();
    await expect.poll(() => page.locator('.error-summary').count()).toBe(1);
    expect(await page.locator('.error-summary').innerText()).toContain('Vink aan dat u de codes heeft bewaard.');
    await expectAxeClean(page);
    await page.getByLabel('Ik heb de codes bewaard', { exact: true }).check();
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), portal.redirectUri);

    const claims = await claimsAt(callback, request);
    expect(claims.sub).toBe(account.id);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);
    const stored = (await world.server.services.accounts.findById(account.id))!;
    expect(world.server.services.accounts.phoneOf(stored)).toBe('+31687654321');
    expect(stored.phoneVerified).toBe(true);
    expectClean(tab);
  });
});
