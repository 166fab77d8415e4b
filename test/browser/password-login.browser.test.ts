// The hosted password login in real Chromium: a patient signs in by the visible labels, in Dutch
// and in English, with the keyboard only, and without JavaScript; the portal (openid-client)
// exchanges the code. Every page on the way passes axe-core (WCAG 2.1 A/AA) and the strict CSP
// blocks nothing of ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { arriveAtPortal, describeFocus, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import type { AccountRecord } from '../../src/store/port.ts';

const SKIP_LINK = 'a.skip-link "Direct naar de inhoud"';
const CANCEL = 'button.button--link "Annuleren en terug naar het portaal"';

const DUTCH = { login: 'Gebruikersnaam of e-mailadres', password: 'Wachtwoord', submit: 'Inloggen' };
const ENGLISH = { login: 'Username or e-mail address', password: 'Password', submit: 'Sign in' };
type Labels = typeof DUTCH;

describe('hosted password login in Chromium', () => {
  const chromium = useBrowser();
  let server: TestServer;
  let portal: StubPortal;
  let rp: RelyingParty;
  let externalRp: RelyingParty;
  let patient: AccountRecord;

  beforeAll(async () => {
    [server, portal] = await Promise.all([startTestServer(), startPortal()]);
    const client = await server.addClient({ redirectUris: [portal.redirectUri], postLogoutRedirectUris: [portal.loggedOutUri], name: 'ZINN cliëntportaal' });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret, portal.redirectUri);
    const external = await server.addClient({ redirectUris: [portal.redirectUri], firstParty: false, name: 'Extern portaal' });
    externalRp = await relyingParty(server.url, external.clientId, external.clientSecret, portal.redirectUri);
    patient = await server.addUser({ username: 'pietersen' });
    await server.addUser({ username: 'devries' });
  });

  afterAll(async () => {
    await Promise.all([server?.close(), portal?.close()]);
  });

  /** Runs `action` and returns the portal callback URL the browser lands on. */
  function toPortal(page: Page, action: () => Promise<unknown>): Promise<string> {
    return arriveAtPortal(page, action, portal.redirectUri);
  }

  /** Starts an authorization for `client` and opens the hosted login page it leads to. */
  async function openLogin(page: Page, client = rp) {
    const request = await client.authorize();
    await page.goto(request.url);
    await expect.poll(() => page.locator('input[name=password]').count()).toBe(1);
    return request;
  }

  async function fillLogin(page: Page, labels: Labels, login: string, password: string): Promise<void> {
    await page.getByLabel(labels.login, { exact: true }).fill(login);
    await page.getByLabel(labels.password, { exact: true }).fill(password);
  }

  function submit(page: Page, labels: Labels): Promise<void> {
    return page.getByRole('button', { name: labels.submit, exact: true }).click();
  }

  async function expectIdToken(client: RelyingParty, callbackUrl: string, request: Awaited<ReturnType<RelyingParty['authorize']>>) {
    // openid-client checks state, nonce, PKCE, the issuer, the audience and the signature.
    const tokens = await client.callback(callbackUrl, request);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: server.url, aud: client.clientId, sub: patient.id, nonce: request.nonce, amr: ['pwd'] });
    return tokens;
  }

  function expectCleanConsole(browserPage: BrowserPage): void {
    expect(browserPage.cspViolations()).toEqual([]);
    expect(browserPage.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  it('signs a patient in in Dutch, by the labels, and the portal gets an ID token', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page);
    expect(await page.getAttribute('html', 'lang')).toBe('nl');
    expect(await page.title()).toBe('Inloggen – ZINN cliëntportaal');
    expect(await page.getByText('Inloggen bij ZINN cliëntportaal').count()).toBe(1);
    expect(await runAxe(page)).toEqual([]);

    await fillLogin(page, DUTCH, 'pietersen', TEST_PASSWORD);
    const callbackUrl = await toPortal(page, () => submit(page, DUTCH));
    expect(new URL(callbackUrl).searchParams.get('code')).toBeTruthy();
    await expectIdToken(rp, callbackUrl, request);
    expectCleanConsole(tab);
  });

  it('signs a patient in in English after the language link', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page);
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Sign in');
    expect(await page.title()).toBe('Sign in – ZINN cliëntportaal');
    expect(await page.getByRole('link', { name: 'Nederlands', exact: true }).getAttribute('hreflang')).toBe('nl');
    expect(await runAxe(page)).toEqual([]);

    await fillLogin(page, ENGLISH, 'pietersen', TEST_PASSWORD);
    const callbackUrl = await toPortal(page, () => submit(page, ENGLISH));
    await expectIdToken(rp, callbackUrl, request);
    expectCleanConsole(tab);
  });

  it('moves focus to an accessible error summary after a wrong password, then signs in', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page);
    await fillLogin(page, DUTCH, 'devries', 'Verkeerd-wachtwoord-1');
    await Promise.all([page.waitForURL(/\/step\/password\/verify$/), submit(page, DUTCH)]);

    const summary = page.locator('.error-summary');
    expect(await summary.getAttribute('role')).toBe('alert');
    expect(await summary.innerText()).toContain('De gebruikersnaam of het wachtwoord is onjuist.');
    await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains('error-summary'))).toBe(true);
    expect(await page.getByLabel(DUTCH.login, { exact: true }).inputValue()).toBe('devries');
    // The message belongs to the login field (unknown name and wrong password get the same answer).
    const loginField = page.getByLabel(DUTCH.login, { exact: true });
    expect(await loginField.getAttribute('aria-invalid')).toBe('true');
    const message = await page.locator(`#${await loginField.getAttribute('aria-describedby')}`).textContent();
    // Locked, unknown and wrong look the same, so the message also says that locks exist.
    expect(message?.replace(/\s+/g, ' ').trim()).toBe('Fout: De gebruikersnaam of het wachtwoord is onjuist. Let op: na meerdere mislukte pogingen wordt een account tijdelijk vergrendeld en krijgt de eigenaar een e-mail.');
    expect(await summary.getByRole('link').getAttribute('href')).toBe('#login');
    expect(await runAxe(page)).toEqual([]);

    // The patient corrects the password and goes on.
    await page.getByLabel(DUTCH.password, { exact: true }).fill(TEST_PASSWORD);
    const callbackUrl = await toPortal(page, () => submit(page, DUTCH));
    const tokens = await rp.callback(callbackUrl, request);
    expect(tokens.claims()!.amr).toEqual(['pwd']);
    expectCleanConsole(tab);
  });

  it('is usable with the keyboard: the skip link comes first, then the fields and the button', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page);
    // The login field has focus on arrival (autofocus).
    await expect.poll(() => describeFocus(page)).toBe('input#login');

    // Walk back to the start of the page: the skip link is the first focusable element, before
    // it focus leaves the page (or Chromium wraps around to the last element).
    const backwards: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      await page.keyboard.press('Shift+Tab');
      backwards.push(await describeFocus(page));
    }
    expect(backwards.slice(0, 2)).toEqual(['a.lang-switch "English"', SKIP_LINK]);
    expect(['body', CANCEL]).toContain(backwards[2]);
    if (backwards[2] === CANCEL) await page.keyboard.press('Tab');

    // From the start, Tab visits everything in reading order.
    const order: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await describeFocus(page));
    }
    // The portal's recovery link comes after the button, then the passkey button (this Chromium has
    // WebAuthn), then cancelling.
    expect(order).toEqual([SKIP_LINK, 'a.lang-switch "English"', 'input#login', 'input#password', 'button.button "Inloggen"', 'a "Wachtwoord vergeten?"', 'button.button "Inloggen met een passkey"', CANCEL]);

    // Nothing follows the cancel button: focus leaves the page or starts over at the skip link.
    await page.keyboard.press('Tab');
    const after = await describeFocus(page);
    expect(['body', SKIP_LINK]).toContain(after);
    if (after === 'body') await page.keyboard.press('Tab');
    expect(await describeFocus(page)).toBe(SKIP_LINK);

    // The skip link shows itself when focused and jumps to the content.
    const box = await page.locator('.skip-link').boundingBox();
    expect(box && box.x >= 0 && box.y >= 0 && box.width > 0).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => describeFocus(page)).toMatch(/^main#main/);

    // Sign in with the keyboard only.
    await page.keyboard.press('Tab');
    expect(await describeFocus(page)).toBe('input#login');
    await page.keyboard.type('pietersen');
    await page.keyboard.press('Tab');
    await page.keyboard.type(TEST_PASSWORD);
    await page.keyboard.press('Tab');
    expect(await describeFocus(page)).toBe('button.button "Inloggen"');
    const callbackUrl = await toPortal(page, () => page.keyboard.press('Enter'));
    await expectIdToken(rp, callbackUrl, request);
    expectCleanConsole(tab);
  });

  it('works without JavaScript', async () => {
    const tab = await chromium.newPage({ javaScriptEnabled: false });
    const { page } = tab;
    const request = await openLogin(page);
    await fillLogin(page, DUTCH, 'pietersen', 'Verkeerd-wachtwoord-2');
    await Promise.all([page.waitForURL(/\/step\/password\/verify$/), submit(page, DUTCH)]);
    expect(await page.locator('.error-summary').innerText()).toContain('De gebruikersnaam of het wachtwoord is onjuist.');
    // autofocus, not a script, puts the error summary in focus.
    await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    await fillLogin(page, DUTCH, 'pietersen', TEST_PASSWORD);
    const callbackUrl = await toPortal(page, () => submit(page, DUTCH));
    await expectIdToken(rp, callbackUrl, request);
    expectCleanConsole(tab);
  });

  it('shows an accessible page for an expired interaction', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const response = await page.goto(`${server.url}/interaction/doesnotexist`);
    expect(response?.status()).toBe(400);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Uw inlogsessie is verlopen');
    expect(await page.title()).toBe('Uw inlogsessie is verlopen – Poortwachter');
    await expect.poll(() => describeFocus(page)).toBe('h1 "Uw inlogsessie is verlopen"');
    expect(await runAxe(page)).toEqual([]);
    expectCleanConsole(tab);
  });

  it('asks consent for a portal that is not first-party, accessibly, in Dutch and English', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page, externalRp);
    await fillLogin(page, DUTCH, 'pietersen', TEST_PASSWORD);
    await submit(page, DUTCH);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Toegang geven aan Extern portaal');
    expect(await page.title()).toBe('Toegang geven aan Extern portaal – Extern portaal');
    expect(await runAxe(page)).toEqual([]);

    await page.getByRole('link', { name: 'English', exact: true }).click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Give Extern portaal access');
    expect(await runAxe(page)).toEqual([]);

    const callbackUrl = await toPortal(page, () => page.getByRole('button', { name: 'Allow', exact: true }).click());
    await expectIdToken(externalRp, callbackUrl, request);
    expectCleanConsole(tab);
  });

  it('asks before signing out, accessibly, and returns to the portal', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page);
    await fillLogin(page, DUTCH, 'pietersen', TEST_PASSWORD);
    const tokens = await expectIdToken(rp, await toPortal(page, () => submit(page, DUTCH)), request);

    const endSession = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: portal.loggedOutUri });
    await page.goto(endSession.href);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Uitloggen');
    expect(await page.title()).toBe('Uitloggen – Poortwachter');
    await expect.poll(() => describeFocus(page)).toBe('button.button "Ja, uitloggen"');
    expect(await runAxe(page)).toEqual([]);
    const back = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Ja, uitloggen', exact: true }).click(), portal.loggedOutUri);
    expect(back).toBe(portal.loggedOutUri);

    // Signed out: the next authorization shows the login page again.
    await openLogin(page);
    expectCleanConsole(tab);
  });

  it('shows an accessible signed-out page when the portal gives no way back', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await openLogin(page);
    await fillLogin(page, DUTCH, 'pietersen', TEST_PASSWORD);
    await expectIdToken(rp, await toPortal(page, () => submit(page, DUTCH)), request);

    await page.goto(oidc.buildEndSessionUrl(rp.config, {}).href);
    await Promise.all([page.waitForURL(/\/session\/end\/success/), page.getByRole('button', { name: 'Ja, uitloggen', exact: true }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('U bent uitgelogd');
    expect(await page.title()).toBe('U bent uitgelogd – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    expectCleanConsole(tab);
  });

  it('notices a CSP violation when there is one (the check above is not blind)', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    await openLogin(page);
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'document.title = "injected"';
      document.body.append(script);
    });
    await expect.poll(() => tab.cspViolations().length).toBe(1);
    expect(await page.title()).not.toBe('injected');
  });

  it('a page that does not exist offers a way onward and a working language link, and passes axe', async () => {
    const { page } = await chromium.newPage();
    const response = await page.goto(`${server.url}/bestaat-niet`);
    expect(response?.status()).toBe(404);
    await expect.poll(() => page.title()).toBe('Pagina niet gevonden – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: 'English' }).click();
    await expect.poll(() => page.title()).toBe('Page not found – Poortwachter');
    expect(new URL(page.url()).pathname).toBe('/bestaat-niet');
    await page.getByRole('link', { name: 'Go to my account' }).click();
    // The account page starts its own sign-in: the patient is on a login page, in English.
    await expect.poll(() => page.getByLabel(ENGLISH.login, { exact: true }).count()).toBe(1);
  });
});
