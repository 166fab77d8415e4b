// The authenticator-app set-up and the recovery codes in real Chromium: every page passes
// axe-core (WCAG 2.1 A/AA), the QR image loads under the strict CSP, "Copy" and "Download" give
// the codes, and without JavaScript the copy and print buttons stay out of the way.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import { STEP_MS, stepAlignedTime, totpCode } from '../support/totp.ts';

describe('authenticator app and recovery codes in Chromium', () => {
  const chromium = useBrowser();
  const clock = new FakeClock(stepAlignedTime());
  let server: TestServer;
  let portal: StubPortal;
  let rp: RelyingParty;

  beforeAll(async () => {
    [server, portal] = await Promise.all([startTestServer({ clock }), startPortal()]);
    const client = await server.addClient({ redirectUris: [portal.redirectUri], name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret, portal.redirectUri);
  });

  afterAll(async () => {
    await Promise.all([server?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function passwordSteps(page: Page, username: string) {
    const request = await rp.authorize();
    await page.goto(request.url);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    return request;
  }

  /** First login up to the recovery-codes page; returns the key read off the page. */
  async function throughAppSetUp(page: Page, username: string) {
    const request = await passwordSteps(page, username);
    await expect.poll(() => page.title()).toContain('Bevestig uw wachtwoord');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => page.title()).toContain('Authenticator-app instellen');
    const key = (await page.locator('#totp-key').innerText()).replace(/^[^:]*:\s*/, '').replace(/\s+/g, '');
    return { request, key };
  }

  it('sets up the app and saves the codes with Copy and Download, accessibly and within the CSP', async () => {
    await server.addUser({ username: 'mila' });
    const tab = await chromium.newPage({ permissions: ['clipboard-read', 'clipboard-write'] });
    const { page } = tab;
    const { request, key } = await throughAppSetUp(page, 'mila');
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    const qr = page.getByRole('img', { name: 'QR-code om te scannen met uw authenticator-app' });
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(200);
    expect(await runAxe(page)).toEqual([]);

    // A wrong code: the error summary takes focus and the field says what is wrong.
    await page.getByLabel('Code van 6 cijfers').fill('12345');
    await page.getByRole('button', { name: 'Authenticator-app instellen' }).click();
    await expect.poll(() => page.locator('.error-summary').count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('error-summary');
    expect(await runAxe(page)).toEqual([]);

    await page.getByLabel('Code van 6 cijfers').fill(await totpCode(key, clock.now()));
    await page.getByRole('button', { name: 'Authenticator-app instellen' }).click();
    await expect.poll(() => page.title()).toContain('Bewaar uw herstelcodes');
    expect(await runAxe(page)).toEqual([]);
    const codes = await page.locator('ul.codes li').allInnerTexts();
    expect(codes).toHaveLength(6);

    await page.getByRole('button', { name: 'Kopiëren' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toBe('De codes zijn gekopieerd.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));
    expect(await page.getByRole('button', { name: 'Afdrukken' }).isVisible()).toBe(true);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Downloaden' }).click()]);
    expect(download.suggestedFilename()).toBe('herstelcodes-minddistrict.txt');
    const file = await readFile((await download.path())!, 'utf8');
    for (const code of codes) expect(file).toContain(code);

    await page.getByLabel('Ik heb de codes bewaard').check();
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan' }).click(), portal.redirectUri);
    const claims = (await rp.callback(callback, request)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expectClean(tab);

    // Next login: the app code page and the recovery page pass axe too, and a code gets in.
    clock.advance(5 * STEP_MS);
    const next = await chromium.newPage();
    const again = await passwordSteps(next.page, 'mila');
    await expect.poll(() => next.page.title()).toContain('Code uit uw authenticator-app');
    expect(await runAxe(next.page)).toEqual([]);
    await next.page.getByRole('button', { name: 'Gebruik herstelcode' }).click();
    await expect.poll(() => next.page.title()).toContain('Herstelcode gebruiken');
    expect(await runAxe(next.page)).toEqual([]);
    await next.page.getByLabel('Herstelcode', { exact: true }).fill(codes[0]!.toLowerCase());
    const back = await arriveAtPortal(next.page, () => next.page.getByRole('button', { name: 'Doorgaan' }).click(), portal.redirectUri);
    expect((await rp.callback(back, again)).claims()!.acr).toBe('urn:poortwachter:acr:substantial');
    expectClean(next);
  });

  it('works without JavaScript: no dead Copy or Print buttons, Download and the checkbox still do', async () => {
    await server.addUser({ username: 'noor' });
    const tab = await chromium.newPage({ javaScriptEnabled: false });
    const { page } = tab;
    const { request, key } = await throughAppSetUp(page, 'noor');
    await page.getByLabel('Code van 6 cijfers').fill(await totpCode(key, clock.now()));
    await page.getByRole('button', { name: 'Authenticator-app instellen' }).click();
    await expect.poll(() => page.title()).toContain('Bewaar uw herstelcodes');
    expect(await page.getByRole('button', { name: 'Kopiëren' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Afdrukken' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Downloaden' }).getAttribute('download')).toBe('herstelcodes-minddistrict.txt');
    await page.getByLabel('Ik heb de codes bewaard').check();
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan' }).click(), portal.redirectUri);
    expect((await rp.callback(callback, request)).claims()!.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
    expectClean(tab);
  });
});
