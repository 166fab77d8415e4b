// Issue 6 (independent review): the ways past the second factor, each replayed through the real
// server as the reviewer did it — openid-client as the portals, the real SMTP server, Twilio's
// real client against the fake Twilio API, the authenticator app computed by otplib at the fake
// clock's time — and each ending on a refusal now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { deviceCookieName } from '../../src/accounts/remembered-devices.ts';
import { generateRecoveryCodes, recoveryCodesLeft } from '../../src/factors/recovery/recovery-factor.ts';
import { deliverSecurityNotice, sendSecurityNotice } from '../../src/accounts/security-notices.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, passwordLogin, type RelyingParty } from '../support/relying-party.ts';
import { extractCode, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { isSecurityNotice } from '../support/fake-twilio.ts';
import { STEP_MS, enrolWithApp, keyFromPage, recoveryCodesFromPage, stepAlignedTime, totpCode } from '../support/totp.ts';

describe('second-factor bypasses (issue 6)', () => {
  let world: FactorWorld;
  /** Minddistrict: requires the authenticator app, remembers devices. */
  let appPortal: RelyingParty;
  /** Requires the app too, but forbids remembered devices. */
  let strictPortal: RelyingParty;
  /** ZINN: requires SMS. */
  let smsPortal: RelyingParty;
  /** The patient portal: e-mail codes, MFA optional. */
  let mailPortal: RelyingParty;
  let nextPhone = 20;

  beforeAll(async () => {
    world = await startFactorWorld({ now: stepAlignedTime() });
    appPortal = await world.portal({ name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    strictPortal = await world.portal({ name: 'Streng portaal', mfa: 'required', mfaMethods: ['totp'], rememberDevice: false });
    smsPortal = await world.portal({ name: 'ZINN', mfa: 'required', mfaMethods: ['sms'], smsSender: 'ZINNZORG' });
    mailPortal = await world.portal({ name: 'Patiëntenportaal', mfa: 'optional', mfaMethods: ['email'] });
  });
  afterAll(() => world?.close());

  function phone(): string {
    nextPhone += 1;
    return `+316200000${nextPhone}`;
  }

  /** The next 30-second step's code, so every code is unused. */
  async function nextTotp(key: string): Promise<string> {
    world.clock.advance(STEP_MS);
    return totpCode(key, world.clock.now());
  }

  /** The hosted page a portal's authorization request lands on (or the portal's callback). */
  async function open(agent: UserAgent, rp: RelyingParty, params: Record<string, string> = {}) {
    const request = await rp.authorize(params);
    return { request, page: await agent.open(request.url, REDIRECT_URI) };
  }

  async function post(agent: UserAgent, page: Page, actionPart: string, values: Record<string, string>): Promise<Page> {
    const form = findForm(page, '/abort');
    const action = form.action.replace(/\/abort$/, actionPart);
    return agent.follow(await agent.request(action, { method: 'POST', body: new URLSearchParams({ _csrf: form.fields._csrf!, ...values }).toString() }), REDIRECT_URI);
  }

  describe('finding 1: a weaker factor enrols a stronger one', () => {
    it('asks the strongest factor (SMS) before the app is set up, and refuses the e-mail code as proof', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'f1-sms-mail', phoneE164: number }, ['sms', 'email']);
      // The attacker knows the password and reads the mailbox, but has no phone.
      const attacker = new UserAgent();
      const { page } = await loginUntilSecondFactor(appPortal, attacker, account.username);
      expect(page.html).toContain('/step/sms/verify');
      expect(page.html).not.toContain('value="email"');
      await world.twilio.waitForSms(number);

      const refused = await post(attacker, page, '/choose', { method: 'email' });
      expect(refused.status).toBe(400);
      expect(refused.html).toContain('/step/sms/verify');
      expect(refused.html).not.toContain('id="totp-key"');
      expect(world.smtp.messages.filter((m) => m.envelopeTo.includes(account.email))).toHaveLength(0);
      // Nor can the app's enrolment be posted to directly.
      const skipped = await post(attacker, refused, '/step/totp/verify', { code: '123456' });
      expect(skipped.status).toBe(409);
      expect(await world.server.services.store.credentials.listByAccount(account.id, 'totp')).toHaveLength(0);
    });

    it('lets the patient with the phone set up the app, and tells them by e-mail and by SMS (a mailbox reader cannot delete that one)', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'f1-patient', phoneE164: number }, ['sms', 'email']);
      const patient = new UserAgent();
      const { page, request } = await loginUntilSecondFactor(appPortal, patient, account.username);
      const sms = await world.twilio.waitForSms(number);
      const enrol = await submitStep(patient, page, 'sms', 'verify', { code: extractCode(sms.body) });
      const key = keyFromPage(enrol);
      const codes = await submitStep(patient, enrol, 'totp', 'verify', { code: await totpCode(key, world.clock.now()) });
      const done = await patient.submit(codes, '/step/recovery/confirm', { saved: 'on' }, REDIRECT_URI);
      expect((await appPortal.callback(done.url, request)).claims()!.acr).toBe(ACR.substantial);

      const mail = await world.smtp.waitForMail(account.email);
      expect(mail.subject).toBe('Er is een nieuwe inlogmethode toegevoegd aan uw account');
      expect(mail.text).toContain('Er is een nieuwe inlogmethode toegevoegd aan uw account f1-patient: Code uit uw authenticator-app.');
      expect(mail.text).toContain('bij het inloggen op Minddistrict');
      // Signed by the portal the patient was signing in to, not by the software behind it (issue 12).
      expect(mail.text?.trimEnd().endsWith('Met vriendelijke groet,\nMinddistrict')).toBe(true);
      expect(mail.text).toContain('Was u dit niet?');
      expect(mail.text).toContain(`${world.server.url}/account`);
      expect(mail.html).toContain('Was u dit niet?');
      expect(mail.raw).not.toContain(key);
      const notice = await world.twilio.waitForNotice(number);
      expect(notice.body).toBe('Minddistrict: er is een nieuwe inlogmethode toegevoegd aan uw account. Was u dit niet? Neem direct contact op met uw zorgverlener.');
      await expect.poll(async () => (await world.server.services.store.audit.list({ accountId: account.id, type: 'notice.sent' })).map((e) => e.detail))
        .toContainEqual({ kind: 'method_added', channel: 'sms', to: `*****${number.slice(-2)}` });
    });
  });

  describe('finding 2: a remembered device counts where it must not', () => {
    /** The patient with the app, and a browser of theirs that was remembered at Minddistrict. */
    async function rememberedPatient(username: string) {
      const account = await world.server.addUser({ username, emailVerified: true });
      const patient = new UserAgent();
      const { key } = await enrolWithApp(appPortal, patient, world.clock, username);
      expect((await world.smtp.waitForMail(account.email)).subject).toBe('Er is een nieuwe inlogmethode toegevoegd aan uw account');
      const { page, request } = await loginUntilSecondFactor(appPortal, patient, username, { params: { prompt: 'login' } });
      const done = await submitStep(patient, page, 'totp', 'verify', { code: await nextTotp(key), remember_device: 'on' });
      await appPortal.callback(done.url, request);
      const cookie = patient.cookie(deviceCookieName(account.id));
      expect(cookie).toBeDefined();
      // The attacker has the device cookie (a shared computer) and the password.
      const attacker = new UserAgent();
      attacker.setCookie(deviceCookieName(account.id), cookie!);
      return { account, key, attacker };
    }

    it('asks the code at a portal that forbids remembered devices, and at /account, for a session the device made', async () => {
      const { account, key, attacker } = await rememberedPatient('f2-device');
      // Where the portal allows it, the device stands in for the app (correct).
      const allowed = await passwordLogin(appPortal, attacker, account.username, TEST_PASSWORD);
      expect(allowed.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);

      // The same session at a portal that forbids remembered devices: the app code is asked.
      const silent = await open(attacker, strictPortal, { prompt: 'none' });
      expect(new URL(silent.page.url).searchParams.get('error')).toBe('interaction_required');

      // And at /account: the code, not the settings page.
      const settings = await attacker.open(`${world.server.url}/account`);
      expect(settings.html).toContain('/step/totp/verify');
      expect(textOf(settings)).not.toContain('Mijn account');

      const strict = await open(attacker, strictPortal);
      expect(strict.page.url.startsWith(REDIRECT_URI)).toBe(false);
      expect(strict.page.html).toContain('/step/totp/verify');
      expect(strict.page.html).not.toContain('name="password"');
      expect(strict.page.html).not.toContain('name="remember_device"');
      // The patient's own fresh code does open the strict portal.
      const done = await submitStep(attacker, strict.page, 'totp', 'verify', { code: await nextTotp(key) });
      expect((await strictPortal.callback(done.url, strict.request)).claims()!.acr).toBe(ACR.substantial);
    });

    it('applies no remembered device in a step-up to a demanded level', async () => {
      const { account, key, attacker } = await rememberedPatient('f2-stepup');
      await world.server.services.store.credentials.put({ id: 'f2-stepup-email', accountId: account.id, type: 'email', data: {}, createdAt: world.clock.now(), lastUsedAt: null });
      // A session with the e-mail code (the device is for the app, which this portal does not take).
      const { page, request } = await loginUntilSecondFactor(mailPortal, attacker, account.username);
      const mail = await world.smtp.waitForMail(account.email);
      const weak = await submitStep(attacker, page, 'email', 'verify', { code: extractCode(mail.text ?? '') });
      expect((await mailPortal.callback(weak.url, request)).claims()!.acr).toBe(ACR.lowMfa);

      // Minddistrict demands substantial: the step-up asks the app code, the device does not
      // answer it — not on the first page, nor after "use another method".
      const stepUp = await open(attacker, appPortal, { acr_values: ACR.substantial });
      expect(stepUp.page.url.startsWith(REDIRECT_URI)).toBe(false);
      expect(stepUp.page.html).toContain('/step/totp/verify');
      const other = await attacker.submit(stepUp.page, '/choose', { method: 'recovery' }, REDIRECT_URI);
      expect(other.url.startsWith(REDIRECT_URI)).toBe(false);
      expect(other.html).toContain('/step/recovery/verify');
      const back = await attacker.submit(other, '/choose', { method: 'totp' }, REDIRECT_URI);
      const done = await submitStep(attacker, back, 'totp', 'verify', { code: await nextTotp(key) });
      expect((await appPortal.callback(done.url, stepUp.request)).claims()!.acr).toBe(ACR.substantial);
    });
  });

  describe('finding 3: /account needs a recent authentication for every change', () => {
    /** Signs in to /account; `secondFactor` answers the second-factor page, if one comes. */
    async function signIn(agent: UserAgent, username: string, secondFactor?: (page: Page) => Promise<Page>): Promise<Page> {
      const login = await agent.open(`${world.server.url}/account`);
      let page = await agent.submit(login, '/step/password/verify', { login: username, password: TEST_PASSWORD });
      if (secondFactor) page = await secondFactor(page);
      expect(new URL(page.url).pathname).toBe('/account');
      expect(textOf(page)).toContain('Mijn account');
      return page;
    }

    it('sends a password-only session older than ten minutes back to the login before a first factor is set up', async () => {
      await world.server.addUser({ username: 'f3-oud' });
      const agent = new UserAgent();
      const settings = await signIn(agent, 'f3-oud');
      world.clock.advance(11 * 60_000);
      const enrol = await agent.submit(settings, '/account/enrol', { method: 'totp' });
      expect(enrol.html).not.toContain('id="totp-key"');
      expect(enrol.html).toContain('name="password"');
      expect(new URL(enrol.url).pathname).toMatch(/^\/interaction\//);
    });

    it('sends an SMS session older than ten minutes back to the login before the phone number is replaced', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'f3-sms', phoneE164: number }, ['sms']);
      const agent = new UserAgent();
      const settings = await signIn(agent, account.username, async (page) => {
        const sms = await world.twilio.waitForSms(number);
        return submitStep(agent, page, 'sms', 'verify', { code: extractCode(sms.body) });
      });
      world.clock.advance(11 * 60_000);
      const replace = await agent.submit(settings, '/account/enrol', { method: 'sms' });
      expect(replace.html).not.toContain('/step/sms/change');
      expect(replace.html).not.toContain('/account/enrol/');
      expect(replace.html).toContain('name="password"');
      expect(world.twilio.messages.filter((m) => m.to === number)).toHaveLength(1);
    });
  });

  describe('finding 6: a recovery code satisfies only a portal that accepts a method the account has', () => {
    /** A patient with SMS and recovery codes, signed in with a recovery code at `rp`. */
    async function recoveryLogin(username: string, rp: RelyingParty) {
      const number = phone();
      const account = await userWithFactors(world.server, { username, phoneE164: number }, ['sms']);
      const [code] = await generateRecoveryCodes(world.server.services, account);
      const agent = new UserAgent();
      const { page, request } = await loginUntilSecondFactor(rp, agent, account.username);
      await world.twilio.waitForSms(number);
      const recovery = await agent.submit(page, '/choose', { method: 'recovery' });
      const done = await agent.submit(recovery, '/step/recovery/verify', { code: code! }, REDIRECT_URI);
      return { agent, claims: (await rp.callback(done.url, request)).claims()! };
    }

    it('does not let a recovery-code session into a portal that requires an app the account lacks', async () => {
      const optional = await world.portal({ name: 'ZINN (optioneel)', mfa: 'optional', mfaMethods: ['sms'] });
      const { agent, claims } = await recoveryLogin('f6-herstel', optional);
      expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);

      const silent = await open(agent, appPortal, { prompt: 'none' });
      expect(new URL(silent.page.url).searchParams.get('error')).toBe('interaction_required');
      world.clock.advance(31_000);
      const interactive = await open(agent, appPortal);
      expect(interactive.page.url.startsWith(REDIRECT_URI)).toBe(false);
      // The account has no app: it proves its SMS before the app may be set up.
      expect(interactive.page.html).toContain('/step/sms/verify');
    });

    it('lets a recovery code stand in for the SMS at a portal that requires SMS, and that session counts there', async () => {
      const { agent, claims } = await recoveryLogin('f6-zinn', smsPortal);
      expect(claims.acr).toBe(ACR.substantial);
      const again = await open(agent, smsPortal, { prompt: 'none' });
      expect(again.page.url.startsWith(REDIRECT_URI)).toBe(true);
      expect(new URL(again.page.url).searchParams.get('code')).toBeTruthy();
    });
  });

  describe('finding 10: the recovery codes of a first enrolment on /account', () => {
    it('saves the recovery codes shown after the first factor is set up on /account', async () => {
      const account = await world.server.addUser({ username: 'f10-eerste' });
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/account`);
      const settings = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
      expect(textOf(settings)).toContain('Mijn account');
      const enrol = await agent.submit(settings, '/account/enrol', { method: 'totp' });
      const codes = await agent.submit(enrol, '/account/enrol/', { code: await totpCode(keyFromPage(enrol), world.clock.now()) });
      const shown = recoveryCodesFromPage(codes);
      expect(shown).toHaveLength(6);
      const saved = await agent.submit(codes, '/confirm', { saved: 'on' });
      expect(new URL(saved.url).pathname).toMatch(/^\/account/);
      expect(textOf(saved)).toContain('Authenticator-app is ingesteld.');
      expect(await recoveryCodesLeft(world.server.services, account)).toBe(6);
      expect((await world.smtp.waitForMail(account.email)).subject).toBe('Er is een nieuwe inlogmethode toegevoegd aan uw account');
    });
  });

  describe('security notices', () => {
    it('tells the patient, in their language, when the phone number is replaced on /account: a mail, and an SMS to the old number only; never the full number', async () => {
      const number = phone();
      const replacement = phone();
      const account = await userWithFactors(world.server, { username: 'notice-nummer', phoneE164: number, locale: 'en' }, ['sms']);
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/account`);
      const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
      const settings = await submitStep(agent, second, 'sms', 'verify', { code: extractCode((await world.twilio.waitForSms(number)).body) });
      expect(new URL(settings.url).pathname).toBe('/account');
      world.clock.advance(31_000);
      const enrol = await agent.submit(settings, '/account/enrol', { method: 'sms' });
      await world.twilio.waitForSms(number);
      const change = await agent.submit(enrol, '/change');
      world.clock.advance(31_000);
      const codePage = await agent.submit(change, '/phone', { phone: replacement });
      const code = extractCode((await world.twilio.waitForSms(replacement)).body);
      const codes = await agent.submit(codePage, '/verify', { code });
      // This account had no recovery codes yet: they follow the (re)enrolled factor.
      const done = await agent.submit(codes, '/confirm', { saved: 'on' });
      expect(textOf(done)).toContain('Sms-code is ingesteld.');

      const mail = await world.smtp.waitForMail(account.email);
      expect(mail.subject).toBe('The phone number of your account was changed');
      expect(mail.text).toContain(`Codes now go to *****${replacement.slice(-2)}.`);
      expect(mail.text).toContain('on your account page');
      expect(mail.text).toContain('Was this not you?');
      for (const full of [number, replacement, replacement.slice(3), `0${replacement.slice(3)}`]) expect(mail.raw).not.toContain(full);
      expect(mail.raw).not.toContain(code);
      // The old number hears of it (the number may be in a thief's hands now, the old one is the patient's).
      expect((await world.twilio.waitForNotice(number)).body).toBe('Poortwachter: the phone number of your account was changed; codes no longer go to this number. Was this not you? Contact your care provider at once.');
      await expect.poll(async () => (await world.server.services.store.audit.list({ accountId: account.id, type: 'notice.sent' })).length).toBeGreaterThanOrEqual(2);
      expect(world.twilio.messages.filter((m) => m.to === replacement && isSecurityNotice(m))).toEqual([]);
    });

    it('sends at most five notice texts a day to one account (SMS costs money); every mail still goes', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'notice-veel', phoneE164: number }, ['sms']);
      for (let i = 0; i < 6; i++) sendSecurityNotice(world.server.services, account, { kind: 'method_added', method: async () => 'Authenticator-app' });
      await expect.poll(async () => (await world.server.services.store.audit.list({ accountId: account.id, type: 'notice.failed' })).length).toBe(1);
      await expect.poll(async () => (await world.server.services.store.audit.list({ accountId: account.id, type: 'notice.sent' })).length).toBe(11);
      expect(world.twilio.messages.filter((m) => m.to === number && isSecurityNotice(m))).toHaveLength(5);
    });

    it('does not let a failing mail server break the login that set up a factor: logged masked, audited', async () => {
      const account = await world.server.addUser({ username: 'notice-storing', email: 'storing@example.nl' });
      world.smtp.rejectNextRecipient(550, 'Mailbox unavailable');
      const enrolment = await enrolWithApp(appPortal, new UserAgent(), world.clock, account.username);
      expect(enrolment.tokens.claims()!.acr).toBe(ACR.substantial);
      await expect.poll(async () => (await world.server.services.store.audit.list({ accountId: account.id, type: 'notice.failed' })).length).toBe(1);
      const [failed] = await world.server.services.store.audit.list({ accountId: account.id, type: 'notice.failed' });
      expect(failed!.detail).toEqual({ kind: 'method_added', to: 's***@example.nl' });
      expect(world.server.logs()).toContain('security notice not sent');
      expect(world.server.logs()).not.toContain('storing@example.nl');
    });

    it('mails the patient when new recovery codes replace the old ones on /account', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'notice-herstel', phoneE164: number }, ['sms']);
      await generateRecoveryCodes(world.server.services, account);
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/account`);
      const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
      const settings = await submitStep(agent, second, 'sms', 'verify', { code: extractCode((await world.twilio.waitForSms(number)).body) });
      const codes = await agent.submit(settings, '/account/factor/recovery/regenerate');
      const fresh = recoveryCodesFromPage(codes);
      const mail = await world.smtp.waitForMail(account.email);
      expect(mail.subject).toBe('Een inlogmethode van uw account is opnieuw ingesteld');
      expect(mail.text).toContain('Deze inlogmethode van uw account notice-herstel is opnieuw ingesteld: Herstelcodes. Wat u hiervoor eerder had, werkt niet meer.');
      for (const code of fresh) expect(mail.raw).not.toContain(code);
    });

    it('mails the patient when a method is removed on /account, naming it masked', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'notice-weg', phoneE164: number }, ['sms', 'email']);
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/account`);
      const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
      const settings = await submitStep(agent, second, 'sms', 'verify', { code: extractCode((await world.twilio.waitForSms(number)).body) });
      const removed = await agent.submit(settings, '/account/remove-method', { method: 'sms' });
      expect(textOf(removed)).toContain('Mijn account');
      const mail = await world.smtp.waitForMail(account.email);
      expect(mail.subject).toBe('Er is een inlogmethode verwijderd van uw account');
      expect(mail.text).toContain(`Deze inlogmethode is verwijderd van uw account notice-weg: Sms naar *****${number.slice(-2)}.`);
      expect(mail.text).toContain('op uw accountpagina');
      expect(mail.text).toContain('Was u dit niet?');
      for (const full of [number, number.slice(3), `0${number.slice(3)}`]) expect(mail.raw).not.toContain(full);
    });

    it('sends the e-mail-changed notice to the previous address', async () => {
      const account = await world.server.addUser({ username: 'notice-adres', email: 'nieuw@example.nl' });
      await deliverSecurityNotice(world.server.services, account, { kind: 'email_changed', previousEmail: 'vorig@example.nl' });
      const mail = await world.smtp.waitForMail('vorig@example.nl');
      expect(mail.subject).toBe('Het e-mailadres van uw account is gewijzigd');
      expect(mail.text).toContain('Wij sturen dit bericht naar uw vorige adres.');
      expect(mail.text).not.toContain('nieuw@example.nl');
    });
  });
});
