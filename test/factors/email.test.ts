// E-mail codes, the patient portal's "sessiecode" and Mijn Therapie Dossier's second step: a code
// by real SMTP, the send time on the page to match with the mail, "Geen sessiecode ontvangen?"
// for a new one that voids the old. Password + e-mail code is acr low-mfa, never substantial.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import {
  completeLogin,
  expectNoSecrets,
  extractCode,
  finishAtPortal,
  loginUntilSecondFactor,
  passRecoveryCodes,
  startFactorWorld,
  submitStep,
  untranslatedKeys,
  userWithFactors,
  type FactorWorld,
} from '../support/factor-login.ts';

const VERIFY = '/step/email/verify';

/** Amsterdam wall-clock time, written independently of the code under test. */
function amsterdam(ms: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)!.value.padStart(2, '0');
  return `${get('hour')}:${get('minute')}`;
}

describe('e-mail code at login', () => {
  let world: FactorWorld;
  let dossier: RelyingParty;
  const codesSeen: string[] = [];

  beforeAll(async () => {
    world = await startFactorWorld();
    dossier = await world.portal({ name: 'Mijn Therapie Dossier', mfa: 'required', mfaMethods: ['totp', 'email'] });
  });
  afterAll(() => world?.close());

  async function mailCode(to: string) {
    const mail = await world.smtp.waitForMail(to);
    const code = extractCode(mail.text ?? '');
    codesSeen.push(code);
    return { mail, code };
  }

  it('mails a session code, shows when it was sent, and logs in with acr low-mfa', async () => {
    await userWithFactors(world.server, { username: 'dossier', givenName: 'Anouk' }, ['email']);
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(dossier, agent, 'dossier');
    expect(page.status).toBe(200);
    expect(textOf(page)).toContain('Vul uw sessiecode in');
    expect(textOf(page)).toContain('d***@example.nl');
    expect(textOf(page)).toContain('Verstuurd om 11:50.');
    expect(textOf(page)).toContain('Geen sessiecode ontvangen?');

    const { mail, code } = await mailCode('dossier@example.nl');
    expect(mail.subject).toBe('Uw sessiecode voor Mijn Therapie Dossier');
    expect(mail.subject).not.toContain(code);
    expect(mail.text).toContain('Beste Anouk,');
    expect(mail.text).toContain('Deze code is 10 minuten geldig');
    expect(mail.text).toContain('Verstuurd om 11:50.');
    expect(mail.html).toContain('<html lang="nl">');
    expect(mail.html).toContain(`>${code}</p>`);

    const { claims } = await completeLogin(dossier, agent, page, VERIFY, { code: ` ${code.slice(0, 3)} ${code.slice(3)}\n` }, request);
    expect(claims.amr).toEqual(['pwd', 'email', 'mfa']);
    expect(claims.acr).toBe(ACR.lowMfa);
  });

  it('writes the mail in the account language', async () => {
    await userWithFactors(world.server, { username: 'dossier-en', locale: 'en', givenName: 'Sam' }, ['email']);
    await loginUntilSecondFactor(dossier, new UserAgent(), 'dossier-en');
    const { mail } = await mailCode('dossier-en@example.nl');
    expect(mail.subject).toBe('Your session code for Mijn Therapie Dossier');
    expect(mail.text).toContain('Dear Sam,');
    expect(mail.html).toContain('<html lang="en">');
  });

  it('sends a new code on "Geen sessiecode ontvangen?", voids the old one and shows the new time', async () => {
    await userWithFactors(world.server, { username: 'opnieuw' }, ['email']);
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(dossier, agent, 'opnieuw');
    const { code: oldCode } = await mailCode('opnieuw@example.nl');
    const early = await submitStep(agent, page, 'email', 'resend');
    expect(early.status).toBe(429);
    world.clock.advance(90_000);
    const resent = await submitStep(agent, early, 'email', 'resend');
    expect(resent.status).toBe(200);
    const time = amsterdam(world.clock.now());
    expect(textOf(resent)).toContain(`Er is een nieuwe sessiecode verstuurd naar o***@example.nl om ${time}.`);
    expect(textOf(resent)).toContain(`Verstuurd om ${time}.`);
    const { mail, code: newCode } = await mailCode('opnieuw@example.nl');
    expect(mail.text).toContain(`Verstuurd om ${time}.`);
    if (oldCode !== newCode) {
      const old = await submitStep(agent, resent, 'email', 'verify', { code: oldCode });
      expect(old.status).toBe(401);
      expect(textOf(old)).toContain('Deze sessiecode is onjuist.');
    }
    const { claims } = await completeLogin(dossier, agent, resent, VERIFY, { code: newCode }, request);
    expect(claims.acr).toBe(ACR.lowMfa);
  });

  it('refuses expired, reused and malformed codes with clear messages', async () => {
    await userWithFactors(world.server, { username: 'verlopen' }, ['email']);
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(dossier, agent, 'verlopen');
    const { code } = await mailCode('verlopen@example.nl');
    const letters = await submitStep(agent, page, 'email', 'verify', { code: 'l23456' });
    expect(letters.status).toBe(400);
    expect(textOf(letters)).toContain('De sessiecode bestaat alleen uit cijfers.');
    const seven = await submitStep(agent, letters, 'email', 'verify', { code: `${code} 1` });
    expect(seven.status).toBe(400);
    expect(textOf(seven)).toContain('De sessiecode bestaat uit 6 cijfers.');
    world.clock.advance(11 * 60_000);
    const late = await submitStep(agent, seven, 'email', 'verify', { code });
    expect(late.status).toBe(400);
    expect(textOf(late)).toContain('Deze sessiecode is verlopen of al gebruikt.');
  });

  it('enrols e-mail during login and marks the address verified', async () => {
    const account = await world.server.addUser({ username: 'dossier-nieuw', emailVerified: false });
    const agent = new UserAgent();
    const { page: reauth, request } = await loginUntilSecondFactor(dossier, agent, 'dossier-nieuw');
    expect(textOf(reauth)).toContain('Bevestig uw wachtwoord');
    let page: Page = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    // With an authenticator app registered too, the patient first picks e-mail.
    if (page.html.includes('/enrol"')) {
      expect(textOf(page)).toContain('Code per e-mail');
      page = await agent.submit(page, '/enrol', { method: 'email' });
    }
    expect(textOf(page)).toContain('Bevestig uw e-mailadres');
    const { mail, code } = await mailCode('dossier-nieuw@example.nl');
    expect(mail.subject).toBe('Bevestig uw e-mailadres voor Mijn Therapie Dossier');
    const done = await passRecoveryCodes(agent, await submitStep(agent, page, 'email', 'verify', { code }));
    const { claims } = await finishAtPortal(dossier, done, request);
    expect(claims.amr).toEqual(['pwd', 'email', 'mfa']);
    expect(claims.acr).toBe(ACR.lowMfa);
    const stored = (await world.server.services.accounts.findById(account.id))!;
    expect(stored.emailVerified).toBe(true);
    expect(await world.server.services.store.credentials.listByAccount(account.id, 'email')).toHaveLength(1);
  });

  it('refuses a method the portal does not allow, even one the patient has', async () => {
    const emailOnly = await world.portal({ name: 'Alleen e-mail', mfaMethods: ['email'] });
    await userWithFactors(world.server, { username: 'twee-methoden', phoneE164: '+31612349999' }, ['sms', 'email']);
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(emailOnly, agent, 'twee-methoden');
    expect(textOf(page)).toContain('Vul uw sessiecode in');
    expect(textOf(page)).not.toContain('Sms naar');
    await mailCode('twee-methoden@example.nl');
    // The page offers no other method; a hand-made post to the choose endpoint names SMS anyway.
    expect(page.html).not.toContain('/choose"');
    const form = findForm(page, VERIFY);
    const choose = form.action.replace(/\/step\/email\/verify$/, '/choose');
    const refused = await agent.request(choose, { method: 'POST', body: new URLSearchParams({ _csrf: form.fields._csrf!, method: 'sms' }).toString() });
    expect(refused.status).toBe(400);
    expect(textOf(refused)).toContain('Vul uw sessiecode in');
    expect(world.twilio.messages.filter((m) => m.to === '+31612349999')).toHaveLength(0);
  });

  it('shows a clear 503 when the mail server refuses the mail', async () => {
    await userWithFactors(world.server, { username: 'geen-post' }, ['email']);
    world.smtp.rejectNextRecipient(550, 'Mailbox unavailable');
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(dossier, agent, 'geen-post');
    expect(page.status).toBe(503);
    // 550 is a permanent refusal: sending again will not help, so the page says so.
    expect(textOf(page)).toContain('Er kan geen e-mail worden gestuurd naar uw e-mailadres.');
    expect(page.html).toContain('/step/email/resend');
  });

  it('has every text in Dutch and English', () => {
    expect(untranslatedKeys('email')).toEqual([]);
  });

  it('never logs or audits a code', async () => {
    await expectNoSecrets(world.server, codesSeen);
  });
});
