// Passkeys through the real flow routes (the real server on `localhost`, the patient's browser
// without JavaScript, a software authenticator signing with real keys): what a script or an
// attacker can post instead of what passkey.js would. Malformed, oversized or mistyped
// responses, another account's passkey, another flow's (another browser's) challenge, a spent
// challenge, a replayed post, another origin and another RP ID: each a clear 4xx with the text in
// the patient's language, counted as a failed attempt (the passkey limit), audited, and nothing
// stored (no credential, no counter moved). A copy of a passkey (its counter did not go up) is
// refused too, and its owner told by mail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { translator, type Language } from '../../src/i18n/i18n.ts';
import { clientAddressKey } from '../../src/accounts/client-address.ts';
import type { AccountRecord } from '../../src/store/port.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { finishAtPortal, loginUntilSecondFactor, passRecoveryCodes, startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { SoftAuthenticator, passkeyOptionsOf, type CreationOptions, type RequestOptions } from '../support/soft-authenticator.ts';

const SIGN_IN = '/step/passkey/signin';
const REGISTER = '/step/passkey/register';
const EVIL = 'https://poortwachter.example.net';

describe('passkeys through the flow routes: bad input', () => {
  let world: FactorWorld;
  /** Requires a second factor and accepts only passkeys. */
  let keys: RelyingParty;
  /** MFA optional: the first page offers passwordless sign-in beside the password. */
  let open: RelyingParty;
  let origin: string;

  beforeAll(async () => {
    world = await startFactorWorld({ issuerHost: 'localhost' });
    origin = world.server.url;
    keys = await world.portal({ name: 'Sleutelportaal', mfa: 'required', mfaMethods: ['passkey'] });
    open = await world.portal({ name: 'Open portaal' });
  });

  afterAll(() => world?.close());

  const store = () => world.server.services.store;
  const message = (key: string, lang: Language = 'nl') => translator(lang)(key);

  /** Failed passkey attempts counted against the account (second factor, enrolment). */
  async function failuresOf(account: AccountRecord): Promise<number> {
    return (await store().throttles.get(`passkey-fail:acct:${account.id}`, world.clock.now()))?.count ?? 0;
  }

  /** Failed passwordless attempts counted against the client address (no account is known yet). */
  async function failuresOfAddress(): Promise<number> {
    return (await store().throttles.get(`passkey-fail:ip:${clientAddressKey('127.0.0.1')}`, world.clock.now()))?.count ?? 0;
  }

  /** Every passkey stored, of every account: what "nothing stored" compares. */
  async function allPasskeys(...accounts: AccountRecord[]) {
    return (await Promise.all(accounts.map((a) => store().credentials.listByAccount(a.id, 'passkey')))).flat();
  }

  async function auditReasons(account: AccountRecord | null, type: string): Promise<unknown[]> {
    const events = await store().audit.list({ type, ...(account ? { accountId: account.id } : {}) });
    return events.map((e) => e.detail.reason).reverse(); // oldest first
  }

  function postPasskey(agent: UserAgent, page: Page, action: string, response: unknown): Promise<Page> {
    return agent.submit(page, action, { passkey_response: typeof response === 'string' ? response : JSON.stringify(response) }, REDIRECT_URI);
  }

  /** A patient who enrolled a passkey at the login's MFA step (registration, then the sign-in that proves it). */
  async function patientWithPasskey(username: string, authenticator: SoftAuthenticator): Promise<AccountRecord> {
    const account = await world.server.addUser({ username, emailVerified: true });
    const agent = new UserAgent();
    const { page: again, request } = await loginUntilSecondFactor(keys, agent, username);
    const enrol = await agent.submit(again, '/step/password/verify', { password: TEST_PASSWORD }, REDIRECT_URI);
    const confirm = await postPasskey(agent, enrol, REGISTER, authenticator.register(passkeyOptionsOf<CreationOptions>(enrol.html), { origin }));
    expect(confirm.status).toBe(200);
    const done = await passRecoveryCodes(agent, await postPasskey(agent, confirm, SIGN_IN, authenticator.authenticate(passkeyOptionsOf<RequestOptions>(confirm.html), { origin })));
    const { claims } = await finishAtPortal(keys, done, request);
    expect(claims.amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);
    expect(claims.acr).toBe(ACR.phishingResistant);
    return account;
  }

  /** A fresh browser at the passkey step after the password. */
  async function atSecondFactor(username: string, lang: Language = 'nl') {
    const agent = new UserAgent();
    agent.setCookie('pw_lang', lang); // the patient's choice of language (the switch on every page)
    const { page, request } = await loginUntilSecondFactor(keys, agent, username);
    expect(page.html).toContain(SIGN_IN);
    return { agent, page, request, options: passkeyOptionsOf<RequestOptions>(page.html) };
  }

  /** The answer to a refused post: its status, the text shown, and the passkey form offered again. */
  function expectRefused(page: Page, status: number, key: string, lang: Language = 'nl'): void {
    expect(page.status).toBe(status);
    expect(textOf(page)).toContain(message(key, lang));
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
  }

  it('refuses malformed, mistyped and oversized responses at the second factor, counted, nothing stored', async () => {
    const pats = new SoftAuthenticator();
    const pat = await patientWithPasskey('pat', pats);
    const before = await allPasskeys(pat);
    const { agent, page, options } = await atSecondFactor('pat');
    const good = pats.authenticate(options, { origin }) as { response: Record<string, unknown> };

    const cases: Array<[string, string, number, string]> = [
      ['malformed JSON', '{"id": "abc", "response": {', 400, 'passkey.errors.retry'],
      ['not an object', '"public-key"', 400, 'passkey.errors.retry'],
      ['a number where a byte string belongs', JSON.stringify({ ...good, response: { ...good.response, signature: 42 } }), 400, 'passkey.errors.retry'],
      ['a credential id that is not base64url', JSON.stringify({ ...good, id: 'not base64url!', rawId: 'not base64url!' }), 400, 'passkey.errors.retry'],
      ['the wrong credential type', JSON.stringify({ ...good, type: 'password' }), 400, 'passkey.errors.retry'],
      ['more than 8 KiB (within the form limit)', JSON.stringify({ ...good, clientExtensionResults: { padding: 'x'.repeat(9 * 1024) } }), 413, 'passkey.errors.retry'],
    ];
    let current = page;
    for (const [what, body, status, key] of cases) {
      const failures = await failuresOf(pat);
      const answer = await postPasskey(agent, current, SIGN_IN, body);
      expectRefused(answer, status, key);
      expect(await failuresOf(pat), what).toBe(failures + 1);
      current = answer;
    }
    expect(await auditReasons(pat, 'login.passkey.failed')).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'too-large']);
    expect(await allPasskeys(pat)).toEqual(before);

    // Beyond the form limit (16 KiB) the form parser answers before any step: 413 with the
    // general text, and the flow is untouched.
    const huge = await agent.request(findForm(current, SIGN_IN).action, { method: 'POST', body: new URLSearchParams({ ...findForm(current, SIGN_IN).fields, passkey_response: 'x'.repeat(20 * 1024) }).toString() });
    expect(huge.status).toBe(413);
    expect(textOf(huge)).toContain(message('errors.too_large'));
    expect(await allPasskeys(pat)).toEqual(before);

    // The same browser can still sign in with its passkey (the page it was last shown).
    const done = await postPasskey(agent, current, SIGN_IN, pats.authenticate(passkeyOptionsOf<RequestOptions>(current.html), { origin }));
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('answers in the patient’s language (English)', async () => {
    const ens = new SoftAuthenticator();
    const en = await patientWithPasskey('en', ens);
    const { agent, page } = await atSecondFactor('en', 'en');
    const failures = await failuresOf(en);
    const answer = await postPasskey(agent, page, SIGN_IN, '{');
    expectRefused(answer, 400, 'passkey.errors.retry', 'en');
    expect(message('passkey.errors.retry', 'en')).not.toBe(message('passkey.errors.retry', 'nl'));
    expect(await failuresOf(en)).toBe(failures + 1);
  });

  it('refuses another account’s passkey at the second factor: counted, neither counter moves', async () => {
    const annas = new SoftAuthenticator();
    const bobs = new SoftAuthenticator();
    const anna = await patientWithPasskey('anna', annas);
    const bob = await patientWithPasskey('bob', bobs);
    const before = await allPasskeys(anna, bob);
    const { agent, page, options } = await atSecondFactor('anna');
    const failures = await failuresOf(anna);
    // Bob's authenticator signs Anna's challenge, for our origin: a valid signature, the wrong owner.
    const answer = await postPasskey(agent, page, SIGN_IN, bobs.authenticate(options, { origin, credentialId: bobs.ids()[0]! }));
    expectRefused(answer, 401, 'passkey.errors.other_account');
    expect(await failuresOf(anna)).toBe(failures + 1);
    expect(await failuresOf(bob)).toBe(0);
    expect(await auditReasons(anna, 'login.passkey.failed')).toEqual(['other-account']);
    expect(await allPasskeys(anna, bob)).toEqual(before);
  });

  it('refuses a response to another flow’s challenge (another browser), a spent challenge and a replayed post', async () => {
    const carlas = new SoftAuthenticator();
    const carla = await patientWithPasskey('carla', carlas);
    const before = await allPasskeys(carla);
    const mine = await atSecondFactor('carla');
    const theirs = await atSecondFactor('carla');

    // Carla's own passkey, but signed over the other browser's challenge.
    let failures = await failuresOf(carla);
    const crossed = await postPasskey(mine.agent, mine.page, SIGN_IN, carlas.authenticate(theirs.options, { origin }));
    expectRefused(crossed, 400, 'passkey.errors.expired');
    expect(await failuresOf(carla)).toBe(failures + 1);
    expect(await allPasskeys(carla)).toEqual(before);
    // That post spent nothing of the other flow: its own challenge still signs it in.
    const theirsDone = await postPasskey(theirs.agent, theirs.page, SIGN_IN, carlas.authenticate(theirs.options, { origin }));
    expect(theirsDone.url.startsWith(REDIRECT_URI)).toBe(true);
    const afterTheirs = await allPasskeys(carla);

    // A spent challenge: the refused post above spent this flow's first challenge; a valid
    // response to it is refused too (the page now carries a new one).
    failures = await failuresOf(carla);
    const spent = await postPasskey(mine.agent, crossed, SIGN_IN, carlas.authenticate(mine.options, { origin }));
    expectRefused(spent, 400, 'passkey.errors.expired');
    expect(await failuresOf(carla)).toBe(failures + 1);
    expect(await allPasskeys(carla)).toEqual(afterTheirs);

    // A post replayed after it signed in: the flow is over, nothing moves.
    const fresh = await atSecondFactor('carla');
    const form = findForm(fresh.page, SIGN_IN);
    const body = new URLSearchParams({ ...form.fields, passkey_response: JSON.stringify(carlas.authenticate(fresh.options, { origin })) }).toString();
    const first = await fresh.agent.follow(await fresh.agent.request(form.action, { method: 'POST', body }), REDIRECT_URI);
    expect(first.url.startsWith(REDIRECT_URI)).toBe(true);
    const signedIn = await allPasskeys(carla);
    const replayed = await fresh.agent.request(form.action, { method: 'POST', body });
    expect(replayed.status).toBeGreaterThanOrEqual(400);
    expect(replayed.status).toBeLessThan(500);
    expect(await allPasskeys(carla)).toEqual(signedIn);
    expect((await auditReasons(carla, 'login.passkey.failed')).sort()).toEqual(['challenge-mismatch', 'challenge-mismatch']);
  });

  it('refuses a sign-in made for another origin or another RP ID (second factor and passwordless), audited', async () => {
    const dirks = new SoftAuthenticator();
    const dirk = await patientWithPasskey('dirk', dirks);
    const before = await allPasskeys(dirk);
    let { agent, page, options } = await atSecondFactor('dirk');
    let failures = await failuresOf(dirk);
    const wrongOrigin = await postPasskey(agent, page, SIGN_IN, dirks.authenticate(options, { origin: EVIL }));
    expectRefused(wrongOrigin, 400, 'passkey.errors.wrong_site');
    options = passkeyOptionsOf<RequestOptions>(wrongOrigin.html);
    const wrongRp = await postPasskey(agent, wrongOrigin, SIGN_IN, dirks.authenticate(options, { origin, rpId: 'poortwachter.example.net' }));
    expectRefused(wrongRp, 400, 'passkey.errors.wrong_site');
    expect(await failuresOf(dirk)).toBe(failures + 2);
    expect(await auditReasons(dirk, 'login.passkey.failed')).toEqual(['wrong-origin', 'wrong-rp-id']);
    expect(await allPasskeys(dirk)).toEqual(before);

    // Passwordless, from the first page: counted against the client address (no account known).
    agent = new UserAgent();
    const request = await open.authorize();
    page = await agent.open(request.url, REDIRECT_URI);
    options = passkeyOptionsOf<RequestOptions>(page.html);
    failures = await failuresOfAddress();
    const foreign = await postPasskey(agent, page, SIGN_IN, dirks.authenticate(options, { origin: EVIL }));
    expectRefused(foreign, 400, 'passkey.errors.wrong_site');
    const foreignRp = await postPasskey(agent, foreign, SIGN_IN, dirks.authenticate(passkeyOptionsOf<RequestOptions>(foreign.html), { origin, rpId: 'example.net' }));
    expectRefused(foreignRp, 400, 'passkey.errors.wrong_site');
    expect(await failuresOfAddress()).toBe(failures + 2);
    expect((await auditReasons(null, 'login.passkey.failed')).slice(-2)).toEqual(['wrong-origin', 'wrong-rp-id']);
    expect(await allPasskeys(dirk)).toEqual(before);
    // Then the right origin signs in, without a password.
    const done = await postPasskey(agent, foreignRp, SIGN_IN, dirks.authenticate(passkeyOptionsOf<RequestOptions>(foreignRp.html), { origin }));
    const { claims } = await finishAtPortal(open, done, request);
    expect(claims.sub).toBe(dirk.id);
    expect(claims.amr).toEqual(['hwk', 'user', 'mfa']);
  });

  it('refuses a registration made for another origin or another RP ID at enrolment, audited, nothing stored', async () => {
    const eva = await world.server.addUser({ username: 'eva', emailVerified: true });
    const evas = new SoftAuthenticator();
    const agent = new UserAgent();
    const { page: again } = await loginUntilSecondFactor(keys, agent, 'eva');
    let page = await agent.submit(again, '/step/password/verify', { password: TEST_PASSWORD }, REDIRECT_URI);
    expect(page.html).toContain(REGISTER);
    const failures = await failuresOf(eva);
    page = await postPasskey(agent, page, REGISTER, evas.register(passkeyOptionsOf<CreationOptions>(page.html), { origin: EVIL }));
    expectRefused(page, 400, 'passkey.errors.wrong_site');
    page = await postPasskey(agent, page, REGISTER, evas.register(passkeyOptionsOf<CreationOptions>(page.html), { origin, rpId: 'poortwachter.example.net' }));
    expectRefused(page, 400, 'passkey.errors.wrong_site');
    // Malformed and oversized registrations too.
    page = await postPasskey(agent, page, REGISTER, '[1, 2');
    expectRefused(page, 400, 'passkey.errors.retry');
    page = await postPasskey(agent, page, REGISTER, JSON.stringify({ ...evas.register(passkeyOptionsOf<CreationOptions>(page.html), { origin }), clientExtensionResults: { padding: 'x'.repeat(9 * 1024) } }));
    expectRefused(page, 413, 'passkey.errors.retry');
    expect(await failuresOf(eva)).toBe(failures + 4);
    expect(await auditReasons(eva, 'passkey.registration_failed')).toEqual(['wrong-origin', 'wrong-rp-id', 'malformed', 'too-large']);
    expect(await allPasskeys(eva)).toEqual([]);
    // Registered for us, but confirmed by a sign-in for another origin: still nothing stored.
    const confirm = await postPasskey(agent, page, REGISTER, evas.register(passkeyOptionsOf<CreationOptions>(page.html), { origin }));
    expect(confirm.html).toContain(SIGN_IN);
    const wrongConfirm = await postPasskey(agent, confirm, SIGN_IN, evas.authenticate(passkeyOptionsOf<RequestOptions>(confirm.html), { origin: EVIL }));
    expectRefused(wrongConfirm, 400, 'passkey.errors.wrong_site');
    expect(await auditReasons(eva, 'login.passkey.failed')).toEqual(['wrong-origin']);
    expect(await allPasskeys(eva)).toEqual([]);
  });

  it('refuses a copy of a passkey (its counter did not go up): audited on the owner, who is told by mail once per window, never by SMS', async () => {
    const dians = new SoftAuthenticator();
    const dian = await patientWithPasskey('dian', dians);
    expect((await world.smtp.waitForMail(dian.email)).subject).toBe(message('notices.subject.method_added'));
    // A verified phone number, added after the enrolment: the notice must not text it.
    await world.server.services.accounts.setPhone(dian, '+31612349901', true);
    const [stored] = await allPasskeys(dian);
    const name = String(stored!.data.name);
    const credentialId = dians.ids()[0]!;
    const subject = message('notices.subject.passkey_clone');

    // The enrolment's sign-in stored count 1; a copy made before it reports 1 again.
    const tryCopy = async () => {
      dians.setSignCount(credentialId, 1);
      const { agent, page, options } = await atSecondFactor('dian');
      expectRefused(await postPasskey(agent, page, SIGN_IN, dians.authenticate(options, { origin })), 401, 'passkey.errors.clone');
    };
    await tryCopy();
    expect(await auditReasons(dian, 'login.passkey.failed')).toEqual(['counter-regression']);
    expect(await store().audit.list({ type: 'passkey.clone_suspected', accountId: dian.id })).toHaveLength(1);
    const mail = await world.smtp.waitForMail(dian.email);
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain(`‘${name}’`);
    expect(mail.text).toContain('Sleutelportaal');
    expect(await allPasskeys(dian)).toEqual([stored]);

    // Tried again within the hour: refused and audited again, but no second mail.
    await tryCopy();
    expect(await store().audit.list({ type: 'passkey.clone_suspected', accountId: dian.id })).toHaveLength(2);
    await expect(world.smtp.waitForMail(dian.email, { timeoutMs: 1_500 })).rejects.toThrow();

    // An hour later the patient hears of it again; no text message ever (whoever holds the copy sets it off).
    world.clock.advance(61 * 60_000);
    await tryCopy();
    expect((await world.smtp.waitForMail(dian.email)).subject).toBe(subject);
    await expect(world.twilio.waitForNotice('+31612349901', { timeoutMs: 1_000 })).rejects.toThrow();
    expect(world.twilio.messages.filter((m) => m.to === '+31612349901')).toEqual([]);
  });
});
