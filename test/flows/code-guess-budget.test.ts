// The per-account budget for wrong one-time codes (10 an hour) is what keeps a six-digit code from
// being guessed by whoever has the password. Its rules, through the real server, the real SMTP
// server and Twilio's real client against the fake API:
//  - each channel address has its own budget (the phone — SMS and voice share it — and the
//    mailbox), and a success resets only its own: an e-mail code does not buy new SMS guesses;
//  - only a post that could succeed is a guess: junk, and posts from a flow without a live code of
//    its own, are answered with a 4xx and not counted;
//  - when a code limit trips (codes, app codes, recovery codes), the patient gets one security
//    notice per window: someone may know the password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFailureKey } from '../../src/accounts/one-time-codes.ts';
import { generateRecoveryCodes } from '../../src/factors/recovery/recovery-factor.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { extractCode, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';

const NOTICE_SUBJECT = 'Er is vaak een verkeerde code ingevoerd bij uw account';

describe('the code guess budget', () => {
  let world: FactorWorld;
  let smsPortal: RelyingParty;
  let mailPortal: RelyingParty;
  let nextNumber = 10;

  beforeAll(async () => {
    world = await startFactorWorld();
    smsPortal = await world.portal({ name: 'ZINN', mfa: 'required', mfaMethods: ['sms'] });
    mailPortal = await world.portal({ name: 'Patiëntenportaal', mfa: 'optional', mfaMethods: ['email'] });
  });
  afterAll(() => world?.close());

  function phone(): string {
    nextNumber += 1;
    return `+316200099${nextNumber}`;
  }

  /** A guess that is certainly not the code in `body`. */
  function wrongFor(body: string): string {
    return extractCode(body) === '000000' ? '111111' : '000000';
  }

  /** Evaluated wrong guesses at the account's codes (refusals without a check are not guesses). */
  async function evaluatedFailures(accountId: string): Promise<number> {
    const events = await world.server.services.store.audit.list({ limit: 10_000 });
    return events.filter((e) => e.accountId === accountId && e.type === 'factor.code.failed' && e.detail.reason !== 'account_locked'
      && e.detail.reason !== 'malformed' && e.detail.reason !== 'expired_or_missing').length;
  }

  function noticesTo(address: string) {
    return world.smtp.messages.filter((m) => m.envelopeTo.includes(address) && m.subject === NOTICE_SUBJECT);
  }

  it('keeps the SMS budget when an e-mail code succeeds: at most 10 evaluated SMS guesses an hour', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'budget-reset', phoneE164: number }, ['sms', 'email']);
    const attacker = new UserAgent();
    // 5 wrong guesses burn the first code; 4 more on a second: 9 of the 10.
    let { page } = await loginUntilSecondFactor(smsPortal, attacker, account.username);
    let sms = await world.twilio.waitForSms(number);
    for (let i = 0; i < 5; i += 1) page = await submitStep(attacker, page, 'sms', 'verify', { code: wrongFor(sms.body) });
    world.clock.advance(31_000);
    page = await submitStep(attacker, page, 'sms', 'resend');
    sms = await world.twilio.waitForSms(number);
    for (let i = 0; i < 4; i += 1) page = await submitStep(attacker, page, 'sms', 'verify', { code: wrongFor(sms.body) });

    // A login elsewhere with the password and an e-mail code (whoever has the mailbox).
    const other = new UserAgent();
    const mailLogin = await loginUntilSecondFactor(mailPortal, other, account.username);
    const mail = await world.smtp.waitForMail(account.email);
    const done = await submitStep(other, mailLogin.page, 'email', 'verify', { code: extractCode(mail.text ?? '') });
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    await mailPortal.callback(done.url, mailLogin.request);

    // Back at the SMS codes: one more guess, then a new code and five more.
    page = await submitStep(attacker, page, 'sms', 'verify', { code: wrongFor(sms.body) });
    const tenth = page;
    world.clock.advance(31_000);
    page = await submitStep(attacker, page, 'sms', 'resend');
    sms = await world.twilio.waitForSms(number);
    const later: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      page = await submitStep(attacker, page, 'sms', 'verify', { code: wrongFor(sms.body) });
      later.push(page.status);
    }
    const right = await submitStep(attacker, page, 'sms', 'verify', { code: extractCode(sms.body) });
    // The security property: 10 evaluated guesses at the phone's codes in the hour, not 15.
    expect(await evaluatedFailures(account.id)).toBe(10);
    // The 10th guess used up the budget and already said so; nothing after it was evaluated.
    expect(tenth.status).toBe(429);
    expect(textOf(tenth)).toContain('Wacht een uur en probeer het dan opnieuw.');
    expect(later).toEqual([429, 429, 429, 429, 429]);
    expect(right.status).toBe(429);
    // The budgets are keyed by the kind of address, never the address itself; the e-mail login
    // reset only the mailbox's.
    const now = world.clock.now();
    expect((await world.server.services.store.throttles.get(codeFailureKey(account.id, 'phone'), now))?.count).toBe(10);
    expect(await world.server.services.store.throttles.get(codeFailureKey(account.id, 'email'), now)).toBeUndefined();
  });

  it('does not count junk: ten entries that cannot be a code leave the patient able to sign in', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'budget-junk', phoneE164: number }, ['sms', 'email']);
    const attacker = new UserAgent();
    let { page } = await loginUntilSecondFactor(smsPortal, attacker, account.username);
    await world.twilio.waitForSms(number);
    for (let i = 0; i < 10; i += 1) {
      page = await submitStep(attacker, page, 'sms', 'verify', { code: 'x' });
      expect(page.status).toBe(400);
    }
    world.clock.advance(60_000);
    const patient = new UserAgent();
    const { page: step, request } = await loginUntilSecondFactor(smsPortal, patient, account.username);
    const sms = await world.twilio.waitForSms(number);
    const done = await submitStep(patient, step, 'sms', 'verify', { code: extractCode(sms.body) });
    expect(done.url.startsWith(REDIRECT_URI), `patient refused with ${done.status}`).toBe(true);
    await smsPortal.callback(done.url, request);
    expect(noticesTo(account.email)).toHaveLength(0);
  });

  it('does not count guesses from a flow without a live code of its own', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'budget-nocode', phoneE164: number }, ['sms']);
    // The patient's login sends the code; a second browser within the cooldown has none of its own.
    const patient = new UserAgent();
    const { page: step, request } = await loginUntilSecondFactor(smsPortal, patient, account.username);
    const sms = await world.twilio.waitForSms(number);
    const attacker = new UserAgent();
    const { page: waiting } = await loginUntilSecondFactor(smsPortal, attacker, account.username);
    expect(textOf(waiting)).toContain('Wacht nog');
    // The page offers no code field; the attacker posts guesses to the verify action anyway.
    const resend = findForm(waiting, '/step/sms/resend');
    const verifyAction = resend.action.replace(/\/resend$/, '/verify');
    for (let i = 0; i < 12; i += 1) {
      const body = new URLSearchParams({ _csrf: resend.fields._csrf!, code: String(100000 + i) }).toString();
      const page = await attacker.follow(await attacker.request(verifyAction, { method: 'POST', body }), REDIRECT_URI);
      expect(page.status).toBe(400);
      expect(textOf(page)).toContain('Deze code is verlopen of al gebruikt');
    }
    expect(await world.server.services.store.throttles.get(codeFailureKey(account.id, 'phone'), world.clock.now())).toBeUndefined();
    const done = await submitStep(patient, step, 'sms', 'verify', { code: extractCode(sms.body) });
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    await smsPortal.callback(done.url, request);
  });

  it('tells the patient once per window when a code limit trips, and keeps the other addresses open', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'budget-notice', phoneE164: number }, ['sms', 'email']);
    await generateRecoveryCodes(world.server.services, account);
    const attacker = new UserAgent();
    let { page } = await loginUntilSecondFactor(smsPortal, attacker, account.username);
    let sms = await world.twilio.waitForSms(number);
    const guess = async (times: number) => {
      for (let i = 0; i < times; i += 1) page = await submitStep(attacker, page, 'sms', 'verify', { code: wrongFor(sms.body) });
    };
    await guess(5);
    world.clock.advance(31_000);
    page = await submitStep(attacker, page, 'sms', 'resend');
    sms = await world.twilio.waitForSms(number);
    await guess(4);
    expect(noticesTo(account.email)).toHaveLength(0);
    await guess(1);
    expect(page.status).toBe(429);

    const notice = await world.smtp.waitForMail(account.email);
    expect(notice.subject).toBe(NOTICE_SUBJECT);
    expect(notice.text).toContain('iemand kent mogelijk uw wachtwoord');
    expect(notice.text).toContain('Wijzig uw wachtwoord');
    expect(notice.text).toContain(`Sms naar *****${number.slice(-2)}`);
    expect(notice.text).toContain('bij het inloggen op ZINN');
    for (const form of [number, number.slice(3), `0${number.slice(3)}`]) expect(notice.raw).not.toContain(form);
    const audit = await world.server.services.store.audit.list({ type: 'login.code_limit_reached' });
    expect(audit.filter((e) => e.accountId === account.id)).toHaveLength(1);

    // More wrong codes — the app's recovery codes too — send no second notice in the window.
    const recovery = new UserAgent();
    let other: Page = (await loginUntilSecondFactor(smsPortal, recovery, account.username)).page;
    other = await recovery.submit(other, '/choose', { method: 'recovery' }, REDIRECT_URI);
    for (let i = 0; i < 10; i += 1) other = await submitStep(recovery, other, 'recovery', 'verify', { code: 'ABCD-EFGH-JKMN' });
    expect(other.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(noticesTo(account.email)).toHaveLength(1);
    expect((await world.server.services.store.audit.list({ type: 'login.code_limit_reached' })).filter((e) => e.accountId === account.id)).toHaveLength(2);

    // The mailbox has its own budget: the patient can still sign in with an e-mail code.
    const patient = new UserAgent();
    const mailLogin = await loginUntilSecondFactor(mailPortal, patient, account.username);
    const mail = await world.smtp.waitForMail(account.email);
    const done = await submitStep(patient, mailLogin.page, 'email', 'verify', { code: extractCode(mail.text ?? '') });
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);

    // An hour later the phone works again, and a new trip sends a new notice.
    world.clock.advance(61 * 60_000);
    const later = new UserAgent();
    const smsLogin = await loginUntilSecondFactor(smsPortal, later, account.username);
    const fresh = await world.twilio.waitForSms(number);
    const back = await submitStep(later, smsLogin.page, 'sms', 'verify', { code: extractCode(fresh.body) });
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('tells the patient in English when that is the account language', async () => {
    const number = phone();
    const account = await userWithFactors(world.server, { username: 'budget-en', phoneE164: number, locale: 'en' }, ['sms']);
    const attacker = new UserAgent();
    let { page } = await loginUntilSecondFactor(smsPortal, attacker, account.username);
    let sms = await world.twilio.waitForSms(number);
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 5; i += 1) page = await submitStep(attacker, page, 'sms', 'verify', { code: wrongFor(sms.body) });
      if (round === 0) {
        world.clock.advance(31_000);
        page = await submitStep(attacker, page, 'sms', 'resend');
        sms = await world.twilio.waitForSms(number);
      }
    }
    const notice = await world.smtp.waitForMail(account.email);
    expect(notice.subject).toBe('A wrong code was entered many times on your account');
    expect(notice.text).toContain('someone may know your password');
  });
});
