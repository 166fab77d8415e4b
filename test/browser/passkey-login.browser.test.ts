// Passkeys in the product, in real Chromium with a CDP virtual authenticator (ctap2, internal,
// resident keys, user verification) against the real server on `localhost` (WebAuthn refuses an IP
// address as relying party ID): enrolment at the login's MFA step, sign-in as a second factor,
// passwordless from the button and from the username field's autofill, a cancelled dialog, a
// portal demanding the phishing-resistant level (step-up from an SMS session), and the passkeys
// on /account (add, rename, remove; the last one refused while a portal requires MFA). The portal
// checks every ID token with openid-client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { translator } from '../../src/i18n/i18n.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { extractCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import { addVirtualAuthenticator, type VirtualAuthenticator } from '../support/virtual-authenticator.ts';

const t = translator('nl');

describe('passkeys on the login and account pages (Chromium, virtual authenticator)', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld({ issuerHost: 'localhost' }), startPortal()]);
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  async function portalFor(input: Parameters<FactorWorld['portal']>[0]): Promise<RelyingParty> {
    const client = await world.server.addClient({ redirectUris: [portal.redirectUri], ...input });
    return relyingParty(world.server.url, client.clientId, client.clientSecret, portal.redirectUri);
  }

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function withAuthenticator(): Promise<{ tab: BrowserPage; page: Page; authenticator: VirtualAuthenticator }> {
    const tab = await chromium.newPage();
    // The virtual authenticator answers an autofill (conditional) request at once, as a patient
    // picking the passkey from the username field would: tests that want the password page switch
    // that off for the origin (a browser whose autofill offers no passkeys).
    await tab.page.addInitScript(() => {
      if (localStorage.getItem('test-no-autofill') === '1') PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    return { tab, page: tab.page, authenticator: await addVirtualAuthenticator(tab.page) };
  }

  async function autofill(page: Page, on: boolean): Promise<void> {
    await page.goto(`${world.server.url}/healthz`);
    await page.evaluate((value) => (value ? localStorage.removeItem('test-no-autofill') : localStorage.setItem('test-no-autofill', '1')), on);
  }

  const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

  async function typePassword(page: Page, username: string): Promise<void> {
    await page.getByLabel(t('password.login_label'), { exact: true }).fill(username);
    await page.getByLabel(t('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
    await button(page, t('password.submit')).click();
  }

  async function claims(rp: RelyingParty, callback: string, request: Awaited<ReturnType<RelyingParty['authorize']>>) {
    return (await rp.callback(callback, request)).claims()!;
  }

  /** Signs out of Poortwachter's session (cookies) while the authenticator keeps its passkeys. */
  async function forgetSession(tab: BrowserPage): Promise<void> {
    await tab.context.clearCookies();
  }

  it('enrols at the login’s MFA step (registration, then a sign-in), then signs in with it as second factor and without a password', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    const rp = await portalFor({ name: 'Sleutelportaal', mfa: 'required', mfaMethods: ['passkey'] });
    const account = await world.server.addUser({ username: 'pat', emailVerified: true });

    // First login: password, the password again (binding without a second factor), the passkey.
    let request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'pat');
    await page.getByLabel(t('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
    await button(page, t('password.submit')).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.enrol.title'));
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel(t('passkey.name.label')).fill('Laptop van Pat');
    await button(page, t('passkey.add')).click();
    // Registered, not stored yet: the sign-in with it proves it.
    await expect.poll(() => button(page, t('passkey.confirm')).isVisible()).toBe(true);
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'passkey')).toEqual([]);
    await button(page, t('passkey.confirm')).click();
    // The recovery codes follow a first second factor.
    await page.getByLabel(t('recovery.show.saved_label')).check();
    let callback = await arriveAtPortal(page, () => button(page, t('recovery.show.confirm')).click(), portal.redirectUri);
    let idToken = await claims(rp, callback, request);
    expect(idToken.sub).toBe(account.id);
    expect(idToken.amr).toEqual(expect.arrayContaining(['pwd', 'hwk', 'mfa']));
    expect(idToken.acr).toBe(ACR.phishingResistant);
    const stored = await world.server.services.store.credentials.listByAccount(account.id, 'passkey');
    expect(stored.map((c) => c.data.name)).toEqual(['Laptop van Pat']);
    expect(await authenticator.credentials()).toHaveLength(1);
    // The patient hears of the new method.
    const notice = await world.smtp.waitForMail('pat@example.nl');
    expect(notice.text).toContain('Passkey');

    // Second factor: password, then the passkey.
    await autofill(page, false);
    await forgetSession(tab);
    request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'pat');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.second_factor_title'));
    expect(await runAxe(page)).toEqual([]);
    callback = await arriveAtPortal(page, () => button(page, t('passkey.sign_in')).click(), portal.redirectUri);
    idToken = await claims(rp, callback, request);
    expect(idToken.amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);
    expect(idToken.acr).toBe(ACR.phishingResistant);

    // Passwordless, from the button beside the password (the autofill request is aborted by it).
    await forgetSession(tab);
    request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    expect(await page.getByLabel(t('password.login_label'), { exact: true }).getAttribute('autocomplete')).toBe('username webauthn');
    await expect.poll(() => button(page, t('passkey.sign_in')).isVisible()).toBe(true);
    expect(await runAxe(page)).toEqual([]);
    callback = await arriveAtPortal(page, () => button(page, t('passkey.sign_in')).click(), portal.redirectUri);
    idToken = await claims(rp, callback, request);
    expect(idToken.sub).toBe(account.id);
    expect(idToken.amr).toEqual(['hwk', 'user', 'mfa']);
    expect(idToken.acr).toBe(ACR.phishingResistant);
    expectClean(tab);
  });

  it('signs in from the username field’s autofill (conditional mediation) and returns to the choice when the dialog is cancelled', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    const rp = await portalFor({ name: 'Autofillportaal' });
    const account = await world.server.addUser({ username: 'carla', emailVerified: true });
    // Carla set up a passkey at the enrolment of another login; here it is registered through /account-free means:
    const enrolRp = await portalFor({ name: 'Inschrijfportaal', mfa: 'required', mfaMethods: ['passkey'] });
    let request = await enrolRp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'carla');
    await page.getByLabel(t('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
    await button(page, t('password.submit')).click();
    await button(page, t('passkey.add')).click();
    await button(page, t('passkey.confirm')).click();
    await page.getByLabel(t('recovery.show.saved_label')).check();
    await arriveAtPortal(page, () => button(page, t('recovery.show.confirm')).click(), portal.redirectUri);

    // Cancelled dialog at the second factor: the same page, the explanation, the other methods.
    await autofill(page, false);
    await forgetSession(tab);
    request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'carla');
    await expect.poll(() => button(page, t('passkey.sign_in')).isVisible()).toBe(true);
    await authenticator.cancelNext();
    // passkey.js shows the text, then posts the failure: wait for the page that post brings (the
    // text alone is on the old page too), or axe runs in a document being replaced.
    const [response] = await Promise.all([
      page.waitForResponse(/\/step\/passkey\/signin$/),
      page.waitForURL(/\/step\/passkey\/signin$/),
      button(page, t('passkey.sign_in')).click(),
    ]);
    expect(response.status()).toBe(400);
    expect(await page.getByRole('status').first().innerText()).toBe(t('passkey.errors.cancelled'));
    expect(await page.getByRole('button', { name: /herstelcode/i }).count()).toBeGreaterThan(0);
    expect(await runAxe(page)).toEqual([]);
    await authenticator.resume();
    let callback = await arriveAtPortal(page, () => button(page, t('passkey.sign_in')).click(), portal.redirectUri);
    expect((await claims(rp, callback, request)).amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);

    // Autofill: opening the login page is enough; the authenticator answers the conditional request.
    await autofill(page, true);
    await forgetSession(tab);
    request = await rp.authorize({ redirect_uri: portal.redirectUri });
    callback = await arriveAtPortal(page, () => page.goto(request.url), portal.redirectUri);
    const idToken = await claims(rp, callback, request);
    expect(idToken.sub).toBe(account.id);
    expect(idToken.amr).toEqual(['hwk', 'user', 'mfa']);
    expectClean(tab);
  });

  it('a portal demanding the phishing-resistant level steps an SMS session up with a passkey only (enrolled after the SMS code)', async () => {
    const { tab, page } = await withAuthenticator();
    const sms = await portalFor({ name: 'Smsportaal', mfa: 'required', mfaMethods: ['sms', 'passkey'] });
    const strict = await portalFor({ name: 'Strengportaal', minAcr: ACR.phishingResistant });
    await userWithFactors(world.server, { username: 'sam', phoneE164: '+31612340001' }, ['sms']);

    let request = await sms.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'sam');
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode((await world.twilio.waitForSms('+31612340001')).body));
    let callback = await arriveAtPortal(page, () => button(page, 'Doorgaan').click(), portal.redirectUri);
    expect((await claims(sms, callback, request)).acr).toBe(ACR.substantial);

    // The strict portal: the session is too weak; binding a passkey needs a fresh SMS code first.
    world.clock.advance(60_000);
    request = await strict.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await expect.poll(() => page.getByLabel('Code uit de sms', { exact: true }).isVisible()).toBe(true);
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode((await world.twilio.waitForSms('+31612340001')).body));
    await button(page, 'Doorgaan').click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.enrol.title'));
    // Only passkeys reach the level: no other method is offered.
    expect(await page.locator('.other-methods').count()).toBe(0);
    await button(page, t('passkey.add')).click();
    await button(page, t('passkey.confirm')).click();
    await page.getByLabel(t('recovery.show.saved_label')).check();
    callback = await arriveAtPortal(page, () => button(page, t('recovery.show.confirm')).click(), portal.redirectUri);
    const idToken = await claims(strict, callback, request);
    expect(idToken.acr).toBe(ACR.phishingResistant);
    expect(idToken.amr).toEqual(expect.arrayContaining(['pwd', 'hwk', 'mfa']));
    // The SMS code typed for the binding is part of this login, and the token says so.
    expect(idToken.amr).toEqual(['pwd', 'sms', 'hwk', 'user', 'mfa']);
    expectClean(tab);
  });

  it('lists, renames and removes passkeys on /account; the last one is kept while a portal the patient uses requires MFA', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    const rp = await portalFor({ name: 'Verplichtportaal', mfa: 'required', mfaMethods: ['passkey'] });
    await world.server.addUser({ username: 'ruud', emailVerified: true });
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'ruud');
    await page.getByLabel(t('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
    await button(page, t('password.submit')).click();
    await button(page, t('passkey.add')).click();
    await button(page, t('passkey.confirm')).click();
    await page.getByLabel(t('recovery.show.saved_label')).check();
    await arriveAtPortal(page, () => button(page, t('recovery.show.confirm')).click(), portal.redirectUri);

    // /account needs a fresh passkey (the strongest factor): the session above has it.
    await page.goto(`${world.server.url}/account/factor/passkey`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.settings.title'));
    expect(await runAxe(page)).toEqual([]);
    const [first] = await authenticator.credentials();
    expect(first).toBeDefined();
    await page.getByRole('button', { name: /^Naam wijzigen van/ }).click();
    await page.getByLabel(t('passkey.name.label')).fill('Werklaptop');
    await button(page, t('passkey.settings.rename_submit')).click();
    await expect.poll(() => page.locator('.notice').innerText()).toBe(t('passkey.settings.renamed', { name: 'Werklaptop' }));

    // Removing the only passkey (the only second factor) is refused: the portal requires MFA.
    const [refused] = await Promise.all([page.waitForResponse(/\/remove$/), page.getByRole('button', { name: '‘Werklaptop’ verwijderen' }).click()]);
    expect(refused.status()).toBe(409);
    expect(await page.locator('main').innerText()).toContain('Verplichtportaal');
    expect(await world.server.services.store.credentials.listByAccount((await world.server.services.accounts.findByLogin('ruud'))!.id, 'passkey')).toHaveLength(1);
    expectClean(tab);
  });

  it('adds a passkey from /account after a step-up, renames and removes it; the portal’s ID tokens after a passwordless and a second-factor sign-in', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    await autofill(page, false);
    const rp = await portalFor({ name: 'Huisartsportaal', mfa: 'required', mfaMethods: ['sms', 'passkey'] });
    const account = await userWithFactors(world.server, { username: 'fenna', phoneE164: '+31612340002' }, ['sms']);
    const smsCode = async () => extractCode((await world.twilio.waitForSms('+31612340002')).body);

    // /account: the regular login (password and SMS code) leads back to it.
    await page.goto(`${world.server.url}/account`);
    await typePassword(page, 'fenna');
    await page.getByLabel('Code uit de sms', { exact: true }).fill(await smsCode());
    await Promise.all([page.waitForURL(`${world.server.url}/account`), button(page, 'Doorgaan').click()]);
    await page.goto(`${world.server.url}/account/factor/passkey`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.settings.title'));
    expect(await page.locator('main').innerText()).toContain(t('passkey.settings.none'));

    // Adding a method binds it to the account: with the login older than ten minutes, the patient
    // proves password and SMS code again first (the step-up), then adds it.
    world.clock.advance(11 * 60_000);
    await button(page, t('passkey.add')).click();
    await expect.poll(() => page.getByLabel(t('password.password_label'), { exact: true }).isVisible()).toBe(true);
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'passkey')).toEqual([]);
    await typePassword(page, 'fenna');
    await page.getByLabel('Code uit de sms', { exact: true }).fill(await smsCode());
    await Promise.all([page.waitForURL(`${world.server.url}/account`), button(page, 'Doorgaan').click()]);
    await page.goto(`${world.server.url}/account/factor/passkey`);
    await button(page, t('passkey.add')).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.enrol.title'));
    await page.getByLabel(t('passkey.name.label')).fill('Telefoon van Fenna');
    await button(page, t('passkey.add')).click();
    await expect.poll(() => button(page, t('passkey.confirm')).isVisible()).toBe(true);
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'passkey')).toEqual([]);
    await button(page, t('passkey.confirm')).click();
    await expect.poll(async () => (await world.server.services.store.credentials.listByAccount(account.id, 'passkey')).map((c) => c.data.name)).toEqual(['Telefoon van Fenna']);
    expect((await world.smtp.waitForMail(account.email)).text).toContain('Passkey');
    // A first strong method brings the recovery codes (the account had none); saving them ends
    // the enrolment on the overview. Going elsewhere before that page arrives races its redirect.
    await expect.poll(() => page.title()).toBe('Bewaar uw herstelcodes – Poortwachter');
    await page.getByLabel('Ik heb de codes bewaard', { exact: true }).check();
    await button(page, 'Doorgaan').click();
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');

    // Rename it on its settings page. The passkey is now the account's strongest factor: managing
    // passkeys wants a fresh sign-in with it (the binding rule), so the page steps up first.
    await page.goto(`${world.server.url}/account/factor/passkey`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.second_factor_title'));
    // The step-up ends back on the overview; wait for it, not for any /account URL (the step-up's
    // own pages match that too, and a goto racing its last redirect is interrupted).
    await Promise.all([page.waitForURL(`${world.server.url}/account`), button(page, t('passkey.sign_in')).click()]);
    await expect.poll(() => page.title()).toBe('Mijn account – Poortwachter');
    await page.goto(`${world.server.url}/account/factor/passkey`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.settings.title'));
    await page.getByRole('button', { name: t('passkey.settings.rename_named', { name: 'Telefoon van Fenna' }) }).click();
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel(t('passkey.name.label')).fill('Fenna’s Pixel');
    await button(page, t('passkey.settings.rename_submit')).click();
    await expect.poll(() => page.locator('.notice').innerText()).toBe(t('passkey.settings.renamed', { name: 'Fenna’s Pixel' }));

    // The portal: passwordless with the new passkey, then password + passkey as the second factor.
    await forgetSession(tab);
    let request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    let callback = await arriveAtPortal(page, () => button(page, t('passkey.sign_in')).click(), portal.redirectUri);
    let idToken = await claims(rp, callback, request);
    expect(idToken.sub).toBe(account.id);
    expect(idToken.amr).toEqual(['hwk', 'user', 'mfa']);
    expect(idToken.acr).toBe(ACR.phishingResistant);
    await forgetSession(tab);
    request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await typePassword(page, 'fenna');
    // SMS came first and stays the default: the passkey is one of the other methods.
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Vul de code uit de sms in');
    await page.locator('.other-methods button[value="passkey"]').click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.second_factor_title'));
    callback = await arriveAtPortal(page, () => button(page, t('passkey.sign_in')).click(), portal.redirectUri);
    idToken = await claims(rp, callback, request);
    expect(idToken.amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);
    expect(idToken.acr).toBe(ACR.phishingResistant);

    // Remove it: SMS stays as the second factor, so the portal's MFA requirement allows it.
    await page.goto(`${world.server.url}/account/factor/passkey`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(t('passkey.settings.title'));
    await page.getByRole('button', { name: t('passkey.settings.remove_named', { name: 'Fenna’s Pixel' }) }).click();
    await expect.poll(() => page.locator('.notice').innerText()).toBe(t('passkey.settings.removed', { name: 'Fenna’s Pixel' }));
    expect(await page.locator('main').innerText()).toContain(t('passkey.settings.none'));
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'passkey')).toEqual([]);
    expect(await runAxe(page)).toEqual([]);
    // The authenticator still holds it; the server no longer knows it.
    expect(await authenticator.credentials()).toHaveLength(1);
    expectClean(tab);
  }, 90_000);

  for (const lang of ['nl', 'en'] as const) {
    it(`every passkey page passes axe in ${lang === 'nl' ? 'Dutch' : 'English'}: login with passkey, enrolment, confirmation, second factor, a cancelled dialog, /account list and rename`, async () => {
      const tr = translator(lang);
      const { tab, page, authenticator } = await withAuthenticator();
      await autofill(page, false);
      await tab.context.addCookies([{ name: 'pw_lang', value: lang, url: world.server.url }]);
      const rp = await portalFor({ name: `Toegankelijk ${lang}`, mfa: 'required', mfaMethods: ['passkey'] });
      const username = `axe-${lang}`;
      await world.server.addUser({ username, emailVerified: true });
      const heading = () => page.getByRole('heading', { level: 1 }).innerText();
      const axeClean = async (what: string) => {
        expect(await page.getAttribute('html', 'lang'), what).toBe(lang);
        expect(await runAxe(page), what).toEqual([]);
      };
      const password = async () => {
        await page.getByLabel(tr('password.login_label'), { exact: true }).fill(username);
        await page.getByLabel(tr('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
        await button(page, tr('password.submit')).click();
      };

      let request = await rp.authorize({ redirect_uri: portal.redirectUri });
      await page.goto(request.url);
      await expect.poll(() => button(page, tr('passkey.sign_in')).isVisible()).toBe(true);
      await axeClean('login page with the passkey button');
      await password();
      await page.getByLabel(tr('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
      await button(page, tr('password.submit')).click();
      await expect.poll(heading).toBe(tr('passkey.enrol.title'));
      await axeClean('enrolment');
      // The name field holds at most 50 characters (maxlength; the server refuses more too).
      await page.getByLabel(tr('passkey.name.label')).fill('x'.repeat(51));
      expect(await page.getByLabel(tr('passkey.name.label')).inputValue()).toHaveLength(50);
      await page.getByLabel(tr('passkey.name.label')).fill(`Laptop ${lang}`);
      await button(page, tr('passkey.add')).click();
      await expect.poll(() => button(page, tr('passkey.confirm')).isVisible()).toBe(true);
      await axeClean('confirmation of the new passkey');
      await button(page, tr('passkey.confirm')).click();
      await page.getByLabel(tr('recovery.show.saved_label')).check();
      await arriveAtPortal(page, () => button(page, tr('recovery.show.confirm')).click(), portal.redirectUri);

      // The second factor, and a cancelled dialog there (the language choice outlives the session).
      await forgetSession(tab);
      await tab.context.addCookies([{ name: 'pw_lang', value: lang, url: world.server.url }]);
      request = await rp.authorize({ redirect_uri: portal.redirectUri });
      await page.goto(request.url);
      await password();
      await expect.poll(heading).toBe(tr('passkey.second_factor_title'));
      await axeClean('second factor');
      await authenticator.cancelNext();
      // The script says so at once, then posts the failure so the server shows the other methods:
      // wait for that page, or axe runs in a document that is being replaced.
      await Promise.all([page.waitForEvent('load'), button(page, tr('passkey.sign_in')).click()]);
      await expect.poll(() => page.getByRole('status').first().innerText()).toBe(tr('passkey.errors.cancelled'));
      await axeClean('second factor after a cancelled dialog');
      await authenticator.resume();
      await arriveAtPortal(page, () => button(page, tr('passkey.sign_in')).click(), portal.redirectUri);

      // /account: the passkeys, and the rename form.
      await page.goto(`${world.server.url}/account/factor/passkey`);
      await expect.poll(heading).toBe(tr('passkey.settings.title'));
      await axeClean('the passkeys on /account');
      await page.getByRole('button', { name: tr('passkey.settings.rename_named', { name: `Laptop ${lang}` }) }).click();
      await expect.poll(() => page.getByLabel(tr('passkey.name.label')).isVisible()).toBe(true);
      await axeClean('renaming a passkey');
      expectClean(tab);
    }, 90_000);
  }
});
