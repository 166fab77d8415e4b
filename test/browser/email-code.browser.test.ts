// The patient portal's "sessiecode" in real Chromium: after the password a code goes by real SMTP,
// the page says when it was sent (Amsterdam time, as on the mail), and the patient pastes the code
// with the stray space and line break a mail program adds. "Geen sessiecode ontvangen?" sends a
// new code that voids the first. Password + e-mail code gives acr low-mfa. Every page passes
// axe-core (WCAG 2.1 A/AA), the strict CSP blocks nothing of ours, and it all works without
// JavaScript too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, describeFocus, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';

const TITLE = 'Vul uw sessiecode in';
const CODE_LABEL = 'Sessiecode uit de e-mail';

/** Amsterdam wall-clock time (HH:MM), written independently of the code under test. */
function amsterdam(ms: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)!.value.padStart(2, '0');
  return `${get('hour')}:${get('minute')}`;
}

/** A code as it arrives when copied out of a mail: a leading space, a space in the middle, a line break. */
function pasted(code: string): string {
  return ` ${code.slice(0, 3)} ${code.slice(3)}\n`;
}

describe('e-mail session code in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let rp: RelyingParty;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld(), startPortal()]);
    rp = await world.portal({ redirectUris: [portal.redirectUri], name: 'Patiëntportaal', mfa: 'required', mfaMethods: ['email'] });
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  /** Authorizes at the portal and signs in with the password, by the labels; ends on the code page. */
  async function toCodePage(page: Page, username: string, options: { axe: boolean } = { axe: true }) {
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await expect.poll(() => page.title()).toBe('Inloggen – Patiëntportaal');
    // axe runs as a script in the page, which a browser without JavaScript does not run.
    if (options.axe) expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => page.title()).toBe(`${TITLE} – Patiëntportaal`);
    return request;
  }

  async function mailCode(to: string) {
    const mail = await world.smtp.waitForMail(to);
    return { mail, code: extractCode(mail.text ?? '') };
  }

  async function claimsAt(callbackUrl: string, request: Awaited<ReturnType<RelyingParty['authorize']>>) {
    return (await rp.callback(callbackUrl, request)).claims()!;
  }

  function submitCode(page: Page) {
    return page.getByRole('button', { name: 'Doorgaan', exact: true }).click();
  }

  it('mails the code, shows the Amsterdam send time, and takes the code pasted with spaces and a line break', async () => {
    const account = await userWithFactors(world.server, { username: 'sessie', givenName: 'Anouk' }, ['email']);
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await toCodePage(page, 'sessie');

    const sentAt = amsterdam(world.clock.now());
    expect(sentAt).toBe('11:50');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(TITLE);
    const main = await page.locator('main').innerText();
    expect(main).toContain('We hebben een e-mail met een sessiecode van 6 cijfers gestuurd naar s***@example.nl.');
    expect(await page.locator('.sent-at').innerText()).toBe(`Verstuurd om ${sentAt}. De e-mail met de juiste code heeft dezelfde tijd.`);
    expect(await page.getByRole('heading', { level: 2, name: 'Geen sessiecode ontvangen?' }).count()).toBe(1);
    await expect.poll(() => describeFocus(page)).toBe('input#code');
    expect(await runAxe(page)).toEqual([]);

    const { mail, code } = await mailCode('sessie@example.nl');
    expect(mail.subject).toBe('Uw sessiecode voor Patiëntportaal');
    expect(mail.text).toContain('Beste Anouk,');
    // The time on the mail is the time on the page.
    expect(mail.text).toContain(`Verstuurd om ${sentAt}.`);

    const field = page.getByLabel(CODE_LABEL, { exact: true });
    await field.fill(pasted(code));
    // What the browser keeps of it: an <input> drops the line break, the spaces stay for the server.
    expect(await field.inputValue()).toBe(` ${code.slice(0, 3)} ${code.slice(3)}`);
    const callback = await arriveAtPortal(page, () => submitCode(page), portal.redirectUri);
    const claims = await claimsAt(callback, request);
    expect(claims.sub).toBe(account.id);
    expect(claims.amr).toEqual(['pwd', 'email', 'mfa']);
    expect(claims.acr).toBe(ACR.lowMfa);
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes('sessie@example.nl'))).toHaveLength(1);
    expectClean(tab);
  });

  it('"Geen sessiecode ontvangen?" sends a new code after the cooldown; the first code no longer works', async () => {
    await userWithFactors(world.server, { username: 'opnieuw' }, ['email']);
    const tab = await chromium.newPage();
    const { page } = tab;
    const request = await toCodePage(page, 'opnieuw');
    const { code: first } = await mailCode('opnieuw@example.nl');

    // Too soon: the resend button answers with an error, and no mail goes out.
    await page.getByRole('button', { name: 'Stuur een nieuwe code', exact: true }).click();
    await expect.poll(() => page.locator('.error-summary').count()).toBe(1);
    expect(await page.locator('.error-summary').innerText()).toContain('U heeft net een code aangevraagd. Wacht even voordat u een nieuwe code aanvraagt.');
    await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    expect(await page.locator('#resend-wait').innerText()).toMatch(/^U kunt over \d+ seconden een nieuwe code aanvragen\.$/);
    expect(await runAxe(page)).toEqual([]);

    world.clock.advance(31_000);
    const resentAt = amsterdam(world.clock.now());
    await page.getByRole('button', { name: 'Stuur een nieuwe code', exact: true }).click();
    await expect.poll(() => page.getByRole('status').count()).toBe(1);
    expect(await page.getByRole('status').innerText()).toBe(`Er is een nieuwe sessiecode verstuurd naar o***@example.nl om ${resentAt}. Eerdere codes werken niet meer.`);
    expect(await page.locator('.sent-at').innerText()).toContain(`Verstuurd om ${resentAt}.`);
    expect(await page.locator('.error-summary').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);
    const { mail, code: second } = await mailCode('opnieuw@example.nl');
    expect(mail.text).toContain(`Verstuurd om ${resentAt}.`);
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes('opnieuw@example.nl'))).toHaveLength(2);

    // The first code is refused (in the one-in-a-million case that both codes are equal it is the new one).
    if (first !== second) {
      await page.getByLabel(CODE_LABEL, { exact: true }).fill(pasted(first));
      await Promise.all([page.waitForURL(/\/step\/email\/verify$/), submitCode(page)]);
      expect(await page.locator('.error-summary').innerText()).toContain('Deze sessiecode is onjuist. Gebruik de code uit de nieuwste e-mail.');
      await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
      expect(await page.getByLabel(CODE_LABEL, { exact: true }).getAttribute('aria-invalid')).toBe('true');
      expect(await runAxe(page)).toEqual([]);
    }

    await page.getByLabel(CODE_LABEL, { exact: true }).fill(pasted(second));
    const callback = await arriveAtPortal(page, () => submitCode(page), portal.redirectUri);
    const claims = await claimsAt(callback, request);
    expect(claims.amr).toEqual(['pwd', 'email', 'mfa']);
    expect(claims.acr).toBe(ACR.lowMfa);
    expectClean(tab);
  });

  it('works without JavaScript: the send time, a new code, the pasted code', async () => {
    await userWithFactors(world.server, { username: 'zonderjs' }, ['email']);
    const tab = await chromium.newPage({ javaScriptEnabled: false });
    const { page } = tab;
    const request = await toCodePage(page, 'zonderjs', { axe: false });
    expect(await page.locator('.sent-at').innerText()).toContain(`Verstuurd om ${amsterdam(world.clock.now())}.`);
    // autofocus, not a script, puts the cursor in the code field.
    await expect.poll(() => describeFocus(page)).toBe('input#code');
    const { code: first } = await mailCode('zonderjs@example.nl');

    world.clock.advance(31_000);
    await Promise.all([page.waitForURL(/\/step\/email\/resend$/), page.getByRole('button', { name: 'Stuur een nieuwe code', exact: true }).click()]);
    expect(await page.getByRole('status').innerText()).toContain(`om ${amsterdam(world.clock.now())}. Eerdere codes werken niet meer.`);
    const { code: second } = await mailCode('zonderjs@example.nl');
    if (first !== second) {
      await page.getByLabel(CODE_LABEL, { exact: true }).fill(pasted(first));
      await Promise.all([page.waitForURL(/\/step\/email\/verify$/), submitCode(page)]);
      expect(await page.locator('.error-summary').innerText()).toContain('Deze sessiecode is onjuist.');
      await expect.poll(() => describeFocus(page)).toMatch(/^div\.error-summary/);
    }
    await page.getByLabel(CODE_LABEL, { exact: true }).fill(pasted(second));
    const callback = await arriveAtPortal(page, () => submitCode(page), portal.redirectUri);
    const claims = await claimsAt(callback, request);
    expect(claims.amr).toEqual(['pwd', 'email', 'mfa']);
    expect(claims.acr).toBe(ACR.lowMfa);
    expectClean(tab);
  });
});
