// A passkey as the strongest second factor inside /recovery, in real Chromium with a CDP virtual
// authenticator against the real server on `localhost` (WebAuthn refuses an IP address as relying
// party ID). A patient with a password and a passkey (enrolled at the login's MFA step, as the
// passkey tests do) forgets the password: "Wachtwoord vergeten?" → user id + the CAPTCHA solved by
// the real altcha widget → "Ik ben mijn wachtwoord vergeten" → the e-mail link from the test SMTP
// server → the passkey (the mailbox alone never reaches the new password: recovery never bypasses
// the strongest second factor) → a new password → signed in at the portal (openid-client) with
// the new password and the passkey. The same account also recovers with a recovery code instead
// of the passkey. The passkey page inside the recovery is axe-clean in Dutch and in English.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { translator, type Translate } from '../../src/i18n/i18n.ts';
import type { AccountRecord } from '../../src/store/port.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { startFactorWorld, type AuthorizationRequest, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import { addVirtualAuthenticator, type VirtualAuthenticator } from '../support/virtual-authenticator.ts';
import { linkFromMail, recoveryPolicyFile } from '../support/recovery.ts';

const PORTAL = 'Sleutelportaal';
/** Pages on a machine shared with other test runs may take a few seconds. */
const SLOW = { timeout: 10_000 };

type Lang = 'nl' | 'en';

describe('recovery of a passkey account (Chromium, virtual authenticator, altcha widget, e-mail link)', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let rp: RelyingParty;

  beforeAll(async () => {
    [world, portal] = await Promise.all([
      startFactorWorld({ issuerHost: 'localhost', env: { POLICY_FILE: await recoveryPolicyFile() } }),
      startPortal(),
    ]);
    const client = await world.server.addClient({
      redirectUris: [portal.redirectUri], name: PORTAL, mfa: 'required', mfaMethods: ['passkey'], recoveryMethods: ['email-link'],
    });
    rp = await relyingParty(world.server.url, client.clientId, client.clientSecret, portal.redirectUri);
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
  const heading = (page: Page) => () => page.getByRole('heading', { level: 1 }).innerText();

  /**
   * A browser in `lang` whose passkey autofill offers nothing (the virtual authenticator would
   * otherwise answer the login page's conditional request at once and sign in without a password).
   */
  async function patientBrowser(lang: Lang): Promise<{ tab: BrowserPage; page: Page; authenticator: VirtualAuthenticator }> {
    const tab = await chromium.newPage({ locale: lang === 'nl' ? 'nl-NL' : 'en-GB' });
    await tab.page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await tab.context.addCookies([{ name: 'pw_lang', value: lang, url: world.server.url }]);
    return { tab, page: tab.page, authenticator: await addVirtualAuthenticator(tab.page) };
  }

  async function signInWithPassword(page: Page, t: Translate, username: string, password: string): Promise<void> {
    await page.getByLabel(t('password.login_label'), { exact: true }).fill(username);
    await page.getByLabel(t('password.password_label'), { exact: true }).fill(password);
    await button(page, t('password.submit')).click();
  }

  /**
   * The first login at the portal requiring MFA: password, the password again (binding without a
   * second factor), the passkey registered and confirmed, the recovery codes shown once. Returns them.
   */
  async function enrolPasskey(page: Page, t: Translate, username: string): Promise<string[]> {
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await signInWithPassword(page, t, username, TEST_PASSWORD);
    await page.getByLabel(t('password.password_label'), { exact: true }).fill(TEST_PASSWORD);
    await button(page, t('password.submit')).click();
    await expect.poll(heading(page), SLOW).toBe(t('passkey.enrol.title'));
    await button(page, t('passkey.add')).click();
    await expect.poll(() => button(page, t('passkey.confirm')).isVisible(), SLOW).toBe(true);
    await button(page, t('passkey.confirm')).click();
    await page.getByLabel(t('recovery.show.saved_label')).check();
    const codes = await page.locator('#recovery-codes li').allInnerTexts();
    expect(codes.length).toBeGreaterThan(0);
    await arriveAtPortal(page, () => button(page, t('recovery.show.confirm')).click(), portal.redirectUri);
    return codes;
  }

  /**
   * A new sign-in at the portal, "Wachtwoord vergeten?", the user id and the CAPTCHA (solved by
   * the widget in the browser; without JavaScript the page lets a few through per address), "forgot
   * my password", the e-mail link asked and opened in this browser.
   */
  async function recoverUntilLink(tab: BrowserPage, lang: Lang, account: AccountRecord, script = true): Promise<{ link: string; request: AuthorizationRequest }> {
    const { page } = tab;
    const t = translator(lang);
    // Signed out of Poortwachter (the authenticator keeps its passkey); the language choice stays.
    await tab.context.clearCookies();
    await tab.context.addCookies([{ name: 'pw_lang', value: lang, url: world.server.url }]);
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await page.getByRole('link', { name: t('forgot.link.forgot') }).click();
    await expect.poll(() => page.title(), SLOW).toBe(`${t('forgot.identify.title')} – ${PORTAL}`);
    await page.getByLabel(t('forgot.identify.login_label'), { exact: true }).fill(account.username);
    if (script) {
      await page.getByText(t('forgot.captcha.label')).click();
      await expect.poll(() => page.locator('input[name="altcha"]').inputValue(), { timeout: 20_000 }).not.toBe('');
    }
    await button(page, t('forgot.next')).click();
    await expect.poll(() => page.title(), SLOW).toBe(`${t('forgot.choose.title')} – ${PORTAL}`);
    await page.getByLabel(t('forgot.choose.reset')).check();
    await button(page, t('forgot.next')).click();
    await expect.poll(() => page.title(), SLOW).toBe(`${t('forgot.verify.title')} – ${PORTAL}`);
    await button(page, t('forgot.verify.link_send')).click();
    await expect.poll(() => page.locator('.notice').first().innerText(), SLOW).toBe(t('forgot.verify.link_sent', { minutes: Math.round(world.server.services.config.policy.recovery.linkTtlSeconds / 60) }));
    const link = await recoveryLink(account.email);
    await page.goto(link);
    return { link, request };
  }

  /** The next recovery link mailed to `address`, past the notices before it (a new passkey, a new password). */
  async function recoveryLink(address: string): Promise<string> {
    for (;;) {
      const text = (await world.smtp.waitForMail(address)).text ?? '';
      if (/\/recovery\/[A-Za-z0-9_-]+\/link\//.test(text)) return linkFromMail(text);
    }
  }

  /** The new password, the done page, back at the portal's login. */
  async function chooseNewPassword(page: Page, t: Translate, password: string, script = true): Promise<void> {
    await expect.poll(() => page.title(), SLOW).toBe(`${t('forgot.new_password.title')} – ${PORTAL}`);
    await page.getByLabel(t('forgot.new_password.new_label'), { exact: true }).fill(password);
    await page.getByLabel(t('forgot.new_password.confirm_label'), { exact: true }).fill(password);
    await button(page, t('forgot.new_password.submit')).click();
    await expect.poll(() => page.title(), SLOW).toBe(`${t('forgot.done.reset_title')} – ${PORTAL}`);
    // axe needs the page's timers, which do not run without JavaScript: checked with it only.
    if (script) expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: t('forgot.done.back_named', { portal: PORTAL }) }).click();
    await expect.poll(() => page.getByLabel(t('password.password_label'), { exact: true }).isVisible(), SLOW).toBe(true);
  }

  /** The passkey page of the recovery: not the new password; the passkey or a recovery code asked. */
  async function expectPasskeyAsked(page: Page, t: Translate, lang: Lang): Promise<void> {
    await expect.poll(heading(page), SLOW).toBe(t('passkey.second_factor_title'));
    // The recovery's own form (its flow, its cookie), not a login's.
    expect(await page.locator('form[data-passkey="authenticate"]').getAttribute('action')).toMatch(/^\/recovery\/[A-Za-z0-9_-]+\/step\/passkey\/signin$/);
    expect(await page.getByLabel(t('forgot.new_password.new_label'), { exact: true }).count()).toBe(0);
    await expect.poll(() => button(page, t('passkey.sign_in')).isVisible(), SLOW).toBe(true);
    expect(await page.locator('.other-methods button[value="recovery"]').count()).toBe(1);
    expect(await page.getAttribute('html', 'lang')).toBe(lang);
    expect(await runAxe(page)).toEqual([]);
  }

  for (const lang of ['nl', 'en'] as const) {
    const t = translator(lang);

    it(`${lang}: the e-mail link alone does not reach the new password; a cancelled passkey dialog can be retried; the passkey resets it, then password + passkey sign in`, async () => {
      const { tab, page, authenticator } = await patientBrowser(lang);
      const username = `sleutel-${lang}`;
      const account = await world.server.addUser({ username, emailVerified: true, locale: lang });
      await enrolPasskey(page, t, username);
      const passkeyEvents = async (type: string) => (await world.server.services.store.audit.list({ type, accountId: account.id, limit: 100 })).filter((e) => e.clientId === rp.clientId);
      const signInsBefore = (await passkeyEvents('login.passkey.ok')).length;

      const { link, request } = await recoverUntilLink(tab, lang, account);
      await expectPasskeyAsked(page, t, lang);

      // A cancelled dialog: a 400 with the explanation on the same page, nothing proved, retry works.
      await authenticator.cancelNext();
      // passkey.js shows the text, then posts the failure: wait for the page that post brings.
      const [cancelled] = await Promise.all([
        page.waitForResponse(/\/recovery\/[^/]+\/step\/passkey\/signin$/),
        page.waitForURL(/\/recovery\/[^/]+\/step\/passkey\/signin$/),
        button(page, t('passkey.sign_in')).click(),
      ]);
      expect(cancelled.status()).toBe(400);
      await expect.poll(() => page.getByRole('status').first().innerText(), SLOW).toBe(t('passkey.errors.cancelled'));
      expect(await page.getByLabel(t('forgot.new_password.new_label'), { exact: true }).count()).toBe(0);
      expect(await runAxe(page)).toEqual([]);
      await authenticator.resume();
      await button(page, t('passkey.sign_in')).click();

      const newPassword = `Zeilboot-Haven-2026-${lang}`;
      await chooseNewPassword(page, t, newPassword);
      expect(await world.server.services.passwords.verify(account, TEST_PASSWORD)).toBe(false);
      // The recovery's passkey sign-in is audited for the portal; the closed dialog was no failed attempt.
      expect(await passkeyEvents('login.passkey.ok')).toHaveLength(signInsBefore + 1);
      expect(await passkeyEvents('login.passkey.failed')).toEqual([]);
      // Neither the link's token nor the new password reaches the log.
      const token = link.split('/').at(-1)!;
      expect(world.server.logs()).not.toContain(token);
      expect(world.server.logs()).not.toContain(newPassword);

      // Back at the portal's login (the sign-in the recovery started from): the new password, then the passkey.
      await signInWithPassword(page, t, username, newPassword);
      await expect.poll(heading(page), SLOW).toBe(t('passkey.second_factor_title'));
      const callback = await arriveAtPortal(page, () => button(page, t('passkey.sign_in')).click(), portal.redirectUri);
      const idToken = (await rp.callback(callback, request)).claims()!;
      expect(idToken.sub).toBe(account.id);
      expect(idToken.amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);
      expect(idToken.acr).toBe(ACR.phishingResistant);
      expectClean(tab);
    }, 120_000);
  }

  it('nl, without JavaScript: the same account recovers with a recovery code instead of the passkey; the code is spent', async () => {
    const t = translator('nl');
    // The passkey was enrolled on the patient's own device (JavaScript on, the authenticator there).
    const device = await patientBrowser('nl');
    const account = await world.server.addUser({ username: 'sleutel-code', emailVerified: true });
    const codes = await enrolPasskey(device.page, t, 'sleutel-code');

    // Another browser, without JavaScript: the passkey page says why it cannot run, the code works.
    const elsewhere = await chromium.newPage({ javaScriptEnabled: false });
    const { page } = elsewhere;
    await recoverUntilLink(elsewhere, 'nl', account, false);
    await expect.poll(heading(page), SLOW).toBe(t('passkey.second_factor_title'));
    // (Chromium's switch parses <noscript> as if scripts ran, so its text is read, not looked at.)
    expect(await page.locator('noscript').allTextContents()).toContain(t('passkey.needs_script'));
    expect(await button(page, t('passkey.sign_in')).isVisible()).toBe(false);
    expect(await page.getByLabel(t('forgot.new_password.new_label'), { exact: true }).count()).toBe(0);
    await page.locator('.other-methods button[value="recovery"]').click();
    await expect.poll(heading(page), SLOW).toBe(t('recovery.title'));
    await page.getByLabel(t('recovery.code_label'), { exact: true }).fill(codes[0]!);
    await button(page, t('common.continue')).click();
    const newPassword = 'Zeilboot-Haven-2026-code';
    await chooseNewPassword(page, t, newPassword, false);
    expect(await world.server.services.passwords.verify(account, newPassword)).toBe(true);

    // On the device: the new password and the passkey sign in at the portal.
    await device.tab.context.clearCookies();
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await device.page.goto(request.url);
    await signInWithPassword(device.page, t, 'sleutel-code', newPassword);
    await expect.poll(heading(device.page), SLOW).toBe(t('passkey.second_factor_title'));
    const callback = await arriveAtPortal(device.page, () => button(device.page, t('passkey.sign_in')).click(), portal.redirectUri);
    const idToken = (await rp.callback(callback, request)).claims()!;
    expect(idToken.sub).toBe(account.id);
    expect(idToken.amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);
    expectClean(device.tab);

    // The code was used once: a second recovery does not take it, and the password stays.
    await recoverUntilLink(elsewhere, 'nl', account, false);
    await expect.poll(heading(page), SLOW).toBe(t('passkey.second_factor_title'));
    await page.locator('.other-methods button[value="recovery"]').click();
    await page.getByLabel(t('recovery.code_label'), { exact: true }).fill(codes[0]!);
    const [refused] = await Promise.all([page.waitForResponse(/\/step\/recovery\/verify$/), button(page, t('common.continue')).click()]);
    expect(refused.status()).toBe(401);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(t('recovery.title'));
    expect(await page.getByLabel(t('forgot.new_password.new_label'), { exact: true }).count()).toBe(0);
    expect(await world.server.services.passwords.verify(account, newPassword)).toBe(true);
  }, 150_000);
});
