// The update-password required action ("U bent verplicht uw wachtwoord te wijzigen") through the
// real server, openid-client as the portal and the real SMTP server: due when an operator stored
// it, when the patient signed in with a temporary password, or when the typed password no longer
// meets the portal's profile; every rule listed before typing and each failed rule and field
// named after (Dutch and English), a 4xx and nothing changed for bad input; then the login goes on
// to the portal in the same flow. An expired temporary password gets its own message, and the
// patient's own password keeps working until the change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updatePasswordAction as action } from '../../src/actions/update-password/update-password-action.ts';
import type { AccountRecord } from '../../src/store/port.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, passwordLogin, type RelyingParty } from '../support/relying-party.ts';
import { finishAtPortal, loginUntilSecondFactor, startFactorWorld, submitStep, untranslatedKeys, type FactorWorld } from '../support/factor-login.ts';
import { actionFacts, stored } from '../support/action-facts.ts';

const NEW_PASSWORD = 'Zonnebloem-Kapstok-77';
const HOUR = 3600_000;

describe('update-password: when it is due', () => {
  it('is due when stored, or when the password just typed must be replaced; done once changed in this flow', () => {
    expect(action.due(actionFacts())).toBe(false);
    expect(action.due(actionFacts({ account: stored('update-password') }))).toBe(true);
    expect(action.due(actionFacts({ account: { requiredActions: [], passwordChangeRequired: true } }))).toBe(true);
    const changed = actionFacts({ account: stored('update-password'), actionsDone: ['update-password'] });
    expect(action.due(changed)).toBe(false);
    expect(action.done(changed)).toBe(true);
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('password_change')).toEqual([]);
    expect(untranslatedKeys('password_rules')).toEqual([]);
  });
});

describe('update-password in a login', () => {
  let world: FactorWorld;
  let rp: RelyingParty;
  let strict: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld();
    rp = await world.portal({ name: 'Flynth' });
    // A portal whose profile TEST_PASSWORD does not meet: it has no upper-case letter... it does; no '#'.
    await world.server.services.passwordProfiles.add({ name: 'hekje', minLength: 10, maxLength: 128, require: ['upper', 'digit', 'special'], specials: '#', blocklist: true, notNames: true, history: 3 });
    strict = await world.portal({ name: 'Strikt Portaal', passwordProfile: 'hekje' });
  });
  afterAll(() => world?.close());

  async function patient(username: string, actions: string[] = ['update-password']): Promise<AccountRecord> {
    const account = await world.server.addUser({ username });
    return world.server.services.store.accounts.update({ ...account, requiredActions: actions }).then(() => ({ ...account, requiredActions: actions }));
  }

  function change(agent: UserAgent, page: Page, values: Record<string, string>): Promise<Page> {
    return submitStep(agent, page, 'update-password', 'change', values);
  }

  it('asks for a new password before the portal gets the login, refusing each wrong entry with nothing changed', async () => {
    const account = await patient('wijzig-wachtwoord');
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, account.username);
    expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(textOf(page)).toContain('U bent verplicht uw wachtwoord te wijzigen.');
    expect(textOf(page)).toContain('Uw zorgverlener of de beheerder heeft gevraagd dat u een nieuw wachtwoord kiest.');
    // Every rule is said before the patient types.
    expect(textOf(page)).toContain('Uw nieuwe wachtwoord moet voldoen aan deze eisen: • Minstens 8 tekens');
    expect(page.html).toContain('autocomplete="new-password"');

    const attempts: Array<[Record<string, string>, number, string, string]> = [
      [{ current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` }, 400, 'De bevestiging is niet gelijk aan het nieuwe wachtwoord.', 'confirm'],
      [{ current: TEST_PASSWORD, new: TEST_PASSWORD, confirm: TEST_PASSWORD }, 400, 'Het nieuwe wachtwoord is gelijk aan uw huidige wachtwoord.', 'new'],
      [{ current: 'Verkeerd-Wachtwoord-1', new: NEW_PASSWORD, confirm: NEW_PASSWORD }, 401, 'Uw huidige wachtwoord is onjuist.', 'current'],
      [{ current: TEST_PASSWORD, new: 'kort', confirm: 'kort' }, 400, 'Het nieuwe wachtwoord is te kort: gebruik minstens 8 tekens.', 'new'],
      [{ current: TEST_PASSWORD, new: 'welkom2026!', confirm: 'welkom2026!' }, 400, 'Dit wachtwoord wordt te vaak gebruikt', 'new'],
      [{ current: TEST_PASSWORD, new: `${account.username}-2026`, confirm: `${account.username}-2026` }, 400, 'mag uw gebruikersnaam, naam of e-mailadres niet bevatten', 'new'],
      [{ current: TEST_PASSWORD, new: 'x'.repeat(10_000), confirm: 'x' }, 413, 'Het nieuwe wachtwoord is veel te lang.', 'new'],
      [{ current: TEST_PASSWORD, new: 'Geldig\uFFFDWachtwoord-9', confirm: 'Geldig\uFFFDWachtwoord-9' }, 400, 'bevat tekens die niet in een wachtwoord kunnen staan', 'new'],
      [{ current: '', new: '', confirm: '' }, 400, 'Vul uw huidige wachtwoord in.', 'current'],
    ];
    let shown = page;
    for (const [values, status, message, field] of attempts) {
      shown = await change(agent, shown, values);
      expect(shown.status, message).toBe(status);
      expect(textOf(shown)).toContain(message);
      // The error summary links to the field it is about.
      expect(shown.html).toMatch(new RegExp(`<div class="error-summary"[\\s\\S]*?href="#${field}"`));
    }
    // Twice 10 000 characters is more than any form may carry (16 KiB): a clear page, still a 4xx.
    const huge = await change(agent, shown, { current: TEST_PASSWORD, new: 'x'.repeat(10_000), confirm: 'x'.repeat(10_000) });
    expect(huge.status).toBe(413);
    expect(textOf(huge)).toContain('Het formulier is te groot om te verwerken.');
    expect(await world.server.services.passwords.verify(account, TEST_PASSWORD)).toBe(true);
    expect((await world.server.services.accounts.findById(account.id))!.requiredActions).toEqual(['update-password']);

    const done = await change(agent, shown, { current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const { claims } = await finishAtPortal(rp, done, request);
    expect(claims.sub).toBe(account.id);
    expect((await world.server.services.accounts.findById(account.id))!.requiredActions).toEqual([]);
    const audit = await world.server.services.store.audit.list({ accountId: account.id, limit: 100 });
    const changed = audit.find((e) => e.type === 'password.changed');
    expect(changed).toMatchObject({ actor: 'patient', detail: { via: 'forced', outcome: 'changed' } });
    expect(audit.filter((e) => e.type === 'password.change_refused')).toHaveLength(attempts.length);
    expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
    // The patient is told by mail (the notify hook), once, without the password.
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
    expect(textOf(page)).toContain('You must change your password.');
    expect(textOf(page)).toContain('Your new password must meet these requirements:');
    const refused = await change(agent, page, { current: TEST_PASSWORD, new: NEW_PASSWORD, confirm: 'other' });
    expect(refused.status).toBe(400);
    expect(textOf(refused)).toContain('The confirmation does not match the new password.');
  });

  it('follows a login with a temporary password: the mail, the forced change, the portal; the own password worked until then', async () => {
    const account = (await world.server.addUser({ username: 'tijdelijk' }))!;
    const { passwordLifecycle } = world.server.services;
    const issued = await passwordLifecycle.issueTemporary(account, { clientId: 'flynth', name: 'Flynth' }, { actor: 'operator:test' });
    const mail = await world.smtp.waitForMail(account.email);
    const temporary = /Tijdelijk wachtwoord: (\S+)/.exec(mail.text ?? '')![1]!;
    expect(issued.expiresAt).toBe(world.clock.now() + 72 * HOUR);

    // The own password keeps working and asks for nothing: issuing one cannot lock anyone out.
    expect((await passwordLogin(rp, new UserAgent(), account.username, TEST_PASSWORD)).claims()!.sub).toBe(account.id);

    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, account.username, { password: temporary });
    expect(textOf(page)).toContain('U bent ingelogd met een tijdelijk wachtwoord.');
    expect(textOf(page)).toContain('Huidig wachtwoord (het tijdelijke wachtwoord uit de e-mail)');
    // The temporary password is no new password.
    const same = await change(agent, page, { current: temporary, new: temporary, confirm: temporary });
    expect(same.status).toBe(400);
    const done = await change(agent, same, { current: temporary, new: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect((await finishAtPortal(rp, done, request)).claims.sub).toBe(account.id);
    expect(await world.server.services.passwords.temporary(account)).toBeUndefined();
    await expect(passwordLogin(rp, new UserAgent(), account.username, temporary)).rejects.toThrow(/401/);
    await expect(passwordLogin(rp, new UserAgent(), account.username, TEST_PASSWORD)).rejects.toThrow(/401/);
  });

  it('says an expired temporary password expired, with a way onward; the own password still works', async () => {
    const account = await world.server.addUser({ username: 'verlopen' });
    await world.server.services.passwordLifecycle.issueTemporary(account, undefined, { actor: 'operator:test' });
    const temporary = /Tijdelijk wachtwoord: (\S+)/.exec((await world.smtp.waitForMail(account.email)).text ?? '')![1]!;
    world.clock.advance(72 * HOUR + 1000);
    try {
      const { page } = await loginUntilSecondFactor(rp, new UserAgent(), account.username, { password: temporary });
      expect(page.status).toBe(401);
      expect(textOf(page)).toContain('Het tijdelijke wachtwoord uit de e-mail werkt niet meer. Heeft u nog uw eigen wachtwoord? Log daarmee in.');
      expect(page.html).toMatch(/<div class="error-summary"[\s\S]*?href="#password"/);
      // A wrong password still reads as one: only whoever has the mail learns of the expiry.
      const wrong = await loginUntilSecondFactor(rp, new UserAgent(), account.username, { password: 'Helemaal-Fout-123' });
      expect(textOf(wrong.page)).not.toContain('tijdelijke');
      expect((await passwordLogin(rp, new UserAgent(), account.username, TEST_PASSWORD)).claims()!.sub).toBe(account.id);
    } finally {
      world.clock.advance(-(72 * HOUR + 1000));
    }
  });

  it("asks for a new password when the typed one no longer meets the portal's profile, under that profile", async () => {
    const account = await world.server.addUser({ username: 'profiel' });
    // Meets the default profile, so Flynth lets it through as it is.
    expect((await passwordLogin(rp, new UserAgent(), account.username, TEST_PASSWORD)).claims()!.sub).toBe(account.id);

    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(strict, agent, account.username);
    expect(textOf(page)).toContain('Uw wachtwoord voldoet niet aan de eisen van dit portaal.');
    expect(textOf(page)).toContain('Minstens één van deze vreemde tekens: #');
    const refused = await change(agent, page, { current: TEST_PASSWORD, new: 'Zonnebloem-Kapstok-77', confirm: 'Zonnebloem-Kapstok-77' });
    expect(refused.status).toBe(400);
    expect(textOf(refused)).toContain('Het nieuwe wachtwoord moet een van deze vreemde tekens bevatten: #');
    const done = await change(agent, refused, { current: TEST_PASSWORD, new: 'Zonnebloem#Kapstok77', confirm: 'Zonnebloem#Kapstok77' });
    expect((await finishAtPortal(strict, done, request)).claims.sub).toBe(account.id);
    // Now it meets the profile: the next login there asks nothing.
    expect((await passwordLogin(strict, new UserAgent(), account.username, 'Zonnebloem#Kapstok77')).claims()!.sub).toBe(account.id);
  });
});
