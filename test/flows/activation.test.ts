// Invitation and activation (issue 9, Mijn Therapie Dossier) through the real server, a real SMTP
// server and the real twilio client against the fake Twilio API, with a fake clock: the invitation
// mail from the portal's sender with the username and a single-use link; the link used once,
// expired after 72 hours, replaced by a resend, tampered; the whole activation over plain HTTP
// forms (e-mail verified → phone by SMS → password twice → the app or e-mail) ending at the
// portal, where openid-client signs in with what was set up; the audit trail; nothing secret in
// the database or the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, extractCode, expectNoSecrets, finishAtPortal, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent, textOf, type Page } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { keyFromPage, totpCode, STEP_MS } from '../support/totp.ts';
import { storeBytes, leaked } from '../support/store-files.ts';
import type { AuditEvent } from '../../src/store/port.ts';
import { InvitationError } from '../../src/accounts/invitations.ts';
import { recoveryPolicyFile, identify, choose, newPassword, linkFromMail as recoveryLinkFromMail } from '../support/recovery.ts';

const PHONE = '+31612341361';
const PASSWORD = 'Zeilboot-Tulp-2026';
const HOUR = 3_600_000;
const MTD_START = 'https://mijntherapiedossier.example/start';

let world: FactorWorld;
let mtd: RelyingParty;
let mtdEmail: RelyingParty;

beforeAll(async () => {
  world = await startFactorWorld({ env: { POLICY_FILE: await recoveryPolicyFile() } });
  mtd = await world.portal({
    name: 'Mijn Therapie Dossier',
    mfa: 'required',
    mfaMethods: ['totp', 'email'],
    mailFrom: 'Mijn Therapie Dossier <no-reply@mijntherapiedossier.nl>',
    metadata: { verify_phone: true, initiate_login_uri: MTD_START, client_uri: 'https://mijntherapiedossier.example' },
  });
  mtdEmail = await world.portal({
    name: 'MTD e-mail',
    mfa: 'required',
    mfaMethods: ['totp', 'email'],
    metadata: { recovery_codes: false, client_uri: 'https://mtd-email.example' },
  });
});

afterAll(async () => {
  await world?.close();
});

function audit(type: string, accountId?: string): Promise<AuditEvent[]> {
  return world.server.services.store.audit.list({ type, limit: 1000, ...(accountId ? { accountId } : {}) });
}

function linkFromMail(text: string): string {
  const link = /https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(text)?.[0];
  if (!link) throw new Error(`no activation link in: ${text}`);
  return link;
}

async function invite(username: string, options: { phone?: string; clientId?: string } = {}) {
  const result = await world.server.services.invitations.invite({
    username, email: `${username}@example.nl`, givenName: 'Sanne', familyName: 'de Boer', actor: 'operator:test', ...options,
  });
  const mail = await world.smtp.waitForMail(`${username}@example.nl`);
  return { ...result, mail, link: linkFromMail(mail.text ?? '') };
}

/** Step 1: the link's page, then "Volgende". */
async function openAndContinue(agent: UserAgent, link: string): Promise<Page> {
  const page = await agent.open(link);
  expect(page.status, textOf(page)).toBe(200);
  expect(textOf(page)).toContain('Gebruikersnaam en e-mailadres zijn ingevuld');
  return agent.submit(page, '/activate/', {}, MTD_START);
}

async function setPassword(agent: UserAgent, page: Page, password = PASSWORD, confirm = password): Promise<Page> {
  return agent.submit(page, '/step/update-password/change', { new: password, confirm }, MTD_START);
}

describe('the invitation', () => {
  it('creates the account without a password and mails the username and a link from the portal\'s sender', async () => {
    const { account, created, mail, link, expiresAt } = await invite('sanne.mail', { phone: '06 1234 1361', clientId: mtd.clientId });
    expect(created).toBe(true);
    expect(await world.server.services.passwords.has(account)).toBe(false);
    expect(mail.from).toContain('no-reply@mijntherapiedossier.nl');
    expect(mail.from).toContain('Mijn Therapie Dossier');
    expect(mail.subject).toContain('Mijn Therapie Dossier');
    expect(mail.text).toContain('sanne.mail');
    expect(mail.text).toContain('Mijn Therapie Dossier');
    expect(link.startsWith(`${world.server.url}/activate/`)).toBe(true);
    expect(expiresAt - world.clock.now()).toBe(72 * HOUR);
    expect(mail.html).toContain(link);
    // The token is in the mail only: not in the store's files, the logs or the audit trail.
    const token = link.split('/activate/')[1]!;
    const secret = token.split('.')[1]!;
    expect(leaked(await storeBytes(world.server.dataDir), { token: [token], secret: [secret] })).toEqual([]);
    await expectNoSecrets(world.server, [secret]);
    expect((await audit('invitation.sent', account.id)).map((e) => e.actor)).toEqual(['operator:test']);
  });

  it('refuses an account that has a password, and one whose username is taken by another address', async () => {
    await world.server.addUser({ username: 'has.password' });
    await expect(world.server.services.invitations.invite({ username: 'has.password', email: 'has.password@example.nl', actor: 'operator:test' }))
      .rejects.toMatchObject({ problem: 'has_password' });
    await expect(world.server.services.invitations.invite({ username: 'x', email: 'bad', actor: 'operator:test' })).rejects.toBeInstanceOf(InvitationError);
  });

  it('uses an existing account without a password', async () => {
    const existing = await world.server.services.accounts.create({ username: 'no.password.yet', email: 'no.password.yet@example.nl' });
    const { account, created } = await invite('no.password.yet');
    expect(created).toBe(false);
    expect(account.id).toBe(existing.id);
  });
});

describe('the link', () => {
  it('works once: a second use gets a 410 with "Stuur mij een nieuwe link" to the recovery', async () => {
    const { link } = await invite('once.only');
    const agent = new UserAgent();
    const first = await openAndContinue(agent, link);
    expect(first.status, textOf(first)).toBe(200);
    const again = await new UserAgent().open(link);
    expect(again.status).toBe(410);
    expect(textOf(again)).toContain('al gebruikt');
    expect(textOf(again)).toContain('Stuur mij een nieuwe link');
    expect(again.html).toContain('href="/recovery"');
    const post = await new UserAgent().request(link, { method: 'POST', body: '' });
    expect(post.status).toBe(410);
  });

  it('two posts of one link at once: only one starts an activation', async () => {
    const { link } = await invite('two.tabs');
    const posts = await Promise.all([0, 1, 2].map(() => new UserAgent().request(link, { method: 'POST', body: '' })));
    expect(posts.map((p) => p.status).sort()).toEqual([303, 410, 410]);
  });

  it('expires after 72 hours (audited), and a resend replaces the earlier link', async () => {
    const { link, account } = await invite('late.patient');
    world.clock.advance(72 * HOUR);
    const expired = await new UserAgent().open(link);
    expect(expired.status).toBe(410);
    expect(textOf(expired)).toContain('verlopen');
    await new UserAgent().request(link, { method: 'POST', body: '' });
    expect((await audit('invitation.expired', account.id)).length).toBe(1);
    expect(await world.server.services.passwords.has(account)).toBe(false);

    await world.server.services.invitations.resend(account.id, { actor: 'operator:test' });
    const fresh = linkFromMail((await world.smtp.waitForMail('late.patient@example.nl')).text ?? '');
    expect(fresh).not.toBe(link);
    expect((await new UserAgent().open(fresh)).status).toBe(200);
    expect((await audit('invitation.resent', account.id)).length).toBe(1);
    // A resend before the first link was used: the first one stops working.
    await world.server.services.invitations.resend(account.id, { actor: 'operator:test' });
    const third = linkFromMail((await world.smtp.waitForMail('late.patient@example.nl')).text ?? '');
    expect((await new UserAgent().open(fresh)).status).toBe(404);
    expect((await new UserAgent().open(third)).status).toBe(200);
  });

  it('"Stuur mij een nieuwe link" on an expired invitation: the recovery mails a link to the invited address, and a password is set', async () => {
    const { link, account } = await invite('expired.then.recovered');
    world.clock.advance(72 * HOUR + 1000);
    const agent = new UserAgent();
    const expired = await agent.open(link);
    expect(expired.status).toBe(410);
    const start = await agent.open(new URL(/href="(\/recovery)"/.exec(expired.html)![1]!, world.server.url).href);
    expect(textOf(start)).toContain('Wie bent u?');
    const verify = await choose(agent, await identify(agent, start, world.server.url, 'expired.then.recovered'), 'reset');
    const sent = await agent.submit(verify, '/step/recovery-verify/link');
    expect(sent.status).toBe(200);
    const mail = await world.smtp.waitForMail('expired.then.recovered@example.nl');
    const passwordPage = await agent.open(recoveryLinkFromMail(mail.text ?? ''));
    const done = await newPassword(agent, passwordPage, PASSWORD);
    expect(textOf(done)).toContain('Uw wachtwoord is opnieuw ingesteld');
    expect(await world.server.services.passwords.verify((await world.server.services.accounts.findById(account.id))!, PASSWORD)).toBe(true);
  });

  it('a tampered or malformed token gets a 4xx page and changes nothing', async () => {
    const { link, account } = await invite('tampered.link');
    const flipped = `${link.slice(0, -1)}${link.endsWith('A') ? 'B' : 'A'}`;
    for (const url of [flipped, `${world.server.url}/activate/nonsense`, `${world.server.url}/activate/${'x'.repeat(300)}.y`]) {
      const page = await new UserAgent().open(url);
      expect(page.status, url).toBe(404);
      expect(textOf(page)).toContain('Stuur mij een nieuwe link');
      const post = await new UserAgent().request(url, { method: 'POST', body: '' });
      expect(post.status).toBe(404);
    }
    expect((await world.server.services.accounts.findById(account.id))?.emailVerified).toBe(false);
    expect((await new UserAgent().open(link)).status).toBe(200);
  });

  it('"Stoppen" ends the activation (back to the portal) and nothing was set', async () => {
    const { link, account } = await invite('stops.halfway', { clientId: mtdEmail.clientId });
    const agent = new UserAgent();
    const passwordPage = await openAndContinue(agent, link);
    const form = /<form[^>]*action="([^"]*\/abort)"/.exec(passwordPage.html);
    expect(form).not.toBeNull();
    const stopped = await agent.submit(passwordPage, '/abort', {}, 'https://mtd-email.example');
    expect(stopped.url.startsWith('https://mtd-email.example')).toBe(true);
    expect((await agent.open(passwordPage.url)).status).toBe(410);
    expect(await world.server.services.passwords.has(account)).toBe(false);
    // A form posted without the flow's CSRF token changes nothing either.
    await world.server.services.invitations.resend(account.id, { actor: 'operator:test' });
    const again = new UserAgent();
    const other = await openAndContinue(again, linkFromMail((await world.smtp.waitForMail('stops.halfway@example.nl')).text ?? ''));
    const forged = await again.request(`${other.url}/step/update-password/change`, { method: 'POST', body: `new=${PASSWORD}&confirm=${PASSWORD}` });
    expect(forged.status).toBe(403);
    expect(await world.server.services.passwords.has(account)).toBe(false);
  });

  it('a stored phone number that does not open as the account\'s (copied, damaged) counts as none: no verify-phone dead end, the password page follows', async () => {
    const { link, account } = await invite('phone.unreadable', { phone: PHONE, clientId: mtd.clientId });
    const { services } = world.server;
    // Sealed unbound, as a number copied from another row (or an old backup) would be.
    await services.store.accounts.update({ ...(await services.accounts.findById(account.id))!, phoneEncrypted: services.box.seal(PHONE) });
    const sent = world.twilio.messages.length;
    const page = await openAndContinue(new UserAgent(), link);
    expect(page.status, textOf(page)).toBe(200);
    expect(textOf(page)).toContain('Wachtwoord instellen');
    expect(world.twilio.messages.length).toBe(sent);
  });

  it('the activation continues only in the browser that used the link', async () => {
    const { link } = await invite('own.browser', { clientId: mtdEmail.clientId });
    const agent = new UserAgent();
    const page = await openAndContinue(agent, link);
    const other = await new UserAgent().open(page.url);
    expect(other.status).toBe(403);
  });
});

describe('the whole activation (Mijn Therapie Dossier)', () => {
  it('e-mail verified → phone by SMS → password twice → the app → the portal signs in with them', async () => {
    const { link, account } = await invite('mtd.app', { phone: PHONE, clientId: mtd.clientId });
    const agent = new UserAgent();
    const phonePage = await openAndContinue(agent, link);
    expect(phonePage.status, textOf(phonePage)).toBe(200);
    expect(textOf(phonePage)).toContain('*****61');
    const sms = await world.twilio.waitForSms(PHONE);
    const passwordPage = await agent.submit(phonePage, '/step/verify-phone/verify', { code: extractCode(sms.body) });
    expect(textOf(passwordPage)).toContain('Wachtwoord instellen');
    expect(textOf(passwordPage)).toContain('mtd.app');
    expect(passwordPage.html).not.toContain('name="current"');
    // Twice, and under the rules: a mismatch is a 400 and nothing is set.
    const mismatch = await setPassword(agent, passwordPage, PASSWORD, `${PASSWORD}x`);
    expect(mismatch.status).toBe(400);
    expect(await world.server.services.passwords.has(account)).toBe(false);
    const choose = await setPassword(agent, mismatch);
    expect(choose.status, textOf(choose)).toBe(200);
    expect(textOf(choose)).toContain('Authenticator-app');
    expect(textOf(choose)).toContain('Code per e-mail');
    const enrol = await agent.submit(choose, '/enrol', { method: 'totp' });
    const key = keyFromPage(enrol);
    const codes = await agent.submit(enrol, '/step/totp/verify', { code: await totpCode(key, world.clock.now()) });
    const handedOver = await agent.submit(codes, '/step/recovery/confirm', { saved: 'on' }, MTD_START);
    // Third-party initiated login: the portal starts a normal login with the username as hint.
    const start = new URL(handedOver.url);
    expect(`${start.origin}${start.pathname}`).toBe(MTD_START);
    expect(start.searchParams.get('iss')).toBe(world.server.url);
    expect(start.searchParams.get('login_hint')).toBe('mtd.app');
    const after = await world.server.services.accounts.findById(account.id);
    expect(after?.phoneVerified).toBe(true);
    expect(after?.emailVerified).toBe(true);

    // The portal's login in this browser takes what the activation proved: the patient is signed
    // in at once ("na stap 4 ingelogd"), with the password and the app just set up.
    const request = await mtd.authorize({ login_hint: 'mtd.app' });
    const done = await agent.open(request.url, REDIRECT_URI);
    const { claims } = await finishAtPortal(mtd, done, request);
    expect(claims.sub).toBe(account.id);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));
    // Once: the next login (another portal request, same browser, session ended) asks as always.
    const elsewhere = new UserAgent();
    const other = await mtd.authorize({ login_hint: 'mtd.app' });
    const login = await elsewhere.open(other.url, REDIRECT_URI);
    expect(textOf(login)).toContain('Wachtwoord');
    world.clock.advance(STEP_MS);
    const second = await elsewhere.submit(login, '/step/password/verify', { login: 'mtd.app', password: PASSWORD }, REDIRECT_URI);
    const again = await elsewhere.submit(second, '/step/totp/verify', { code: await totpCode(key, world.clock.now()) }, REDIRECT_URI);
    expect((await finishAtPortal(mtd, again, other)).claims.sub).toBe(account.id);

    expect((await audit('invitation.accepted', account.id)).length).toBe(1);
    expect((await audit('activation.completed', account.id)).length).toBe(1);
    expect((await audit('password.changed', account.id))[0]?.detail.via).toBe('initial');
    await expectNoSecrets(world.server, [PHONE, PASSWORD]);
  });

  it('choosing e-mail finishes at once (the link proved the address), then "U bent klaar" links to the portal', async () => {
    const { link, account } = await invite('mtd.email', { clientId: mtdEmail.clientId });
    await world.smtp.waitForMail('mtd.email@example.nl', { timeoutMs: 1 }).catch(() => undefined);
    const agent = new UserAgent();
    const passwordPage = await openAndContinue(agent, link);
    expect(textOf(passwordPage)).toContain('Wachtwoord instellen');
    const choose = await setPassword(agent, passwordPage);
    const done = await agent.submit(choose, '/enrol', { method: 'email' });
    expect(done.status, textOf(done)).toBe(200);
    expect(textOf(done)).toContain('U bent klaar');
    expect(done.html).toContain('href="https://mtd-email.example"');
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes('mtd.email@example.nl')).length).toBe(1);

    // The portal's login right after, in this browser: signed in with what the activation proved.
    const first = await mtdEmail.authorize();
    const handed = await finishAtPortal(mtdEmail, await agent.open(first.url, REDIRECT_URI), first);
    expect(handed.claims.sub).toBe(account.id);
    // A later login that asks for a fresh one (prompt=login): password, then a code by e-mail.
    const request = await mtdEmail.authorize({ prompt: 'login' });
    const login = await agent.open(request.url, REDIRECT_URI);
    const codePage = await agent.submit(login, '/step/password/verify', { login: 'mtd.email', password: PASSWORD }, REDIRECT_URI);
    const code = extractCode((await world.smtp.waitForMail('mtd.email@example.nl')).text ?? '');
    const atPortal = await agent.submit(codePage, '/step/email/verify', { code }, REDIRECT_URI);
    const { claims } = await finishAtPortal(mtdEmail, atPortal, request);
    expect(claims.sub).toBe(account.id);
  });

  it('an invitation without a portal ends at "U bent klaar" alone', async () => {
    const { link } = await invite('no.portal');
    const agent = new UserAgent();
    const passwordPage = await openAndContinue(agent, link);
    const choose = await setPassword(agent, passwordPage);
    const enrol = await agent.submit(choose, '/enrol', { method: 'email' });
    const page = enrol.html.includes('/step/recovery/confirm') ? await agent.submit(enrol, '/step/recovery/confirm', { saved: 'on' }) : enrol;
    expect(textOf(page)).toContain('U bent klaar');
    expect(textOf(page)).toContain('U kunt deze pagina sluiten');
  });

  it('speaks the account\'s language (mail and pages), or the one picked on the page', async () => {
    const result = await world.server.services.invitations.invite({ username: 'english.patient', email: 'english.patient@example.nl', locale: 'en', clientId: mtdEmail.clientId, actor: 'operator:test' });
    const mail = await world.smtp.waitForMail('english.patient@example.nl');
    expect(mail.subject).toBe('Your account for MTD e-mail');
    const page = await new UserAgent().open(linkFromMail(mail.text ?? ''));
    expect(textOf(page)).toContain('Your username and e-mail address have been filled in');
    expect(result.account.locale).toBe('en');
    const { link } = await invite('dutch.patient', { clientId: mtdEmail.clientId });
    expect(textOf(await new UserAgent().open(`${link}?lang=en`))).toContain('Your username and e-mail address have been filled in');
    expect(textOf(await new UserAgent().open(link))).toContain('Gebruikersnaam en e-mailadres zijn ingevuld');
  });
});

// The review of the activation (three ways to take over or reset an account through a link).
describe('the links an invitation must not honour', () => {
  it('a link mailed to an address the operator corrected since is worthless: 404, nothing set, the patient can be invited anew', async () => {
    const { account, link } = await invite('adres.typo');
    await world.server.services.accounts.update(account, { email: 'adres.echt@example.nl', emailVerified: false });
    const stranger = new UserAgent();
    const page = await stranger.open(link);
    expect(page.status).toBe(404);
    expect(textOf(page)).toContain('Stuur mij een nieuwe link');
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(after.emailVerified).toBe(false);
    expect(await world.server.services.passwords.has(after)).toBe(false);
    // The operator's resend goes to the corrected address and works.
    await world.server.services.invitations.resend(account.id, { actor: 'operator:test' });
    const fresh = linkFromMail((await world.smtp.waitForMail('adres.echt@example.nl')).text ?? '');
    const owner = new UserAgent();
    expect((await owner.open(fresh)).status).toBe(200);
  });

  it('an account with a second factor (a first login left unfinished) is not invited: only a recovery, which asks for the factor, sets its password', async () => {
    const { services } = world.server;
    const account = await services.accounts.create({ username: 'half.klaar', email: 'half.klaar@example.nl' });
    await services.store.credentials.put({ id: 'half-klaar-totp', accountId: account.id, type: 'totp', data: { secret: 'sealed' }, createdAt: world.clock.now(), lastUsedAt: null });
    await expect(services.invitations.invite({ username: 'half.klaar', email: 'ander@attacker.example', actor: 'operator:test' })).rejects.toMatchObject({ problem: 'has_factors' });
    await expect(services.invitations.resend(account.id, { actor: 'operator:test' })).rejects.toMatchObject({ problem: 'has_factors' });
    expect((await services.accounts.findById(account.id))!.email).toBe('half.klaar@example.nl');
    expect(world.smtp.messages.filter((m) => m.envelopeTo.includes('ander@attacker.example'))).toHaveLength(0);
    // A factor set up after the link was mailed: the link no longer starts an activation.
    const { account: later, link } = await invite('later.factor');
    await services.store.credentials.put({ id: 'later-factor-totp', accountId: later.id, type: 'totp', data: { secret: 'sealed' }, createdAt: world.clock.now(), lastUsedAt: null });
    const page = await new UserAgent().open(link);
    expect(page.status).toBe(200);
    const refused = await new UserAgent().submit(page, '/activate/', {});
    expect(refused.status).toBe(410);
    expect(await services.passwords.has(later)).toBe(false);
  });

  it('an activation left open in another browser cannot set the password once the patient activated with a newer link', async () => {
    const { account, link } = await invite('open.gelaten');
    const stale = new UserAgent();
    const stalePage = await openAndContinue(stale, link);
    await world.server.services.invitations.resend(account.id, { actor: 'operator:test' });
    const fresh = linkFromMail((await world.smtp.waitForMail('open.gelaten@example.nl')).text ?? '');
    const patient = new UserAgent();
    await setPassword(patient, await openAndContinue(patient, fresh));
    expect(await world.server.services.passwords.verify((await world.server.services.accounts.findById(account.id))!, PASSWORD)).toBe(true);

    const other = 'Andere-Fiets-2027!x';
    const refused = await stale.submit(stalePage, '/step/update-password/change', { new: other, confirm: other });
    expect(refused.status).toBe(410);
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(await world.server.services.passwords.verify(after, PASSWORD)).toBe(true);
    expect(await world.server.services.passwords.verify(after, other)).toBe(false);
  });
});

describe('the hand-off to the portal\'s login (review)', () => {
  /** Activates by the e-mail route at the MTD e-mail portal; returns the browser that did it. */
  async function activated(username: string): Promise<{ agent: UserAgent; accountId: string }> {
    const { link, account } = await invite(username, { clientId: mtdEmail.clientId });
    const agent = new UserAgent();
    const choose = await setPassword(agent, await openAndContinue(agent, link));
    const done = await agent.submit(choose, '/enrol', { method: 'email' });
    expect(textOf(done)).toContain('U bent klaar');
    return { agent, accountId: account.id };
  }

  it('is not taken by a login for someone else (the portal\'s login_hint names another)', async () => {
    const { agent } = await activated('hint.eigen');
    const request = await mtdEmail.authorize({ login_hint: 'iemand.anders' });
    const login = await agent.open(request.url, REDIRECT_URI);
    expect(login.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(textOf(login)).toContain('Wachtwoord');
  });

  it('ends with "sign out everywhere" by an operator', async () => {
    const { agent, accountId } = await activated('uit.overal');
    await world.server.app.operations.accountSecurity.revokeSessions({ kind: 'cli', operator: 'test' }, accountId);
    const request = await mtdEmail.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    expect(login.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(textOf(login)).toContain('Wachtwoord');
  });

  it('is never to the account pages or the console: an invitation to an internal client is refused', async () => {
    await expect(world.server.services.invitations.invite({ username: 'intern.portaal', email: 'intern.portaal@example.nl', clientId: 'poortwachter-admin', actor: 'operator:test' }))
      .rejects.toMatchObject({ problem: 'unknown_portal' });
  });
});
