// A level the request demands (acr_values, an acr claims request) is proved now: a remembered
// device never answers it — not in a step-up, and not in a full login that the attacker starts
// without a session (a fresh browser keeps the device cookie and drops the session cookie). A
// portal's own policy (mfa required, min_acr) keeps accepting remembered devices where it allows
// them. Through the real server, openid-client as the portals, the app computed at the fake clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { deviceCookieName } from '../../src/accounts/remembered-devices.ts';
import { UserAgent } from '../support/user-agent.ts';
import { REDIRECT_URI, passwordLogin, type RelyingParty } from '../support/relying-party.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { extractCode, loginUntilSecondFactor, startFactorWorld, submitStep, type FactorWorld } from '../support/factor-login.ts';
import { STEP_MS, enrolWithApp, stepAlignedTime, totpCode } from '../support/totp.ts';

describe('a demanded level counts only fresh proofs', () => {
  let world: FactorWorld;
  /** Minddistrict: requires the app, remembers devices. */
  let appPortal: RelyingParty;
  /** MFA optional, but its own policy asks substantial (min_acr), and it remembers devices. */
  let minAcrPortal: RelyingParty;
  let mailPortal: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld({ now: stepAlignedTime() });
    appPortal = await world.portal({ name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    minAcrPortal = await world.portal({ name: 'Praktijk', mfa: 'optional', mfaMethods: ['totp'], minAcr: ACR.substantial });
    mailPortal = await world.portal({ name: 'Patiëntenportaal', mfa: 'optional', mfaMethods: ['email'] });
  });
  afterAll(() => world?.close());

  async function nextTotp(key: string): Promise<string> {
    world.clock.advance(STEP_MS);
    return totpCode(key, world.clock.now());
  }

  /** A patient with the app whose browser was remembered; returns the device cookie. */
  async function rememberedPatient(username: string) {
    const account = await world.server.addUser({ username, emailVerified: true });
    const patient = new UserAgent();
    const { key } = await enrolWithApp(appPortal, patient, world.clock, username);
    await world.smtp.waitForMail(account.email);
    const { page, request } = await loginUntilSecondFactor(appPortal, patient, username, { params: { prompt: 'login' } });
    const remembered = await submitStep(patient, page, 'totp', 'verify', { code: await nextTotp(key), remember_device: 'on' });
    await appPortal.callback(remembered.url, request);
    const cookie = patient.cookie(deviceCookieName(account.id));
    expect(cookie).toBeDefined();
    return { account, key, cookie: cookie! };
  }

  /** A browser with the patient's device cookie and no session: what an attacker on a shared computer has. */
  function browserWithDevice(accountId: string, cookie: string): UserAgent {
    const agent = new UserAgent();
    agent.setCookie(deviceCookieName(accountId), cookie);
    return agent;
  }

  it('asks the code in a full login whose request demands substantial, although the device is remembered', async () => {
    const { account, key, cookie } = await rememberedPatient('dl-full');
    const attacker = browserWithDevice(account.id, cookie);
    const request = await appPortal.authorize({ acr_values: ACR.substantial });
    const login = await attacker.open(request.url, REDIRECT_URI);
    const afterPassword = await attacker.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    // The security property first: the password and the device cookie do not reach the portal.
    expect(afterPassword.url.startsWith(REDIRECT_URI), 'a demanded level reached with a replayed device').toBe(false);
    expect(afterPassword.html).toContain('/step/totp/verify');
    const audit = await world.server.services.store.audit.list({ type: 'login.remembered_device' });
    expect(audit.filter((e) => e.accountId === account.id)).toHaveLength(0);
    // The patient with the app gets in, at the level asked for.
    const done = await submitStep(attacker, afterPassword, 'totp', 'verify', { code: await nextTotp(key) });
    expect((await appPortal.callback(done.url, request)).claims()!.acr).toBe(ACR.substantial);
  });

  it('asks the code for a session the device made when a request then demands substantial (also with prompt=none)', async () => {
    const { account, key, cookie } = await rememberedPatient('dl-session');
    const attacker = browserWithDevice(account.id, cookie);
    // Where only the portal's policy asks (mfa required), the device stands in: correct.
    const allowed = await passwordLogin(appPortal, attacker, account.username, TEST_PASSWORD);
    expect(allowed.claims()!.acr).toBe(ACR.substantial);
    // The same session, the same portal, but the request demands the level: not silently.
    const silent = await appPortal.authorize({ acr_values: ACR.substantial, prompt: 'none' });
    const refused = await attacker.open(silent.url, REDIRECT_URI);
    expect(new URL(refused.url).searchParams.get('error')).toBe('interaction_required');
    // Interactively: a step-up that asks the app code, not the password.
    const request = await appPortal.authorize({ acr_values: ACR.substantial });
    const stepUp = await attacker.open(request.url, REDIRECT_URI);
    expect(stepUp.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(stepUp.html).toContain('/step/totp/verify');
    expect(stepUp.html).not.toContain('name="password"');
    const done = await submitStep(attacker, stepUp, 'totp', 'verify', { code: await nextTotp(key) });
    expect((await appPortal.callback(done.url, request)).claims()!.acr).toBe(ACR.substantial);
    // An acr claims request is a demand too.
    const claimsRequest = await appPortal.authorize({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.substantial] } } }) });
    const fresh = browserWithDevice(account.id, cookie);
    const login = await fresh.open(claimsRequest.url, REDIRECT_URI);
    const afterPassword = await fresh.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    expect(afterPassword.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(afterPassword.html).toContain('/step/totp/verify');
  });

  it('keeps the step-up after a weak session asking the code (the review held this)', async () => {
    const { account, cookie } = await rememberedPatient('dl-weak');
    await world.server.services.store.credentials.put({ id: 'dl-weak-email', accountId: account.id, type: 'email', data: {}, createdAt: world.clock.now(), lastUsedAt: null });
    const attacker = browserWithDevice(account.id, cookie);
    const weak = await loginUntilSecondFactor(mailPortal, attacker, account.username);
    const mail = await world.smtp.waitForMail(account.email);
    const weakDone = await submitStep(attacker, weak.page, 'email', 'verify', { code: extractCode(mail.text ?? '') });
    expect((await mailPortal.callback(weakDone.url, weak.request)).claims()!.acr).toBe(ACR.lowMfa);
    const request = await appPortal.authorize({ acr_values: ACR.substantial });
    const stepUp = await attacker.open(request.url, REDIRECT_URI);
    expect(stepUp.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(stepUp.html).toContain('/step/totp/verify');
  });

  it('lets a portal whose own policy asks the level (min_acr) keep taking the remembered device', async () => {
    const { account, cookie } = await rememberedPatient('dl-policy');
    const patient = browserWithDevice(account.id, cookie);
    const result = await passwordLogin(minAcrPortal, patient, account.username, TEST_PASSWORD);
    expect(result.claims()!.acr).toBe(ACR.substantial);
    expect(result.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);
    // A request that asks only what the password proves (low) does not stop the device either.
    const low = await passwordLogin(appPortal, browserWithDevice(account.id, cookie), account.username, TEST_PASSWORD, { acr_values: ACR.low });
    expect(low.claims()!.acr).toBe(ACR.substantial);
  });
});
