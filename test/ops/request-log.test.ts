// One JSON line per request (request id, method, route pattern, status, duration, portal, flow),
// the same request id on every line logged while serving it, and never a secret: a password login,
// an SMS code login and a refresh go through the real server with openid-client as the portal,
// then the whole log text is scanned for every secret the test saw go over the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import * as oidc from 'openid-client';
import { UserAgent } from '../support/user-agent.ts';
import { REDIRECT_URI, relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { TEST_PASSWORD, startTestServer, type TestServer } from '../support/server.ts';
import { extractCode, finishAtPortal, loginUntilSecondFactor, phoneForms, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  method?: string;
  route?: string;
  status?: number;
  ms?: number;
  clientId?: string;
  flowId?: string;
  [key: string]: unknown;
}

const parseLog = (text: string): LogLine[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
const requestLines = (lines: LogLine[]) => lines.filter((l) => l.msg === 'request');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request log', () => {
  let world: FactorWorld;
  let rp: RelyingParty;
  let secret: string;
  /** Every secret the portal or the browser handled, and where it came from. */
  const secrets: { what: string; value: string }[] = [];
  const interactionUids: string[] = [];
  const seen = (what: string, value: string | undefined) => {
    if (!value) throw new Error(`no ${what}`);
    secrets.push({ what, value });
  };

  beforeAll(async () => {
    world = await startFactorWorld();
    const client = await world.server.addClient({ redirectUris: [REDIRECT_URI] });
    secret = client.clientSecret!;
    rp = await relyingParty(world.server.url, client.clientId, secret);
    seen('client secret', secret);
    // The Authorization headers exactly as openid-client sends them.
    rp.config[oidc.customFetch] = (...args) => {
      const authorization = new Headers(args[1].headers).get('authorization');
      if (authorization) seen('authorization header', authorization.replace(/^Basic /, ''));
      return fetch(...(args as Parameters<typeof fetch>));
    };
    seen('password', TEST_PASSWORD);

    // A full password login.
    await world.server.addUser({ username: 'log-password' });
    const browser = new UserAgent();
    const request = await rp.authorize();
    const first = await browser.open(request.url, REDIRECT_URI);
    interactionUids.push(new URL(first.url).pathname.split('/')[2]!);
    const done = await browser.submit(first, '/step/password/verify', { login: 'log-password', password: TEST_PASSWORD }, REDIRECT_URI);
    seen('authorization code', new URL(done.url).searchParams.get('code') ?? undefined);
    const tokens = await rp.callback(done.url, request);
    seen('access token', tokens.access_token);
    seen('id token', tokens.id_token);
    seen('id token signature', tokens.id_token?.split('.')[2]);

    // An SMS code login, then a refresh of its tokens.
    const phone = '+31612345690';
    await userWithFactors(world.server, { username: 'log-sms', phoneE164: phone }, ['sms']);
    for (const form of phoneForms(phone)) seen('phone number', form);
    const agent = new UserAgent();
    const { page, request: smsRequest } = await loginUntilSecondFactor(rp, agent, 'log-sms');
    interactionUids.push(new URL(page.url).pathname.split('/')[2]!);
    const code = extractCode((await world.twilio.waitForSms(phone)).body);
    seen('sms code', code);
    const smsDone = await submitStep(agent, page, 'sms', 'verify', { code });
    seen('authorization code', new URL(smsDone.url).searchParams.get('code') ?? undefined);
    const { tokens: smsTokens } = await finishAtPortal(rp, smsDone, smsRequest);
    seen('access token', smsTokens.access_token);
    seen('refresh token', smsTokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(rp.config, smsTokens.refresh_token!);
    seen('refreshed access token', refreshed.access_token);
    seen('rotated refresh token', refreshed.refresh_token);
    for (const value of [...browser.cookieValuesSeen, ...agent.cookieValuesSeen]) if (value.length >= 16) seen('cookie', value);
    expect(secrets.filter((s) => s.what === 'authorization header')).toHaveLength(3);
  });
  afterAll(() => world?.close());

  it('never holds a password, code, phone number, token, secret, cookie or authorization header', () => {
    const text = world.server.logs();
    expect(requestLines(parseLog(text)).length).toBeGreaterThan(10);
    expect(secrets.filter((s) => s.what === 'cookie').length).toBeGreaterThan(0);
    for (const { what, value } of secrets) {
      // Codes are digits: match them whole, not inside a timestamp.
      const found = /^\d+$/.test(value) ? new RegExp(`(?<!\\d)${value}(?!\\d)`).test(text) : text.includes(value);
      expect(found, `the log holds the ${what}`).toBe(false);
    }
    // Route patterns, not paths: interaction uids are in no line, and no query string is.
    for (const uid of interactionUids) expect(text).not.toContain(uid);
    expect(text).not.toMatch(/[?&](code|state|nonce|code_verifier)=/);
  });

  it('writes one line per request with id, method, route pattern, status, duration, portal and flow', () => {
    const lines = requestLines(parseLog(world.server.logs()));
    for (const line of lines) {
      expect(line.requestId).toMatch(UUID);
      expect(line.method).toMatch(/^[A-Z]+$/);
      expect(typeof line.route).toBe('string');
      expect(line.status).toBeGreaterThanOrEqual(100);
      expect(line.ms).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(lines.length);
    const routes = new Set(lines.map((l) => `${l.method} ${l.route}`));
    for (const route of ['GET /auth', 'GET /interaction/:uid', 'POST /interaction/:uid/step/:step/:action', 'GET /auth/:uid', 'POST /token']) expect(routes).toContain(route);

    const tokenLines = lines.filter((l) => l.route === '/token');
    expect(tokenLines.length).toBe(3);
    for (const line of tokenLines) expect(line.clientId).toBe(rp.clientId);
    const steps = lines.filter((l) => l.route === '/interaction/:uid/step/:step/:action');
    expect(steps.length).toBeGreaterThanOrEqual(3);
    for (const line of steps) {
      expect(line.clientId).toBe(rp.clientId);
      expect(line.flowId).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    }
    // The two logins were two flows.
    expect(new Set(steps.map((l) => l.flowId)).size).toBe(2);
  });

  it('puts the request id on every line logged while serving the request', () => {
    const lines = parseLog(world.server.logs());
    const byId = new Map(requestLines(lines).map((l) => [l.requestId, l]));
    const sent = lines.find((l) => l.msg === 'sms sent');
    expect(sent, 'the delivery logged the SMS').toBeDefined();
    const request = byId.get(sent!.requestId);
    expect(request?.route).toMatch(/^\/interaction\/:uid/);
    // Every line from a request's handling carries an id that names a request.
    for (const line of lines.filter((l) => l.requestId !== undefined)) expect(byId.has(line.requestId)).toBe(true);
  });

  it('echoes the request id in X-Request-Id and labels unknown paths without their text', async () => {
    const response = await fetch(`${world.server.url}/no/such/page/ABCDEF123456?code=654321`);
    expect(response.status).toBe(404);
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    const line = requestLines(parseLog(world.server.logs())).find((l) => l.requestId === id);
    expect(line).toMatchObject({ method: 'GET', route: 'unmatched', status: 404 });
    expect(world.server.logs()).not.toContain('ABCDEF123456');
  });
});

describe('X-Request-Id from a proxy', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  async function idFor(env: Record<string, string>, offered: string): Promise<{ id: string | null; logged: boolean }> {
    const server = await startTestServer({ env });
    servers.push(server);
    const response = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { 'X-Request-Id': offered } });
    await response.arrayBuffer();
    const id = response.headers.get('x-request-id');
    const logged = requestLines(parseLog(server.logs())).some((l) => l.requestId === id && l.route === '/.well-known/openid-configuration');
    return { id, logged };
  }

  it('is taken from a trusted proxy, echoed and logged', async () => {
    const result = await idFor({ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1' }, 'caddy-5f1c2a9e-7d3b');
    expect(result).toEqual({ id: 'caddy-5f1c2a9e-7d3b', logged: true });
    // Also with TRUST_PROXY alone, which trusts every peer for X-Forwarded-* too.
    expect((await idFor({ TRUST_PROXY: 'true' }, 'f'.repeat(32))).id).toBe('f'.repeat(32));
  });

  it('is replaced when a request carries two', async () => {
    const server = await startTestServer({ env: { TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1' } });
    servers.push(server);
    const id = await new Promise<string | undefined>((resolve, reject) => {
      const request = http.get(`${server.url}/.well-known/openid-configuration`, { headers: { 'X-Request-Id': ['first-id-123', 'second-id-456'] } }, (response) => {
        response.resume();
        resolve(response.headers['x-request-id'] as string | undefined);
      });
      request.on('error', reject);
    });
    expect(id).toMatch(UUID);
  });

  it('is replaced by our own id from any other peer, or when it does not look like an id', async () => {
    for (const [env, offered] of [
      [{}, 'planted-by-client-1'],
      [{ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '10.0.0.0/8' }, 'planted-by-client-2'],
      [{ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1' }, 'has spaces and "quotes"'],
      [{ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1' }, 'x'.repeat(129)],
    ] as const) {
      const result = await idFor(env, offered);
      expect(result.id, JSON.stringify(env)).toMatch(UUID);
      expect(result.logged).toBe(true);
    }
  });
});
