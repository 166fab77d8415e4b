// The patient's account console (/account, Minddistrict's "Instellingen") in real Chromium: the
// sections and their menu, changing the phone number with an SMS code to the new number (the real
// twilio client against the fake API), changing the e-mail address with the link mailed to it
// (real SMTP), forgetting one remembered device (named by browser and OS), signing out of one
// portal — whose back-channel logout endpoint receives and verifies the logout token —, revoking a
// portal's access (its refresh token then fails through openid-client), recent activity listing
// the login just made, the way back to the portal, and axe on every section in Dutch and English.
// Bad input (another account's form, a forged CSRF token, no recent sign-in, a dead link) gets a
// clear 4xx and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { TEST_PASSWORD } from '../support/server.ts';
import { REDIRECT_URI, relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';
import { extractCode, giveCredential, startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { enrolWithApp, STEP_MS, totpCode } from '../support/totp.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import { startLogoutReceiver, type LogoutReceiver } from '../support/logout-receiver.ts';
import { isSecurityNotice } from '../support/fake-twilio.ts';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const SUBSTANTIAL = 'urn:poortwachter:acr:substantial';

// Each test signs in two or three times (argon2id, the app, Chromium): more than the default 30 s
// when the machine is shared.
describe('the account console (/account) in Chromium', { timeout: 90_000 }, () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let stub: StubPortal;
  let minddistrict: RelyingParty;
  /** The same portal, for logins in Chromium (its callback on the stub portal). */
  let minddistrictInBrowser: RelyingParty;
  let zinn: RelyingParty;
  let zinnLogouts: LogoutReceiver;
  let minddistrictLogouts: LogoutReceiver;

  beforeAll(async () => {
    stub = await startPortal();
    let zinnId = '';
    let mdId = '';
    world = await startFactorWorld();
    zinnLogouts = await startLogoutReceiver(() => world.server.url, () => zinnId);
    minddistrictLogouts = await startLogoutReceiver(() => world.server.url, () => mdId);
    const mdClient = await world.server.addClient({ name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'], backchannelLogoutUri: minddistrictLogouts.uri, redirectUris: [REDIRECT_URI, stub.redirectUri] });
    mdId = mdClient.clientId;
    minddistrict = await relyingParty(world.server.url, mdClient.clientId, mdClient.clientSecret);
    minddistrictInBrowser = await relyingParty(world.server.url, mdClient.clientId, mdClient.clientSecret, stub.redirectUri);
    const zinnClient = await world.server.addClient({ name: 'ZINN', redirectUris: [stub.redirectUri], backchannelLogoutUri: zinnLogouts.uri, rememberDevice: true });
    zinnId = zinnClient.clientId;
    zinn = await relyingParty(world.server.url, zinnClient.clientId, zinnClient.clientSecret, stub.redirectUri);
  });

  afterAll(async () => {
    await world?.close();
    await stub?.close();
    await zinnLogouts?.close();
    await minddistrictLogouts?.close();
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  /** A patient with the authenticator app (set up at Minddistrict, outside the browser: a session there). */
  async function patientWithApp(username: string, extra: { phoneE164?: string } = {}) {
    const account = await world.server.addUser({ username, ...extra, ...(extra.phoneE164 ? { phoneVerified: true } : {}) });
    const enrolment = await enrolWithApp(minddistrict, new UserAgent(), world.clock, username);
    expect((await world.smtp.waitForMail(account.email)).subject).toBe('Er is een nieuwe inlogmethode toegevoegd aan uw account');
    return { account, ...enrolment };
  }

  /** Password and a fresh app code on the page the browser is on. */
  async function passwordAndApp(page: Page, username: string, key: string, brand = 'Poortwachter'): Promise<void> {
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => page.title()).toBe(`Code uit uw authenticator-app – ${brand}`);
    world.clock.advance(STEP_MS);
    await page.getByLabel('Code van 6 cijfers', { exact: true }).fill(await totpCode(key, world.clock.now()));
  }

  async function signInToAccount(page: Page, username: string, key: string, query = ''): Promise<void> {
    await page.goto(`${world.server.url}/account${query}`);
    await expect.poll(() => page.title()).toBe('Inloggen – Poortwachter');
    await passwordAndApp(page, username, key);
    await Promise.all([page.waitForURL(`${world.server.url}/account`), page.getByRole('button', { name: 'Doorgaan', exact: true }).click()]);
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
  }

  const notice = (page: Page) => page.getByRole('status').innerText();
  const section = (page: Page, heading: string) => page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: heading, exact: true }) });
  const flowOf = (page: Page) => page.locator('form[action="/account/email"] input[name=flow]').inputValue();
  const csrfOf = (page: Page) => page.locator('form[action="/account/email"] input[name=_csrf]').inputValue();

  it('shows the sections with a menu and a way back to the portal, axe-clean in Dutch and English', async () => {
    const { key } = await patientWithApp('menu');
    const tab = await chromium.newPage();
    const { page } = tab;
    // Only a registered address of the portal counts as the way back; anything else is ignored.
    await page.goto(`${world.server.url}/account?client_id=${zinn.clientId}&return_to=${encodeURIComponent('https://evil.example/')}`);
    await signInToAccount(page, 'menu', key, `?client_id=${zinn.clientId}&return_to=${encodeURIComponent(stub.redirectUri)}`);

    const menu = page.getByRole('navigation', { name: 'Op deze pagina' });
    expect(await menu.getByRole('link').allInnerTexts()).toEqual(['Mijn gegevens', 'Wachtwoord', 'Tweestapsverificatie', 'Passkeys', 'Apparaten', 'Portalen en sessies', 'Recente activiteit']);
    for (const heading of ['Mijn gegevens', 'Wachtwoord', 'Tweestapsverificatie', 'Apparaten', 'Portalen en sessies', 'Recente activiteit']) {
      expect(await section(page, heading).count()).toBe(1);
    }
    expect(await page.getByRole('link', { name: 'Terug naar ZINN', exact: true }).getAttribute('href')).toBe(stub.redirectUri);
    expect(await page.getByRole('link', { name: 'Wachtwoord wijzigen', exact: true }).getAttribute('href')).toBe('/account/password');
    // The Passkeys entry leads to the passkeys page (issue 10), not to nothing.
    const passkeysHref = await menu.getByRole('link', { name: 'Passkeys', exact: true }).getAttribute('href');
    expect(passkeysHref).toBe('/account/factor/passkey');
    expect((await page.request.get(`${world.server.url}${passkeysHref}`)).status()).toBe(200);
    // An address the portal did not register never becomes the way back (no open redirect).
    await page.goto(`${world.server.url}/account?client_id=${zinn.clientId}&return_to=${encodeURIComponent(`${stub.origin}/elders`)}`);
    expect(await page.getByRole('link', { name: 'Terug naar ZINN', exact: true }).getAttribute('href')).toBe(stub.redirectUri);
    expect(await section(page, 'Tweestapsverificatie').innerText()).toContain('(standaard)');
    expect(await runAxe(page)).toEqual([]);

    await page.getByRole('link', { name: 'English', exact: true }).click();
    await expect.poll(() => page.title()).toBe('My account – Poortwachter');
    expect(await page.getByRole('navigation', { name: 'On this page' }).getByRole('link').allInnerTexts()).toEqual(['My details', 'Password', 'Two-step verification', 'Passkeys', 'Devices', 'Portals and sessions', 'Recent activity']);
    expect(await page.getByRole('link', { name: 'Back to ZINN', exact: true }).count()).toBe(1);
    expect(await runAxe(page)).toEqual([]);
    expectClean(tab);
  });

  it('lists remembered devices by browser and OS and forgets one; recent activity lists the login just made', async () => {
    const { account, key } = await patientWithApp('apparaten');
    const devices = world.server.services.devices;
    await devices.remember(account, { factor: 'totp', amr: ['otp'], strength: 2 }, SUBSTANTIAL, FIREFOX_WINDOWS);
    await devices.remember(account, { factor: 'totp', amr: ['otp'], strength: 2 }, SUBSTANTIAL, SAFARI_IPHONE);
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInToAccount(page, 'apparaten', key);

    const list = section(page, 'Apparaten');
    expect(await list.innerText()).toContain('Firefox 128 op Windows 10');
    expect(await list.innerText()).toContain('Safari 17 op iOS 17');
    expect(await list.innerText()).toContain('Eerst gebruikt:');
    await Promise.all([page.waitForURL(/\/account\/devices\/forget$/), list.getByRole('button', { name: 'Firefox 128 op Windows 10 vergeten', exact: true }).click()]);
    expect(await notice(page)).toBe('Het apparaat is vergeten. Daar vragen wij bij de volgende keer inloggen weer om een code.');
    expect(await section(page, 'Apparaten').innerText()).not.toContain('Firefox');
    expect((await devices.list(account.id)).map((d) => d.label)).toEqual([SAFARI_IPHONE]);

    // The login to this page (password and app code) and the first one at Minddistrict, in plain words.
    const activity = await section(page, 'Recente activiteit').innerText();
    expect(activity).toContain('Ingelogd bij uw accountpagina met wachtwoord, authenticator-app of herstelcode.');
    expect(activity).toContain('Ingelogd bij Minddistrict met wachtwoord, authenticator-app of herstelcode.');
    expect(activity).toContain('Een onthouden apparaat vergeten.');
    expect(activity).toContain('Inlogmethode ingesteld: Authenticator-app.');
    expect(await runAxe(page)).toEqual([]);

    // Another account's device id is refused: 400, nothing forgotten.
    const other = await world.server.addUser({ username: 'ander-apparaat' });
    await devices.remember(other, { factor: 'totp', amr: ['otp'], strength: 2 }, SUBSTANTIAL, FIREFOX_WINDOWS);
    const [foreign] = await devices.list(other.id);
    const refused = await page.request.post(`${world.server.url}/account/devices/forget`, { form: { flow: await flowOf(page), _csrf: await csrfOf(page), device: foreign!.id }, maxRedirects: 0 });
    expect(refused.status()).toBe(400);
    expect(await devices.list(other.id)).toHaveLength(1);
    expectClean(tab);
  });

  it('signs out of one portal (its back-channel logout arrives and verifies) and revokes another portal\'s access (its refresh token fails)', async () => {
    const { tokens: mdTokens, key } = await patientWithApp('portalen');
    // Minddistrict's refresh token works before the revocation (so the test can fail).
    const refreshed = await oidc.refreshTokenGrant(minddistrict.config, mdTokens.refresh_token!);
    const tab = await chromium.newPage();
    const { page } = tab;

    // Signed in at ZINN in the browser.
    const request = await zinn.authorize();
    await page.goto(request.url);
    await passwordAndApp(page, 'portalen', key, 'ZINN');
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), stub.redirectUri);
    const zinnTokens = await zinn.callback(callback, request);
    const zinnSid = zinnTokens.claims()!.sid;
    expect(typeof zinnSid).toBe('string');

    // Minddistrict also gets lasting access in this browser (offline_access, consented): it survives
    // a sign-out, and only revoking the access ends it.
    const lasting = await minddistrictInBrowser.authorize({ scope: 'openid offline_access', prompt: 'consent' });
    await page.goto(lasting.url);
    await expect.poll(() => page.title()).toBe('Toegang geven aan Minddistrict – Minddistrict');
    const lastingCallback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Toestaan', exact: true }).click(), stub.redirectUri);
    const lastingTokens = await minddistrictInBrowser.callback(lastingCallback, lasting);
    expect(lastingTokens.scope).toContain('offline_access');

    // The same browser session opens the console (a fresh, strong login: no new sign-in needed).
    await page.goto(`${world.server.url}/account`);
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
    const portals = section(page, 'Portalen en sessies');
    expect(await portals.innerText()).toContain('ZINN');
    expect(await portals.innerText()).toContain('Minddistrict');
    expect(await portals.innerText()).toContain('Heeft blijvende toegang, ook als u niet bent ingelogd.');
    expect(await runAxe(page)).toEqual([]);

    await Promise.all([page.waitForURL(/\/account\/portals\/sign-out$/), portals.getByRole('button', { name: 'Uitloggen bij ZINN', exact: true }).click()]);
    expect(await notice(page)).toBe('U bent uitgelogd bij ZINN.');
    await expect.poll(() => zinnLogouts.received.length).toBe(1);
    expect(zinnLogouts.received[0]).toMatchObject({ sid: zinnSid, sub: zinnTokens.claims()!.sub });
    expect(zinnLogouts.refused).toEqual([]);
    // ZINN's grant went with its session: its refresh token (if it had one) and access token are dead.
    if (zinnTokens.refresh_token) await expect(oidc.refreshTokenGrant(zinn.config, zinnTokens.refresh_token)).rejects.toThrow();
    const introspected = await oidc.tokenIntrospection(zinn.config, zinnTokens.access_token);
    expect(introspected.active).toBe(false);
    // Still signed in here: the console stays.
    expect(await section(page, 'Portalen en sessies').getByRole('button', { name: 'Uitloggen bij ZINN', exact: true }).count()).toBe(0);

    // Minddistrict's access revoked: its session elsewhere ends (logout token) and the refresh token fails.
    await Promise.all([page.waitForURL(/\/account\/portals\/revoke$/), section(page, 'Portalen en sessies').getByRole('button', { name: 'Toegang van Minddistrict intrekken', exact: true }).click()]);
    expect(await notice(page)).toBe('De toegang van Minddistrict is ingetrokken. U bent daar uitgelogd.');
    await expect.poll(() => minddistrictLogouts.received.length).toBe(2);
    expect(minddistrictLogouts.refused).toEqual([]);
    await expect(oidc.refreshTokenGrant(minddistrict.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(minddistrictInBrowser.config, lastingTokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await section(page, 'Portalen en sessies').innerText()).toContain('U bent nergens anders ingelogd.');
    const activity = await section(page, 'Recente activiteit').innerText();
    expect(activity).toContain('Uitgelogd bij ZINN.');
    expect(activity).toContain('Toegang van Minddistrict ingetrokken.');
    expect(await runAxe(page)).toEqual([]);
    expectClean(tab);
  });

  it('changes the e-mail address only through the link mailed to the new address; the old address is told; a used or expired link changes nothing', async () => {
    const { account, key } = await patientWithApp('mailwissel');
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInToAccount(page, 'mailwissel', key);

    // Bad input first: not an address (400, named at the field).
    await page.getByLabel('Nieuw e-mailadres', { exact: true }).fill('geen-adres');
    await Promise.all([page.waitForURL(/\/account\/email$/), page.getByRole('button', { name: 'E-mailadres wijzigen', exact: true }).click()]);
    expect(await page.getByRole('alert').innerText()).toContain('Vul een geldig e-mailadres in');
    expect(await runAxe(page)).toEqual([]);

    await page.getByLabel('Nieuw e-mailadres', { exact: true }).fill('nieuw-adres@example.nl');
    // Same URL as the refused post before: only the new page's notice tells them apart.
    await page.getByRole('button', { name: 'E-mailadres wijzigen', exact: true }).click();
    await expect.poll(() => notice(page)).toContain('Wij hebben een link gestuurd naar nieuw-adres@example.nl.');
    // Until the link is used, nothing changed.
    expect((await world.server.services.accounts.findById(account.id))!.email).toBe(account.email);

    const mail = await world.smtp.waitForMail('nieuw-adres@example.nl');
    expect(mail.subject).toBe('Bevestig uw nieuwe e-mailadres');
    const link = /https?:\/\/\S+\/account\/email\/confirm\?\S+/.exec(mail.text ?? '')![0];
    // Only the token's hash is stored.
    const secret = new URL(link).searchParams.get('token')!;
    const stored = await world.server.services.store.codes.findActive(account.id, 'email-change', world.clock.now());
    expect(stored?.codeHash).not.toContain(secret);

    await page.goto(link);
    await expect.poll(() => page.title()).toBe('Nieuw e-mailadres bevestigen – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Ja, dit adres gebruiken', exact: true }).click();
    await expect.poll(() => page.title()).toBe('E-mailadres gewijzigd – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    const changed = (await world.server.services.accounts.findById(account.id))!;
    expect(changed.email).toBe('nieuw-adres@example.nl');
    expect(changed.emailVerified).toBe(true);
    expect((await world.smtp.waitForMail(account.email)).subject).toBe('Het e-mailadres van uw account is gewijzigd');

    // The link works once: opened again, it says so (410) and changes nothing.
    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    expect(await page.title()).toBe('Deze link werkt niet meer – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    const replay = await page.request.post(`${world.server.url}/account/email/confirm`, { form: { account: account.id, token: secret } });
    expect(replay.status()).toBe(410);

    // An expired link: asked again, then too late.
    await page.goto(`${world.server.url}/account`);
    await page.getByLabel('Nieuw e-mailadres', { exact: true }).fill('later@example.nl');
    await Promise.all([page.waitForURL(/\/account\/email$/), page.getByRole('button', { name: 'E-mailadres wijzigen', exact: true }).click()]);
    const late = /https?:\/\/\S+\/account\/email\/confirm\?\S+/.exec((await world.smtp.waitForMail('later@example.nl')).text ?? '')![0];
    world.clock.advance(31 * 60_000);
    const expired = await page.request.post(`${world.server.url}/account/email/confirm`, { form: { account: account.id, token: new URL(late).searchParams.get('token')! } });
    expect(expired.status()).toBe(410);
    expect((await world.server.services.accounts.findById(account.id))!.email).toBe('nieuw-adres@example.nl');
    expectClean(tab);
  });

  it('changes the phone number with an SMS code to the new number; the old number stays until then; English pages axe-clean', async () => {
    // The app and SMS: only an account with a phone factor changes its number here (the app stays the default).
    const { account: withApp, key } = await patientWithApp('telefoonwissel', { phoneE164: '+31612345601' });
    await giveCredential(world.server, withApp, 'sms');
    const account = await world.server.services.accounts.update(withApp, { settings: { ...withApp.settings, defaultFactor: 'totp' } });
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInToAccount(page, 'telefoonwissel', key);
    expect(await section(page, 'Mijn gegevens').innerText()).toContain('*****01');

    await page.getByRole('button', { name: 'Telefoonnummer wijzigen', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Vul uw mobiele telefoonnummer in – Poortwachter');
    // No code went to the old number (only the notice that the app was set up, issue 6).
    expect(world.twilio.messages.filter((m) => m.to === '+31612345601' && !isSecurityNotice(m))).toEqual([]);
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('Mobiel telefoonnummer', { exact: true }).fill('06 12345602');
    await page.getByRole('button', { name: 'Code versturen', exact: true }).click();
    const sms = await world.twilio.waitForSms('+31612345602');
    await expect.poll(() => page.title()).toBe('Sms-verificatie instellen – Poortwachter');
    expect(world.server.services.accounts.phoneOf((await world.server.services.accounts.findById(account.id))!)).toBe('+31612345601');
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode(sms.body));
    // The finished enrolment shows the overview at the post's own URL: the title below waits for it.
    await page.getByRole('button', { name: 'Tweestapsverificatie inschakelen', exact: true }).click();

    // Recovery codes may follow a first second factor; the account already has them, so back on the overview.
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(world.server.services.accounts.phoneOf(after)).toBe('+31612345602');
    expect(after.phoneVerified).toBe(true);
    expect(await section(page, 'Mijn gegevens').innerText()).toContain('*****02');
    // The old channels are told: the account's e-mail address, and the old number by SMS; the new number is not.
    expect((await world.smtp.waitForMail(account.email)).subject).toBe('Het telefoonnummer van uw account is gewijzigd');
    await world.twilio.waitForNotice('+31612345601');
    const changed = await world.twilio.waitForNotice('+31612345601');
    expect(changed.body).toBe('Poortwachter: het telefoonnummer van uw account is gewijzigd; codes gaan niet meer naar dit nummer. Was u dit niet? Neem direct contact op met uw zorgverlener.');
    expect(world.twilio.messages.filter((m) => m.to === '+31612345602' && isSecurityNotice(m))).toEqual([]);

    await page.goto(`${world.server.url}/account?lang=en`);
    await expect.poll(() => page.title()).toBe('My account – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    expectClean(tab);
  });

  it('changes the password from the console\'s Wachtwoord section: rules before typing, a wrong current password named in the error summary, this browser stays signed in; axe-clean in Dutch and English', async () => {
    const { account, key } = await patientWithApp('wachtwoordwissel');
    const tab = await chromium.newPage();
    const { page } = tab;
    await signInToAccount(page, 'wachtwoordwissel', key);

    await Promise.all([page.waitForURL(/\/account\/password$/), section(page, 'Wachtwoord').getByRole('link', { name: 'Wachtwoord wijzigen', exact: true }).click()]);
    await expect.poll(() => page.title()).toBe('Wachtwoord wijzigen – Poortwachter');
    expect(await page.locator('#password-rules').innerText()).toMatch(/Minstens \d+ tekens/);
    expect(await runAxe(page)).toEqual([]);

    // A wrong current password: named in the error summary, linked to its field; nothing changed.
    await page.getByLabel('Huidig wachtwoord', { exact: true }).fill('Niet-Mijn-Wachtwoord-1');
    await page.getByLabel('Nieuw wachtwoord', { exact: true }).fill('Zonnebloem-Kapstok-77');
    await page.getByLabel('Bevestig nieuw wachtwoord', { exact: true }).fill('Zonnebloem-Kapstok-77');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/account/password') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Wachtwoord wijzigen', exact: true }).click()]);
    expect(refused.status()).toBe(401);
    const summary = page.getByRole('alert');
    expect(await summary.innerText()).toContain('Uw huidige wachtwoord is onjuist.');
    expect(await summary.getByRole('link', { name: 'Uw huidige wachtwoord is onjuist.', exact: true }).getAttribute('href')).toBe('#current');
    expect(await runAxe(page)).toEqual([]);

    // In English, the same page and its error, then the change.
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Change password – Poortwachter');
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('Current password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('Zonnebloem-Kapstok-77');
    await page.getByLabel('Confirm new password', { exact: true }).fill('Zonnebloem-Kapstok-78');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/account/password') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Change password', exact: true }).click()]);
    expect(await page.getByRole('alert').innerText()).toContain('The confirmation does not match the new password.');
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel('Current password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('Zonnebloem-Kapstok-77');
    await page.getByLabel('Confirm new password', { exact: true }).fill('Zonnebloem-Kapstok-77');
    await page.getByRole('button', { name: 'Change password', exact: true }).click();
    await expect.poll(() => page.title()).toBe('My account – Poortwachter');
    expect(await notice(page)).toBe('Your password has been changed. You have been signed out on other devices and at every portal.');
    expect(await runAxe(page)).toEqual([]);
    const changed = (await world.server.services.accounts.findById(account.id))!;
    expect(await world.server.services.passwords.match(changed, 'Zonnebloem-Kapstok-77')).toBe('password');

    // Still signed in here; the Dutch overview says so too.
    await page.goto(`${world.server.url}/account?lang=nl`);
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
    expect(await section(page, 'Recente activiteit').innerText()).toContain('Wachtwoord gewijzigd.');
    expectClean(tab);
  });

  it('refuses a change posted with another account\'s form, a forged CSRF token or without a recent sign-in: 4xx, nothing changed', async () => {
    const first = await patientWithApp('eerste');
    const second = await patientWithApp('tweede');
    const one = await chromium.newPage();
    const two = await chromium.newPage();
    await signInToAccount(one.page, 'eerste', first.key);
    await signInToAccount(two.page, 'tweede', second.key);
    const post = (page: Page, path: string, form: Record<string, string>) => page.request.post(`${world.server.url}${path}`, { form, maxRedirects: 0 });

    // The second patient's page posts with the first patient's flow and token.
    const foreign = await post(two.page, '/account/email', { flow: await flowOf(one.page), _csrf: await csrfOf(one.page), email: 'kaping@example.nl' });
    expect(foreign.status()).toBe(403);
    const forged = await post(one.page, '/account/email', { flow: await flowOf(one.page), _csrf: 'vervalst', email: 'kaping@example.nl' });
    expect(forged.status()).toBe(403);
    const phone = await post(two.page, '/account/phone', { flow: await flowOf(one.page), _csrf: await csrfOf(one.page) });
    expect(phone.status()).toBe(403);
    const revoke = await post(two.page, '/account/portals/revoke', { flow: await flowOf(one.page), _csrf: await csrfOf(one.page), client: minddistrict.clientId });
    expect(revoke.status()).toBe(403);

    // Links to a new address are capped (5 an hour): a signed-in account cannot flood a mailbox.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await post(two.page, '/account/email', { flow: await flowOf(two.page), _csrf: await csrfOf(two.page), email: 'overspoeld@example.nl' })).status());
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

    // Eleven minutes later the sign-in is too old for a change: sent to sign in again, nothing sent.
    world.clock.advance(11 * 60_000);
    const stale = await post(one.page, '/account/email', { flow: await flowOf(one.page), _csrf: await csrfOf(one.page), email: 'te-laat@example.nl' });
    expect(stale.status()).toBe(303);
    expect(stale.headers().location).toContain('/auth?');
    const staleRevoke = await post(one.page, '/account/portals/revoke', { flow: await flowOf(one.page), _csrf: await csrfOf(one.page), client: minddistrict.clientId });
    expect(staleRevoke.status()).toBe(303);

    const now = (await world.server.services.accounts.findById(first.account.id))!;
    expect(now.email).toBe(first.account.email);
    expect(now.settings.pendingEmail).toBeUndefined();
    expect((await world.server.services.accounts.findById(second.account.id))!.email).toBe(second.account.email);
    expect(await world.server.services.store.codes.findActive(first.account.id, 'email-change', world.clock.now())).toBeUndefined();
    // Minddistrict still has its grants: nothing was revoked.
    expect((await world.server.services.store.audit.list({ accountId: first.account.id, type: 'settings.portal_revoked' }))).toEqual([]);
  });
});
