// Required actions in real Chromium: a patient whose practice asked for a new password and a
// confirmed e-mail address signs in by the labels, changes the password (a mismatch first: the
// error summary takes focus and links to the field), types the e-mailed code, and reaches the
// portal. Every page passes axe-core (WCAG 2.1 A/AA), the strict CSP blocks nothing of ours, and
// the same works without JavaScript.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/server.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, describeFocus, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';

const NEW_PASSWORD = 'Regenboog-Fietspomp-31';

describe('required actions in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let rp: RelyingParty;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld(), startPortal()]);
    rp = await world.portal({ redirectUris: [portal.redirectUri], name: 'ZINN' });
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function patient(username: string) {
    const account = await world.server.addUser({ username });
    await world.server.services.store.accounts.update({ ...account, requiredActions: ['update-password', 'verify-email'] });
    return account;
  }

  async function signIn(page: Page, username: string, axe: boolean) {
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await expect.poll(() => page.title()).toBe('Inloggen – ZINN');
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Wachtwoord wijzigen – ZINN');
    if (axe) expect(await runAxe(page)).toEqual([]);
    return request;
  }

  async function changePassword(page: Page, confirm: string) {
    await page.getByLabel('Huidig wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByLabel('Nieuw wachtwoord', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Bevestig nieuw wachtwoord', { exact: true }).fill(confirm);
    await page.getByRole('button', { name: 'Wachtwoord wijzigen', exact: true }).click();
  }

  async function run(tab: BrowserPage, username: string, axe: boolean) {
    const { page } = tab;
    const account = await patient(username);
    const request = await signIn(page, username, axe);
    // The rules are said before the patient types.
    expect(await page.locator('#password-rules').innerText()).toContain('Minstens 8 tekens');

    await changePassword(page, 'iets anders');
    await expect.poll(() => page.locator('.error-summary').count()).toBe(1);
    expect(await page.locator('.error-summary').innerText()).toContain('De bevestiging is niet gelijk aan het nieuwe wachtwoord.');
    await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    expect(await page.locator('.error-summary a').getAttribute('href')).toBe('#confirm');
    expect(await page.getByLabel('Bevestig nieuw wachtwoord', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    if (axe) expect(await runAxe(page)).toEqual([]);

    await changePassword(page, NEW_PASSWORD);
    await expect.poll(() => page.title()).toBe('Bevestig uw e-mailadres – ZINN');
    if (axe) expect(await runAxe(page)).toEqual([]);
    await expect.poll(() => describeFocus(page)).toBe('input#code');
    // Two mails: the notice that the password changed, and the code (in either order).
    const mails = [await world.smtp.waitForMail(account.email), await world.smtp.waitForMail(account.email)];
    expect(mails.map((m) => m.subject).sort()).toEqual(['Bevestig uw e-mailadres voor ZINN', 'Het wachtwoord van uw account is gewijzigd']);
    const code = extractCode(mails.find((m) => m.subject.startsWith('Bevestig'))!.text ?? '');
    await page.getByLabel('Code uit de e-mail', { exact: true }).fill(code);
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'E-mailadres bevestigen', exact: true }).click(), portal.redirectUri);
    const claims = (await rp.callback(callback, request)).claims()!;
    expect(claims.sub).toBe(account.id);
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(after.emailVerified).toBe(true);
    expect(after.requiredActions).toEqual([]);
    expect(await world.server.services.passwords.verify(after, NEW_PASSWORD)).toBe(true);
    expectClean(tab);
  }

  it('changes the password and confirms the e-mail address by the labels, axe-clean, before the portal gets the login', async () => {
    await run(await chromium.newPage(), 'acties-browser', true);
  });

  it('works without JavaScript', async () => {
    await run(await chromium.newPage({ javaScriptEnabled: false }), 'acties-zonder-js', false);
  });
});
