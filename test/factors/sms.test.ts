// SMS codes at login: a patient with SMS set up gets a code from the portal's sender, types or
// pastes it, and the portal receives amr sms and acr substantial. Every limit of one-time codes
// is checked through the hosted pages, with the fake clock instead of waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import {
  TWILIO_NUMBER,
  completeLogin,
  expectNoSecrets,
  extractCode,
  finishAtPortal,
  loginUntilSecondFactor,
  phoneForms,
  startFactorWorld,
  submitStep,
  untranslatedKeys,
  userWithFactors,
  type FactorWorld,
} from '../support/factor-login.ts';

const VERIFY = '/step/sms/verify';

describe('SMS code at login', () => {
  let world: FactorWorld;
  let rp: RelyingParty;
  const codesSeen: string[] = [];
  const phones: string[] = [];
  let nextPhone = 10;

  beforeAll(async () => {
    world = await startFactorWorld();
    rp = await world.portal({ name: 'Testportaal' });
  });
  afterAll(() => world?.close());

  /** A patient with SMS set up, each on a number of their own so tests do not share limits or messages. */
  async function patient(locale = 'nl') {
    nextPhone += 1;
    const phone = `+316123456${nextPhone}`;
    phones.push(phone);
    const username = `sms-${nextPhone}`;
    await userWithFactors(world.server, { username, phoneE164: phone, locale }, ['sms']);
    return { username, phone };
  }

  async function nextSmsCode(phone: string) {
    const sms = await world.twilio.waitForSms(phone);
    const code = extractCode(sms.body);
    codesSeen.push(code);
    return { sms, code };
  }

  async function atSmsStep(username: string) {
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, username);
    return { agent, page, request };
  }

  it('sends a Dutch SMS from TWILIO_FROM and logs in with amr sms and acr substantial', async () => {
    const { username, phone } = await patient();
    const { agent, page, request } = await atSmsStep(username);
    expect(page.status).toBe(200);
    expect(textOf(page)).toContain('Vul de code uit de sms in');
    expect(textOf(page)).toContain('*****' + phone.slice(-2));
    for (const form of phoneForms(phone)) expect(page.html).not.toContain(form);
    expect(page.html).toContain('autocomplete="one-time-code"');
    expect(page.html).toContain('name="remember_device"');
    expect(page.html).toContain('/step/sms/resend');
    const { sms, code } = await nextSmsCode(phone);
    expect(sms.from).toBe(TWILIO_NUMBER);
    expect(sms.body).toBe(`Uw inlogcode voor Testportaal is ${code}. Deze code is 10 minuten geldig. Deel deze code met niemand.`);
    const { claims } = await completeLogin(rp, agent, page, VERIFY, { code }, request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);
  });

  it('writes the SMS in the account language', async () => {
    const { username, phone } = await patient('en');
    await atSmsStep(username);
    const { sms, code } = await nextSmsCode(phone);
    expect(sms.body).toBe(`Your sign-in code for Testportaal is ${code}. This code is valid for 10 minutes. Do not share this code with anyone.`);
  });

  it('accepts a code pasted with spaces and a line break', async () => {
    const { username, phone } = await patient();
    const { agent, page, request } = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    const pasted = ` ${code.slice(0, 3)} ${code.slice(3)}\n`;
    const { claims } = await completeLogin(rp, agent, page, VERIFY, { code: pasted }, request);
    expect(claims.amr).toContain('sms');
  });

  it('does not send a second SMS when the page is reloaded', async () => {
    const { username, phone } = await patient();
    const { agent, page } = await atSmsStep(username);
    await nextSmsCode(phone);
    const again = await agent.open(page.url.replace(/\/step\/.*$/, ''));
    expect(textOf(again)).toContain('Vul de code uit de sms in');
    expect(world.twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it('refuses an expired code after 10 minutes', async () => {
    const { username, phone } = await patient();
    const { agent, page } = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    world.clock.advance(11 * 60_000);
    const late = await submitStep(agent, page, 'sms', 'verify', { code });
    expect(late.status).toBe(400);
    expect(textOf(late)).toContain('Deze code is verlopen of al gebruikt. Vraag een nieuwe code aan.');
  });

  /** A hand-made post of `code` to the verify action of the login on `page` (its form may be hidden). */
  async function postCode(agent: UserAgent, page: Page, code: string): Promise<Page> {
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
    const action = new URL(page.url).pathname.replace(/\/step\/.*$/, '');
    return agent.request(`${new URL(page.url).origin}${action}${VERIFY}`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, code }).toString() });
  }

  it('uses a code once only, also from a second login of the same patient', async () => {
    const { username, phone } = await patient();
    const first = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    await completeLogin(rp, first.agent, first.page, VERIFY, { code }, first.request);
    world.clock.advance(31_000);
    const second = await atSmsStep(username);
    const { code: own } = await nextSmsCode(phone);
    if (own !== code) {
      const reused = await submitStep(second.agent, second.page, 'sms', 'verify', { code });
      expect(reused.status).toBe(401);
      expect(textOf(reused)).toContain('Deze code is onjuist.');
    }
  });

  it('binds a code to the login that sent it: a second browser within the cooldown waits for its own code', async () => {
    const { username, phone } = await patient();
    const first = await atSmsStep(username);
    const { code: firstCode } = await nextSmsCode(phone);

    // Browser B starts a login moments later: A's code does not work in B.
    const second = await atSmsStep(username);
    const refused = await postCode(second.agent, second.page, firstCode);
    expect(refused.status).toBe(400);
    expect(textOf(refused)).toContain('Deze code is verlopen of al gebruikt');

    // Nothing is sent to B, and B is told to wait, without also being told that a text message
    // was sent.
    expect(second.page.status).toBe(200);
    const waiting = textOf(second.page);
    expect(waiting).toMatch(/Wacht nog \d+ seconden voordat u een code aanvraagt\./);
    expect(waiting).not.toContain('We hebben een sms');
    expect(waiting).not.toContain('al een code verstuurd');
    expect(second.page.html).not.toContain('name="code"');
    expect(world.twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
    const early = await submitStep(second.agent, second.page, 'sms', 'resend');
    expect(early.status).toBe(429);
    expect(early.html).not.toContain('name="code"');

    // After the cooldown B sends its own code (voiding A's: one live code per account).
    world.clock.advance(31_000);
    const own = await submitStep(second.agent, early, 'sms', 'resend');
    expect(own.status).toBe(200);
    expect(textOf(own)).toContain(`We hebben een sms met een code van 6 cijfers gestuurd naar *****${phone.slice(-2)}.`);
    expect(textOf(own)).not.toContain('Wacht nog');
    const { code: secondCode } = await nextSmsCode(phone);
    const { claims } = await completeLogin(rp, second.agent, own, VERIFY, { code: secondCode }, second.request);
    expect(claims.amr).toContain('sms');
    // B's code is spent and A's was voided: A cannot log in with either.
    for (const tried of new Set([firstCode, secondCode])) {
      const stale = await submitStep(first.agent, first.page, 'sms', 'verify', { code: tried });
      expect(stale.status).toBe(400);
    }
  });

  it('lets the first browser finish with its code while a second one waits', async () => {
    const { username, phone } = await patient();
    const first = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    const second = await atSmsStep(username);
    await postCode(second.agent, second.page, code);
    const { claims } = await completeLogin(rp, first.agent, first.page, VERIFY, { code }, first.request);
    expect(claims.acr).toBe(ACR.substantial);
  });

  it('voids the old code when a new one is sent, and keeps the resend cooldown', async () => {
    const { username, phone } = await patient();
    const { agent, page, request } = await atSmsStep(username);
    const { code: oldCode } = await nextSmsCode(phone);

    const tooSoon = await submitStep(agent, page, 'sms', 'resend');
    expect(tooSoon.status).toBe(429);
    expect(textOf(tooSoon)).toContain('U heeft net een code aangevraagd');
    expect(textOf(tooSoon)).toMatch(/U kunt over \d+ seconden een nieuwe code aanvragen/);
    expect(world.twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);

    world.clock.advance(31_000);
    const resent = await submitStep(agent, page, 'sms', 'resend');
    expect(resent.status).toBe(200);
    expect(textOf(resent)).toContain('Er is een nieuwe code verstuurd naar *****' + phone.slice(-2));
    const { code: newCode } = await nextSmsCode(phone);
    if (newCode !== oldCode) {
      const old = await submitStep(agent, resent, 'sms', 'verify', { code: oldCode });
      expect(old.status).toBe(401);
      expect(textOf(old)).toContain('Deze code is onjuist.');
    }
    const { claims } = await completeLogin(rp, agent, resent, VERIFY, { code: newCode }, request);
    expect(claims.acr).toBe(ACR.substantial);
  });

  it('caps the codes sent per hour', async () => {
    const { username, phone } = await patient();
    const { agent, page } = await atSmsStep(username);
    let last: Page = page;
    for (let sent = 1; sent < 5; sent += 1) {
      world.clock.advance(31_000);
      last = await submitStep(agent, last, 'sms', 'resend');
      expect(last.status).toBe(200);
    }
    world.clock.advance(31_000);
    const capped = await submitStep(agent, last, 'sms', 'resend');
    expect(capped.status).toBe(429);
    expect(textOf(capped)).toContain('U heeft in het afgelopen uur te vaak een code aangevraagd');
    expect(world.twilio.messages.filter((m) => m.to === phone)).toHaveLength(5);
    // An hour later the login page has expired with its interaction; a new login sends again.
    world.clock.advance(60 * 60_000);
    const later = await atSmsStep(username);
    expect(later.page.status).toBe(200);
    expect(world.twilio.messages.filter((m) => m.to === phone)).toHaveLength(6);
  });

  it('voids a code after 5 wrong attempts; a resend does not reset the account limit', async () => {
    const { username, phone } = await patient();
    const { agent, page } = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    const wrong = (c: string) => (c === '000000' ? '111111' : '000000');
    let last: Page = page;
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      last = await submitStep(agent, last, 'sms', 'verify', { code: wrong(code) });
      expect(last.status).toBe(401);
      expect(textOf(last)).toContain(`U kunt deze code nog ${5 - attempt} keer proberen.`);
    }
    last = await submitStep(agent, last, 'sms', 'verify', { code: wrong(code) });
    expect(last.status).toBe(429);
    expect(textOf(last)).toContain('Deze code werkt niet meer: vraag een nieuwe code aan.');
    const right = await submitStep(agent, last, 'sms', 'verify', { code });
    expect(right.status).toBe(429);

    // A new code gets 5 attempts of its own, but the account has 10 in the hour: after them even
    // the right code is refused until the hour is over.
    world.clock.advance(31_000);
    last = await submitStep(agent, right, 'sms', 'resend');
    const { code: second } = await nextSmsCode(phone);
    for (let attempt = 1; attempt <= 5; attempt += 1) last = await submitStep(agent, last, 'sms', 'verify', { code: wrong(second) });
    const locked = await submitStep(agent, last, 'sms', 'verify', { code: second });
    expect(locked.status).toBe(429);
    expect(textOf(locked)).toContain('Wacht een uur en probeer het dan opnieuw.');
  });

  it('explains malformed codes with a 400 and does not count them: they cannot match a code', async () => {
    const { username, phone } = await patient();
    const { agent, page } = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    const cases: Array<[string, string]> = [
      ['', 'Vul de code uit de sms in.'],
      ['12a456', 'De code bestaat alleen uit cijfers.'],
      ['1234567', 'De code bestaat uit 6 cijfers.'],
      ['123', 'De code bestaat uit 6 cijfers.'],
    ];
    let last: Page = page;
    for (const [input, message] of cases) {
      last = await submitStep(agent, last, 'sms', 'verify', { code: input });
      expect(last.status).toBe(400);
      expect(textOf(last)).toContain(message);
      expect(last.html).toContain('aria-invalid="true"');
    }
    // 4 + 10 more malformed entries: none is a guess, so the budget (10 an hour) is untouched and
    // the code itself (5 attempts) is still live: the right code works.
    for (let i = 0; i < 10; i += 1) last = await submitStep(agent, last, 'sms', 'verify', { code: 'abcdef' });
    const done = await submitStep(agent, last, 'sms', 'verify', { code });
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('shows a clear 503 when the SMS cannot be sent, and lets the patient try again', async () => {
    const { username, phone } = await patient();
    const { agent, page, request } = await atSmsStep(username);
    await nextSmsCode(phone);
    world.clock.advance(31_000);
    world.twilio.failNext(503, 20503, 'Service Unavailable');
    const failed = await submitStep(agent, page, 'sms', 'resend');
    expect(failed.status).toBe(503);
    expect(textOf(failed)).toContain('De sms kon nu niet worden verstuurd');
    expect(failed.html).toContain(VERIFY);
    world.clock.advance(31_000);
    const resent = await submitStep(agent, failed, 'sms', 'resend');
    expect(resent.status).toBe(200);
    const { code } = await nextSmsCode(phone);
    const { claims } = await completeLogin(rp, agent, resent, VERIFY, { code }, request);
    expect(claims.amr).toContain('sms');
  });

  it('keeps the code already received when a resend fails', async () => {
    const { username, phone } = await patient();
    const { agent, page, request } = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    world.clock.advance(31_000);
    world.twilio.failNext(503, 20503, 'Service Unavailable');
    const failed = await submitStep(agent, page, 'sms', 'resend');
    expect(failed.status).toBe(503);
    const { claims } = await completeLogin(rp, agent, failed, VERIFY, { code }, request);
    expect(claims.amr).toContain('sms');
  });

  it('lets the patient remember the device', async () => {
    const { username, phone } = await patient();
    const { agent, page, request } = await atSmsStep(username);
    const { code } = await nextSmsCode(phone);
    await completeLogin(rp, agent, page, VERIFY, { code, remember_device: 'on' }, request);
    // The password is asked again (prompt=login), the SMS is not: the device stands in for it.
    const again = await loginUntilSecondFactor(rp, agent, username, { params: { prompt: 'login' } });
    const { claims } = await finishAtPortal(rp, again.page, again.request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(world.twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('sms')).toEqual([]);
  });

  it('never logs or audits a code or a full phone number', async () => {
    expect(codesSeen.length).toBeGreaterThan(5);
    await expectNoSecrets(world.server, [...codesSeen, ...phones.flatMap(phoneForms)]);
  });
});
