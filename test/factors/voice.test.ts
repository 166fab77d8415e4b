// Codes read aloud in a phone call: for patients who cannot read an SMS, or have a landline only.
// Twilio's real client places the call at the fake API; the TwiML spells the code in the account
// language, twice. An account with SMS can be called on the same number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf } from '../support/user-agent.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import {
  TWILIO_NUMBER,
  completeLogin,
  expectNoSecrets,
  finishAtPortal,
  loginUntilSecondFactor,
  passRecoveryCodes,
  phoneForms,
  spokenCode,
  startFactorWorld,
  submitStep,
  untranslatedKeys,
  userWithFactors,
  type FactorWorld,
} from '../support/factor-login.ts';

const VERIFY = '/step/voice/verify';

describe('voice code at login', () => {
  let world: FactorWorld;
  let rp: RelyingParty;
  const codesSeen: string[] = [];
  const phones: string[] = [];

  beforeAll(async () => {
    world = await startFactorWorld();
    rp = await world.portal({ name: 'Testportaal' });
  });
  afterAll(() => world?.close());

  async function callCode(phone: string) {
    const call = await world.twilio.waitForCall(phone);
    const code = spokenCode(call.twiml);
    codesSeen.push(code);
    return { call, code };
  }

  it('calls the patient, reads the code twice in Dutch, and logs in with amr tel', async () => {
    const phone = '+31612340001';
    phones.push(phone);
    await userWithFactors(world.server, { username: 'bel-nl', phoneE164: phone }, ['voice']);
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, 'bel-nl');
    expect(textOf(page)).toContain('Vul de code uit het telefoongesprek in');
    expect(textOf(page)).toContain('*****01');
    const { call, code } = await callCode(phone);
    expect(call.from).toBe(TWILIO_NUMBER);
    expect(call.twiml).toContain('<Say language="nl-NL">Hallo. Dit is uw inlogcode voor Testportaal. De code is:</Say>');
    const spelled = [...code].join(', ');
    expect(call.twiml.split(`<Say language="nl-NL">${spelled}</Say>`)).toHaveLength(3);
    const { claims } = await completeLogin(rp, agent, page, VERIFY, { code }, request);
    expect(claims.amr).toEqual(['pwd', 'tel', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);
  });

  it('speaks English to an English account', async () => {
    const phone = '+31612340002';
    phones.push(phone);
    await userWithFactors(world.server, { username: 'bel-en', phoneE164: phone, locale: 'en' }, ['voice']);
    await loginUntilSecondFactor(rp, new UserAgent(), 'bel-en');
    const { call } = await callCode(phone);
    expect(call.twiml).toContain('<Say language="en-GB">Hello. This is your sign-in code for Testportaal. The code is:</Say>');
  });

  it('is offered beside SMS on the same number, and a new call voids the previous code', async () => {
    const phone = '+31612340003';
    phones.push(phone);
    await userWithFactors(world.server, { username: 'bel-sms', phoneE164: phone }, ['sms']);
    const agent = new UserAgent();
    const { page: smsPage, request } = await loginUntilSecondFactor(rp, agent, 'bel-sms');
    expect(textOf(smsPage)).toContain('Vul de code uit de sms in');
    expect(textOf(smsPage)).toContain('Telefoongesprek naar *****03');
    await world.twilio.waitForSms(phone);

    const voicePage = await agent.submit(smsPage, '/choose', { method: 'voice' });
    expect(textOf(voicePage)).toContain('Vul de code uit het telefoongesprek in');
    const { code: first } = await callCode(phone);
    world.clock.advance(31_000);
    const again = await submitStep(agent, voicePage, 'voice', 'resend');
    expect(textOf(again)).toContain('We bellen u opnieuw op *****03');
    const { code: second } = await callCode(phone);
    if (first !== second) expect((await submitStep(agent, again, 'voice', 'verify', { code: first })).status).toBe(401);
    const { claims } = await completeLogin(rp, agent, again, VERIFY, { code: second }, request);
    expect(claims.amr).toEqual(['pwd', 'tel', 'mfa']);
  });

  it('enrols a landline during login when the portal asks for calls', async () => {
    const portal = await world.portal({ name: 'Belportaal', mfa: 'required', mfaMethods: ['voice'] });
    await world.server.addUser({ username: 'bel-vast' });
    const agent = new UserAgent();
    const { page: reauth, request } = await loginUntilSecondFactor(portal, agent, 'bel-vast');
    const phonePage = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    expect(textOf(phonePage)).toContain('Vul uw telefoonnummer in');
    // A call to a paid number would make every code someone's income (toll fraud): refused.
    for (const paid of ['0909 1234567', '+44 909 8790000', '0906 1234567']) {
      const refused = await submitStep(agent, phonePage, 'voice', 'phone', { phone: paid });
      expect(refused.status, paid).toBe(400);
      expect(textOf(refused)).toContain('Dit is een betaal- of servicenummer');
    }
    expect(world.twilio.calls.filter((c) => ['+319091234567', '+449098790000', '+319061234567'].includes(c.to))).toHaveLength(0);
    const codePage = await submitStep(agent, phonePage, 'voice', 'phone', { phone: '020 123 4567' });
    expect(codePage.status).toBe(200);
    expect(textOf(codePage)).toContain('*****67');
    phones.push('+31201234567');
    const { call, code } = await callCode('+31201234567');
    expect(call.twiml).toContain('Dit is uw code om inloggen met een telefoongesprek in te stellen voor Belportaal');
    const done = await passRecoveryCodes(agent, await submitStep(agent, codePage, 'voice', 'verify', { code }));
    const { claims } = await finishAtPortal(portal, done, request);
    expect(claims.amr).toEqual(['pwd', 'tel', 'mfa']);
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('voice')).toEqual([]);
  });

  it('never logs or audits a code or a full phone number', async () => {
    await expectNoSecrets(world.server, [...codesSeen, ...phones.flatMap(phoneForms)]);
  });
});

describe('voice code when calls cannot be placed', () => {
  let world: FactorWorld;
  let rp: RelyingParty;

  // An alphanumeric TWILIO_FROM works for SMS, but Twilio cannot call from it.
  beforeAll(async () => {
    world = await startFactorWorld({ env: { TWILIO_FROM: 'Poortwacht' } });
    rp = await world.portal({ name: 'Testportaal' });
  });
  afterAll(() => world?.close());

  it('does not offer calls to an SMS account', async () => {
    await userWithFactors(world.server, { username: 'geen-bel-sms', phoneE164: '+31612340011' }, ['sms']);
    const { page } = await loginUntilSecondFactor(rp, new UserAgent(), 'geen-bel-sms');
    expect(textOf(page)).toContain('Vul de code uit de sms in');
    expect(textOf(page)).not.toContain('Telefoongesprek naar');
  });

  it('shows a clear 503 to a voice account, keeps the flow, and never a 500', async () => {
    await userWithFactors(world.server, { username: 'geen-bel', phoneE164: '+31612340012' }, ['voice']);
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(rp, agent, 'geen-bel');
    expect(page.status).toBe(503);
    expect(textOf(page)).toContain('We konden u nu niet bellen');
    expect(findForm(page, '/step/voice/resend')).toBeTruthy();
    world.clock.advance(31_000);
    const again = await submitStep(agent, page, 'voice', 'resend');
    expect(again.status).toBe(503);
    expect(world.twilio.calls).toHaveLength(0);
  });
});
