// max_age (and /account's ten minutes) is measured from the login that made the proofs, as OIDC
// measures it from the authentication: the login completed within max_age, and no proof of it
// older than max_age at the login's start (its flow starts right after the authorization request).
// A slow but complete login is therefore not "too old" on arrival — it looped through the full
// login forever before — while a step-up's password seeded from an old session still is. Through
// the real server, openid-client as the portals, the fake Twilio API and the fake clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoveryCodesLeft } from '../../src/factors/recovery/recovery-factor.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { extractCode, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { keyFromPage, recoveryCodesFromPage, totpCode } from '../support/totp.ts';

describe('max_age is measured from the login', () => {
  let world: FactorWorld;
  let smsPortal: RelyingParty;
  let plainPortal: RelyingParty;
  let mailPortal: RelyingParty;
  let nextNumber = 10;

  beforeAll(async () => {
    world = await startFactorWorld();
    smsPortal = await world.portal({ name: 'ZINN', mfa: 'required', mfaMethods: ['sms'] });
    plainPortal = await world.portal({ name: 'Plain', mfa: 'optional' });
    mailPortal = await world.portal({ name: 'Patiëntenportaal', mfa: 'optional', mfaMethods: ['email'] });
  });
  afterAll(() => world?.close());

  function phone(): string {
    nextNumber += 1;
    return `+316200088${nextNumber}`;
  }

  /** Posts a form without following, lets `ms` pass, then follows the redirect (the resume request). */
  async function postThenWait(agent: UserAgent, page: Page, actionPart: string, values: Record<string, string>, ms: number): Promise<Page> {
    const form = findForm(page, actionPart);
    const response = await agent.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, ...values }).toString() });
    world.clock.advance(ms);
    return agent.follow(response, REDIRECT_URI);
  }

  it('returns a patient who needs 61 s for the SMS at a portal with max_age=60 on the first round', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'ma-slow-sms', phoneE164: number }, ['sms']);
    const agent = new UserAgent();
    const request = await smsPortal.authorize({ max_age: '60' });
    const first = await agent.open(request.url, REDIRECT_URI);
    const step = await agent.submit(first, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    expect(step.html).toContain('/step/sms/verify');
    const sms = await world.twilio.waitForSms(number);
    // The patient reads the SMS and types it 61 s after the password.
    world.clock.advance(61_000);
    const done = await submitStep(agent, step, 'sms', 'verify', { code: extractCode(sms.body) });
    expect(done.url.startsWith(REDIRECT_URI), 'a complete login was sent round the full login again').toBe(true);
    const claims = (await smsPortal.callback(done.url, request)).claims()!;
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('returns the login also when the resume itself comes late (the review PoC)', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'ma-late-resume', phoneE164: number }, ['sms']);
    const agent = new UserAgent();
    const request = await smsPortal.authorize({ max_age: '60' });
    const first = await agent.open(request.url, REDIRECT_URI);
    const step = await agent.submit(first, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    const sms = await world.twilio.waitForSms(number);
    const done = await postThenWait(agent, step, '/step/sms/verify', { code: extractCode(sms.body) }, 61_000);
    expect(done.url.startsWith(REDIRECT_URI), 'a complete login was sent round the full login again').toBe(true);
    await smsPortal.callback(done.url, request);
  });

  it('held: max_age=0 is a fresh login that returns', async () => {
    const account = await world.server.addUser({ username: 'ma-zero', emailVerified: true });
    const agent = new UserAgent();
    const request = await plainPortal.authorize({ max_age: '0' });
    const page = await agent.open(request.url, REDIRECT_URI);
    const done = await postThenWait(agent, page, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, 1);
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('still asks a full login when the session is older than max_age, and then returns', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'ma-old-session', phoneE164: number }, ['sms']);
    const agent = new UserAgent();
    const first = await loginUntilSecondFactor(smsPortal, agent, account.username);
    const done = await submitStep(agent, first.page, 'sms', 'verify', { code: extractCode((await world.twilio.waitForSms(number)).body) });
    await smsPortal.callback(done.url, first.request);
    world.clock.advance(2 * 3600_000);

    const silent = await smsPortal.authorize({ max_age: '600', prompt: 'none' });
    expect(new URL((await agent.open(silent.url, REDIRECT_URI)).url).searchParams.get('error')).toBe('login_required');
    const request = await smsPortal.authorize({ max_age: '600' });
    const again = await agent.open(request.url, REDIRECT_URI);
    // The password is asked again: the session's old password does not seed a step-up.
    expect(again.html).toContain('name="password"');
    const step = await agent.submit(again, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    const back = await submitStep(agent, step, 'sms', 'verify', { code: extractCode((await world.twilio.waitForSms(number)).body) });
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    await smsPortal.callback(back.url, request);
  });

  it('asks the password again at once, not after the code, when a step-up could only reuse one older than max_age', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'ma-stepup-old', phoneE164: number }, ['sms', 'email']);
    const agent = new UserAgent();
    // A slow e-mail-code login: the password at 0, the code at 9 minutes.
    const weak = await loginUntilSecondFactor(mailPortal, agent, account.username);
    const mail = await world.smtp.waitForMail(account.email);
    world.clock.advance(9 * 60_000);
    const weakDone = await submitStep(agent, weak.page, 'email', 'verify', { code: extractCode(mail.text ?? '') });
    await mailPortal.callback(weakDone.url, weak.request);
    // Nine minutes later the SMS portal demands substantial within max_age=600: the session's login
    // completed in time, but its password (18 minutes old) is too old to seed a step-up.
    world.clock.advance(9 * 60_000);
    const request = await smsPortal.authorize({ acr_values: 'urn:poortwachter:acr:substantial', max_age: '600' });
    const first = await agent.open(request.url, REDIRECT_URI);
    expect(first.html, 'the step-up asked only the code, whose login would then be refused').toContain('name="password"');
    const step = await agent.submit(first, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    const done = await submitStep(agent, step, 'sms', 'verify', { code: extractCode((await world.twilio.waitForSms(number)).body) });
    expect(done.url.startsWith(REDIRECT_URI), 'one round of login returns to the portal').toBe(true);
    await smsPortal.callback(done.url, request);
  });

  describe('/account and its ten minutes', () => {
    it('shows the account page after a login that took eleven minutes, instead of sending the patient round again', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'ma-account-slow', phoneE164: number }, ['sms']);
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/account`);
      const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
      await world.twilio.waitForSms(number);
      // The first SMS never arrived; eleven minutes later the patient asks for a new one.
      world.clock.advance(11 * 60_000);
      const resent = await submitStep(agent, second, 'sms', 'resend');
      const sms = await world.twilio.waitForSms(number);
      const settings = await submitStep(agent, resent, 'sms', 'verify', { code: extractCode(sms.body) });
      expect(new URL(settings.url).pathname, textOf(settings).slice(0, 300)).toBe('/account');
      expect(textOf(settings)).toContain('Mijn account');
      // Ten minutes after that login, a change needs a new one.
      world.clock.advance(11 * 60_000);
      const enrol = await agent.submit(settings, '/account/enrol', { method: 'totp' });
      expect(enrol.html).not.toContain('id="totp-key"');
      expect(enrol.html).toContain('name="password"');
    });

    it('lets a patient who takes eleven minutes to set up the app finish it, recovery codes included', async () => {
      const account = await world.server.addUser({ username: 'ma-account-enrol' });
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/account`);
      const settings = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
      expect(textOf(settings)).toContain('Mijn account');
      const enrol = await agent.submit(settings, '/account/enrol', { method: 'totp' });
      const key = keyFromPage(enrol);
      world.clock.advance(11 * 60_000);
      const codes = await agent.submit(enrol, '/account/enrol/', { code: await totpCode(key, world.clock.now()) });
      expect(new URL(codes.url).pathname, textOf(codes).slice(0, 300)).toMatch(/^\/account/);
      expect(recoveryCodesFromPage(codes)).toHaveLength(6);
      const saved = await agent.submit(codes, '/confirm', { saved: 'on' });
      expect(textOf(saved)).toContain('Authenticator-app is ingesteld.');
      expect(await recoveryCodesLeft(world.server.services, account)).toBe(6);
    });
  });
});
