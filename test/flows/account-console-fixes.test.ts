// Three findings of a security review of the account console, through the real server, the real
// SMTP server and the twilio client against the fake API (no browser: plain forms):
// - "Telefoonnummer wijzigen" set up SMS for an account without a phone factor, quietly adding a
//   sign-in method: now only an account with a phone factor changes its number there (409 and a
//   way to add SMS otherwise, nothing sent, no credential).
// - The e-mail change told a free address from a taken one ("Wacht op bevestiging: X" only for the
//   free one; a previous link survived a taken request): now the answers are the same.
// - "Taken" looked only at e-mail addresses, while a login looks up usernames first: an address
//   that is another account's username is refused the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord } from '../../src/store/port.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { extractCode, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';

describe('account console: findings of the security review', () => {
  let world: FactorWorld;
  let nextNumber = 10;

  beforeAll(async () => {
    world = await startFactorWorld();
  });
  afterAll(() => world?.close());

  function phone(): string {
    nextNumber += 1;
    return `+316200077${nextNumber}`;
  }

  /** Signs in to /account with the password and the e-mail code: the overview. */
  async function signInWithMailCode(account: AccountRecord): Promise<{ agent: UserAgent; page: Page }> {
    const agent = new UserAgent();
    const login = await agent.open(`${world.server.url}/account`);
    const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
    const mail = await world.smtp.waitForMail(account.email);
    const page = await submitStep(agent, second, 'email', 'verify', { code: extractCode(mail.text ?? '') });
    expect(new URL(page.url).pathname, textOf(page).slice(0, 300)).toBe('/account');
    return { agent, page };
  }

  /** Signs in to /account with the password and an SMS code. */
  async function signInWithSms(account: AccountRecord, number: string): Promise<{ agent: UserAgent; page: Page }> {
    const agent = new UserAgent();
    const login = await agent.open(`${world.server.url}/account`);
    const second = await agent.submit(login, '/step/password/verify', { login: account.username, password: TEST_PASSWORD });
    const sms = await world.twilio.waitForSms(number);
    const page = await submitStep(agent, second, 'sms', 'verify', { code: extractCode(sms.body) });
    expect(new URL(page.url).pathname, textOf(page).slice(0, 300)).toBe('/account');
    return { agent, page };
  }

  /** A form of the overview posted by hand (as a stale or forged page would), with its flow and token. */
  function post(agent: UserAgent, page: Page, path: string, values: Record<string, string> = {}): Promise<Page> {
    const { fields } = findForm(page, '/account/email');
    return agent.request(`${world.server.url}${path}`, { method: 'POST', body: new URLSearchParams({ flow: fields.flow!, _csrf: fields._csrf!, ...values }).toString() });
  }

  describe('changing the phone number', () => {
    it('is not offered to an account without a phone factor, and posting it anyway sets nothing up: 409, no SMS, no credential', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'geen-sms', phoneE164: number }, ['email']);
      const { agent, page } = await signInWithMailCode(account);
      expect(page.html).not.toContain('action="/account/phone"');
      expect(textOf(page)).toContain('Sms instellen bij Tweestapsverificatie');

      const refused = await post(agent, page, '/account/phone');
      expect(refused.status).toBe(409);
      expect(textOf(refused)).toContain('U heeft geen inlogmethode met uw telefoon.');
      expect(refused.html).toContain('href="#tweestaps"');
      const types = (await world.server.services.store.credentials.listByAccount(account.id)).map((c) => c.type);
      expect(types.sort()).toEqual(['email', 'password']);
      expect(world.twilio.messages.filter((m) => m.to === number)).toEqual([]);
    });

    it('still replaces the number of an account with SMS, proved by a code to the new one', async () => {
      const number = phone();
      const account = await userWithFactors(world.server, { username: 'wel-sms', phoneE164: number }, ['sms']);
      const { agent, page } = await signInWithSms(account, number);
      const change = await agent.submit(page, '/account/phone');
      expect(change.status).toBe(200);
      expect(textOf(change)).toContain('Vul uw mobiele telefoonnummer in');
      const replacement = phone();
      const sent = await agent.submit(change, '/step/sms/phone', { phone: replacement });
      const sms = await world.twilio.waitForSms(replacement);
      const codes = await agent.submit(sent, '/step/sms/verify', { code: extractCode(sms.body) });
      // Its recovery codes follow (the account had none), then the overview.
      const done = await agent.submit(codes, '/confirm', { saved: 'on' });
      expect(textOf(done)).toContain('Mijn account');
      const after = (await world.server.services.accounts.findById(account.id))!;
      expect(world.server.services.accounts.phoneOf(after)).toBe(replacement);
      expect((await world.server.services.store.credentials.listByAccount(account.id)).map((c) => c.type).sort()).toEqual(['password', 'recovery', 'sms']);
    });
  });

  describe('changing the e-mail address', () => {
    /** The page as a person reads it, with the address typed taken out (recent activity grows with each request). */
    const answer = (page: Page, address: string) => textOf(page).split('Recente activiteit Wat er')[0]!.replaceAll(address, '<adres>');

    it('answers a free, a taken and another account\'s username the same; only the free one gets a link; a later visit names none', async () => {
      const account = await userWithFactors(world.server, { username: 'mailzoeker' }, ['email']);
      await world.server.addUser({ username: 'bezet', email: 'bezet@example.nl' });
      // A username with '@' that is not that account's address: the login finds the account by it.
      await world.server.addUser({ username: 'schaduw@example.nl', email: 'iets-anders@example.nl' });
      const { agent, page } = await signInWithMailCode(account);

      const free = await agent.submit(page, '/account/email', { email: 'vrij@example.nl' });
      const link = /https?:\/\/\S+\/account\/email\/confirm\?\S+/.exec((await world.smtp.waitForMail('vrij@example.nl')).text ?? '')![0];
      const taken = await agent.submit(free, '/account/email', { email: 'bezet@example.nl' });
      const username = await agent.submit(taken, '/account/email', { email: 'Schaduw@example.nl' });

      for (const [result, address] of [[free, 'vrij@example.nl'], [taken, 'bezet@example.nl'], [username, 'Schaduw@example.nl']] as const) {
        expect(result.status).toBe(200);
        expect(textOf(result)).toContain(`Wacht op bevestiging: ${address}.`);
      }
      expect(answer(taken, 'bezet@example.nl')).toBe(answer(free, 'vrij@example.nl'));
      expect(answer(username, 'Schaduw@example.nl')).toBe(answer(free, 'vrij@example.nl'));

      // No link to a taken address or username, nothing waiting on the account for them, and
      // the free address's link was voided as any new request voids it.
      const mailed = world.smtp.messages.map((m) => JSON.stringify(m)).join('\n');
      expect(mailed).not.toContain('bezet@example.nl');
      expect(mailed.toLowerCase()).not.toContain('schaduw@example.nl');
      const stored = (await world.server.services.accounts.findById(account.id))!;
      expect(stored.settings.pendingEmail).toBeUndefined();
      expect(stored.email).toBe(account.email);
      const voided = await agent.request(link);
      expect(voided.status).toBe(410);

      // A later visit names no waiting address, whichever was asked for last.
      const again = await agent.submit(username, '/account/email', { email: 'ook-vrij@example.nl' });
      expect(textOf(again)).toContain('Wacht op bevestiging: ook-vrij@example.nl.');
      const later = await agent.open(`${world.server.url}/account`);
      expect(textOf(later)).toContain('Mijn account');
      expect(textOf(later)).not.toContain('Wacht op bevestiging');
    });

    it('refuses at the confirmation an address that became another account\'s username since the link was sent: 409, nothing changed', async () => {
      const account = await userWithFactors(world.server, { username: 'te-laat-mail' }, ['email']);
      const { agent, page } = await signInWithMailCode(account);
      await agent.submit(page, '/account/email', { email: 'later-bezet@example.nl' });
      const link = /https?:\/\/\S+\/account\/email\/confirm\?\S+/.exec((await world.smtp.waitForMail('later-bezet@example.nl')).text ?? '')![0];
      await world.server.addUser({ username: 'later-bezet@example.nl', email: 'elders@example.nl' });
      const confirm = await agent.open(link);
      const refused = await agent.submit(confirm, '/account/email/confirm');
      expect(refused.status).toBe(409);
      expect((await world.server.services.accounts.findById(account.id))!.email).toBe(account.email);
    });
  });
});
