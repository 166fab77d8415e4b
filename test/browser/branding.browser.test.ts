// A portal's brand where its patients see it, in real Chromium: name in the title and header, its
// logo (served by us at /brand/<sha256>.png), its colour (a stylesheet /brand/<rrggbb>.css, as
// the CSP allows no inline styles), its support and privacy links, Poortwachter only as "beveiligd
// door Poortwachter"; the SMS (Twilio's real client, fake API) and the code mail (a real SMTP
// server) name the portal and use its word for a code. axe-clean in Dutch and English.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/server.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type Page, type StubPortal } from '../support/browser.ts';
import { Logos } from '../../src/brand/logos.ts';
import { png } from '../support/logo-bytes.ts';

const COLOUR = '#7a1f5c';

describe('a portal\'s brand in Chromium, its SMS and its mail', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let zinn: RelyingParty;
  let logoFile = '';

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld(), startPortal()]);
    logoFile = (await new Logos(world.server.services.store).save(png(120, 40, [122, 31, 92]))).file;
    zinn = await world.portal({
      redirectUris: [portal.redirectUri], name: 'ZINN', mfa: 'required', mfaMethods: ['sms', 'email'], smsSender: 'ZINNZORG',
      metadata: {
        brand_logo: logoFile, brand_color: COLOUR, code_name: 'verification-code', policy_uri: 'https://zinn.example/privacy',
        support_text: { nl: 'Heeft u hulp nodig? Neem contact op met uw behandelaar.', en: 'Need help? Contact your practitioner.' }, support_url: 'tel:+31201234567',
      },
    });
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  async function signInPage(page: Page) {
    const request = await zinn.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    return request;
  }

  it('shows the portal\'s name, logo and colour on its login pages, axe-clean in Dutch and English', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInPage(page);
    await expect.poll(() => page.title()).toBe('Inloggen – ZINN');
    expect(await page.locator('header .brand__name').innerText()).toBe('ZINN');
    const logo = page.locator('header img.brand__logo');
    expect(await logo.getAttribute('src')).toBe(`/brand/${logoFile}`);
    await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(120);
    // The colour reaches the header and the button through the brand stylesheet.
    const rgb = 'rgb(122, 31, 92)';
    await expect.poll(() => page.locator('header.site-header').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(rgb);
    expect(await page.getByRole('button', { name: 'Inloggen', exact: true }).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(rgb);
    const footer = await page.locator('footer').innerText();
    expect(footer).toContain('Heeft u hulp nodig? Neem contact op met uw behandelaar.');
    expect(footer).toContain('beveiligd door Poortwachter');
    expect(await page.getByRole('link', { name: 'Privacyverklaring van ZINN' }).getAttribute('href')).toBe('https://zinn.example/privacy');
    expect(await page.getByRole('link', { name: 'Hulp en contact' }).getAttribute('href')).toBe('tel:+31201234567');
    // Poortwachter's own name appears only in the small line.
    expect((await page.locator('body').innerText()).match(/Poortwachter/g)).toHaveLength(1);
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Sign in – ZINN');
    expect(await page.locator('footer').innerText()).toContain('Need help? Contact your practitioner.');
    expect(await runAxe(page)).toEqual([]);
    expect(tab.cspViolations()).toEqual([]);
  });

  it('serves the logo and the colour immutable, with the right type and nosniff; refuses what it does not hold', async () => {
    const base = world.server.url;
    const logo = await fetch(`${base}/brand/${logoFile}`);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    const css = await fetch(`${base}/brand/${COLOUR.slice(1)}.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain(`--brand: ${COLOUR}`);
    const [wrongType, unknown, lowContrast] = await Promise.all([
      fetch(`${base}/brand/${logoFile.replace('.png', '.webp')}`),
      fetch(`${base}/brand/${'0'.repeat(64)}.png`),
      fetch(`${base}/brand/ffff00.css`),
    ]);
    expect([wrongType.status, unknown.status, lowContrast.status]).toEqual([404, 404, 404]);
  });

  it('names the portal in the SMS and uses its word for the code', async () => {
    await userWithFactors(world.server, { username: 'zinn-sms', phoneE164: '+31612340001' }, ['sms']);
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInPage(page);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill('zinn-sms');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    const sms = await world.twilio.waitForSms('+31612340001');
    expect(sms.from).toBe('ZINNZORG');
    expect(sms.body).toMatch(/^Uw verificatiecode voor ZINN is \d{6}\./);
    await expect.poll(() => page.title()).toMatch(/ – ZINN$/);
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode(sms.body));
    await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), portal.redirectUri);
  });

  it('sends the code mail from the portal\'s name, names it in the subject and signs with it', async () => {
    const account = await userWithFactors(world.server, { username: 'zinn-mail' }, ['email']);
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInPage(page);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill('zinn-mail');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    const mail = await world.smtp.waitForMail(account.email!);
    expect(mail.from).toBe('ZINN <no-reply@poortwachter.test>');
    expect(mail.subject).toBe('Uw verificatiecode voor ZINN');
    expect(mail.text).toContain('Uw verificatiecode om in te loggen bij ZINN is:');
    expect(mail.text?.trimEnd().endsWith('Met vriendelijke groet,\nZINN')).toBe(true);
    expect(mail.html).toContain('ZINN');
  });
});
