// Admins of the /admin console for tests: an account with an authenticator app (its key known to
// the test, the secret sealed as enrolment stores it) and a grant, and the sign-in through the
// real login flow (password, then the app's code on the fake clock) with the plain-form agent.
import { expect } from 'vitest';
import type { AccountRecord } from '../../src/store/port.ts';
import type { AdminRole } from '../../src/store/port.ts';
import type { FakeClock } from '../../src/clock.ts';
import { giveTotp } from './factor-login.ts';
import type { TestServer } from './server.ts';
import { TEST_PASSWORD } from './server.ts';
import { totpCode, STEP_MS } from './totp.ts';
import { UserAgent, textOf, type Page } from './user-agent.ts';

/** The authenticator app's key of every test admin (Base32). */
export const ADMIN_TOTP_KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const CLI = { kind: 'cli', operator: 'test' } as const;

/** An account with the app enrolled; with a role when `role` is given. */
export async function adminAccount(server: TestServer, username: string, role?: AdminRole, organisations: string[] = []): Promise<AccountRecord> {
  const account = await server.addUser({ username, emailVerified: true });
  await giveTotp(server, account, ADMIN_TOTP_KEY);
  if (role) await server.app.operations.admins.grant(CLI, { username, role, organisations });
  return account;
}

/**
 * Signs in to /admin: password, then the app's code. The clock moves on a step first, so the same
 * admin can sign in again (a code's step is used once). Returns the page the console answered.
 */
export async function signInToConsole(server: TestServer, clock: FakeClock, username: string, agent = new UserAgent(), path = '/admin'): Promise<{ agent: UserAgent; page: Page }> {
  clock.advance(STEP_MS);
  const login = await agent.open(`${server.url}${path}`);
  const second = await agent.submit(login, '/step/password/verify', { login: username, password: TEST_PASSWORD });
  expect(second.html, textOf(second).slice(0, 500)).toContain('/step/totp/verify');
  const page = await agent.submit(second, '/step/totp/verify', { code: await totpCode(ADMIN_TOTP_KEY, clock.now()) });
  return { agent, page };
}

/** A console form's hidden CSRF token, from any console page. */
export function csrfOf(page: Page): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.html);
  if (!match) throw new Error(`no CSRF token on ${page.url}:\n${textOf(page).slice(0, 500)}`);
  return match[1]!;
}

/** Posts a console form by hand (as a forged or stale page would). */
export function postForm(agent: UserAgent, server: TestServer, path: string, values: Record<string, string | string[]>): Promise<Page> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) for (const one of Array.isArray(value) ? value : [value]) body.append(key, one);
  return agent.request(`${server.url}${path}`, { method: 'POST', body: body.toString() });
}
