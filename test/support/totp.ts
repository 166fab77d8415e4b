// An authenticator app for tests: otplib computes the codes a phone would show, for any moment
// (`epoch`), so tests move a fake clock instead of sleeping. Plus the steps a patient takes to
// set up the app and the recovery codes during a first login.
import { generate } from 'otplib';
import type { FakeClock } from '../../src/clock.ts';
import { REDIRECT_URI, type RelyingParty } from './relying-party.ts';
import { TEST_PASSWORD } from './server.ts';
import { textOf, type Page, type UserAgent } from './user-agent.ts';

export const STEP_MS = 30_000;

/** A clock at one second into a 30 s step, so ±30 s lands exactly one step away. */
export function stepAlignedTime(): number {
  return Math.floor(Date.now() / STEP_MS) * STEP_MS + 1_000;
}

/** The code an authenticator app with `key` shows at `atMs`. */
export function totpCode(key: string, atMs: number): Promise<string> {
  return generate({ secret: key, epoch: Math.floor(atMs / 1000) });
}

/** The manual-entry key on the enrolment page, without its grouping spaces. */
export function keyFromPage(page: Page): string {
  const match = /id="totp-key"[^>]*>(?:<span[^>]*>[^<]*<\/span>)?([A-Z2-7 ]+)</.exec(page.html);
  if (!match) throw new Error(`no TOTP key on ${page.url}:\n${textOf(page).slice(0, 1000)}`);
  return match[1]!.replace(/ /g, '');
}

/** The recovery codes listed on the page, as shown. */
export function recoveryCodesFromPage(page: Page): string[] {
  const list = /<ul class="codes"[^>]*>([\s\S]*?)<\/ul>/.exec(page.html);
  if (!list) throw new Error(`no recovery codes on ${page.url}:\n${textOf(page).slice(0, 1000)}`);
  return [...list[1]!.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]!);
}

export interface Enrolment {
  key: string;
  recoveryCodes: string[];
  tokens: Awaited<ReturnType<RelyingParty['callback']>>;
}

/**
 * First login on a portal that requires the app: password, password again, scan (read the
 * key), first code, save the recovery codes, back at the portal with tokens.
 */
export async function enrolWithApp(rp: RelyingParty, agent: UserAgent, clock: FakeClock, username: string, password = TEST_PASSWORD): Promise<Enrolment> {
  const request = await rp.authorize();
  const login = await agent.open(request.url, REDIRECT_URI);
  const reauth = await agent.submit(login, '/step/password/verify', { login: username, password });
  const enrol = await agent.submit(reauth, '/step/password/verify', { password });
  const key = keyFromPage(enrol);
  const codes = await agent.submit(enrol, '/step/totp/verify', { code: await totpCode(key, clock.now()) });
  const recoveryCodes = recoveryCodesFromPage(codes);
  const done = await agent.submit(codes, '/step/recovery/confirm', { saved: 'on' }, REDIRECT_URI);
  if (!done.url.startsWith(REDIRECT_URI)) throw new Error(`enrolment did not return to the portal: ${done.status} ${textOf(done).slice(0, 1000)}`);
  return { key, recoveryCodes, tokens: await rp.callback(done.url, request) };
}

/** Password login up to the second-factor page. */
export async function loginToSecondFactor(rp: RelyingParty, agent: UserAgent, username: string, params: Record<string, string> = {}, password = TEST_PASSWORD) {
  const request = await rp.authorize(params);
  const login = await agent.open(request.url, REDIRECT_URI);
  const page = await agent.submit(login, '/step/password/verify', { login: username, password });
  return { request, page };
}
