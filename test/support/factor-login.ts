// Shared helpers for second-factor login tests: a server wired to a real SMTP server and the fake
// Twilio API, a patient who gets as far as the second factor, the code out of a message, the
// last step to tokens, and checks that logs and audit events keep codes and numbers out.
// Any factor's tests can use them: nothing here knows one factor from another except by its id.
import { expect } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import type { AccountRecord, AuditEvent } from '../../src/store/port.ts';
import type { NewAccount } from '../../src/accounts/accounts.ts';
import { randomId } from '../../src/accounts/random.ts';
import { loadCatalog, LANGUAGES } from '../../src/i18n/i18n.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from './server.ts';
import { startTestSmtpServer, type TestSmtpServer } from './smtp-server.ts';
import { startFakeTwilio, type FakeTwilio } from './fake-twilio.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from './relying-party.ts';
import { textOf, type Page, type UserAgent } from './user-agent.ts';
import type { ClientInput } from '../../src/oidc/client-registry.ts';
import { totpContext } from '../../src/factors/totp/totp-binding.ts';

/** The number Twilio sends from by default (TWILIO_FROM): a number, so calls can be placed. */
export const TWILIO_NUMBER = '+3197010000001';

/** 15 January 2025, 10:50 UTC = 11:50 in Amsterdam (CET): tests can read "11:50" on pages. */
export const AMSTERDAM_1150 = Date.UTC(2025, 0, 15, 10, 50, 0);

export interface FactorWorld {
  server: TestServer;
  smtp: TestSmtpServer;
  twilio: FakeTwilio;
  clock: FakeClock;
  /** Registers a portal and returns openid-client configured for it. */
  portal(input?: Partial<ClientInput>): Promise<RelyingParty>;
  close(): Promise<void>;
}

/** Poortwachter with real SMTP delivery and Twilio's real client talking to the fake API. */
export async function startFactorWorld(options: { now?: number; env?: Record<string, string>; issuerHost?: string } = {}): Promise<FactorWorld> {
  const smtp = await startTestSmtpServer();
  const twilio = await startFakeTwilio();
  const clock = new FakeClock(options.now ?? AMSTERDAM_1150);
  const server = await startTestServer({
    clock,
    issuerHost: options.issuerHost,
    env: {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Poortwachter <no-reply@poortwachter.test>',
      TWILIO_API_URL: twilio.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: TWILIO_NUMBER,
      DEV_OUTBOX: 'false',
      ...options.env,
    },
  });
  return {
    server,
    smtp,
    twilio,
    clock,
    async portal(input = {}) {
      const client = await server.addClient({ redirectUris: [REDIRECT_URI], ...input });
      return relyingParty(server.url, client.clientId, client.clientSecret);
    },
    async close() {
      await server?.close();
      await smtp?.close();
      await twilio?.close();
    },
  };
}

/** Records that `account` has enrolled `factor` (the credential a factor's enrolment stores). */
export async function giveCredential(server: TestServer, account: AccountRecord, type: string, data: Record<string, unknown> = {}): Promise<void> {
  const now = server.services.clock.now();
  await server.services.store.credentials.put({ id: randomId(16), accountId: account.id, type, data, createdAt: now, lastUsedAt: null });
}

/** An authenticator app with `key` set up on `account`: the credential, its secret sealed for it as enrolment does. */
export async function giveTotp(server: TestServer, account: AccountRecord, key: string): Promise<void> {
  const id = randomId(16);
  const now = server.services.clock.now();
  const secretSealed = server.services.box.seal(key, totpContext(account.id, id));
  await server.services.store.credentials.put({ id, accountId: account.id, type: 'totp', data: { secretSealed, lastUsedStep: 0 }, createdAt: now, lastUsedAt: null });
}

/** A patient with the given factors enrolled (phone factors need `phoneE164`). */
export async function userWithFactors(server: TestServer, input: Partial<NewAccount> & { username: string }, factors: readonly string[]): Promise<AccountRecord> {
  const account = await server.addUser({ emailVerified: true, ...(input.phoneE164 ? { phoneVerified: true } : {}), ...input });
  for (const factor of factors) await giveCredential(server, account, factor);
  return account;
}

/** The one 6-digit code in a message (SMS body, mail text); fails when there is none or several. */
export function extractCode(text: string): string {
  const codes = [...new Set([...text.matchAll(/(?<!\d)\d{6}(?!\d)/g)].map((m) => m[0]))];
  if (codes.length !== 1) throw new Error(`expected exactly one 6-digit code in: ${text}`);
  return codes[0]!;
}

/** The code a voice call reads out: TwiML spells it "4, 8, 2, 9, 1, 3" (twice). */
export function spokenCode(twiml: string): string {
  const spelled = [...twiml.matchAll(/<Say[^>]*>((?:\d, )+\d)<\/Say>/g)].map((m) => m[1]!.replace(/, /g, ''));
  if (spelled.length === 0) throw new Error(`no spelled code in: ${twiml}`);
  return spelled[0]!;
}

export interface AuthorizationRequest {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

/** Authorize at the portal and pass the password page: returns the page that comes next. */
export async function loginUntilSecondFactor(
  rp: RelyingParty,
  agent: UserAgent,
  login: string,
  options: { password?: string; params?: Record<string, string> } = {},
): Promise<{ page: Page; request: AuthorizationRequest }> {
  const request = await rp.authorize(options.params);
  const first = await agent.open(request.url, REDIRECT_URI);
  const page = await agent.submit(first, '/step/password/verify', { login, password: options.password ?? TEST_PASSWORD }, REDIRECT_URI);
  return { page, request };
}

/** Submits a form of a factor step, e.g. `submitStep(agent, page, 'sms', 'verify', { code })`. */
export function submitStep(agent: UserAgent, page: Page, factor: string, action: string, values: Record<string, string> = {}): Promise<Page> {
  return agent.submit(page, `/step/${factor}/${action}`, values, REDIRECT_URI);
}

/**
 * After a factor is enrolled during login, the flow may show recovery codes to save first (when a
 * recovery factor is registered). Confirms them and returns the page after, or `page` unchanged.
 */
export async function passRecoveryCodes(agent: UserAgent, page: Page): Promise<Page> {
  if (!page.html.includes('/step/recovery/confirm')) return page;
  return agent.submit(page, '/step/recovery/confirm', { saved: 'on' }, REDIRECT_URI);
}

/** Submits the last form (`actionPart`, e.g. '/step/sms/verify'), expects the portal's callback and redeems the code. */
export async function completeLogin(rp: RelyingParty, agent: UserAgent, page: Page, actionPart: string, values: Record<string, string>, request: AuthorizationRequest) {
  const done = await agent.submit(page, actionPart, values, REDIRECT_URI);
  return finishAtPortal(rp, done, request);
}

/** The callback page reached: exchanges the authorization code with openid-client. */
export async function finishAtPortal(rp: RelyingParty, done: Page, request: AuthorizationRequest) {
  if (!done.url.startsWith(REDIRECT_URI)) throw new Error(`login did not return to the portal: ${done.status} ${textOf(done).slice(0, 1500)}`);
  const tokens = await rp.callback(done.url, request);
  return { tokens, claims: tokens.claims()! };
}

/** `(?<!\d)123456(?!\d)`: a code or number as a whole, not as part of a timestamp. */
function wholeNumber(value: string): RegExp {
  return new RegExp(`(?<![\\d])${value.replace(/[+]/g, '\\+')}(?![\\d])`);
}

/** Neither the log text nor any audit event holds one of `secrets` (codes, phone numbers). */
export async function expectNoSecrets(server: TestServer, secrets: readonly string[]): Promise<void> {
  const logs = server.logs();
  const audit: AuditEvent[] = await server.services.store.audit.list({ limit: 10_000 });
  const auditText = JSON.stringify(audit);
  expect(logs.length).toBeGreaterThan(0);
  expect(audit.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    expect(logs, `log holds ${secret}`).not.toMatch(wholeNumber(secret));
    expect(auditText, `audit holds ${secret}`).not.toMatch(wholeNumber(secret));
  }
}

/** The ways a Dutch number may be written: E.164, national and without the trunk 0. */
export function phoneForms(e164: string): string[] {
  const national = `0${e164.slice(3)}`;
  return [e164, national, e164.slice(3)];
}

/** Keys of a locale namespace present in one language and missing in another. */
export function untranslatedKeys(namespace: string): string[] {
  const catalogs = LANGUAGES.map((lang) => [...loadCatalog(lang).keys()].filter((k) => k.startsWith(`${namespace}.`)));
  const all = new Set(catalogs.flat());
  return [...all].filter((k) => catalogs.some((keys) => !keys.includes(k)));
}
