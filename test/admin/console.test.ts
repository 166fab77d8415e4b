// The /admin console through the real server, the real login flow (password + authenticator app
// on a fake clock), real SQLite and real SMTP, with a plain-form browser (no JavaScript): the
// sign-in gate, roles, CSRF, organisation scoping, the auditor's read-only access and CSV export,
// the short session, and a portal registered with its policy and brand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, AMSTERDAM_1150, type FactorWorld } from '../support/factor-login.ts';
import { adminAccount, CLI, csrfOf, postForm, signInToConsole } from '../support/admin-console.ts';
import { UserAgent, findForm, textOf } from '../support/user-agent.ts';
import { sha256 } from '../../src/accounts/random.ts';

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

    it('does not let the password alone in: an admin without an app or passkey is asked to set one up', async () => {
      await world.server.addUser({ username: 'beheer-zonder-app', emailVerified: true });
      await world.server.app.operations.admins.grant(CLI, { username: 'beheer-zonder-app', role: 'operator' });
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

    it('signs out: the session is gone and the provider\'s logout follows', async () => {
      await adminAccount(world.server, 'beheer-uit', 'operator');
      const { agent, page } = await signInToConsole(world.server, world.clock, 'beheer-uit');
      const out = await agent.request(findForm(page, '/admin/sign-out').action, { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(page) }).toString() });
      expect(out.status).toBe(303);
      expect(new URL(out.location!).pathname).toBe('/session/end');
      expect(agent.hasCookie('pw_admin')).toBe(false);
    });
  });
});
