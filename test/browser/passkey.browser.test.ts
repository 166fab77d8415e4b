// Passkeys end to end in real Chromium, before they are wired into the login: a CDP virtual
// authenticator (test/support/virtual-authenticator.ts) plays the phone or laptop, the test-only
// page of test/support/passkey-page.ts uses the product's markup, public/static/passkey.js, the
// served @simplewebauthn/browser bundle, the product's CSP and the server module (Passkeys).
// Registration, sign-in with the button and from the username field's autofill (conditional
// mediation), a synced passkey as a second factor, a cancelled dialog, an unknown passkey, and
// browsers without WebAuthn or JavaScript, which never see a passkey button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxe, useBrowser, type BrowserPage, type Page } from '../support/browser.ts';
import { startPasskeyPage, type PasskeyPage } from '../support/passkey-page.ts';
import { addVirtualAuthenticator, type VirtualAuthenticator, type VirtualAuthenticatorOptions } from '../support/virtual-authenticator.ts';
import { translator } from '../../src/i18n/i18n.ts';
import type { PasskeyUse } from '../../src/factors/passkey/passkey-challenge.ts';

const t = translator('nl');

describe('passkeys in Chromium (virtual authenticator, test page)', () => {
  const chromium = useBrowser();
  let harness: PasskeyPage;

  beforeAll(async () => {
    harness = await startPasskeyPage();
  });

  afterAll(async () => {
    await harness?.close();
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  async function withAuthenticator(options: VirtualAuthenticatorOptions = {}): Promise<{ tab: BrowserPage; page: Page; authenticator: VirtualAuthenticator }> {
    const tab = await chromium.newPage();
    return { tab, page: tab.page, authenticator: await addVirtualAuthenticator(tab.page, options) };
  }

  const passkeyButton = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
  const outcome = (page: Page) => page.locator('#outcome').textContent();
  const detail = async (page: Page) => JSON.parse((await page.locator('#detail').textContent()) ?? '{}') as Record<string, unknown>;

  async function registerPasskey(page: Page, accountId: string, use: PasskeyUse, name?: string): Promise<void> {
    await page.goto(harness.registerUrl(accountId, use));
    if (name) await page.getByLabel(t('passkey.name.label')).fill(name);
    await Promise.all([page.waitForURL(/\/finish$/), passkeyButton(page, t('passkey.add')).click()]);
    expect(await outcome(page)).toBe('ok');
  }

  /** Records how the page asked for a passkey: 'conditional' (autofill) or a dialog. A spy: the real request goes on. */
  async function spyOnCredentialRequests(page: Page): Promise<string[]> {
    const seen: string[] = [];
    await page.exposeFunction('recordCredentialRequest', (mediation: string) => seen.push(mediation));
    await page.addInitScript(() => {
      const credentials = navigator.credentials;
      const get = credentials.get.bind(credentials);
      const record = (window as unknown as { recordCredentialRequest(m: string): void }).recordCredentialRequest;
      credentials.get = (options?: CredentialRequestOptions) => {
        record(options?.mediation ?? 'dialog');
        return get(options);
      };
    });
    return seen;
  }

  it('registers a passkey for passwordless sign-in and signs in with the button: hwk + user', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    const alice = await harness.addAccount('alice');

    await page.goto(harness.registerUrl(alice.id, 'passwordless'));
    await expect.poll(() => passkeyButton(page, t('passkey.add')).isVisible()).toBe(true);
    expect(await page.locator('[data-passkey-unsupported]').isVisible()).toBe(false);
    expect(await runAxe(page)).toEqual([]);
    await page.getByLabel(t('passkey.name.label')).fill('  iPhone   van Pat ');
    await Promise.all([page.waitForURL(/\/finish$/), passkeyButton(page, t('passkey.add')).click()]);
    expect(await outcome(page)).toBe('ok');
    expect(await page.locator('#message').textContent()).toBe(t('passkey.settings.added', { name: 'iPhone van Pat' }));

    // The authenticator holds a discoverable passkey for our RP ID under the account's random handle.
    const [onDevice, ...more] = await authenticator.credentials();
    expect(more).toEqual([]);
    const [stored] = await harness.passkeys.credentials.list(alice.id);
    expect(onDevice).toMatchObject({ isResidentCredential: true, rpId: 'localhost', userHandle: stored!.data.userHandle, userName: 'alice', credentialId: stored!.data.credentialId });

    await page.goto(harness.signInUrl('passwordless', { autofill: false }));
    expect(await runAxe(page)).toEqual([]);
    await Promise.all([page.waitForURL(/\/finish$/), passkeyButton(page, t('passkey.sign_in')).click()]);
    expect(await outcome(page)).toBe('ok');
    expect(await detail(page)).toMatchObject({ accountId: alice.id, amr: ['hwk', 'user'], multiFactor: true });
    const [afterSignIn] = await authenticator.credentials();
    expect((await harness.passkeys.credentials.list(alice.id))[0]!.data.signCount).toBe(afterSignIn!.signCount);
    expectClean(tab);
  });

  it('signs in from the autofill of the username field (conditional mediation), without the button', async () => {
    const { tab, page } = await withAuthenticator();
    const carla = await harness.addAccount('carla');
    await registerPasskey(page, carla.id, 'passwordless');
    const requests = await spyOnCredentialRequests(page);

    // The virtual authenticator answers a conditional request at once, as a patient picking the
    // passkey from the username field's suggestions would: no click on "Inloggen met een passkey".
    // The page is still at the registration's /finish: wait for the sign-in's own.
    await Promise.all([page.waitForURL(/\/sign-in\/[^/]+\/finish$/), page.goto(harness.signInUrl('passwordless'))]);
    expect(await outcome(page)).toBe('ok');
    expect(await detail(page)).toMatchObject({ accountId: carla.id, amr: ['hwk', 'user'] });
    expect(requests).toEqual(['conditional']);

    // Without a webauthn autofill field, the page waits for the button.
    await page.goto(harness.signInUrl('passwordless', { autofill: false }));
    await Promise.all([page.waitForURL(/\/finish$/), passkeyButton(page, t('passkey.sign_in')).click()]);
    expect(requests).toEqual(['conditional', 'dialog']);
    expectClean(tab);
  });

  it('shows the page’s own text when the patient cancels the dialog, and can report it to the server', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    const dirk = await harness.addAccount('dirk');
    const posted = harness.posted.length;

    await page.goto(harness.registerUrl(dirk.id, 'passwordless'));
    await authenticator.cancelNext();
    await passkeyButton(page, t('passkey.add')).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe(t('passkey.errors.register_cancelled'));
    // Still the same page, the button usable again, nothing stored, nothing posted.
    expect(page.url()).toBe(harness.registerUrl(dirk.id, 'passwordless'));
    expect(await passkeyButton(page, t('passkey.add')).isEnabled()).toBe(true);
    expect(await authenticator.credentials()).toEqual([]);
    expect(harness.posted.length).toBe(posted);
    expect(await runAxe(page)).toEqual([]);

    // Trying again works.
    await authenticator.resume();
    await Promise.all([page.waitForURL(/\/finish$/), passkeyButton(page, t('passkey.add')).click()]);
    expect(await outcome(page)).toBe('ok');

    // A page that asks for it posts the cancelled dialog, so the flow can offer the other methods.
    await page.goto(harness.signInUrl('second-factor', { accountId: dirk.id, report: true }));
    await authenticator.cancelNext();
    const [response] = await Promise.all([page.waitForResponse(/\/finish$/), passkeyButton(page, t('passkey.sign_in')).click()]);
    expect(response.status()).toBe(400);
    expect(await outcome(page)).toBe('cancelled');
    expect(await page.locator('#message').textContent()).toBe(t('passkey.errors.cancelled'));
    expectClean(tab);
  });

  it('a synced passkey as second factor is swk; the same device cannot register it twice', async () => {
    const { tab, page, authenticator } = await withAuthenticator({ synced: true });
    const erik = await harness.addAccount('erik');
    await registerPasskey(page, erik.id, 'second-factor', 'Telefoon van Erik');
    expect((await harness.passkeys.credentials.summaries(erik.id))[0]).toMatchObject({ name: 'Telefoon van Erik', synced: true });

    await page.goto(harness.signInUrl('second-factor', { accountId: erik.id }));
    await Promise.all([page.waitForURL(/\/finish$/), passkeyButton(page, t('passkey.sign_in')).click()]);
    expect(await detail(page)).toMatchObject({ accountId: erik.id, amr: ['swk', 'user'], multiFactor: true });

    // excludeCredentials: the browser refuses, the page says why, nothing new is stored.
    await page.goto(harness.registerUrl(erik.id, 'second-factor'));
    await passkeyButton(page, t('passkey.add')).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe(t('passkey.errors.exists'));
    expect(await authenticator.credentials()).toHaveLength(1);
    expect(await harness.passkeys.credentials.list(erik.id)).toHaveLength(1);
    expectClean(tab);
  });

  it('says "Deze passkey kennen wij niet" for a passkey removed from the account', async () => {
    const { page } = await withAuthenticator();
    const fenna = await harness.addAccount('fenna');
    await registerPasskey(page, fenna.id, 'passwordless');
    const [stored] = await harness.passkeys.credentials.list(fenna.id);
    expect(await harness.passkeys.credentials.remove(fenna.id, stored!.record.id)).toBe(true);

    await page.goto(harness.signInUrl('passwordless', { autofill: false }));
    const [response] = await Promise.all([page.waitForResponse(/\/finish$/), passkeyButton(page, t('passkey.sign_in')).click()]);
    expect(response.status()).toBe(401);
    expect(await outcome(page)).toBe('unknown-credential');
    expect(await page.locator('#message').textContent()).toMatch(/^Deze passkey kennen wij niet\./);
  });

  it('keeps a username that looks like markup inside the options (no way out of the JSON block)', async () => {
    const { tab, page, authenticator } = await withAuthenticator();
    const name = '</script><p id="injected">x</p><!--';
    const odd = await harness.addAccount(name);
    await registerPasskey(page, odd.id, 'second-factor');
    expect(await page.locator('#injected').count()).toBe(0);
    expect((await authenticator.credentials())[0]?.userName).toBe(name);
    expectClean(tab);
  });

  it('never shows a passkey button without WebAuthn or without JavaScript', async () => {
    const alice = await harness.addAccount('gerrit');
    const noScript = await chromium.newPage({ javaScriptEnabled: false });
    await noScript.page.goto(harness.registerUrl(alice.id, 'passwordless'));
    expect(await passkeyButton(noScript.page, t('passkey.add')).isVisible()).toBe(false);
    expect(await noScript.page.locator('[data-passkey-unsupported]').isVisible()).toBe(false);

    const oldBrowser = await chromium.newPage();
    await oldBrowser.page.addInitScript(() => {
      delete (window as { PublicKeyCredential?: unknown }).PublicKeyCredential;
    });
    await oldBrowser.page.goto(harness.signInUrl('passwordless'));
    await expect.poll(() => oldBrowser.page.getByText(t('passkey.unsupported')).isVisible()).toBe(true);
    expect(await passkeyButton(oldBrowser.page, t('passkey.sign_in')).isVisible()).toBe(false);
    expect(await runAxe(oldBrowser.page)).toEqual([]);
    expectClean(oldBrowser);
  });
});
