// The recovery flow (issue 9) through the real server, a real SMTP server and the real twilio
// client against the fake Twilio API: the Flynth reset by SMS and unlock by call, back at the
// portal's login; a wrong full number; the e-mail link (expired, used, another browser); recovery
// of an authenticator-app account needs the app or a recovery code; the CAPTCHA missing, forged,
// expired and replayed; the no-JavaScript budget; no account oracle; bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, extractCode, spokenCode, userWithFactors, expectNoSecrets, phoneForms, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { backLink, choose, identify, linkFromMail, newPassword, recoveryFromLogin, recoveryPolicyFile, solvedCaptcha, typeNumber } from '../support/recovery.ts';
import { totpCode } from '../support/totp.ts';
import { totpContext } from '../../src/factors/totp/totp-binding.ts';
import type { AccountRecord, AuditEvent } from '../../src/store/port.ts';
import { generateRecoveryCodes } from '../../src/factors/recovery/recovery-codes.ts';
import { accountLockKey } from '../../src/accounts/lockout.ts';
import * as oidc from 'openid-client';
import { passwordLogin } from '../support/relying-party.ts';

const PHONE = '+31612345656';
const APP_KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const NEW_PASSWORD = 'Zonnebloem-Kade-77';
const MINUTE = 60_000;

let world: FactorWorld;
let flynth: RelyingParty;

beforeAll(async () => {
  world = await startFactorWorld({ env: { POLICY_FILE: await recoveryPolicyFile() } });
  flynth = await world.portal({ name: 'Flynth Werkplek', recoveryLabel: 'forgot-or-locked', recoveryMethods: ['sms', 'voice', 'email-link'] });
});

afterAll(async () => {
  await world?.close();
});

async function audit(type: string, accountId?: string): Promise<AuditEvent[]> {
  return world.server.services.store.audit.list({ type, limit: 1000, ...(accountId ? { accountId } : {}) });
}

/** Waits (on the wall clock: work after the answer, not an expiry) until `check` holds; 5 s at most. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await check()); waited += 20) {
    if (waited > 5000) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An authenticator app set up on the account (the credential the app's enrolment stores). */
async function giveApp(account: AccountRecord): Promise<void> {
  const { store, box } = world.server.services;
  await store.credentials.put({ id: `totp-${account.id}`, accountId: account.id, type: 'totp', data: { secretSealed: box.seal(APP_KEY, totpContext(account.id, `totp-${account.id}`)), lastUsedStep: 0 }, createdAt: 0, lastUsedAt: null });
}

/** Five wrong passwords at the portal: the account's temporary lock (Flynth's "account vergrendeld"). */
async function lockByGuessing(username: string): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    const agent = new UserAgent();
    await loginWorks(agent, username, `Fout-wachtwoord-${i}`);
  }
}

/** Login at the portal with `password` in `agent`, from a fresh authorization request. */
async function loginWorks(agent: UserAgent, username: string, password: string): Promise<Page> {
  const request = await flynth.authorize();
  const page = await agent.open(request.url, REDIRECT_URI);
  return agent.submit(page, '/step/password/verify', { login: username, password }, REDIRECT_URI);
}

/** Up to the verify page: the login page's link, "Wie bent u?", the reason. */
async function toVerify(agent: UserAgent, login: string, reason: 'reset' | 'unlock' = 'reset') {
  const start = await recoveryFromLogin(flynth, agent);
  const chosen = await identify(agent, start.identify, world.server.url, login);
  expect(chosen.status, textOf(chosen)).toBe(200);
  const verify = await choose(agent, chosen, reason);
  return { ...start, verify };
}

describe('entry from the login page', () => {
  it('words the link per portal and opens "Wie bent u?" with the CAPTCHA widget served by us', async () => {
    const agent = new UserAgent();
    const { login, identify: page } = await recoveryFromLogin(flynth, agent);
    expect(textOf(login)).toContain('Wachtwoord vergeten of account vergrendeld?');
    expect(page.status).toBe(200);
    expect(textOf(page)).toContain('Wie bent u?');
    expect(page.html).toContain('<altcha-widget');
    expect(page.html).toContain('src="/static/vendor/altcha.js"');
    const script = await agent.request(`${world.server.url}/static/vendor/altcha.js`);
    expect(script.status).toBe(200);
    expect(script.headers?.get('content-type')).toContain('javascript');
    const zinn = await world.portal({ name: 'ZINN' });
    const zinnLogin = await agent.open((await zinn.authorize()).url, REDIRECT_URI);
    expect(textOf(zinnLogin)).toContain('Wachtwoord vergeten?');
  });
});

describe('which portal a recovery runs for', () => {
  it('a ?client= in a link picks neither the portal\'s methods nor its brand: the deployment defaults', async () => {
    const zinn = await world.portal({ name: 'ZINN via link', recoveryMethods: ['temp-password'] });
    const agent = new UserAgent();
    const identifyPage = await agent.open(`${world.server.url}/recovery?client=${encodeURIComponent(zinn.clientId)}`);
    expect(identifyPage.status).toBe(200);
    expect(textOf(identifyPage)).not.toContain('ZINN via link');
    const verify = await choose(agent, await identify(agent, identifyPage, world.server.url, 'nobody.via.link'), 'reset');
    expect(verify.html).toContain('/step/recovery-verify/link');
    expect(verify.html).not.toContain('/step/recovery-verify/temp');
    expect(textOf(verify)).not.toContain('ZINN via link');
    // From that portal's own login it is ZINN's recovery.
    const fromLogin = await recoveryFromLogin(zinn, new UserAgent());
    expect(textOf(fromLogin.identify)).toContain('ZINN via link');
  });
});

describe('Flynth: reset by SMS', () => {
  it('user id + CAPTCHA → forgot → full number → SMS code → new password → back at the login, which takes the new password', async () => {
    const account = await userWithFactors(world.server, { username: 'flynth.reset', phoneE164: PHONE, familyName: 'Jansen' }, ['sms']);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'flynth.reset');
    expect(textOf(verify)).toContain('Voer het volledige nummer van uw mobiele telefoon (*****56) in');
    const codePage = await typeNumber(agent, verify, '06 1234 5656', 'sms');
    expect(codePage.status, textOf(codePage)).toBe(200);
    const sms = await world.twilio.waitForSms(PHONE);
    const passwordPage = await agent.submit(codePage, '/step/sms/verify', { code: extractCode(sms.body) });
    expect(textOf(passwordPage)).toContain('Voer nieuw wachtwoord in');
    const done = await newPassword(agent, passwordPage, NEW_PASSWORD);
    expect(done.status, textOf(done)).toBe(200);
    expect(textOf(done)).toContain('Uw wachtwoord is opnieuw ingesteld');
    // No session was made: the link goes to the portal's login, which asks the password.
    const back = backLink(done);
    expect(back).toMatch(/\/interaction\//);
    const login = await agent.open(back!, REDIRECT_URI);
    expect(textOf(login)).toContain('Wachtwoord');
    // The login's own code waits out the resend cooldown of the code the recovery sent.
    world.clock.advance(31_000);
    const loggedIn = await agent.submit(login, '/step/password/verify', { login: 'flynth.reset', password: NEW_PASSWORD }, REDIRECT_URI);
    // An SMS account signs in with its code after the password.
    const sms2 = await world.twilio.waitForSms(PHONE);
    const atPortal = await agent.submit(loggedIn, '/step/sms/verify', { code: extractCode(sms2.body) }, REDIRECT_URI);
    expect(atPortal.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await audit('account-recovery.started', account.id)).length).toBeGreaterThan(0);
    expect((await audit('password.changed', account.id))[0]?.detail.via).toBe('reset');
    await expectNoSecrets(world.server, [...phoneForms(PHONE), extractCode(sms.body), NEW_PASSWORD]);
  });
});

describe('Flynth: unlock by a call', () => {
  it('lifts the lock without changing the password', async () => {
    const account = await userWithFactors(world.server, { username: 'flynth.unlock', phoneE164: '+31612340011' }, ['voice']);
    await lockByGuessing('flynth.unlock');
    expect((await world.server.services.lockout.status(account)).state).toBe('locked');
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'flynth.unlock@example.nl', 'unlock');
    const codePage = await typeNumber(agent, verify, '+31 6 12340011', 'voice');
    const call = await world.twilio.waitForCall('+31612340011');
    const done = await agent.submit(codePage, '/step/voice/verify', { code: spokenCode(call.twiml) });
    expect(textOf(done)).toContain('Uw account is ontgrendeld');
    expect((await world.server.services.lockout.status(account)).state).toBe('open');
    expect((await audit('account-recovery.unlocked', account.id))[0]?.detail.before).toBe('locked');
    const login = await agent.open(backLink(done)!, REDIRECT_URI);
    const next = await agent.submit(login, '/step/password/verify', { login: 'flynth.unlock', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(textOf(next)).not.toContain('onjuist');
  });
});

describe('unlock of a hard-locked account', () => {
  it('is not lifted without a new password: the choice says so, the new-password page says why, the old password stays refused', async () => {
    const account = await userWithFactors(world.server, { username: 'hard.locked' }, []);
    // The lockout's 100-guess cap, reached earlier (100 argon2 guesses would only slow the test).
    await world.server.services.store.lockouts.update(accountLockKey(account.id), world.clock.now(), () => ({
      next: { key: accountLockKey(account.id), consecutiveFailures: 0, failuresSinceSuccess: 100, locks: 7, lockedUntil: null, hardLocked: true, updatedAt: world.clock.now(), expiresAt: null },
      result: undefined,
    }));
    expect((await world.server.services.lockout.status(account)).state).toBe('hard-locked');
    const agent = new UserAgent();
    const start = await recoveryFromLogin(flynth, agent);
    const chosen = await identify(agent, start.identify, world.server.url, 'hard.locked');
    expect(textOf(chosen)).toContain('Dan kiest u na de controle ook een nieuw wachtwoord');
    const verify = await choose(agent, chosen, 'unlock');
    await agent.submit(verify, '/step/recovery-verify/link');
    const opened = await agent.open(linkFromMail((await world.smtp.waitForMail('hard.locked@example.nl')).text!));
    expect(textOf(opened)).toContain('Voer nieuw wachtwoord in');
    expect(textOf(opened)).toContain('alleen ontgrendeld met een nieuw wachtwoord');
    expect((await world.server.services.lockout.status(account)).state).toBe('hard-locked');
    const done = await newPassword(agent, opened, NEW_PASSWORD);
    expect(textOf(done)).toContain('Uw wachtwoord is opnieuw ingesteld');
    expect((await world.server.services.lockout.status(account)).state).toBe('open');
    const old = await loginWorks(new UserAgent(), 'hard.locked', TEST_PASSWORD);
    expect(old.status).toBe(401);
  });
});

describe('the full phone number', () => {
  it('a wrong number is refused without saying which digits differ, counted as a guess, then limited', async () => {
    const account = await userWithFactors(world.server, { username: 'wrong.number', phoneE164: '+31612349999' }, ['sms']);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'wrong.number');
    let page = verify;
    for (let i = 0; i < 5; i += 1) {
      page = await typeNumber(agent, page, '0612349998', 'sms');
      expect(page.status).toBe(401);
      expect(textOf(page)).toContain('Dit nummer komt niet overeen met het nummer dat bij ons geregistreerd staat.');
    }
    page = await typeNumber(agent, page, '0612349999', 'sms');
    expect(page.status).toBe(429);
    expect(world.twilio.messages.filter((m) => m.to === '+31612349999')).toHaveLength(0);
    expect((await audit('account-recovery.phone_mismatch', account.id)).length).toBe(6);
  });
});

describe('the e-mail link', () => {
  it('continues the flow once, only in the browser that asked, and not after its hour', async () => {
    await userWithFactors(world.server, { username: 'link.user' }, []);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'link.user');
    const sent = await agent.submit(verify, '/step/recovery-verify/link');
    expect(textOf(sent)).toContain('Als er een account bij deze gebruikers-id hoort');
    const mail = await world.smtp.waitForMail('link.user@example.nl');
    expect(mail.subject).toContain('Flynth Werkplek');
    const link = linkFromMail(mail.text!);

    // Another browser: refused, and the link stays usable where it was asked for.
    const other = await new UserAgent().open(link);
    expect(other.status).toBe(403);
    expect(textOf(other)).toContain('browser waarin u het herstel begon');

    // A tampered token is refused.
    const tampered = await agent.open(link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    expect(tampered.status).toBe(400);
    expect(textOf(tampered)).toContain('Deze link is niet geldig');

    const opened = await agent.open(link);
    expect(textOf(opened)).toContain('Voer nieuw wachtwoord in');
    const done = await newPassword(agent, opened, NEW_PASSWORD);
    expect(textOf(done)).toContain('Uw wachtwoord is opnieuw ingesteld');
    // Used: the flow is over.
    const again = await agent.open(link);
    expect(again.status).toBe(410);
    expect(textOf(again)).toContain('verlopen of al afgerond');
  });

  it('a reset cancels the account\'s other recovery flows: their links no longer work', async () => {
    await userWithFactors(world.server, { username: 'two.flows' }, []);
    const first = new UserAgent();
    const a = await toVerify(first, 'two.flows');
    await first.submit(a.verify, '/step/recovery-verify/link');
    const linkA = linkFromMail((await world.smtp.waitForMail('two.flows@example.nl')).text!);
    const second = new UserAgent();
    const b = await toVerify(second, 'two.flows');
    await second.submit(b.verify, '/step/recovery-verify/link');
    const linkB = linkFromMail((await world.smtp.waitForMail('two.flows@example.nl')).text!);
    const done = await newPassword(second, await second.open(linkB), NEW_PASSWORD);
    expect(textOf(done)).toContain('Uw wachtwoord is opnieuw ingesteld');
    const stale = await first.open(linkA);
    expect(stale.status).toBe(410);
    expect(textOf(stale)).not.toContain('Voer nieuw wachtwoord in');
  });

  it('an expired link is refused and a new one can be asked', async () => {
    await userWithFactors(world.server, { username: 'late.link' }, []);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'late.link');
    await agent.submit(verify, '/step/recovery-verify/link');
    const link = linkFromMail((await world.smtp.waitForMail('late.link@example.nl')).text!);
    world.clock.advance(61 * MINUTE);
    const late = await agent.open(link);
    expect(late.status).toBe(400);
    expect(textOf(late)).toContain('Deze link is verlopen');
    world.clock.advance(-61 * MINUTE);
  });
});

describe('recovery never bypasses the second factor', () => {
  it('an app account proves its app code (or a recovery code) after the e-mail link', async () => {
    const account = await userWithFactors(world.server, { username: 'app.user' }, []);
    await giveApp(account);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'app.user');
    await agent.submit(verify, '/step/recovery-verify/link');
    const opened = await agent.open(linkFromMail((await world.smtp.waitForMail('app.user@example.nl')).text!));
    expect(opened.html).toContain('/step/totp/verify');
    expect(textOf(opened)).not.toContain('Voer nieuw wachtwoord in');
    const wrong = await agent.submit(opened, '/step/totp/verify', { code: '000000' });
    expect(wrong.status).toBe(401);
    const passwordPage = await agent.submit(wrong, '/step/totp/verify', { code: await totpCode(APP_KEY, world.clock.now()) });
    expect(textOf(passwordPage), textOf(passwordPage)).toContain('Voer nieuw wachtwoord in');
  });

  it('an account with the app and e-mail codes: the e-mail link (its weaker factor) is not enough, the app code is asked', async () => {
    const account = await userWithFactors(world.server, { username: 'app.mail' }, ['email']);
    await giveApp(account);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'app.mail');
    await agent.submit(verify, '/step/recovery-verify/link');
    const opened = await agent.open(linkFromMail((await world.smtp.waitForMail('app.mail@example.nl')).text!));
    expect(opened.html).toContain('/step/totp/verify');
    expect(opened.html).not.toContain('/step/email/');
    expect(textOf(opened)).not.toContain('Voer nieuw wachtwoord in');
    // The e-mail code is not offered instead ("use another method").
    expect(opened.html).not.toContain('/choose');
    const passwordPage = await agent.submit(opened, '/step/totp/verify', { code: await totpCode(APP_KEY, world.clock.now()) });
    expect(textOf(passwordPage), textOf(passwordPage)).toContain('Voer nieuw wachtwoord in');
  });

  it('a recovery code stands in for the app', async () => {
    const account = await userWithFactors(world.server, { username: 'codes.user' }, []);
    await giveApp(account);
    const codes = await generateRecoveryCodes(world.server.services, account);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'codes.user');
    await agent.submit(verify, '/step/recovery-verify/link');
    const opened = await agent.open(linkFromMail((await world.smtp.waitForMail('codes.user@example.nl')).text!));
    const recoveryPage = await agent.submit(opened, '/choose', { method: 'recovery' });
    const passwordPage = await agent.submit(recoveryPage, '/step/recovery/verify', { code: codes[0]! });
    expect(textOf(passwordPage)).toContain('Voer nieuw wachtwoord in');
  });

  it('an SMS account reset by the e-mail link proves the SMS code too', async () => {
    await userWithFactors(world.server, { username: 'sms.link', phoneE164: '+31612347777' }, ['sms']);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'sms.link');
    await agent.submit(verify, '/step/recovery-verify/link');
    const opened = await agent.open(linkFromMail((await world.smtp.waitForMail('sms.link@example.nl')).text!));
    expect(opened.html).toContain('/step/sms/verify');
    const sms = await world.twilio.waitForSms('+31612347777');
    const passwordPage = await agent.submit(opened, '/step/sms/verify', { code: extractCode(sms.body) });
    expect(textOf(passwordPage)).toContain('Voer nieuw wachtwoord in');
  });
});

describe('ZINN: "Wachtwoord opvragen"', () => {
  it('mails a temporary password; the login takes it, forces the change after the SMS code, and reaches the portal', async () => {
    const zinn = await world.portal({ name: 'ZINN cliëntportaal', smsSender: 'ZINNZORG', mailFrom: 'ZINN <no-reply@zinnzorg.nl>', recoveryMethods: ['temp-password'] });
    const account = await userWithFactors(world.server, { username: 'zinn.patient', phoneE164: '+31612348888' }, ['sms']);
    const agent = new UserAgent();
    const start = await recoveryFromLogin(zinn, agent);
    expect(textOf(start.login)).toContain('Wachtwoord vergeten?');
    const chosen = await identify(agent, start.identify, world.server.url, 'zinn.patient');
    const verify = await choose(agent, chosen, 'reset');
    expect(verify.html).not.toContain('/step/recovery-verify/phone');
    const sent = await agent.submit(verify, '/step/recovery-verify/temp');
    expect(textOf(sent)).toContain('e-mail met een tijdelijk wachtwoord');
    const mail = await world.smtp.waitForMail('zinn.patient@example.nl');
    expect(mail.from).toContain('no-reply@zinnzorg.nl');
    const temporary = /Tijdelijk wachtwoord: (\S+)/.exec(mail.text ?? '')![1]!;
    // The lifecycle mails first and stores the (argon2) hash after: a patient types slower than that.
    await until(async () => (await audit('password.temporary_issued', account.id)).length > 0);

    const request = await zinn.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    const codePage = await agent.submit(login, '/step/password/verify', { login: 'zinn.patient', password: temporary }, REDIRECT_URI);
    const sms = await world.twilio.waitForSms('+31612348888');
    expect(sms.from).toBe('ZINNZORG');
    const change = await agent.submit(codePage, '/step/sms/verify', { code: extractCode(sms.body) }, REDIRECT_URI);
    expect(change.html).toContain('/step/update-password/change');
    const done = await agent.submit(change, '/step/update-password/change', { current: temporary, new: NEW_PASSWORD, confirm: NEW_PASSWORD }, REDIRECT_URI);
    expect(done.url.startsWith(REDIRECT_URI), textOf(done)).toBe(true);
    await zinn.callback(done.url, request);
  });
});

/** Mails to `address` so far, once a mail asked for after them (to `sentinel`) has arrived. */
async function mailsTo(address: string, sentinel: string): Promise<number> {
  await userWithFactors(world.server, { username: sentinel }, []);
  const agent = new UserAgent();
  const { verify } = await toVerify(agent, sentinel);
  await agent.submit(verify, '/step/recovery-verify/link');
  await world.smtp.waitForMail(`${sentinel}@example.nl`);
  return world.smtp.messages.filter((m) => m.envelopeTo.includes(address)).length;
}

describe('recovery mails are limited (one CAPTCHA does not buy unlimited mail)', () => {
  it('three links per flow; past that the same page, nothing sent, and the last link mailed still works', async () => {
    await userWithFactors(world.server, { username: 'many.links' }, []);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'many.links');
    const pages: Page[] = [];
    for (let i = 0; i < 3; i += 1) {
      pages.push(await agent.submit(verify, '/step/recovery-verify/link'));
      await world.smtp.waitForMail('many.links@example.nl');
    }
    const last = world.smtp.messages.filter((m) => m.envelopeTo.includes('many.links@example.nl')).at(-1)!;
    const over = await agent.submit(verify, '/step/recovery-verify/link');
    expect(over.status).toBe(200);
    expect(textOf(over)).toBe(textOf(pages[0]!));
    expect(await mailsTo('many.links@example.nl', 'sentinel.links')).toBe(3);
    expect((await audit('account-recovery.link_requested')).filter((e) => e.detail.outcome === 'limit').length).toBeGreaterThan(0);
    const opened = await agent.open(linkFromMail(last.text!));
    expect(textOf(opened)).toContain('Voer nieuw wachtwoord in');
  });

  it('temporary passwords: at most three per flow and five requests per account an hour; past that no hashing and no live password replaced', async () => {
    const zinn = await world.portal({ name: 'ZINN limiet', recoveryMethods: ['temp-password'] });
    const account = await userWithFactors(world.server, { username: 'many.temps' }, []);
    const issued = async () => (await audit('password.temporary_issued', account.id)).length;
    const statuses: number[] = [];
    for (const flow of [0, 1]) {
      const agent = new UserAgent();
      const start = await recoveryFromLogin(zinn, agent);
      const verify = await choose(agent, await identify(agent, start.identify, world.server.url, 'many.temps'), 'reset');
      for (let i = 0; i < (flow === 0 ? 4 : 3); i += 1) {
        const sent = await agent.submit(verify, '/step/recovery-verify/temp');
        statuses.push(sent.status);
        expect(textOf(sent)).toContain('e-mail met een tijdelijk wachtwoord');
      }
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Flow 1: 3 of 4 (per flow); flow 2: 1 of 3, as every request counts against the account's 5 an
    // hour (the refused fourth of flow 1 too: a refusal costs what a mail costs).
    await until(async () => (await issued()) >= 4);
    expect(await mailsTo('many.temps@example.nl', 'sentinel.temps')).toBe(4);
    expect(await issued()).toBe(4);
    // The live temporary password is one of those mailed: no refused request replaced it. (Mails go
    // after the answer, so under load they may arrive in another order than they were issued.)
    const mails = world.smtp.messages.filter((m) => m.envelopeTo.includes('many.temps@example.nl'));
    const mailed = mails.map((m) => /Tijdelijk wachtwoord: (\S+)/.exec(m.text ?? '')![1]!);
    const live: string[] = [];
    for (const candidate of mailed) if (await world.server.services.passwords.match(account, candidate) === 'temporary') live.push(candidate);
    expect(live).toHaveLength(1);
    const temporary = live[0]!;
    const agent = new UserAgent();
    const login = await agent.open((await zinn.authorize()).url, REDIRECT_URI);
    const next = await agent.submit(login, '/step/password/verify', { login: 'many.temps', password: temporary }, REDIRECT_URI);
    expect(next.html, textOf(next)).toContain('/step/update-password/change');
  });
});

describe('recovery mails go to verified addresses only', () => {
  it('no link to an unverified address (the same page); the temporary password only for an account that never signed in (ZINN first login)', async () => {
    await userWithFactors(world.server, { username: 'unverified.link', emailVerified: false }, []);
    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'unverified.link');
    const sent = await agent.submit(verify, '/step/recovery-verify/link');
    expect(sent.status).toBe(200);
    expect(textOf(sent)).toContain('Als er een account bij deze gebruikers-id hoort');
    expect(await mailsTo('unverified.link@example.nl', 'sentinel.unverified')).toBe(0);
    expect((await audit('account-recovery.link_requested')).some((e) => e.detail.outcome === 'unverified_address')).toBe(true);

    const zinn = await world.portal({ name: 'ZINN eerste keer', recoveryMethods: ['temp-password'] });
    const askTemporary = async (username: string) => {
      const browser = new UserAgent();
      const start = await recoveryFromLogin(zinn, browser);
      const page = await choose(browser, await identify(browser, start.identify, world.server.url, username), 'reset');
      return browser.submit(page, '/step/recovery-verify/temp');
    };
    // Never signed in: the practice's address is all there is; the temporary password goes there.
    const first = await userWithFactors(world.server, { username: 'first.login', emailVerified: false }, []);
    expect((await askTemporary('first.login')).status).toBe(200);
    await world.smtp.waitForMail('first.login@example.nl');
    // Signed in before and still unverified: nothing is mailed, the page is the same.
    const known = await userWithFactors(world.server, { username: 'known.unverified', emailVerified: false }, []);
    await world.server.services.store.accountPortals.record(known.id, flynth.clientId, world.clock.now());
    const refused = await askTemporary('known.unverified');
    expect(refused.status).toBe(200);
    expect(textOf(refused)).toContain('e-mail met een tijdelijk wachtwoord');
    expect(await mailsTo('known.unverified@example.nl', 'sentinel.known')).toBe(0);
    expect((await audit('password.temporary_issued', known.id))).toHaveLength(0);
    expect((await audit('password.temporary_issued', first.id))).toHaveLength(1);
  });
});

describe('after a reset', () => {
  it('every session and refresh token of the account is revoked: the portal’s refresh grant fails, the old browser signs in again', async () => {
    await userWithFactors(world.server, { username: 'signed.in' }, []);
    const elsewhere = new UserAgent();
    const tokens = await passwordLogin(flynth, elsewhere, 'signed.in', TEST_PASSWORD);
    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await oidc.refreshTokenGrant(flynth.config, tokens.refresh_token!);

    const agent = new UserAgent();
    const { verify } = await toVerify(agent, 'signed.in');
    await agent.submit(verify, '/step/recovery-verify/link');
    const opened = await agent.open(linkFromMail((await world.smtp.waitForMail('signed.in@example.nl')).text!));
    const done = await newPassword(agent, opened, NEW_PASSWORD);
    expect(textOf(done)).toContain('Uw wachtwoord is opnieuw ingesteld');

    await expect(oidc.refreshTokenGrant(flynth.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The other browser's session is gone: the portal's next request asks for the password again.
    const again = await elsewhere.open((await flynth.authorize()).url, REDIRECT_URI);
    expect(again.html).toContain('/step/password/verify');
    const notice = await world.smtp.waitForMail('signed.in@example.nl');
    expect(notice.subject).toMatch(/wachtwoord/i);
  });
});

describe('the CAPTCHA', () => {
  it('forged, expired and replayed answers are refused and audited; the account is not looked at', async () => {
    const agent = new UserAgent();
    const { identify: page } = await recoveryFromLogin(flynth, agent);
    const good = await solvedCaptcha(agent, world.server.url);
    const payload = JSON.parse(Buffer.from(good, 'base64').toString()) as { challenge: { parameters: { cost: number } } };
    payload.challenge.parameters.cost += 1;
    const forged = await identify(agent, page, world.server.url, 'someone', Buffer.from(JSON.stringify(payload)).toString('base64'));
    expect(forged.status).toBe(400);
    expect(textOf(forged)).toContain('De controle is niet gelukt');
    const garbage = await identify(agent, page, world.server.url, 'someone', 'bm90IGpzb24=');
    expect(garbage.status).toBe(400);

    const ok = await identify(agent, page, world.server.url, 'someone', good);
    expect(ok.status).toBe(200);
    const agent2 = new UserAgent();
    const page2 = (await recoveryFromLogin(flynth, agent2)).identify;
    const replayed = await identify(agent2, page2, world.server.url, 'someone', good);
    expect(replayed.status).toBe(400);

    const stale = await solvedCaptcha(agent2, world.server.url);
    world.clock.advance(11 * MINUTE);
    const expired = await identify(agent2, page2, world.server.url, 'someone', stale);
    world.clock.advance(-11 * MINUTE);
    expect(expired.status).toBe(400);
    expect(textOf(expired)).toContain('De controle is verlopen');
    const reasons = (await audit('account-recovery.captcha_failed')).map((e) => e.detail.reason);
    expect(reasons).toEqual(expect.arrayContaining(['forged', 'malformed', 'replayed', 'expired']));
  });

  it('without JavaScript the form works, under a stricter per-client budget', async () => {
    const agent = new UserAgent();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const { identify: page } = await recoveryFromLogin(flynth, agent);
      statuses.push((await identify(agent, page, world.server.url, `nojs-${i}`, 'none')).status);
    }
    // The default budget is 5 an hour per client.
    expect(statuses.slice(0, 5).every((s) => s === 200)).toBe(true);
    expect(statuses[5]).toBe(429);
  });
});

describe('no account oracle', () => {
  it('existing, unknown and locked accounts get the same pages and similar timing', async () => {
    const locked = await userWithFactors(world.server, { username: 'oracle.locked', phoneE164: '+31612341212' }, ['sms']);
    await lockByGuessing('oracle.locked');
    expect((await world.server.services.lockout.status(locked)).state).toBe('locked');
    await userWithFactors(world.server, { username: 'oracle.real', phoneE164: '+31612341313' }, ['sms']);
    const shape = (page: Page) => `${page.status} ${textOf(page).replace(/\*{5}\d\d/g, '*****NN')}`;
    const logins = ['oracle.real', 'oracle.unknown', 'oracle.locked'];
    const pages: Record<string, string[]> = Object.fromEntries(logins.map((l) => [l, []]));
    const times: Record<string, number[]> = Object.fromEntries(logins.map((l) => [l, []]));
    // Interleaved, so a burst of load from elsewhere on the machine hits every kind alike.
    for (let round = 0; round < 5; round += 1) {
      for (const login of logins) {
        const agent = new UserAgent();
        const { identify: page } = await recoveryFromLogin(flynth, agent);
        const altcha = await solvedCaptcha(agent, world.server.url);
        const started = performance.now();
        const chosen = await identify(agent, page, world.server.url, login, altcha);
        times[login]!.push(performance.now() - started);
        const verify = await choose(agent, chosen, 'reset');
        const linked = await agent.submit(verify, '/step/recovery-verify/link');
        pages[login]!.push([shape(chosen), shape(verify), shape(linked)].join('\n'));
      }
    }
    expect(pages['oracle.unknown']![0]).toBe(pages['oracle.real']![0]);
    expect(pages['oracle.locked']![0]).toBe(pages['oracle.real']![0]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const medians = Object.values(times).map(median);
    // Same work either way: no argon2, the same store writes; a real account must not stand out.
    expect(Math.max(...medians) - Math.min(...medians)).toBeLessThan(60);
  });

  it('an unknown account shows a stable pseudo-random hint, and no number matches it', async () => {
    const hints: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const agent = new UserAgent();
      const { verify } = await toVerify(agent, 'nobody.here');
      hints.push(/\*{5}(\d\d)/.exec(textOf(verify))![1]!);
      const refused = await typeNumber(agent, verify, `06123456${hints[0]}`, 'sms');
      expect(refused.status).toBe(401);
    }
    expect(hints[0]).toBe(hints[1]);
  });
});

describe('bad input', () => {
  it('oversized user ids, missing reasons, a form posted to another flow and unknown flows: a clear 4xx, nothing changed', async () => {
    const agent = new UserAgent();
    const { identify: page } = await recoveryFromLogin(flynth, agent);
    const long = await identify(agent, page, world.server.url, 'x'.repeat(300));
    expect(long.status).toBe(400);
    expect(textOf(long)).toContain('Deze gebruikers-id is te lang.');

    const chosen = await identify(agent, page, world.server.url, 'bad.input');
    const noReason = await agent.submit(chosen, '/step/recovery-choose/submit', {});
    expect(noReason.status).toBe(400);
    expect(textOf(noReason)).toContain('Kies waarom u problemen hebt bij het aanmelden.');

    // Flow B's form with flow A's CSRF token.
    const other = new UserAgent();
    const otherPage = (await recoveryFromLogin(flynth, other)).identify;
    const csrfOfA = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
    const foreign = await other.submit(otherPage, '/step/recovery-identify/submit', { _csrf: csrfOfA, login: 'x', altcha: await solvedCaptcha(other, world.server.url) });
    expect(foreign.status).toBe(403);

    const gone = await agent.open(`${world.server.url}/recovery/doesnotexist`);
    expect(gone.status).toBe(410);
  });
});
