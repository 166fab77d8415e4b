// Setting up SMS during login, as ZINN's patients meet it: the portal requires a second factor
// and allows SMS only, from its own sender ZINNZORG. The patient confirms the password, types a
// mobile number, gets a code, may change the number or have the SMS sent again, and is in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf } from '../support/user-agent.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import {
  expectNoSecrets,
  extractCode,
  finishAtPortal,
  loginUntilSecondFactor,
  passRecoveryCodes,
  phoneForms,
  startFactorWorld,
  submitStep,
  type FactorWorld,
} from '../support/factor-login.ts';

describe('SMS enrolment during login (ZINN)', () => {
  let world: FactorWorld;
  let zinn: RelyingParty;
  const codesSeen: string[] = [];

  beforeAll(async () => {
    world = await startFactorWorld();
    zinn = await world.portal({ name: 'ZINN cliëntportaal', mfa: 'required', mfaMethods: ['sms'], smsSender: 'ZINNZORG' });
  });
  afterAll(() => world?.close());

  async function smsCode(phone: string) {
    const sms = await world.twilio.waitForSms(phone);
    const code = extractCode(sms.body);
    codesSeen.push(code);
    return { sms, code };
  }

  it('confirms the password, takes a phone number, and logs in with the SMS code from ZINNZORG', async () => {
    const account = await world.server.addUser({ username: 'zinn-nieuw' });
    const agent = new UserAgent();
    const { page: reauth, request } = await loginUntilSecondFactor(zinn, agent, 'zinn-nieuw');
    expect(textOf(reauth)).toContain('Bevestig uw wachtwoord');

    const phonePage = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    expect(phonePage.status).toBe(200);
    expect(textOf(phonePage)).toContain('Vul uw mobiele telefoonnummer in');
    expect(phonePage.html).toContain('type="tel"');
    expect(phonePage.html).toContain('autocomplete="tel"');

    const letters = await submitStep(agent, phonePage, 'sms', 'phone', { phone: '06-abcdefgh' });
    expect(letters.status).toBe(400);
    expect(textOf(letters)).toContain('Dit is geen geldig telefoonnummer');
    expect(letters.html).toContain('value="06-abcdefgh"');

    const empty = await submitStep(agent, letters, 'sms', 'phone', { phone: '  ' });
    expect(empty.status).toBe(400);
    expect(textOf(empty)).toContain('Vul uw mobiele telefoonnummer in.');

    // Paid and service numbers are refused: every code sent there would be someone's income.
    for (const paid of ['0906 1234567', '0909 1234567', '+44 909 8790000', '0800 0222']) {
      const refused = await submitStep(agent, empty, 'sms', 'phone', { phone: paid });
      expect(refused.status, paid).toBe(400);
      expect(textOf(refused)).toContain('Dit is een betaal- of servicenummer');
      expect(refused.html).toContain('aria-invalid="true"');
    }

    const landline = await submitStep(agent, empty, 'sms', 'phone', { phone: '020 123 4567' });
    expect(landline.status).toBe(400);
    expect(textOf(landline)).toContain('Dit is geen mobiel nummer');

    // No code can be checked before a number is given (a hand-made post to verify).
    const phoneForm = findForm(landline, '/step/sms/phone');
    const early = await agent.request(phoneForm.action.replace(/\/phone$/, '/verify'), { method: 'POST', body: new URLSearchParams({ _csrf: phoneForm.fields._csrf!, code: '123456' }).toString() });
    expect(early.status).toBe(400);
    expect(textOf(early)).toContain('Vul uw mobiele telefoonnummer in.');
    expect(world.twilio.messages).toHaveLength(0);

    const codePage = await submitStep(agent, landline, 'sms', 'phone', { phone: '06 12345678' });
    expect(codePage.status).toBe(200);
    expect(textOf(codePage)).toContain('*****78');
    expect(textOf(codePage)).toContain('Sms opnieuw versturen');
    expect(textOf(codePage)).toContain('Mobiele telefoonnummer aanpassen');
    const { sms: first, code: firstCode } = await smsCode('+31612345678');
    expect(first.from).toBe('ZINNZORG');
    expect(first.body).toContain('Uw code om sms-verificatie in te stellen voor ZINN cliëntportaal is');

    // Another number: the code for the first one stops working, and numbers cannot be tried in quick succession.
    const change = await submitStep(agent, codePage, 'sms', 'change');
    expect(textOf(change)).toContain('Vul uw mobiele telefoonnummer in');
    const tooSoon = await submitStep(agent, change, 'sms', 'phone', { phone: '+31 6 87654321' });
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.html).toContain('value="+31 6 87654321"');
    world.clock.advance(31_000);
    const second = await submitStep(agent, tooSoon, 'sms', 'phone', { phone: '+31 6 87654321' });
    expect(textOf(second)).toContain('*****21');
    const { code: secondCode } = await smsCode('+31687654321');

    if (firstCode !== secondCode) {
      const stale = await submitStep(agent, second, 'sms', 'verify', { code: firstCode });
      expect(stale.status).toBe(401);
    }
    const enrolled = await submitStep(agent, second, 'sms', 'verify', { code: secondCode });
    const { claims } = await finishAtPortal(zinn, await passRecoveryCodes(agent, enrolled), request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(claims.acr).toBe(ACR.substantial);

    const stored = (await world.server.services.accounts.findById(account.id))!;
    expect(stored.phoneVerified).toBe(true);
    expect(world.server.services.accounts.phoneOf(stored)).toBe('+31687654321');
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'sms')).toHaveLength(1);

    // The next login asks for the SMS code straight after the password.
    world.clock.advance(31_000);
    const next = new UserAgent();
    const again = await loginUntilSecondFactor(zinn, next, 'zinn-nieuw');
    expect(textOf(again.page)).toContain('Vul de code uit de sms in');
    const { sms: loginSms, code } = await smsCode('+31687654321');
    expect(loginSms.from).toBe('ZINNZORG');
    expect(loginSms.body).toContain('Uw inlogcode voor ZINN cliëntportaal is');
    const done = await submitStep(next, again.page, 'sms', 'verify', { code });
    expect((await finishAtPortal(zinn, done, again.request)).claims.acr).toBe(ACR.substantial);
  });

  it('sends the code at once to a number the account already has, and can send it again', async () => {
    await world.server.addUser({ username: 'zinn-bekend', phoneE164: '+31611112233', phoneVerified: false });
    const agent = new UserAgent();
    const { page: reauth, request } = await loginUntilSecondFactor(zinn, agent, 'zinn-bekend');
    const codePage = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    expect(textOf(codePage)).toContain('*****33');
    expect(textOf(codePage)).toContain('Mobiele telefoonnummer aanpassen');
    await smsCode('+31611112233');
    world.clock.advance(31_000);
    const resent = await submitStep(agent, codePage, 'sms', 'resend');
    expect(textOf(resent)).toContain('Er is een nieuwe code verstuurd naar *****33');
    const { code } = await smsCode('+31611112233');
    const enrolled = await submitStep(agent, resent, 'sms', 'verify', { code: ` ${code}\n` });
    const { claims } = await finishAtPortal(zinn, await passRecoveryCodes(agent, enrolled), request);
    expect(claims.amr).toContain('sms');
  });

  it('binds a code to the flow that sent it: a code for another number cannot verify this one', async () => {
    const account = await world.server.addUser({ username: 'zinn-twee', phoneE164: '+31622223344', phoneVerified: false });
    // Flow 1 sends a code to the known number, then to a number the patient types instead.
    const one = new UserAgent();
    const first = await loginUntilSecondFactor(zinn, one, 'zinn-twee');
    const codePage = await one.submit(first.page, '/step/password/verify', { password: TEST_PASSWORD });
    await smsCode('+31622223344');
    world.clock.advance(31_000);
    const change = await submitStep(one, codePage, 'sms', 'change');
    await submitStep(one, change, 'sms', 'phone', { phone: '06 55556677' });
    const { code: codeForOther } = await smsCode('+31655556677');

    // Flow 2, moments later, is about the account's own number: nothing is sent yet (cooldown),
    // and the code that went to the other number must not prove this one.
    const two = new UserAgent();
    const second = await loginUntilSecondFactor(zinn, two, 'zinn-twee');
    const waiting = await two.submit(second.page, '/step/password/verify', { password: TEST_PASSWORD });
    expect(textOf(waiting)).toContain('*****44');
    expect(textOf(waiting)).toMatch(/Wacht nog \d+ seconden voordat u een code aanvraagt/);
    // No code field while nothing was sent for this step: the attacker's post is hand-made.
    expect(waiting.html).not.toContain('name="code"');
    const form = findForm(waiting, '/step/sms/resend');
    const refused = await two.request(form.action.replace(/\/resend$/, '/verify'), { method: 'POST', body: new URLSearchParams({ _csrf: form.fields._csrf!, code: codeForOther }).toString() });
    expect(refused.status).toBe(400);
    expect(textOf(refused)).toContain('Deze code is verlopen of al gebruikt');
    const stored = (await world.server.services.accounts.findById(account.id))!;
    expect(stored.phoneVerified).toBe(false);
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'sms')).toHaveLength(0);
  });

  it('never logs or audits the codes or the numbers', async () => {
    await expectNoSecrets(world.server, [...codesSeen, ...['+31612345678', '+31687654321', '+31611112233', '+31622223344', '+31655556677'].flatMap(phoneForms)]);
  });
});
