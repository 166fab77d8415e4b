// The two high findings of issue 6 in real Chromium: the attacker's path ends on a refusal, the
// patient's own path works and the patient is told by e-mail when a sign-in method is added.
//  1. With the password and the mailbox but not the phone, the e-mail code cannot be used to set
//     up an authenticator app on an account that has SMS.
//  2. With the password and the patient's remembered-device cookie, the session counts at the
//     portal that allows remembered devices, and nowhere that forbids them: a strict portal and
//     /account ask for the app code.
// Every page passes axe-core and the strict CSP blocks nothing of ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceCookieName } from '../../src/accounts/remembered-devices.ts';
import { generateRecoveryCodes } from '../../src/factors/recovery/recovery-factor.ts';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';
import { extractCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { STEP_MS, enrolWithApp, stepAlignedTime, totpCode } from '../support/totp.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';

const APP_TITLE = 'Code uit uw authenticator-app';
const SMS_TITLE = 'Vul de code uit de sms in';
const NOTICE_SUBJECT = 'Er is een nieuwe inlogmethode toegevoegd aan uw account';

describe('second-factor bypasses (issue 6) in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let minddistrict: RelyingParty;
  let strict: RelyingParty;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld({ now: stepAlignedTime() }), startPortal()]);
    // Also the test RP's own redirect URI: the app is set up without a browser in finding 2.
    minddistrict = await world.portal({ redirectUris: [portal.redirectUri, REDIRECT_URI], name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    strict = await world.portal({ redirectUris: [portal.redirectUri], name: 'Streng portaal', mfa: 'required', mfaMethods: ['totp'], rememberDevice: false });
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function expectTitle(page: Page, title: string): Promise<void> {
    await expect.poll(() => page.title()).toMatch(new RegExp(`^${title} – (Minddistrict|Streng portaal|ZINN|Poortwachter)$`));
  }

  /** Starts a login at `rp` (back to the stub portal); returns the request for the callback. */
  async function startAt(page: Page, rp: RelyingParty) {
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    return request;
  }

  async function password(page: Page, username: string): Promise<void> {
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
  }

  it('finding 1: the e-mail code cannot set up an app on an account with SMS; the patient, with the phone, can, and is told', async () => {
    const account = await userWithFactors(world.server, { username: 'browser-f1', phoneE164: '+31640000001' }, ['sms', 'email']);
    await generateRecoveryCodes(world.server.services, account);

    // The attacker: password and mailbox, no phone.
    const attacker = await chromium.newPage();
    await startAt(attacker.page, minddistrict);
    await password(attacker.page, account.username);
    await expectTitle(attacker.page, SMS_TITLE);
    // The code went to the patient's phone, out of the attacker's reach.
    await world.twilio.waitForSms('+31640000001');
    expect(await runAxe(attacker.page)).toEqual([]);
    const others = attacker.page.locator('form.other-methods button');
    // The account's strongest factors (the phone, by SMS or call) and the recovery codes; no e-mail.
    expect(await others.allInnerTexts()).toEqual(['Telefoongesprek naar *****01', 'Gebruik herstelcode']);
    // Even a button edited to say "email" is refused: the page stays on the SMS step.
    await others.first().evaluate((button) => button.setAttribute('value', 'email'));
    const [refused] = await Promise.all([attacker.page.waitForResponse((r) => r.url().endsWith('/choose')), others.first().click()]);
    expect(refused.status()).toBe(400);
    await expectTitle(attacker.page, SMS_TITLE);
    expect(await attacker.page.locator('#totp-key').count()).toBe(0);
    expect(await runAxe(attacker.page)).toEqual([]);
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes(account.email))).toHaveLength(0);
    expectClean(attacker);

    // The patient, with the phone: the SMS code, then the app.
    world.clock.advance(31_000);
    const patient = await chromium.newPage();
    const request = await startAt(patient.page, minddistrict);
    await password(patient.page, account.username);
    await expectTitle(patient.page, SMS_TITLE);
    const sms = await world.twilio.waitForSms('+31640000001');
    await patient.page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode(sms.body));
    await patient.page.getByRole('button', { name: 'Doorgaan', exact: true }).click();
    await expectTitle(patient.page, 'Authenticator-app instellen');
    expect(await runAxe(patient.page)).toEqual([]);
    const key = (await patient.page.locator('#totp-key').innerText()).replace(/^[^:]*:\s*/, '').replace(/\s+/g, '');
    await patient.page.getByLabel('Code van 6 cijfers', { exact: true }).fill(await totpCode(key, world.clock.now()));
    const callback = await arriveAtPortal(patient.page, () => patient.page.getByRole('button', { name: 'Authenticator-app instellen', exact: true }).click(), portal.redirectUri);
    expect((await minddistrict.callback(callback, request)).claims()!.acr).toBe(ACR.substantial);
    expectClean(patient);

    const mail = await world.smtp.waitForMail(account.email);
    expect(mail.subject).toBe(NOTICE_SUBJECT);
    expect(mail.text).toContain('Code uit uw authenticator-app');
    expect(mail.text).toContain('Minddistrict');
    expect(mail.raw).not.toContain(key);
  });

  it('finding 2: a remembered device opens the portal that allows it, and nothing that forbids it', async () => {
    const account = await world.server.addUser({ username: 'browser-f2', emailVerified: true });
    const { key } = await enrolWithApp(minddistrict, new UserAgent(), world.clock, account.username);
    // The patient was told when the app was set up.
    expect((await world.smtp.waitForMail(account.email)).subject).toBe(NOTICE_SUBJECT);

    // The patient signs in with the app and "Onthoud mij".
    const patient = await chromium.newPage();
    const first = await startAt(patient.page, minddistrict);
    await password(patient.page, account.username);
    await expectTitle(patient.page, APP_TITLE);
    world.clock.advance(STEP_MS);
    await patient.page.getByLabel('Code van 6 cijfers', { exact: true }).fill(await totpCode(key, world.clock.now()));
    await patient.page.getByLabel('Onthoud mij op dit apparaat', { exact: true }).check();
    const arrived = await arriveAtPortal(patient.page, () => patient.page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), portal.redirectUri);
    await minddistrict.callback(arrived, first);
    const device = (await patient.context.cookies()).find((c) => c.name === deviceCookieName(account.id));
    expect(device).toBeDefined();

    // The attacker: the password and the device cookie (a shared computer).
    const attacker = await chromium.newPage();
    await attacker.context.addCookies([device!]);
    const allowed = await startAt(attacker.page, minddistrict);
    await password(attacker.page, account.username);
    await attacker.page.waitForURL((url) => url.href.startsWith(portal.redirectUri));
    expect((await minddistrict.callback(attacker.page.url(), allowed)).claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);

    // The portal that forbids remembered devices asks for the app code; so does /account.
    await startAt(attacker.page, strict);
    await expectTitle(attacker.page, APP_TITLE);
    expect(attacker.page.url().startsWith(portal.redirectUri)).toBe(false);
    expect(await attacker.page.getByLabel('Onthoud mij op dit apparaat', { exact: true }).count()).toBe(0);
    expect(await runAxe(attacker.page)).toEqual([]);
    await attacker.page.goto(`${world.server.url}/account`);
    await expectTitle(attacker.page, APP_TITLE);
    expect(await attacker.page.getByRole('heading', { name: 'Mijn account' }).count()).toBe(0);
    // A wrong guess is all the attacker has.
    await attacker.page.getByLabel('Code van 6 cijfers', { exact: true }).fill('000000');
    await attacker.page.getByRole('button', { name: 'Doorgaan', exact: true }).click();
    await expect.poll(() => attacker.page.locator('.error-summary').innerText()).toContain('Deze code is onjuist of al gebruikt.');
    expect(await runAxe(attacker.page)).toEqual([]);
    expectClean(attacker);
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'totp')).toHaveLength(1);
  });

  it('keeps the new page states accessible: a second browser waiting for its own SMS code, the cancelled account login', async () => {
    await userWithFactors(world.server, { username: 'browser-wacht', phoneE164: '+31640000002' }, ['sms']);
    const zinn = await world.portal({ redirectUris: [portal.redirectUri], name: 'ZINN', mfa: 'required', mfaMethods: ['sms'] });
    const first = await chromium.newPage();
    await startAt(first.page, zinn);
    await password(first.page, 'browser-wacht');
    await expectTitle(first.page, SMS_TITLE);
    await world.twilio.waitForSms('+31640000002');

    // A second browser within the resend cooldown: told to wait, no code field, one button.
    const second = await chromium.newPage();
    await startAt(second.page, zinn);
    await password(second.page, 'browser-wacht');
    await expectTitle(second.page, SMS_TITLE);
    const main = await second.page.locator('main').innerText();
    expect(main).toContain('Er is net al een code aangevraagd voor uw account');
    expect(main).toMatch(/Wacht nog \d+ seconden voordat u een code aanvraagt\./);
    expect(main).not.toContain('We hebben een sms');
    expect(await second.page.getByLabel('Code uit de sms', { exact: true }).count()).toBe(0);
    expect(await runAxe(second.page)).toEqual([]);
    // After the cooldown the button (a plain form) sends this browser's own code.
    world.clock.advance(31_000);
    await second.page.getByRole('button', { name: 'Sms versturen', exact: true }).click();
    await expect.poll(() => second.page.locator('main').innerText()).toContain('We hebben een sms met een code van 6 cijfers gestuurd naar *****02.');
    expect(await second.page.getByLabel('Code uit de sms', { exact: true }).count()).toBe(1);
    expect(await runAxe(second.page)).toEqual([]);
    expectClean(second);

    // The account page's login, cancelled: a page that says so, with a way back in.
    const account = await chromium.newPage();
    await account.page.goto(`${world.server.url}/account`);
    await expectTitle(account.page, 'Inloggen');
    await account.page.getByRole('button', { name: 'Annuleren', exact: true }).click();
    await expectTitle(account.page, 'Inloggen afgebroken');
    expect(await account.page.locator('main').innerText()).toContain('U bent niet ingelogd en er is niets gewijzigd.');
    expect(await runAxe(account.page)).toEqual([]);
    await account.page.getByRole('link', { name: 'Opnieuw inloggen voor mijn account', exact: true }).click();
    await expectTitle(account.page, 'Inloggen');
    expectClean(account);
  });
});
