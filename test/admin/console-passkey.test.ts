// The admin console's residual closed by commit 1d1e3ea, replayed through the real server on
// `localhost` (a passkey needs an RP ID that is not an IP) with the plain-form browser, the
// authenticator app on the fake clock, and software authenticators signing with real keys.
// An admin set up an app or a passkey before the role was granted, and keeps recovery codes. An
// intruder with the password and ONE recovery code binds a method of their own (the binding rule
// lets a recovery code bind a new factor, policy/proof-rules.ts bindingFactors), then signs in to
// /admin with the password and that new method. The console refuses it (403, audited `factor_new`):
// the login's own proof names the credential that made it, younger than the grant, and that the
// account also holds the admin's old method vouches for nothing. The admin with the password and
// the old method gets in. Before the fix the console asked only whether the account *held* an old
// app or passkey, and let the intruder in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translator } from '../../src/i18n/i18n.ts';
import type { AccountRecord } from '../../src/store/port.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { finishAtPortal, loginUntilSecondFactor, startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { SoftAuthenticator, passkeyOptionsOf, type CreationOptions, type RequestOptions } from '../support/soft-authenticator.ts';
import { STEP_MS, enrolWithApp, keyFromPage, recoveryCodesFromPage, totpCode } from '../support/totp.ts';
import { CLI } from '../support/admin-console.ts';

const SIGN_IN = '/step/passkey/signin';
const REGISTER = '/step/passkey/register';
const TOTP = '/step/totp/verify';

describe('the /admin console and a method bound with a recovery code after the grant', () => {
  let world: FactorWorld;
  /** Requires a second factor and accepts only passkeys: where an admin sets up passkey A. */
  let keys: RelyingParty;
  /** Requires the authenticator app. */
  let app: RelyingParty;
  let origin: string;

  beforeAll(async () => {
    world = await startFactorWorld({ issuerHost: 'localhost' });
    origin = world.server.url;
    keys = await world.portal({ name: 'Sleutelportaal', mfa: 'required', mfaMethods: ['passkey'] });
    app = await world.portal({ name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
  });
  afterAll(() => world?.close());

  const store = () => world.server.services.store;

  function postPasskey(agent: UserAgent, page: Page, action: string, response: unknown, stopAt?: string): Promise<Page> {
    return agent.submit(page, action, { passkey_response: JSON.stringify(response) }, stopAt);
  }

  /** The next 30-second step's code, so every code is unused. */
  async function nextTotp(key: string): Promise<string> {
    world.clock.advance(STEP_MS);
    return totpCode(key, world.clock.now());
  }

  /** Passkey A through a real enrolment at a portal's login; returns the recovery codes it showed. */
  async function enrolPasskey(username: string, authenticator: SoftAuthenticator): Promise<{ account: AccountRecord; codes: string[] }> {
    const account = await world.server.addUser({ username, emailVerified: true });
    const agent = new UserAgent();
    const { page: again, request } = await loginUntilSecondFactor(keys, agent, username);
    const enrol = await agent.submit(again, '/step/password/verify', { password: TEST_PASSWORD }, REDIRECT_URI);
    const confirm = await postPasskey(agent, enrol, REGISTER, authenticator.register(passkeyOptionsOf<CreationOptions>(enrol.html), { origin }), REDIRECT_URI);
    const shown = await postPasskey(agent, confirm, SIGN_IN, authenticator.authenticate(passkeyOptionsOf<RequestOptions>(confirm.html), { origin }), REDIRECT_URI);
    const codes = recoveryCodesFromPage(shown);
    await finishAtPortal(keys, await agent.submit(shown, '/step/recovery/confirm', { saved: 'on' }, REDIRECT_URI), request);
    return { account, codes };
  }

  /** The operator role, a minute after the admin's method was set up; the next login starts a minute later. */
  async function grantOperator(account: AccountRecord): Promise<number> {
    world.clock.advance(60_000);
    await world.server.app.operations.admins.grant(CLI, { username: account.username, role: 'operator' });
    const grant = await store().adminGrants.find(account.id);
    world.clock.advance(60_000);
    return grant!.grantedAt;
  }

  /** /admin in a fresh browser: the password, then `method`'s page (chosen under "use another method" when another comes first). */
  async function adminLogin(username: string, method: 'passkey' | 'totp'): Promise<{ agent: UserAgent; page: Page }> {
    const agent = new UserAgent();
    const login = await agent.open(`${world.server.url}/admin`);
    let page = await agent.submit(login, '/step/password/verify', { login: username, password: TEST_PASSWORD });
    const form = method === 'passkey' ? SIGN_IN : TOTP;
    if (!page.html.includes(form)) page = await agent.submit(page, '/choose', { method });
    expect(page.html, textOf(page).slice(0, 500)).toContain(form);
    return { agent, page };
  }

  async function withPasskey(username: string, authenticator: SoftAuthenticator, credentialId: string): Promise<{ agent: UserAgent; page: Page }> {
    const { agent, page } = await adminLogin(username, 'passkey');
    return { agent, page: await postPasskey(agent, page, SIGN_IN, authenticator.authenticate(passkeyOptionsOf<RequestOptions>(page.html), { origin, credentialId })) };
  }

  async function withApp(username: string, key: string): Promise<{ agent: UserAgent; page: Page }> {
    const { agent, page } = await adminLogin(username, 'totp');
    return { agent, page: await agent.submit(page, TOTP, { code: await nextTotp(key) }) };
  }

  async function refusals(account: AccountRecord): Promise<unknown[]> {
    return (await store().audit.list({ accountId: account.id, type: 'admin.console.refused' })).map((e) => e.detail.outcome);
  }

  function expectRefused(agent: UserAgent, page: Page): void {
    expect(page.status, textOf(page).slice(0, 500)).toBe(403);
    // The console's "a recent login with an app or passkey is needed" page, as for a method set up in the login itself.
    expect(textOf(page)).toContain(translator('nl')('admin.errors.too_weak'));
    expect(agent.hasCookie('pw_admin')).toBe(false);
  }

  function expectIn(agent: UserAgent, page: Page, username: string): void {
    expect(page.status, textOf(page).slice(0, 500)).toBe(200);
    expect(new URL(page.url).pathname).toBe('/admin');
    expect(textOf(page)).toContain(`Ingelogd als ${username} (beheerder)`);
    expect(agent.hasCookie('pw_admin')).toBe(true);
  }

  it('refuses the password with a passkey added on /account with a recovery code; the admin’s app, held at the grant, gets in', async () => {
    const account = await world.server.addUser({ username: 'beheer-app', emailVerified: true });
    const { key, recoveryCodes } = await enrolWithApp(app, new UserAgent(), world.clock, 'beheer-app');
    const grantedAt = await grantOperator(account);

    // The intruder: the password and one recovery code, on /account ("use another method").
    const intruder = new UserAgent();
    const login = await intruder.open(`${world.server.url}/account`);
    const second = await intruder.submit(login, '/step/password/verify', { login: 'beheer-app', password: TEST_PASSWORD });
    const other = await intruder.submit(second, '/choose', { method: 'recovery' });
    const settings = await intruder.submit(other, '/step/recovery/verify', { code: recoveryCodes[0]! });
    expect(new URL(settings.url).pathname, textOf(settings).slice(0, 500)).toBe('/account');

    // Passkey B, added there: registered, then confirmed once.
    const theirs = new SoftAuthenticator();
    const enrol = await intruder.submit(settings, '/account/enrol', { method: 'passkey' });
    const confirm = await postPasskey(intruder, enrol, REGISTER, theirs.register(passkeyOptionsOf<CreationOptions>(enrol.html), { origin }));
    const added = await postPasskey(intruder, confirm, SIGN_IN, theirs.authenticate(passkeyOptionsOf<RequestOptions>(confirm.html), { origin }));
    expect(new URL(added.url).pathname, textOf(added).slice(0, 500)).toMatch(/^\/account/);
    const [passkeyB] = await store().credentials.listByAccount(account.id, 'passkey');
    expect(passkeyB!.createdAt).toBeGreaterThan(grantedAt);

    // The console: the password and passkey B (a phishing-resistant proof, of a passkey younger than the grant).
    world.clock.advance(60_000);
    const refused = await withPasskey('beheer-app', theirs, theirs.ids()[0]!);
    expectRefused(refused.agent, refused.page);
    expect(await refusals(account)).toEqual(['factor_new']);

    // The admin: the password and the app held at the grant.
    const admin = await withApp('beheer-app', key);
    expectIn(admin.agent, admin.page, 'beheer-app');
  });

  it('refuses the password with an app set up in a portal’s login with a recovery code; the admin’s passkey, held at the grant, gets in', async () => {
    const admins = new SoftAuthenticator();
    const { account, codes } = await enrolPasskey('beheer-sleutel', admins);
    const [passkeyA] = await store().credentials.listByAccount(account.id, 'passkey');
    const grantedAt = await grantOperator(account);
    expect(passkeyA!.createdAt).toBeLessThanOrEqual(grantedAt);

    // On /account a recovery code does not stand in for a passkey: binding to an account with a
    // passkey asks for the phishing-resistant level, so the login asks for the passkey again.
    const refusedAccount = new UserAgent();
    const accountLogin = await refusedAccount.open(`${world.server.url}/account`);
    const accountSecond = await refusedAccount.submit(accountLogin, '/step/password/verify', { login: 'beheer-sleutel', password: TEST_PASSWORD });
    const accountOther = await refusedAccount.submit(accountSecond, '/choose', { method: 'recovery' });
    const notIn = await refusedAccount.submit(accountOther, '/step/recovery/verify', { code: codes[0]! });
    expect(new URL(notIn.url).pathname).not.toBe('/account');
    expect(notIn.html).toContain(SIGN_IN);

    // A portal that requires the app is another way: the recovery code proves the binding there,
    // and the intruder sets up app B in the login.
    const intruder = new UserAgent();
    const { page: second, request } = await loginUntilSecondFactor(app, intruder, 'beheer-sleutel');
    const other = second.html.includes('/step/recovery/verify') ? second : await intruder.submit(second, '/choose', { method: 'recovery' }, REDIRECT_URI);
    const enrol = await intruder.submit(other, '/step/recovery/verify', { code: codes[1]! }, REDIRECT_URI);
    const keyB = keyFromPage(enrol);
    const done = await intruder.submit(enrol, TOTP, { code: await nextTotp(keyB) }, REDIRECT_URI);
    await finishAtPortal(app, done, request);
    const [appB] = await store().credentials.listByAccount(account.id, 'totp');
    expect(appB!.createdAt).toBeGreaterThan(grantedAt);

    // The console: the password and app B (the account also holds passkey A, which did not sign in).
    world.clock.advance(60_000);
    const refused = await withApp('beheer-sleutel', keyB);
    expectRefused(refused.agent, refused.page);
    expect(await refusals(account)).toEqual(['factor_new']);

    // The admin: the password and passkey A.
    const admin = await withPasskey('beheer-sleutel', admins, admins.ids()[0]!);
    expectIn(admin.agent, admin.page, 'beheer-sleutel');
  });
});
