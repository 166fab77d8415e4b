// The verify-email required action: when it is due, and through the real server that a stored
// `verify-email` runs after the password and the second factor, inside the same flow (same page
// address, same CSRF token), before the portal gets its code; that a form posted for another flow
// or another account is refused with nothing changed; and that the flag is gone afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEmailAction as action } from '../../src/actions/verify-email/verify-email-action.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { expectNoSecrets, extractCode, finishAtPortal, loginUntilSecondFactor, startFactorWorld, submitStep, untranslatedKeys, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { actionFacts, stored } from '../support/action-facts.ts';

describe('verify-email: when it is due', () => {
  it('is due when stored on the account, and done once its page finished in this flow', () => {
    expect(action.due(actionFacts())).toBe(false);
    expect(action.due(actionFacts({ account: stored('verify-email') }))).toBe(true);
    expect(action.due(actionFacts({ account: stored('verify-email'), actionsDone: ['verify-email'] }))).toBe(false);
    expect(action.done(actionFacts({ account: stored('verify-email'), actionsDone: ['verify-email'] }))).toBe(true);
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('verify-email')).toEqual([]);
  });
});

describe('verify-email in a login', () => {
  let world: FactorWorld;
  let zinn: RelyingParty;
  let nextPhone = 40;

  beforeAll(async () => {
    world = await startFactorWorld();
    zinn = await world.portal({ name: 'ZINN', mfa: 'required', mfaMethods: ['sms'], smsSender: 'ZINNZORG' });
  });
  afterAll(() => world?.close());

  /** A patient with SMS set up; `requiredActions` set through the store, as an operator's tool would. */
  async function patient(username: string, requiredActions: string[] = []) {
    nextPhone += 1;
    const phone = `+316300000${nextPhone}`;
    const account = await userWithFactors(world.server, { username, phoneE164: phone, emailVerified: false }, ['sms']);
    const { store } = world.server.services;
    await store.accounts.update({ ...(await store.accounts.findById(account.id))!, requiredActions });
    return { account, phone };
  }

  async function smsCode(phone: string): Promise<string> {
    return extractCode((await world.twilio.waitForSms(phone)).body);
  }

  const csrfOf = (page: Page) => findForm(page, '/abort').fields._csrf!;
  const pathOf = (page: Page) => new URL(findForm(page, '/abort').action).pathname.replace(/\/abort$/, '');

  it('runs after the password and the SMS code, in the same flow, before the portal gets its code', async () => {
    const { account, phone } = await patient('actie-email', ['verify-email']);
    const agent = new UserAgent();
    const { page: smsPage, request } = await loginUntilSecondFactor(zinn, agent, account.username);
    // The second factor first: the action waits until the patient is authenticated.
    expect(smsPage.html).toContain('/step/sms/verify');
    expect(smsPage.html).not.toContain('/step/verify-email/');
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes(account.email))).toHaveLength(0);

    const verifyPage = await submitStep(agent, smsPage, 'sms', 'verify', { code: await smsCode(phone) });
    // Not at the portal yet: the action's page, in the same flow with the same CSRF token.
    expect(verifyPage.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(verifyPage.status).toBe(200);
    expect(textOf(verifyPage)).toContain('Bevestig uw e-mailadres');
    expect(pathOf(verifyPage)).toBe(pathOf(smsPage));
    expect(csrfOf(verifyPage)).toBe(csrfOf(smsPage));
    const mail = await world.smtp.waitForMail(account.email);
    expect(mail.subject).toBe('Bevestig uw e-mailadres voor ZINN');
    const code = extractCode(mail.text ?? '');

    // A wrong code is refused in the patient's language; the account stays unverified.
    const wrong = await submitStep(agent, verifyPage, 'verify-email', 'verify', { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(401);
    expect(textOf(wrong)).toContain('Deze code is onjuist.');

    const done = await submitStep(agent, wrong, 'verify-email', 'verify', { code: ` ${code.slice(0, 3)} ${code.slice(3)} ` });
    const { claims } = await finishAtPortal(zinn, done, request);
    expect(claims.sub).toBe(account.id);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(after.emailVerified).toBe(true);
    expect(after.requiredActions).toEqual([]);
    await expectNoSecrets(world.server, [code, phone]);
  });

  it('refuses a form posted for another flow or another account, and changes nothing', async () => {
    const a = await patient('actie-email-a', ['verify-email']);
    const agentA = new UserAgent();
    const { page: smsA, request } = await loginUntilSecondFactor(zinn, agentA, a.account.username);
    const pageA = await submitStep(agentA, smsA, 'sms', 'verify', { code: await smsCode(a.phone) });
    const codeA = extractCode((await world.smtp.waitForMail(a.account.email)).text ?? '');

    // Patient B, at the SMS step of a flow of their own.
    const b = await patient('actie-email-b');
    const agentB = new UserAgent();
    const { page: smsB } = await loginUntilSecondFactor(zinn, agentB, b.account.username);
    await world.twilio.waitForSms(b.phone);

    // B posts A's code to the verify-email step of B's own flow: not the step B is on (409, B's real step).
    const foreignStep = await agentB.request(`${new URL(findForm(smsB, '/abort').action).origin}${pathOf(smsB)}/step/verify-email/verify`, {
      method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(smsB), code: codeA }).toString(),
    });
    expect(foreignStep.status).toBe(409);
    expect(foreignStep.html).toContain('/step/sms/verify');

    // B's browser posts A's own form (A's flow, A's token): B holds no interaction of that flow.
    const form = findForm(pageA, '/step/verify-email/verify');
    const otherFlow = await agentB.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, code: codeA }).toString() });
    expect(otherFlow.status).toBeGreaterThanOrEqual(400);
    expect(otherFlow.status).toBeLessThan(500);

    // A's flow with B's token: refused before it is looked at.
    const wrongToken = await agentA.request(form.action, { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(smsB), code: codeA }).toString() });
    expect(wrongToken.status).toBe(403);

    // Nothing changed: A is unverified with the flag still set, B too, and A's code still works in A's flow.
    for (const id of [a.account.id, b.account.id]) expect((await world.server.services.accounts.findById(id))!.emailVerified).toBe(false);
    expect((await world.server.services.accounts.findById(a.account.id))!.requiredActions).toEqual(['verify-email']);
    const done = await submitStep(agentA, pageA, 'verify-email', 'verify', { code: codeA });
    await finishAtPortal(zinn, done, request);
    expect((await world.server.services.accounts.findById(a.account.id))!.emailVerified).toBe(true);
  });

  it('tells a patient without an e-mail address to contact the practice instead of sending anything', async () => {
    const { account, phone } = await patient('actie-geen-email', ['verify-email']);
    await world.server.services.accounts.update((await world.server.services.accounts.findById(account.id))!, { email: '' });
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(zinn, agent, account.username);
    const refused = await submitStep(agent, page, 'sms', 'verify', { code: await smsCode(phone) });
    expect(refused.status).toBe(409);
    expect(textOf(refused)).toContain('Er is geen e-mailadres bekend voor uw account');
  });
});
