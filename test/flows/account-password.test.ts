// The patient's own password change on /account/password, through the real server, openid-client
// as the portals, the real SMTP server, the twilio client against the fake API and a portal's
// back-channel logout endpoint that verifies the logout tokens: every other sign-in ends (another
// browser's session, a portal's refresh token, the portals in this browser, each told by
// back-channel logout), this browser stays signed in at /account; the notice is mailed, remembered
// devices are forgotten, the change is audited (via account). A wrong current password, a profile
// violation and a mismatch are refused with the error summary, a 4xx and nothing changed, and count
// toward the lockout where they are guesses; no change without the console's recent sign-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { AccountRecord } from '../../src/store/port.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, finishAtPortal, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { startLogoutReceiver, type LogoutReceiver } from '../support/logout-receiver.ts';

const NEW_PASSWORD = 'Zonnebloem-Kapstok-77';
const SUBSTANTIAL = 'urn:poortwachter:acr:substantial';
const EN_MISMATCH = 'The confirmation does not match the new password. Enter the same password twice.';

describe('/account/password: the patient changes their own password', () => {
  let world: FactorWorld;
  /** A portal with a back-channel logout endpoint and a profile of its own (digit, upper case, a special from "-#"). */
  let zinn: RelyingParty;
  let zinnLogouts: LogoutReceiver;
  /** A portal without one: its tokens simply stop working. */
  let flynth: RelyingParty;
  let nextNumber = 10;

  beforeAll(async () => {
    world = await startFactorWorld();
    let zinnId = '';
    zinnLogouts = await startLogoutReceiver(() => world.server.url, () => zinnId);
    await world.server.services.passwordProfiles.add({ name: 'zinn', minLength: 12, maxLength: 128, require: ['digit', 'upper', 'special'], specials: '-#', blocklist: true, notNames: true, history: 3 });
    zinn = await world.portal({ name: 'ZINN', passwordProfile: 'zinn', backchannelLogoutUri: zinnLogouts.uri });
    zinnId = zinn.clientId;
    flynth = await world.portal({ name: 'Flynth' });
  });
  afterAll(async () => {
    await world?.close();
    await zinnLogouts?.close();
  });

  function phone(): string {
    nextNumber += 1;
    return `+316200066${nextNumber}`;
  }

  async function patient(username: string): Promise<{ account: AccountRecord; number: string }> {
    const number = phone();
    return { account: await userWithFactors(world.server, { username, phoneE164: number }, ['sms']), number };
  }

  /** A login at a portal with the password and an SMS code, in `agent`'s browser session. */
  async function portalLogin(rp: RelyingParty, agent: UserAgent, account: AccountRecord, number: string) {
    // Past the 30 s between two codes to one account.
    world.clock.advance(31_000);
    const { page, request } = await loginUntilSecondFactor(rp, agent, account.username);
    const sms = await world.twilio.waitForSms(number);
    return finishAtPortal(rp, await submitStep(agent, page, 'sms', 'verify', { code: extractCode(sms.body) }), request);
  }

  /** Signs in to /account (password and SMS code) unless this browser's session is recent and strong enough: the overview. */
  async function signInToAccount(agent: UserAgent, account: AccountRecord, number: string): Promise<Page> {
    const login = await agent.open(`${world.server.url}/account`);
    if (new URL(login.url).pathname === '/account') return login;
    world.clock.advance(31_000);
    const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
    const sms = await world.twilio.waitForSms(number);
    const page = await submitStep(agent, second, 'sms', 'verify', { code: extractCode(sms.body) });
    expect(new URL(page.url).pathname, textOf(page).slice(0, 300)).toBe('/account');
    return page;
  }

  function changePassword(agent: UserAgent, page: Page, values: Record<string, string>): Promise<Page> {
    return agent.submit(page, '/account/password', values);
  }

  it('ends every other sign-in — another browser, a portal\'s refresh token, the portals here, told by back-channel logout — and keeps this browser signed in at /account', async () => {
    const { account, number } = await patient('eigen-wachtwoord');
    // Another browser (whoever knew the old password) signed in at ZINN and at Flynth.
    const elsewhere = new UserAgent();
    const zinnThere = await portalLogin(zinn, elsewhere, account, number);
    const flynthThere = await portalLogin(flynth, new UserAgent(), account, number);
    // Their refresh tokens work before the change (so the test can fail).
    const zinnRefreshed = await oidc.refreshTokenGrant(zinn.config, zinnThere.tokens.refresh_token!);
    expect(zinnThere.tokens.refresh_token && flynthThere.tokens.refresh_token).toBeTruthy();

    // This browser: signed in at ZINN too, then the console.
    const here = new UserAgent();
    const zinnHere = await portalLogin(zinn, here, account, number);
    const overview = await signInToAccount(here, account, number);
    await world.server.services.devices.remember(account, { factor: 'sms', amr: ['sms'], strength: 2 }, SUBSTANTIAL, 'Firefox');

    // From the console's "Wachtwoord" section to its page: every rule before anything is typed.
    expect(findForm(overview, '/account/email')).toBeDefined();
    expect(overview.html).toContain('href="/account/password"');
    const form = await here.open(`${world.server.url}/account/password`);
    expect(form.status).toBe(200);
    const before = textOf(form);
    expect(before).toContain('Wachtwoord wijzigen');
    expect(before).toContain('Huidig wachtwoord');
    for (const rule of ['Minstens 12 tekens', 'Minstens één cijfer', 'Minstens één hoofdletter', 'Minstens één van deze vreemde tekens: -#', 'Niet gelijk aan uw vorige 3 wachtwoorden']) {
      expect(before).toContain(rule);
    }

    const done = await changePassword(here, form, { current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(done.status).toBe(200);
    expect(textOf(done)).toContain('Uw wachtwoord is gewijzigd. U bent uitgelogd op andere apparaten en bij alle portalen.');
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(await world.server.services.passwords.match(after, NEW_PASSWORD)).toBe('password');

    // Every portal's refresh token fails, another browser's and this browser's alike; access tokens no longer introspect.
    await expect(oidc.refreshTokenGrant(zinn.config, zinnRefreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(flynth.config, flynthThere.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(zinn.config, zinnHere.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(flynth.config, flynthThere.tokens.access_token)).active).toBe(false);
    // ZINN heard of both its sessions by back-channel logout (Flynth registered no endpoint).
    await expect.poll(() => zinnLogouts.received.map((l) => l.sid).sort()).toEqual([zinnThere.claims.sid, zinnHere.claims.sid].sort());
    expect(zinnLogouts.refused).toEqual([]);

    // This browser is still signed in at /account; the other one is sent to sign in.
    const stillHere = await here.request(`${world.server.url}/account`);
    expect(stillHere.status).toBe(200);
    expect(textOf(stillHere)).toContain('Mijn account');
    const gone = await elsewhere.request(`${world.server.url}/account`);
    expect(gone.status).toBe(303);
    expect(gone.location).toContain('/auth?');

    // Told by mail; remembered devices forgotten; audited without the password.
    expect((await world.smtp.waitForMail(account.email)).subject).toBe('Het wachtwoord van uw account is gewijzigd');
    expect(await world.server.services.devices.list(account.id)).toEqual([]);
    const [event] = await world.server.services.store.audit.list({ accountId: account.id, type: 'password.changed' });
    expect(event).toMatchObject({ actor: 'patient', detail: { via: 'account', outcome: 'changed', backchannel: 2 } });
    expect(JSON.stringify(await world.server.services.store.audit.list({ accountId: account.id, limit: 100 }))).not.toContain(NEW_PASSWORD);
    expect(textOf(stillHere)).toContain('Wachtwoord gewijzigd.');

    // The profile's history: the old password cannot come back.
    const again = await here.open(`${world.server.url}/account/password`);
    const reused = await changePassword(here, again, { current: NEW_PASSWORD, new: TEST_PASSWORD, confirm: TEST_PASSWORD });
    expect(reused.status).toBe(400);
    expect(textOf(reused)).toContain('Het nieuwe wachtwoord moet ongelijk zijn aan de vorige 3 wachtwoorden.');
  });

  it('refuses a wrong current password (it counts toward the lockout), a profile violation and a mismatch: error summary, 4xx, nothing changed', async () => {
    const { account, number } = await patient('fout-wachtwoord');
    // Signed in at ZINN once: ZINN's profile applies to the account's new password.
    const elsewhere = new UserAgent();
    const zinnThere = await portalLogin(zinn, elsewhere, account, number);
    const here = new UserAgent();
    await signInToAccount(here, account, number);
    const form = await here.open(`${world.server.url}/account/password`);

    const wrong = await changePassword(here, form, { current: 'Niet-Mijn-Wachtwoord-1', new: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('class="error-summary"');
    expect(wrong.html).toContain('href="#current"');
    expect(textOf(wrong)).toContain('Uw huidige wachtwoord is onjuist.');
    expect((await world.server.services.lockout.status(account)).failures).toBe(1);

    const weak = await changePassword(here, wrong, { current: TEST_PASSWORD, new: 'zonnebloemkapstok', confirm: 'zonnebloemkapstok' });
    expect(weak.status).toBe(400);
    expect(weak.html).toContain('href="#new"');
    expect(textOf(weak)).toContain('Het nieuwe wachtwoord moet een cijfer bevatten.');
    expect(textOf(weak)).toContain('Het nieuwe wachtwoord moet een hoofdletter bevatten.');

    const english = await here.open(`${world.server.url}/account/password?lang=en`);
    expect(textOf(english)).toContain('Change password');
    const mismatch = await changePassword(here, english, { current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` });
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain('href="#confirm"');
    expect(textOf(mismatch)).toContain(EN_MISMATCH);

    // Nothing changed: the old password works, ZINN's refresh token too, no notice was mailed.
    const stored = (await world.server.services.accounts.findById(account.id))!;
    expect(await world.server.services.passwords.match(stored, TEST_PASSWORD)).toBe('password');
    await oidc.refreshTokenGrant(zinn.config, zinnThere.tokens.refresh_token!);
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes(account.email) && m.subject.includes('wachtwoord'))).toEqual([]);
    expect(await world.server.services.store.audit.list({ accountId: account.id, type: 'password.changed' })).toEqual([]);
  });

  it('refuses a change without the console\'s recent sign-in, or posted with another account\'s form: nothing changed', async () => {
    const first = await patient('oud-inloggen');
    const second = await patient('ander-formulier');
    const one = new UserAgent();
    const two = new UserAgent();
    await signInToAccount(one, first.account, first.number);
    await signInToAccount(two, second.account, second.number);
    const oneForm = await one.open(`${world.server.url}/account/password`);
    const { fields } = findForm(oneForm, '/account/password');

    const foreign = await two.request(`${world.server.url}/account/password`, { method: 'POST', body: new URLSearchParams({ ...fields, current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: NEW_PASSWORD }).toString() });
    expect(foreign.status).toBe(403);

    world.clock.advance(11 * 60_000);
    const stale = await one.request(`${world.server.url}/account/password`, { method: 'POST', body: new URLSearchParams({ ...fields, current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: NEW_PASSWORD }).toString() });
    expect(stale.status).toBe(303);
    expect(stale.location).toContain('/auth?');
    for (const { account } of [first, second]) {
      const stored = (await world.server.services.accounts.findById(account.id))!;
      expect(await world.server.services.passwords.match(stored, TEST_PASSWORD)).toBe('password');
    }
  });
});
