// Portal policy and the session across logins: remember this device, step-up with acr_values,
// prompt=none, and the patient's own settings page. Uses the authenticator app as the second
// factor (its codes come from otplib at the fake clock's time).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { ACR } from '../../src/oidc/assurance.ts';
import { deviceCookieName } from '../../src/accounts/remembered-devices.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent, textOf, findForm } from '../support/user-agent.ts';
import { relyingParty, passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { enrolWithApp, loginToSecondFactor, stepAlignedTime, totpCode, STEP_MS } from '../support/totp.ts';

describe('MFA policy across logins', () => {
  let server: TestServer;
  let clock: FakeClock;
  let app: RelyingParty; // requires the authenticator app, allows remembering devices
  let strict: RelyingParty; // forbids remembering devices
  let smsOnly: RelyingParty; // accepts SMS only, MFA optional
  let key: string;
  const account = 'remember';

  beforeAll(async () => {
    clock = new FakeClock(stepAlignedTime());
    server = await startTestServer({ clock });
    const make = async (input: Parameters<TestServer['addClient']>[0]) => {
      const client = await server.addClient(input);
      return relyingParty(server.url, client.clientId, client.clientSecret);
    };
    app = await make({ redirectUris: [REDIRECT_URI], mfa: 'required', mfaMethods: ['totp'], name: 'Minddistrict' });
    strict = await make({ redirectUris: [REDIRECT_URI], mfa: 'required', mfaMethods: ['totp'], rememberDevice: false, name: 'Streng portaal' });
    smsOnly = await make({ redirectUris: [REDIRECT_URI], mfa: 'optional', mfaMethods: ['sms'], name: 'ZINN' });
    await server.addUser({ username: account });
    ({ key } = await enrolWithApp(app, new UserAgent(), clock, account));
  });

  afterAll(() => server?.close());

  /** Moves to the next TOTP step, so every test gets an unused code. */
  async function freshCode(): Promise<string> {
    clock.advance(STEP_MS);
    return totpCode(key, clock.now());
  }

  async function loginWithApp(rp: RelyingParty, agent: UserAgent, remember: boolean, params: Record<string, string> = {}) {
    const { request, page } = await loginToSecondFactor(rp, agent, account, params);
    expect(textOf(page)).toContain('authenticator');
    const done = await agent.submit(page, '/step/totp/verify', { code: await freshCode(), ...(remember ? { remember_device: 'on' } : {}) }, REDIRECT_URI);
    return rp.callback(done.url, request);
  }

  it('remembers the device when asked: the next login needs only the password and reports the same proof', async () => {
    const agent = new UserAgent();
    const first = await loginWithApp(app, agent, true);
    expect(first.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);
    const device = await server.services.accounts.findByLogin(account);
    expect(agent.hasCookie(deviceCookieName(device!.id))).toBe(true);
    // A new browser session on the same device (session cookies gone, device cookie kept).
    for (const name of ['_session', '_session.sig', '_session.legacy', '_session.legacy.sig']) agent.deleteCookie(name);
    const second = await passwordLogin(app, agent, account, TEST_PASSWORD);
    expect(second.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(second.claims()!.acr).toBe(ACR.substantial);
  });

  it('asks the second factor again without "onthoud mij"', async () => {
    const agent = new UserAgent();
    await loginWithApp(app, agent, false);
    const device = await server.services.accounts.findByLogin(account);
    expect(agent.hasCookie(deviceCookieName(device!.id))).toBe(false);
  });

  it('forgets the device when its time is up (12 hours by default)', async () => {
    const agent = new UserAgent();
    await loginWithApp(app, agent, true);
    for (const name of ['_session', '_session.sig', '_session.legacy', '_session.legacy.sig']) agent.deleteCookie(name);
    clock.advance(12 * 3600_000 + STEP_MS);
    const { page } = await loginToSecondFactor(app, agent, account);
    expect(page.html).toContain('/step/totp/verify');
  });

  it('ignores remembered devices at a portal that forbids them, and offers no checkbox there', async () => {
    const agent = new UserAgent();
    await loginWithApp(app, agent, true);
    for (const name of ['_session', '_session.sig', '_session.legacy', '_session.legacy.sig']) agent.deleteCookie(name);
    const { page } = await loginToSecondFactor(strict, agent, account);
    expect(page.html).toContain('/step/totp/verify');
    expect(page.html).not.toContain('name="remember_device"');
  });

  it('rejects a forged device cookie', async () => {
    const agent = new UserAgent();
    const device = await server.services.accounts.findByLogin(account);
    agent.setCookie(deviceCookieName(device!.id), 'forged.secret');
    const { page } = await loginToSecondFactor(app, agent, account);
    expect(page.html).toContain('/step/totp/verify');
  });

  it('steps up: a session with the e-mail code is asked only for the app code when a portal demands more', async () => {
    const mailPortal = await server.addClient({ redirectUris: [REDIRECT_URI], mfa: 'optional', mfaMethods: ['email'] });
    const mail = await relyingParty(server.url, mailPortal.clientId, mailPortal.clientSecret);
    const record = await server.services.accounts.update((await server.services.accounts.findByLogin(account))!, { emailVerified: true });
    await server.services.store.credentials.put({ id: 'stepper-email', accountId: record.id, type: 'email', data: {}, createdAt: clock.now(), lastUsedAt: null });
    const agent = new UserAgent();
    const first = await mail.authorize();
    const login = await agent.open(first.url, REDIRECT_URI);
    const codePage = await agent.submit(login, '/step/password/verify', { login: account, password: TEST_PASSWORD });
    const code = /\b(\d{6})\b/.exec(server.services.outbox!.latestFor(record.email)!.text)![1]!;
    const weak = await mail.callback((await agent.submit(codePage, '/step/email/verify', { code }, REDIRECT_URI)).url, first);
    expect(weak.claims()!.acr).toBe(ACR.lowMfa);
    // prompt=none cannot step up.
    const silent = await app.authorize({ prompt: 'none', acr_values: ACR.substantial });
    const refused = await agent.open(silent.url, REDIRECT_URI);
    expect(new URL(refused.url).searchParams.get('error')).toBe('interaction_required');
    // An interactive request asks for the app code only, not the password.
    const request = await app.authorize({ acr_values: ACR.substantial });
    const page = await agent.open(request.url, REDIRECT_URI);
    expect(page.html).not.toContain('name="password"');
    const done = await agent.submit(page, '/step/totp/verify', { code: await freshCode() }, REDIRECT_URI);
    const strong = await app.callback(done.url, request);
    expect(strong.claims()!.acr).toBe(ACR.substantial);
    expect(strong.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);
    // Now prompt=none succeeds at that level.
    const again = await app.authorize({ prompt: 'none', acr_values: ACR.substantial });
    const back = await agent.open(again.url, REDIRECT_URI);
    expect((await app.callback(back.url, again)).claims()!.acr).toBe(ACR.substantial);
    await server.services.store.credentials.remove('stepper-email');
  });

  it('does not let a session from a portal with weaker rules into a portal that requires MFA', async () => {
    await server.addUser({ username: 'zonder2fa' });
    const agent = new UserAgent();
    const weak = await passwordLogin(smsOnly, agent, 'zonder2fa', TEST_PASSWORD);
    expect(weak.claims()!.amr).toEqual(['pwd']);
    const silent = await app.authorize({ prompt: 'none' });
    const refused = await agent.open(silent.url, REDIRECT_URI);
    expect(new URL(refused.url).searchParams.get('error')).toBe('interaction_required');
    // Interactive: the portal's rules apply (first set-up of the app, password again first).
    const page = await agent.open((await app.authorize()).url, REDIRECT_URI);
    expect(page.html).toContain('name="password"');
    expect(page.url).not.toContain('REDIRECT');
  });

  it('asks the app code of an account that has one, also at a portal that only lists SMS', async () => {
    const { page } = await loginToSecondFactor(smsOnly, new UserAgent(), account);
    expect(page.html).toContain('/step/totp/verify');
  });

  it('never lets a password alone add a factor to an account that has one', async () => {
    const smsRequired = await server.addClient({ redirectUris: [REDIRECT_URI], mfa: 'required', mfaMethods: ['sms'] });
    const rp = await relyingParty(server.url, smsRequired.clientId, smsRequired.clientSecret);
    const agent = new UserAgent();
    const { page } = await loginToSecondFactor(rp, agent, account);
    // The app code first (ownership), not the SMS enrolment.
    expect(page.html).toContain('/step/totp/verify');
    expect(page.html).not.toContain('name="phone"');
    // Any factor of the account may prove ownership: the recovery codes are offered too.
    expect(page.html).toMatch(/name="method" value="recovery"/);
    const recovery = await agent.submit(page, '/choose', { method: 'recovery' });
    expect(recovery.html).toContain('/step/recovery/verify');
  });

  it('does not loop on an essential acr request that a stronger session satisfies', async () => {
    const agent = new UserAgent();
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: ACR.low } } });
    const { request, page } = await loginToSecondFactor(app, agent, account, { claims });
    const done = await agent.submit(page, '/step/totp/verify', { code: await freshCode() }, REDIRECT_URI);
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await app.callback(done.url, request)).claims()!.acr).toBe(ACR.substantial);
  });

  it('lets a patient switch methods while enrolling during a login', async () => {
    const both = await server.addClient({ redirectUris: [REDIRECT_URI], mfa: 'required', mfaMethods: ['sms', 'totp'] });
    const rp = await relyingParty(server.url, both.clientId, both.clientSecret);
    await server.addUser({ username: 'wisselaar' });
    const agent = new UserAgent();
    const request = await rp.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    const reauth = await agent.submit(login, '/step/password/verify', { login: 'wisselaar', password: TEST_PASSWORD });
    const choose = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    expect(textOf(choose)).toContain('Kies een methode');
    const sms = await agent.submit(choose, '/enrol', { method: 'sms' });
    expect(sms.html).toContain('name="phone"');
    // No mobile phone after all: the other method is one button away.
    const totp = await agent.submit(sms, '/enrol', { method: 'totp' });
    expect(totp.html).toContain('id="totp-key"');
    // A method the portal does not allow is refused.
    const refused = await agent.submit(totp, '/enrol', { method: 'email' });
    expect(refused.status).toBe(400);
  });

  it('answers prompt=none without a session with login_required', async () => {
    const request = await app.authorize({ prompt: 'none' });
    const page = await new UserAgent().open(request.url, REDIRECT_URI);
    expect(new URL(page.url).searchParams.get('error')).toBe('login_required');
  });

  it('lets the patient manage 2FA on /account: remember duration, forget devices, new recovery codes', async () => {
    const agent = new UserAgent();
    // Not signed in: /account sends the patient through the regular login, back to /account.
    const login = await agent.open(`${server.url}/account`);
    const second = await agent.submit(login, '/step/password/verify', { login: account, password: TEST_PASSWORD });
    const settings = await agent.submit(second, '/step/totp/verify', { code: await freshCode(), remember_device: 'on' });
    expect(new URL(settings.url).pathname).toBe('/account');
    expect(textOf(settings)).toContain('Tweestapsverificatie');
    expect(textOf(settings)).toContain('herstelcodes over');
    const record = (await server.services.accounts.findByLogin(account))!;
    expect((await server.services.devices.list(record.id)).length).toBeGreaterThan(0);

    const week = await agent.submit(settings, '/account/remember', { remember: '1w' });
    expect(textOf(week)).toContain('Uw instellingen zijn opgeslagen.');
    expect((await server.services.accounts.findById(record.id))!.settings.rememberDevice).toBe('1w');

    const forgotten = await agent.submit(week, '/account/forget-devices');
    expect(textOf(forgotten)).toContain('Alle onthouden apparaten zijn vergeten');
    expect(await server.services.devices.list(record.id)).toEqual([]);

    const regenerated = await agent.submit(forgotten, '/account/factor/recovery/');
    const codes = [...regenerated.html.matchAll(/<li>([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})<\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(6);

    // A post without the settings flow's CSRF token is refused.
    const form = findForm(forgotten, '/account/remember');
    const forged = await agent.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, _csrf: 'x', remember: 'none' }).toString() });
    expect(forged.status).toBe(403);

    // The last second factor stays while a portal the patient signed in to (Minddistrict) requires MFA.
    const account2 = await agent.open(`${server.url}/account`);
    expect(account2.html).toContain('id="remove-totp"');
    const kept = await agent.submit(account2, '/account/remove-method', { method: 'totp' });
    expect(kept.status).toBe(409);
    expect(textOf(kept)).toContain('Minddistrict');
    expect((await server.services.store.credentials.listByAccount(record.id, 'totp')).length).toBe(1);
    // "Uses" is the lifecycle's record of the account's portals, not the audit trail: with every
    // event past the retention limit (gone), the portal still counts.
    expect(await server.services.store.audit.removeBefore(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
    const afterRetention = await agent.submit(await agent.open(`${server.url}/account`), '/account/remove-method', { method: 'totp' });
    expect(afterRetention.status).toBe(409);
    expect((await server.services.store.credentials.listByAccount(record.id, 'totp')).length).toBe(1);
    // Without such a portal (its requirement lifted), removing it takes the recovery codes along.
    await server.clients.update(app.clientId, { mfa: 'optional' });
    const account3 = await agent.open(`${server.url}/account`);
    const removed = await agent.submit(account3, '/account/remove-method', { method: 'totp' });
    expect(textOf(removed)).toContain('Authenticator-app is verwijderd.');
    expect((await server.services.store.credentials.listByAccount(record.id)).map((c) => c.type)).toEqual(['password']);
    // Nothing left to remove, and a method without a credential of its own cannot be "removed".
    expect(removed.html).not.toContain('/account/remove-method');
    const fields = findForm(removed, '/account/remember').fields;
    const refused = await agent.request(`${server.url}/account/remove-method`, { method: 'POST', body: new URLSearchParams({ ...fields, method: 'voice' }).toString() });
    expect(refused.status).toBe(400);
  });
});
