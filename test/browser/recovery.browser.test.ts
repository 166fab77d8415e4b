// The recovery flow in real Chromium, as Flynth's manual has it: the login page's link "Wachtwoord
// vergeten of account vergrendeld?", "Wie bent u?" with the CAPTCHA solved by the real altcha
// widget (served by us, its workers on our origin, its texts from our locale files), the reason,
// the full mobile number, the code by SMS (reset) or by a call (unlock), the new password, back at
// the portal's login, and signing in. Every page is axe-clean in Dutch and in English, the strict
// CSP blocks nothing, and "Wie bent u?" also works without JavaScript.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, spokenCode, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';
import { recoveryPolicyFile } from '../support/recovery.ts';
import { TEST_PASSWORD } from '../support/server.ts';

const NEW_PASSWORD = 'Zeilboot-Haven-2026';
/** Pages on a machine shared with other test runs may take a few seconds. */
const SLOW = { timeout: 10_000 };

describe('recovery in Chromium', () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let portal: StubPortal;
  let rp: RelyingParty;

  beforeAll(async () => {
    [world, portal] = await Promise.all([startFactorWorld({ env: { POLICY_FILE: await recoveryPolicyFile() } }), startPortal()]);
    rp = await world.portal({ redirectUris: [portal.redirectUri], name: 'Flynth Werkplek', recoveryLabel: 'forgot-or-locked', recoveryMethods: ['sms', 'voice', 'email-link'] });
  });

  afterAll(async () => {
    await Promise.all([world?.close(), portal?.close()]);
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  /** axe needs the page's timers, which do not run without JavaScript: checked with it only. */
  async function axeClean(page: Page, scripts = true): Promise<void> {
    if (scripts) expect(await runAxe(page)).toEqual([]);
  }

  /** From the portal's login page to the reason page, the CAPTCHA solved by the widget (or without JavaScript). */
  async function whoAreYou(page: Page, username: string, withScript: boolean, english = false) {
    const request = await rp.authorize({ redirect_uri: portal.redirectUri });
    await page.goto(request.url);
    await page.getByRole('link', { name: 'Wachtwoord vergeten of account vergrendeld?' }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Wie bent u? – Flynth Werkplek');
    if (english) {
      await page.getByRole('link', { name: 'English' }).click();
      await expect.poll(() => page.title(), SLOW).toBe('Who are you? – Flynth Werkplek');
    }
    await axeClean(page, withScript);
    await page.getByLabel(english ? 'User ID' : 'Gebruikers-id', { exact: true }).fill(username);
    if (withScript) {
      // The widget's own checkbox, with our words; solving shows our "checking" text, then "checked".
      await page.getByText(english ? 'I am not a robot' : 'Ik ben geen robot').click();
      await expect.poll(() => page.locator('input[name="altcha"]').inputValue(), { timeout: 20_000 }).not.toBe('');
      await axeClean(page);
    }
    await page.getByRole('button', { name: english ? 'Next' : 'Volgende', exact: true }).click();
    await expect.poll(() => page.title(), SLOW).toBe(english ? 'Why are you having trouble signing in? – Flynth Werkplek' : 'Waarom hebt u problemen bij het aanmelden? – Flynth Werkplek');
    await axeClean(page, withScript);
    return request;
  }

  it('Flynth reset: CAPTCHA by the widget, full number, SMS code, new password, back at the login, signed in', async () => {
    const tab = await chromium.newPage();
    const { page } = tab;
    await userWithFactors(world.server, { username: 'browser.reset', phoneE164: '+31612345656', familyName: 'Bakker' }, ['sms']);
    await whoAreYou(page, 'browser.reset', true);
    await page.getByLabel('Ik ben mijn wachtwoord vergeten').check();
    await page.getByRole('button', { name: 'Volgende', exact: true }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Verificatiestap 1 – Flynth Werkplek');
    await axeClean(page);
    await page.getByLabel('Voer het volledige nummer van uw mobiele telefoon (*****56) in').fill('06-12345656');
    await page.getByRole('button', { name: 'Sms-bericht naar mijn telefoon verzenden' }).click();
    const sms = await world.twilio.waitForSms('+31612345656');
    await expect.poll(() => page.title(), SLOW).toBe('Vul de code uit de sms in – Flynth Werkplek');
    await axeClean(page);
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode(sms.body));
    await page.getByRole('button', { name: 'Doorgaan', exact: true }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Nieuw wachtwoord kiezen – Flynth Werkplek');
    await axeClean(page);
    await page.getByLabel('Voer nieuw wachtwoord in', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Bevestig nieuw wachtwoord', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Voltooien', exact: true }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Uw wachtwoord is opnieuw ingesteld – Flynth Werkplek');
    await axeClean(page);
    // Back at Flynth's login (the interaction still lives), signing in with the new password.
    await page.getByRole('link', { name: 'Naar inloggen bij Flynth Werkplek' }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Inloggen – Flynth Werkplek');
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill('browser.reset');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(NEW_PASSWORD);
    world.clock.advance(31_000);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    const sms2 = await world.twilio.waitForSms('+31612345656');
    await page.getByLabel('Code uit de sms', { exact: true }).fill(extractCode(sms2.body));
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), portal.redirectUri);
    expect(callback).toContain('code=');
    expectClean(tab);
  }, 120_000);

  it('Flynth unlock in English: a call reads the code, the lock is lifted, the password stays', async () => {
    const tab = await chromium.newPage({ locale: 'en-GB' });
    const { page } = tab;
    const account = await userWithFactors(world.server, { username: 'browser.unlock', phoneE164: '+31612340022', locale: 'en' }, ['voice']);
    for (let i = 0; i < 5; i += 1) await world.server.services.lockout.admitAccount(account.id);
    await whoAreYou(page, 'browser.unlock', true, true);
    await page.getByLabel('I use the right password, but cannot sign in').check();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Verification step 1 – Flynth Werkplek');
    await axeClean(page);
    await page.getByLabel('Enter the full number of your mobile phone (*****22)').fill('+31 6 12340022');
    await page.getByRole('button', { name: 'Call my mobile phone' }).click();
    const call = await world.twilio.waitForCall('+31612340022');
    await axeClean(page);
    await page.getByLabel('Code from the phone call', { exact: true }).fill(spokenCode(call.twiml));
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expect.poll(() => page.title(), SLOW).toBe('Your account has been unlocked – Flynth Werkplek');
    await axeClean(page);
    expect((await world.server.services.lockout.status(account)).state).toBe('open');
    expect(await world.server.services.passwords.verify(account, TEST_PASSWORD)).toBe(true);
    expectClean(tab);
  }, 120_000);

  it('"Wie bent u?" works without JavaScript', async () => {
    const tab = await chromium.newPage({ javaScriptEnabled: false });
    await userWithFactors(world.server, { username: 'browser.nojs' }, []);
    await whoAreYou(tab.page, 'browser.nojs', false);
    expect(await tab.page.getByText('Ik ben mijn wachtwoord vergeten').count()).toBe(1);
  }, 60_000);
});
