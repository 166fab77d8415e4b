// The verify-phone required action: when it is due, and through the real server (Twilio's real
// client against the fake API) that a stored `verify-phone` sends a code to the number already on
// the account, after the login proved the patient, and marks the number verified.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPhoneAction as action } from '../../src/actions/verify-phone/verify-phone-action.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { expectNoSecrets, extractCode, finishAtPortal, startFactorWorld, submitStep, untranslatedKeys, type FactorWorld } from '../support/factor-login.ts';
import { actionFacts, stored } from '../support/action-facts.ts';

describe('verify-phone: when it is due', () => {
  it('is due when stored on the account, and done once its page finished in this flow', () => {
    expect(action.due(actionFacts())).toBe(false);
    expect(action.due(actionFacts({ account: stored('verify-phone') }))).toBe(true);
    expect(action.done(actionFacts({ account: stored('verify-phone'), actionsDone: ['verify-phone'] }))).toBe(true);
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('verify-phone')).toEqual([]);
  });
});

describe('verify-phone in a login', () => {
  let world: FactorWorld;
  let mtd: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld();
    mtd = await world.portal({ name: 'Mijn Therapie Dossier', smsSender: 'MTD' });
  });
  afterAll(() => world?.close());

  it('sends a code to the number the practice registered and marks it verified, before the portal gets the login', async () => {
    const phone = '+31630000091';
    const account = await world.server.addUser({ username: 'bevestig-nummer', phoneE164: phone, phoneVerified: false });
    await world.server.services.store.accounts.update({ ...account, requiredActions: ['verify-phone'] });
    const agent = new UserAgent();
    const request = await mtd.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    const page = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    expect(textOf(page)).toContain('Bevestig uw mobiele nummer');
    expect(textOf(page)).toContain(`*****${phone.slice(-2)}`);
    expect(page.html).not.toContain(phone);
    const sms = await world.twilio.waitForSms(phone);
    expect(sms.from).toBe('MTD');
    const code = extractCode(sms.body);
    const done = await submitStep(agent, page, 'verify-phone', 'verify', { code });
    await finishAtPortal(mtd, done, request);
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(after.phoneVerified).toBe(true);
    expect(after.requiredActions).toEqual([]);
    await expectNoSecrets(world.server, [code, phone, phone.slice(3)]);
  });
});
