// The Mijn Therapie Dossier manual (seed 004) step by step in real Chromium, in Dutch: the mail's
// link → "Gebruikersnaam en e-mailadres zijn ingevuld" → "Volgende" → the phone by SMS (the fake
// Twilio API) → "Wachtwoord instellen" twice → "Authenticator-app" → the app's first code → the
// recovery codes → "U bent klaar" with the way to the portal; then the regular login at the portal
// (username, password, the app's code) ends back there, where openid-client redeems the code.
// Every page passes axe-core in Dutch, and the e-mail route in English; the strict CSP blocks
// nothing of ours; the same works without JavaScript.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractCode, startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { keyFromPage, totpCode, STEP_MS } from '../support/totp.ts';

const PASSWORD = 'Zeilboot-Tulp-2026';

describe('activation in Chromium (Mijn Therapie Dossier)', { timeout: 120_000 }, () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let rp: RelyingParty;
  let clientId: string;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld(), startPortal()]);
    rp = await world.portal({
      redirectUris: [portal.redirectUri],
      name: 'Mijn Therapie Dossier',
      mfa: 'required',
      mfaMethods: ['totp', 'email'],
      mailFrom: 'Mijn Therapie Dossier <no-reply@mijntherapiedossier.nl>',
      metadata: { verify_phone: true, client_uri: portal.origin },
    });
    clientId = rp.clientId;
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function axeClean(page: Page, axe: boolean): Promise<void> {
    if (axe) expect(await runAxe(page)).toEqual([]);
  }

  async function invitation(username: string, phone: string, locale: 'nl' | 'en' = 'nl'): Promise<string> {
    await world.server.services.invitations.invite({ username, email: `${username}@example.nl`, phone, locale, clientId, givenName: 'Sanne', actor: 'operator:test' });
    const mail = await world.smtp.waitForMail(`${username}@example.nl`);
    expect(mail.from).toContain('no-reply@mijntherapiedossier.nl');
    const link = /https?:\/\/\S+\/activate\/\S+/.exec(mail.text ?? '')?.[0];
    if (!link) throw new Error(`no link in ${mail.text}`);
    return link;
  }

  async function app(tab: BrowserPage, username: string, phone: string, axe: boolean) {
    const { page } = tab;
    const link = await invitation(username, phone);
    // Stap 1: E-mail verificatie.
    await page.goto(link);
    await expect.poll(() => page.title()).toBe('E-mail verificatie – Mijn Therapie Dossier');
    expect(await page.locator('main').innerText()).toContain('Gebruikersnaam en e-mailadres zijn ingevuld');
    expect(await page.getByLabel('Gebruikersnaam', { exact: true }).inputValue()).toBe(username);
    await axeClean(page, axe);
    await page.getByRole('button', { name: 'Volgende', exact: true }).click();

    // Stap 2: Telefoonnummer verificatie.
    await expect.poll(() => page.title()).toBe('Bevestig uw mobiele nummer – Mijn Therapie Dossier');
    await axeClean(page, axe);
    const sms = await world.twilio.waitForSms(phone);
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode(sms.body));
    await page.getByRole('button', { name: 'Nummer bevestigen', exact: true }).click();

    // Stap 3: Wachtwoord instellen, twee keer; eerst een die niet gelijk is.
    await expect.poll(() => page.title()).toBe('Wachtwoord instellen – Mijn Therapie Dossier');
    expect(await page.locator('main').innerText()).toContain(username);
    await axeClean(page, axe);
    await page.getByLabel('Nieuw wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Bevestig nieuw wachtwoord', { exact: true }).fill('iets anders');
    await page.getByRole('button', { name: 'Volgende', exact: true }).click();
    await expect.poll(() => page.locator('.error-summary').count()).toBe(1);
    await axeClean(page, axe);
    await page.getByLabel('Nieuw wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Bevestig nieuw wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Volgende', exact: true }).click();

    // Stap 4: Methode kiezen: de authenticatie-app.
    await expect.poll(() => page.locator('input[name="method"]').count()).toBe(2);
    await axeClean(page, axe);
    await page.getByLabel(/Authenticator-app/).check();
    await page.getByRole('button', { name: 'Doorgaan', exact: true }).click();

    // Stap 5: App koppelen.
    await expect.poll(() => page.title()).toBe('Authenticator-app instellen – Mijn Therapie Dossier');
    await axeClean(page, axe);
    const key = keyFromPage({ url: page.url(), status: 200, html: await page.content() });
    await page.locator('#code').fill(await totpCode(key, world.clock.now()));
    await page.getByRole('button', { name: 'Authenticator-app instellen', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Bewaar uw herstelcodes – Mijn Therapie Dossier');
    await axeClean(page, axe);
    await page.getByLabel('Ik heb de codes bewaard', { exact: true }).check();
    await page.getByRole('button', { name: 'Doorgaan', exact: true }).click();

    await expect.poll(() => page.title()).toBe('U bent klaar – Mijn Therapie Dossier');
    await axeClean(page, axe);
    const toPortal = page.getByRole('link', { name: 'Naar Mijn Therapie Dossier', exact: true });
    expect(await toPortal.getAttribute('href')).toBe(portal.origin);

    // "Na stap 4 ingelogd": the portal starts its login, which takes what the activation proved.
    const request = await rp.authorize({ redirect_uri: portal.redirectUri, login_hint: username });
    const callback = await arriveAtPortal(page, () => page.goto(request.url), portal.redirectUri);
    const claims = (await rp.callback(callback, request)).claims()!;
    const account = await world.server.services.accounts.findByLogin(username);
    expect(claims.sub).toBe(account!.id);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));

    // Stap 6: regulier inloggen bij het portaal (a fresh login: the password and the app's code).
    world.clock.advance(STEP_MS);
    const regular = await rp.authorize({ redirect_uri: portal.redirectUri, login_hint: username, prompt: 'login' });
    await page.goto(regular.url);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Code uit uw authenticator-app – Mijn Therapie Dossier');
    await page.locator('#code').fill(await totpCode(key, world.clock.now()));
    const again = await arriveAtPortal(page, () => page.locator('#code').press('Enter'), portal.redirectUri);
    expect((await rp.callback(again, regular)).claims()!.sub).toBe(account!.id);
    expectClean(tab);
  }

  it('follows the manual in Dutch with the app, axe-clean on every page, and ends at the portal signed in', async () => {
    await app(await chromium.newPage(), 'mtd-browser', '+31612341361', true);
  });

  it('works without JavaScript', async () => {
    await app(await chromium.newPage({ javaScriptEnabled: false }), 'mtd-zonder-js', '+31612341362', false);
  });

  it('in English with e-mail as the method: axe-clean on every page, and done at once', async () => {
    const tab = await chromium.newPage({ locale: 'en-GB' });
    const { page } = tab;
    const link = await invitation('mtd-english', '+31612341363', 'en');
    await page.goto(link);
    await expect.poll(() => page.title()).toBe('E-mail verification – Mijn Therapie Dossier');
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => page.locator('#code').count()).toBe(1);
    expect(await runAxe(page)).toEqual([]);
    const sms = await world.twilio.waitForSms('+31612341363');
    await page.locator('#code').fill(extractCode(sms.body));
    await page.locator('#code').press('Enter');
    await expect.poll(() => page.title()).toBe('Set your password – Mijn Therapie Dossier');
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm new password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => page.locator('input[name="method"]').count()).toBe(2);
    expect(await runAxe(page)).toEqual([]);
    await page.locator('#method-email').check();
    await page.locator('form button[type="submit"]').first().click();
    // The method page's title ends the same: wait for one of the two pages that can follow it.
    await expect.poll(() => page.title()).toMatch(/^(Save your recovery codes|You're all set) – Mijn Therapie Dossier$/);
    if ((await page.locator('input[name="saved"]').count()) > 0) {
      expect(await runAxe(page)).toEqual([]);
      await page.locator('input[name="saved"]').check();
      await page.locator('form button[type="submit"]').first().click();
    }
    await expect.poll(() => page.title()).toBe('You\'re all set – Mijn Therapie Dossier');
    expect(await runAxe(page)).toEqual([]);
    // The link that opened this is used: its page in English, axe-clean, with the way to a new one.
    await page.goto(link);
    expect(await page.locator('main').innerText()).toContain('Send me a new link');
    expect(await runAxe(page)).toEqual([]);
    expectClean(tab);
  });
});
