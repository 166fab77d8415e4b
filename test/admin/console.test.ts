// The /admin console through the real server, the real login flow (password + authenticator app
// on a fake clock), real SQLite and real SMTP, with a plain-form browser (no JavaScript): the
// sign-in gate, roles, CSRF, organisation scoping, the auditor's read-only access and CSV export,
// the short session, and a portal registered with its policy and brand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, giveTotp, AMSTERDAM_1150, type FactorWorld } from '../support/factor-login.ts';
import { adminAccount, CLI, csrfOf, postForm, signInToConsole } from '../support/admin-console.ts';
import { UserAgent, findForm, textOf } from '../support/user-agent.ts';
import { sha256 } from '../../src/accounts/random.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { keyFromPage, totpCode } from '../support/totp.ts';

describe('the /admin console', () => {
  let world: FactorWorld;

  beforeAll(async () => {
    world = await startFactorWorld({ now: AMSTERDAM_1150 + 1000 });
    const ops = world.server.app.operations;
    await ops.organisations.add(CLI, { id: 'praktijk-noord', name: 'Praktijk Noord' });
    await ops.organisations.add(CLI, { id: 'praktijk-zuid', name: 'Praktijk Zuid' });
  });
  afterAll(() => world?.close());

  describe('signing in', () => {
    it('sends a visitor to the login with the console client, at the app-or-passkey level, for a fresh login', async () => {
      const agent = new UserAgent();
      const first = await agent.request(`${world.server.url}/admin/portals`);
      expect(first.status).toBe(303);
      const target = new URL(first.location!);
      expect(target.pathname).toBe('/auth');
      expect(target.searchParams.get('client_id')).toBe('poortwachter-admin');
      expect(target.searchParams.get('acr_values')).toBe('urn:poortwachter:acr:substantial');
      expect(target.searchParams.get('max_age')).toBe('300');
    });

    it('lets an operator in after the password and the app code: a short, strict, server-side session; no caching, no framing', async () => {
      await adminAccount(world.server, 'beheer-operator', 'operator');
      const { agent, page } = await signInToConsole(world.server, world.clock, 'beheer-operator');
      expect(page.status, textOf(page).slice(0, 500)).toBe(200);
      expect(new URL(page.url).pathname).toBe('/admin');
      expect(textOf(page)).toContain('Ingelogd als beheer-operator (beheerder)');
      expect(page.headers!.get('cache-control')).toBe('no-store');
      expect(page.headers!.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const token = agent.cookie('pw_admin')!;
      expect(token).toBeTruthy();
      // Only the token's hash is stored.
      expect(await world.server.services.store.flows.find(token, world.clock.now())).toBeUndefined();
      const stored = await world.server.services.store.flows.find(sha256(token), world.clock.now());
      expect(stored?.kind).toBe('admin-session');
      expect(JSON.stringify(stored)).not.toContain(token);
    });

    it('sets the session cookie HttpOnly, SameSite=Strict, on /admin only', async () => {
      await adminAccount(world.server, 'beheer-cookie', 'auditor');
      const agent = new UserAgent();
      const seen: string[] = [];
      const plain = agent.fetch;
      agent.fetch = async (input, init) => {
        const response = await plain(input, init);
        seen.push(...response.headers.getSetCookie().filter((c) => c.startsWith('pw_admin=')));
        return response;
      };
      await signInToConsole(world.server, world.clock, 'beheer-cookie', agent);
      const set = seen.find((c) => !c.startsWith('pw_admin=;'))!;
      expect(set).toMatch(/httponly/i);
      expect(set).toMatch(/samesite=strict/i);
      expect(set).toMatch(/path=\/admin/i);
    });

    it('answers a signed-in patient without a grant with a 403 page, and no console session', async () => {
      await adminAccount(world.server, 'gewone-patient');
      const { agent, page } = await signInToConsole(world.server, world.clock, 'gewone-patient');
      expect(page.status).toBe(403);
      expect(textOf(page)).toContain('Geen toegang tot beheer');
      expect(agent.hasCookie('pw_admin')).toBe(false);
      const again = await agent.request(`${world.server.url}/admin`);
      expect(again.status).toBe(303);
    });

    it('does not let the password alone in: no role for an account without an app or passkey, and none set up in the login counts', async () => {
      await world.server.addUser({ username: 'beheer-zonder-app', emailVerified: true });
      await expect(world.server.app.operations.admins.grant(CLI, { username: 'beheer-zonder-app', role: 'operator' })).rejects.toMatchObject({ code: 'conflict' });
      // An admin who since lost the app: whoever has the password sets one up in the login, and is refused.
      const lost = await adminAccount(world.server, 'beheer-app-kwijt', 'operator');
      await world.server.services.store.credentials.removeByAccount(lost.id, 'totp');
      world.clock.advance(86_400_000);
      const intruder = new UserAgent();
      const start = await intruder.open(`${world.server.url}/admin`);
      const again = await intruder.submit(start, '/step/password/verify', { login: 'beheer-app-kwijt', password: TEST_PASSWORD });
      // The password once more before a first second factor is bound (the login's own rule).
      const choice = await intruder.submit(again, '/step/password/verify', { password: TEST_PASSWORD });
      const enrol = await intruder.submit(choice, '/enrol', { method: 'totp' });
      const key = keyFromPage(enrol);
      const codes = await intruder.submit(enrol, '/step/totp/verify', { code: await totpCode(key, world.clock.now()) });
      const refused = await intruder.submit(codes, '/step/recovery/confirm', { saved: 'on' });
      expect(refused.status).toBe(403);
      expect(intruder.hasCookie('pw_admin')).toBe(false);
      expect((await world.server.services.store.audit.list({ accountId: lost.id, type: 'admin.console.refused' }))[0]?.detail).toMatchObject({ outcome: 'factor_new' });
      // Nor in the next login with that app: it is younger than the role (a new app needs a new grant).
      world.clock.advance(60_000);
      const retry = new UserAgent();
      const retryLogin = await retry.open(`${world.server.url}/admin`);
      const retryCode = await retry.submit(retryLogin, '/step/password/verify', { login: 'beheer-app-kwijt', password: TEST_PASSWORD });
      world.clock.advance(30_000);
      const retried = await retry.submit(retryCode, '/step/totp/verify', { code: await totpCode(key, world.clock.now()) });
      expect(retried.status, textOf(retried).slice(0, 300)).toBe(403);
      expect(retry.hasCookie('pw_admin')).toBe(false);
      const agent = new UserAgent();
      const login = await agent.open(`${world.server.url}/admin`);
      const next = await agent.submit(login, '/step/password/verify', { login: 'beheer-zonder-app', password: 'Kastanje-Fietsbel-42' });
      expect(new URL(next.url).pathname).not.toBe('/admin');
      expect(agent.hasCookie('pw_admin')).toBe(false);
      expect((await agent.request(`${world.server.url}/admin`)).status).toBe(303);
    });

    it('ends the session after 15 minutes without a request', async () => {
      await adminAccount(world.server, 'beheer-idle', 'operator');
      const { agent } = await signInToConsole(world.server, world.clock, 'beheer-idle');
      world.clock.advance(14 * 60_000);
      expect((await agent.request(`${world.server.url}/admin`)).status).toBe(200);
      world.clock.advance(16 * 60_000);
      const later = await agent.request(`${world.server.url}/admin`);
      expect(later.status).toBe(303);
      expect(new URL(later.location!).pathname).toBe('/auth');
    });

    it('ends even a busy session 8 hours after the sign-in', async () => {
      await adminAccount(world.server, 'beheer-lang', 'auditor');
      const { agent } = await signInToConsole(world.server, world.clock, 'beheer-lang');
      for (let minutes = 10; minutes < 8 * 60; minutes += 10) {
        world.clock.advance(10 * 60_000);
        expect((await agent.request(`${world.server.url}/admin`)).status).toBe(200);
      }
      world.clock.advance(10 * 60_000);
      expect((await agent.request(`${world.server.url}/admin`)).status).toBe(303);
    });

    it('ends access at once when the role is revoked', async () => {
      await adminAccount(world.server, 'beheer-ingetrokken', 'operator');
      const { agent } = await signInToConsole(world.server, world.clock, 'beheer-ingetrokken');
      await world.server.app.operations.admins.revoke(CLI, 'beheer-ingetrokken');
      const refused = await agent.request(`${world.server.url}/admin/portals`);
      expect(refused.status).toBe(403);
      expect(textOf(refused)).toContain('Geen toegang tot beheer');
      expect(agent.hasCookie('pw_admin')).toBe(false);
    });

    it('ends with the login it was opened from: "sign out everywhere" and a 2FA reset end the console too', async () => {
      await adminAccount(world.server, 'beheer-ingetrokken-sessie', 'operator');
      const { agent } = await signInToConsole(world.server, world.clock, 'beheer-ingetrokken-sessie');
      expect((await agent.request(`${world.server.url}/admin/portals`)).status).toBe(200);
      const account = (await world.server.services.accounts.findByLogin('beheer-ingetrokken-sessie'))!;
      await world.server.app.operations.accountSecurity.revokeSessions(CLI, account.id);
      const after = await agent.request(`${world.server.url}/admin/portals`);
      expect(after.status).toBe(303);
      expect(new URL(after.location!).pathname).toBe('/auth');
      expect(agent.hasCookie('pw_admin')).toBe(false);
    });

    it('signs out: the session is gone and the provider\'s logout follows', async () => {
      await adminAccount(world.server, 'beheer-uit', 'operator');
      const { agent, page } = await signInToConsole(world.server, world.clock, 'beheer-uit');
      const out = await agent.request(findForm(page, '/admin/sign-out').action, { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(page) }).toString() });
      expect(out.status).toBe(303);
      expect(new URL(out.location!).pathname).toBe('/session/end');
      expect(agent.hasCookie('pw_admin')).toBe(false);
    });
  });

  describe('roles and organisations', () => {
    let noord: { id: string };
    let zuid: { id: string };

    beforeAll(async () => {
      const ops = world.server.app.operations;
      noord = (await ops.accounts.create(CLI, { username: 'patient-noord', email: 'patient-noord@example.nl', organisations: ['praktijk-noord'] })).account;
      zuid = (await ops.accounts.create(CLI, { username: 'patient-zuid', email: 'patient-zuid@example.nl', organisations: ['praktijk-zuid'] })).account;
      for (const id of [noord.id, zuid.id]) {
        const account = (await world.server.services.accounts.findById(id))!;
        await giveTotp(world.server, account, 'JBSWY3DPEHPK3PXP');
      }
      await adminAccount(world.server, 'praktijk-admin', 'practice', ['praktijk-noord']);
      await adminAccount(world.server, 'auditor-admin', 'auditor');
    });

    const statusOf = async (id: string) => (await world.server.services.accounts.findById(id))!.status;
    const factorsOf = async (id: string) => (await world.server.services.store.credentials.listByAccount(id)).map((c) => c.type).sort();

    it('refuses a form posted without the CSRF token, or with another, with 403: nothing changed', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'praktijk-admin', undefined, `/admin/accounts/${noord.id}`);
      expect(textOf(page)).toContain('Account patient-noord');
      const missing = await postForm(agent, world.server, `/admin/accounts/${noord.id}/disable`, {});
      expect(missing.status).toBe(403);
      expect(textOf(missing)).toContain('Er is niets gewijzigd');
      const wrong = await postForm(agent, world.server, `/admin/accounts/${noord.id}/disable`, { _csrf: 'x'.repeat(32) });
      expect(wrong.status).toBe(403);
      expect(await statusOf(noord.id)).toBe('active');
      // The same form with the session's token works: the refusals above were the token's.
      const done = await postForm(agent, world.server, `/admin/accounts/${noord.id}/disable`, { _csrf: csrfOf(page) });
      expect(done.status).toBe(200);
      expect(await statusOf(noord.id)).toBe('disabled');
      await postForm(agent, world.server, `/admin/accounts/${noord.id}/enable`, { _csrf: csrfOf(page) });
      expect(await statusOf(noord.id)).toBe('active');
    });

    it('shows a practice only its own organisation\'s accounts: another\'s is absent (404), and cannot be changed', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'praktijk-admin', undefined, '/admin/accounts?q=patient');
      expect(textOf(page)).toContain('patient-noord');
      expect(textOf(page)).not.toContain('patient-zuid');
      const other = await agent.request(`${world.server.url}/admin/accounts/${zuid.id}`);
      expect(other.status).toBe(404);
      expect(textOf(other)).toContain('valt buiten uw organisatie');
      const reset = await postForm(agent, world.server, `/admin/accounts/${zuid.id}/reset-second-factors`, { _csrf: csrfOf(page) });
      expect(reset.status).toBe(404);
      expect(await factorsOf(zuid.id)).toContain('totp');
      // Portals and the audit log are not the practice's to browse beyond its own.
      const audit = await agent.request(`${world.server.url}/admin/audit`);
      expect(audit.status).toBe(403);
    });

    it('lets a practice change no account that holds an admin role, even in its own organisation (no way up)', async () => {
      const operator = await adminAccount(world.server, 'operator-in-noord', 'operator');
      await world.server.services.store.organisations.setMemberships('account', operator.id, ['praktijk-noord']);
      const { agent, page } = await signInToConsole(world.server, world.clock, 'praktijk-admin', undefined, `/admin/accounts/${noord.id}`);
      for (const action of ['reset-second-factors', 'disable', 'revoke-sessions', 'temporary-password']) {
        const refused = await postForm(agent, world.server, `/admin/accounts/${operator.id}/${action}`, { _csrf: csrfOf(page) });
        expect(refused.status, action).toBe(404);
      }
      expect(await factorsOf(operator.id)).toContain('totp');
      expect(await statusOf(operator.id)).toBe('active');
      // An operator may (the CLI, here).
      await world.server.app.operations.accountSecurity.setStatus(CLI, operator.id, 'disabled');
      expect(await statusOf(operator.id)).toBe('disabled');
    });

    it('lets a practice reset its patient\'s second factors: removed, enrolment required, the patient told', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'praktijk-admin', undefined, `/admin/accounts/${noord.id}`);
      const done = await agent.submit(page, `/admin/accounts/${noord.id}/reset-second-factors`);
      expect(done.status).toBe(200);
      expect(textOf(done)).toContain('De patiënt heeft een e-mail gekregen');
      expect(await factorsOf(noord.id)).not.toContain('totp');
      expect((await world.server.services.accounts.findById(noord.id))!.requiredActions).toContain('enrol-second-factor');
      await world.smtp.waitForMail('patient-noord@example.nl');
      // The audit trail on the account's page names the practice admin and its organisation.
      const trail = await world.server.app.operations.audit.search(CLI, { type: 'admin.user.mfa_reset', account_id: noord.id });
      expect(trail.items[0]!.on_behalf_of).toEqual(['praktijk-noord']);
      expect(trail.items[0]!.actor).toMatch(/^admin:/);
    });

    it('sends the activation invitation from the account page (the same invitations as CLI and API); a second one replaces the first', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'praktijk-admin', undefined, `/admin/accounts/${noord.id}`);
      const invited = await agent.submit(page, `/admin/accounts/${noord.id}/invite`);
      expect(invited.status).toBe(200);
      expect(textOf(invited)).toContain('De uitnodiging is verstuurd naar');
      const mail = await world.smtp.waitForMail('patient-noord@example.nl');
      const link = /\/activate\/[A-Za-z0-9._~-]+/.exec(mail.text ?? '')?.[0];
      expect(link).toBeDefined();
      expect((await world.server.services.store.audit.list({ accountId: noord.id, type: 'admin.user.invited' }))[0]?.actor).toMatch(/^admin:/);
    });

    it('lets a practice register a portal only for its own organisation, and no API client', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'praktijk-admin', undefined, '/admin/portals/new');
      expect(page.html).not.toContain('value="service"');
      const csrf = csrfOf(page);
      const other = await postForm(agent, world.server, '/admin/portals', { _csrf: csrf, client_name: 'Zuid portaal', client_id: 'zuid-portaal', redirect_uris: 'https://zuid.example/cb', organisations: 'praktijk-zuid' });
      expect(other.status).toBe(403);
      const service = await postForm(agent, world.server, '/admin/portals', { _csrf: csrf, client_name: 'Robot', client_id: 'robot-client', type: 'service', scopes: 'admin:accounts' });
      expect(service.status).toBe(403);
      expect(await world.server.services.store.clients.find('zuid-portaal')).toBeUndefined();
      expect(await world.server.services.store.clients.find('robot-client')).toBeUndefined();
      // Skipping consent is an operator's promise, not a practice's (review of the console).
      const firstParty = await postForm(agent, world.server, '/admin/portals', { _csrf: csrf, client_name: 'Eigen portaal', client_id: 'eigen-portaal', redirect_uris: 'https://noord.example/cb', first_party: 'on' });
      expect(firstParty.status).toBe(403);
      expect(await world.server.services.store.clients.find('eigen-portaal')).toBeUndefined();
      const own = await postForm(agent, world.server, '/admin/portals', { _csrf: csrf, client_name: 'Noord portaal', client_id: 'noord-portaal', redirect_uris: 'https://noord.example/cb' });
      expect(own.status).toBe(200);
      expect(await world.server.services.store.organisations.memberships('client', 'noord-portaal')).toEqual(['praktijk-noord']);
    });

    it('gives an auditor the audit log only: no forms, posts refused, nothing changed', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'auditor-admin', undefined, '/admin/audit');
      expect(page.status).toBe(200);
      const posts = [...page.html.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)].map((m) => m[1]);
      expect(posts).toEqual(['/admin/sign-out']);
      expect((await agent.request(`${world.server.url}/admin/accounts`)).status).toBe(403);
      expect((await agent.request(`${world.server.url}/admin/portals`)).status).toBe(403);
      const refused = await postForm(agent, world.server, `/admin/accounts/${zuid.id}/disable`, { _csrf: csrfOf(page) });
      expect(refused.status).toBe(403);
      expect(await statusOf(zuid.id)).toBe('active');
      const register = await postForm(agent, world.server, '/admin/portals', { _csrf: csrfOf(page), client_name: 'Stiekem', redirect_uris: 'https://stiekem.example/cb' });
      expect(register.status).toBe(403);
      expect((await world.server.services.store.clients.list()).map((c) => c.metadata.client_name)).not.toContain('Stiekem');
    });

    it('lets an auditor filter the log and export the same filter as CSV', async () => {
      const { agent } = await signInToConsole(world.server, world.clock, 'auditor-admin');
      const filtered = await agent.request(`${world.server.url}/admin/audit?type=admin.user.mfa_reset`);
      expect(filtered.status).toBe(200);
      expect(textOf(filtered)).toContain('admin.user.mfa_reset');
      expect(textOf(filtered)).not.toContain('admin.user.disabled');
      const csv = await agent.request(`${world.server.url}/admin/audit.csv?type=admin.user.mfa_reset`);
      expect(csv.status).toBe(200);
      expect(csv.headers!.get('content-type')).toContain('text/csv');
      expect(csv.headers!.get('content-disposition')).toContain('audit.csv');
      const rows = csv.html.trim().split(/\r?\n/);
      expect(rows[0]).toBe('at,type,outcome,actor,on_behalf_of,account_id,client_id,ip,user_agent,id,detail');
      expect(rows.length).toBeGreaterThan(1);
      for (const row of rows.slice(1)) expect(row.split(',')[1]).toBe('admin.user.mfa_reset');
      const bad = await agent.request(`${world.server.url}/admin/audit.csv?from=gisteren`);
      expect(bad.status).toBe(400);
      expect(textOf(bad)).toContain('Een of meer gegevens kloppen niet');
      const tampered = await agent.request(`${world.server.url}/admin/audit?cursor=${'A'.repeat(40)}`);
      expect(tampered.status).toBe(400);
    });
  });

  describe('portals', () => {
    it('registers a portal with its policy and brand, shows the secret once, rotates, disables and deletes it', async () => {
      await adminAccount(world.server, 'portaal-operator', 'operator');
      const { agent, page } = await signInToConsole(world.server, world.clock, 'portaal-operator', undefined, '/admin/portals/new');
      expect(page.status).toBe(200);
      const csrf = csrfOf(page);
      const fields = {
        _csrf: csrf, client_name: 'ZINN cliëntportaal', client_id: 'zinn-portaal', type: 'confidential', redirect_uris: 'https://zinn.example/cb\nhttps://zinn.example/cb2',
        first_party: 'on', mfa: 'required', mfa_methods: ['sms', 'totp'], min_acr: 'substantial', password_profile: 'default', recovery_codes: 'on', reauth_before_enrolment: 'on',
        recovery_label: 'forgot-or-locked', recovery_methods: ['sms', 'email-link'], sms_sender: 'ZINNZORG', brand_color: '#0B5394', support_text_nl: 'Bel 088-1234567', code_name: 'session-code',
      };
      const bad = await postForm(agent, world.server, '/admin/portals', { ...fields, redirect_uris: 'geen url', brand_color: 'blauw' });
      expect(bad.status).toBe(400);
      expect(textOf(bad)).toContain('Controleer ‘Redirect-URI\'s’');
      expect(textOf(bad)).toContain('Controleer ‘Huiskleur’');
      expect(bad.html).toContain('href="#redirect_uris"');
      expect(await world.server.services.store.clients.find('zinn-portaal')).toBeUndefined();

      const registered = await postForm(agent, world.server, '/admin/portals', fields);
      expect(registered.status, textOf(registered).slice(0, 800)).toBe(200);
      const secret = /id="client-secret">([^<]+)</.exec(registered.html)![1]!;
      expect(secret.length).toBeGreaterThan(20);
      const stored = (await world.server.services.store.clients.find('zinn-portaal'))!;
      expect(stored.metadata).toMatchObject({ client_name: 'ZINN cliëntportaal', mfa: 'required', mfa_methods: ['sms', 'totp'], min_acr: 'urn:poortwachter:acr:substantial', remember_device: false,
        recovery_label: 'forgot-or-locked', recovery_methods: ['sms', 'email-link'], sms_sender: 'ZINNZORG', brand_color: '#0b5394', code_name: 'session-code' });
      expect(JSON.stringify(stored)).not.toContain(secret);
      const shown = await agent.request(`${world.server.url}/admin/portals/zinn-portaal`);
      expect(shown.html).not.toContain(secret);

      const rotated = await agent.submit(shown, '/admin/portals/zinn-portaal/secret');
      const second = /id="client-secret">([^<]+)</.exec(rotated.html)![1]!;
      expect(second).not.toBe(secret);
      expect(textOf(rotated)).toContain('Het vorige geheim werkt nog tot');

      const disabled = await agent.submit(rotated.html.includes('/disable') ? rotated : await agent.request(`${world.server.url}/admin/portals/zinn-portaal`), '/admin/portals/zinn-portaal/disable');
      expect(disabled.status).toBe(200);
      expect(textOf(disabled)).toContain('Het portaal is uitgeschakeld');
      expect((await world.server.services.store.clients.find('zinn-portaal'))!.metadata.disabled).toBe(true);

      const confirm = await agent.request(`${world.server.url}/admin/portals/zinn-portaal/delete`);
      expect(textOf(confirm)).toContain('ZINN cliëntportaal verwijderen?');
      expect(await world.server.services.store.clients.find('zinn-portaal')).toBeDefined();
      const deleted = await agent.submit(confirm, '/admin/portals/zinn-portaal/delete');
      expect(deleted.status).toBe(200);
      expect(textOf(deleted)).toContain('Portaal zinn-portaal is verwijderd');
      expect(await world.server.services.store.clients.find('zinn-portaal')).toBeUndefined();
    });

    it('never lists or opens the console\'s own client', async () => {
      const { agent, page } = await signInToConsole(world.server, world.clock, 'portaal-operator', undefined, '/admin/portals');
      expect(page.html).not.toContain('poortwachter-admin');
      expect((await agent.request(`${world.server.url}/admin/portals/poortwachter-admin`)).status).toBe(404);
    });
  });
});
