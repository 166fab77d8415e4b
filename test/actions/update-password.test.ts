// The update-password required action: when it is due, and through the real server that a stored
// `update-password` asks current + new + confirmation after the login proved the patient, refuses
// each wrong entry in the patient's language with a 4xx and nothing changed, and lets the login
// go on to the portal once the password is changed (the old one then fails, the new one works).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePasswordAction as action } from '../../src/actions/update-password/update-password-action.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';
import { REDIRECT_URI, passwordLogin, type RelyingParty } from '../support/relying-party.ts';
import { finishAtPortal, startFactorWorld, submitStep, untranslatedKeys, type FactorWorld } from '../support/factor-login.ts';
import { actionFacts, stored } from '../support/action-facts.ts';

const NEW_PASSWORD = 'Zonnebloem-Kapstok-77';

describe('update-password: when it is due', () => {
  it('is due when stored, or when the password service says the password must change; done once changed in this flow', () => {
    expect(action.due(actionFacts())).toBe(false);
    expect(action.due(actionFacts({ account: stored('update-password') }))).toBe(true);
    expect(action.due(actionFacts({ account: { requiredActions: [], passwordChangeRequired: true } }))).toBe(true);
    const changed = actionFacts({ account: stored('update-password'), actionsDone: ['update-password'] });
    expect(action.due(changed)).toBe(false);
    expect(action.done(changed)).toBe(true);
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('update-password')).toEqual([]);
  });
});

describe('update-password in a login', () => {
  let world: FactorWorld;
  let rp: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld();
    rp = await world.portal({ name: 'Flynth' });
  });
  afterAll(() => world?.close());

  async function patient(username: string) {
    const account = await world.server.addUser({ username });
    await world.server.services.store.accounts.update({ ...account, requiredActions: ['update-password'] });
    return account;
  }

  it('asks for a new password before the portal gets the login, refusing each wrong entry with nothing changed', async () => {
    const account = await patient('wijzig-wachtwoord');
    const agent = new UserAgent();
    const request = await rp.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    const page = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(textOf(page)).toContain('U bent verplicht uw wachtwoord te wijzigen');
    expect(page.html).toContain('autocomplete="new-password"');

    const attempts: Array<[Record<string, string>, number, string]> = [
      [{ current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` }, 400, 'De twee nieuwe wachtwoorden zijn niet gelijk.'],
      [{ current: TEST_PASSWORD, password: TEST_PASSWORD, confirm: TEST_PASSWORD }, 400, 'Uw nieuwe wachtwoord is gelijk aan uw huidige.'],
      [{ current: 'Verkeerd-Wachtwoord-1', password: NEW_PASSWORD, confirm: NEW_PASSWORD }, 401, 'Uw huidige wachtwoord is onjuist.'],
      [{ current: TEST_PASSWORD, password: 'kort', confirm: 'kort' }, 400, 'Uw nieuwe wachtwoord is te kort.'],
      [{ current: TEST_PASSWORD, password: 'welkom2026!', confirm: 'welkom2026!' }, 400, 'Dit wachtwoord wordt te vaak gebruikt'],
      [{ current: TEST_PASSWORD, password: `${account.username}-2026`, confirm: `${account.username}-2026` }, 400, 'mag uw naam, gebruikersnaam of e-mailadres niet bevatten'],
      [{ current: TEST_PASSWORD, password: 'x'.repeat(10_000), confirm: 'x' }, 400, 'Uw nieuwe wachtwoord is te lang.'],
      [{ current: '', password: '', confirm: '' }, 400, 'Vul uw huidige wachtwoord in.'],
    ];
    let shown = page;
    for (const [values, status, message] of attempts) {
      shown = await submitStep(agent, shown, 'update-password', 'change', values);
      expect(shown.status, message).toBe(status);
      expect(textOf(shown)).toContain(message);
      // The error summary links to the field it is about.
      expect(shown.html).toMatch(/<div class="error-summary"[\s\S]*?href="#(current|password|confirm)"/);
    }
    // Twice 10 000 characters is more than any form may carry (16 KiB): a clear page, still a 4xx.
    const huge = await submitStep(agent, shown, 'update-password', 'change', { current: TEST_PASSWORD, password: 'x'.repeat(10_000), confirm: 'x'.repeat(10_000) });
    expect(huge.status).toBe(413);
    expect(textOf(huge)).toContain('Het formulier is te groot om te verwerken.');
    expect(await world.server.services.passwords.verify(account, TEST_PASSWORD)).toBe(true);
    expect((await world.server.services.accounts.findById(account.id))!.requiredActions).toEqual(['update-password']);

    const done = await submitStep(agent, shown, 'update-password', 'change', { current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const { claims } = await finishAtPortal(rp, done, request);
    expect(claims.sub).toBe(account.id);
    expect((await world.server.services.accounts.findById(account.id))!.requiredActions).toEqual([]);
    const audit = await world.server.services.store.audit.list({ accountId: account.id, limit: 100 });
    expect(audit.map((e) => e.type)).toContain('password.changed');
    expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
    // The patient is told by mail (the notify hook), without the password.
    const notice = await world.smtp.waitForMail(account.email);
    expect(notice.subject).toBe('Het wachtwoord van uw account is gewijzigd');
    expect(notice.text).toContain('bij het inloggen op Flynth');
    expect(notice.raw).not.toContain(NEW_PASSWORD);

    // The next login: the new password works, and nothing more is asked; the old one is refused.
    const next = await passwordLogin(rp, new UserAgent(), account.username, NEW_PASSWORD);
    expect(next.claims()!.sub).toBe(account.id);
    await expect(passwordLogin(rp, new UserAgent(), account.username, TEST_PASSWORD)).rejects.toThrow(/did not return to the portal: 401/);
  });

  it('speaks English when the patient chose it', async () => {
    const account = await patient('change-password-en');
    const agent = new UserAgent();
    const request = await rp.authorize();
    const login = await agent.open(`${(await agent.open(request.url, REDIRECT_URI)).url}?lang=en`);
    const page = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD }, REDIRECT_URI);
    expect(textOf(page)).toContain('You must change your password before you can continue.');
    const refused = await submitStep(agent, page, 'update-password', 'change', { current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: 'other' });
    expect(refused.status).toBe(400);
    expect(textOf(refused)).toContain('The two new passwords are not the same.');
  });
});
