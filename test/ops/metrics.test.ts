// GET /metrics through the real server: the exposition is read back with a strict Prometheus text
// parser (test/support/prometheus-text.ts) and the counters must have moved by exactly what the
// test did (logins by portal, method and result; code sends; lockouts; request latency per route
// pattern; store latency per sub-store and method; process metrics). In production the endpoint
// answers only with the token or from a listed address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgent } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { TEST_PASSWORD, startTestServer, type TestServer } from '../support/server.ts';
import { extractCode, finishAtPortal, loginUntilSecondFactor, startFactorWorld, submitStep, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { parsePrometheusText, sampleSum, sampleValue, type MetricFamily } from '../support/prometheus-text.ts';
import { loadConfig } from '../../src/config.ts';
import { metricsAccess } from '../../src/web/metrics-route.ts';

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${url}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-store');
  return parsePrometheusText(await response.text());
}

describe('/metrics', () => {
  let world: FactorWorld;
  let rp: RelyingParty;
  let portal: string;

  beforeAll(async () => {
    world = await startFactorWorld();
    rp = await world.portal({ name: 'Metriekportaal' });
    portal = rp.clientId;
  });
  afterAll(() => world?.close());

  it('counts an SMS login by portal, method and result, and its code send', async () => {
    const phone = '+31612345680';
    await userWithFactors(world.server, { username: 'metrics-sms', phoneE164: phone }, ['sms']);
    const before = await scrape(world.server.url);
    const agent = new UserAgent();
    // One wrong password first, then the right one; one wrong code, then the right one.
    const request = await rp.authorize();
    const first = await agent.open(request.url, REDIRECT_URI);
    const wrong = await agent.submit(first, '/step/password/verify', { login: 'metrics-sms', password: 'Niet-Het-Wachtwoord-1' }, REDIRECT_URI);
    expect(wrong.status).toBe(401);
    const page = await agent.submit(wrong, '/step/password/verify', { login: 'metrics-sms', password: TEST_PASSWORD }, REDIRECT_URI);
    const code = extractCode((await world.twilio.waitForSms(phone)).body);
    const wrongCode = await submitStep(agent, page, 'sms', 'verify', { code: code === '000000' ? '111111' : '000000' });
    expect(wrongCode.status).toBe(401);
    const done = await submitStep(agent, wrongCode, 'sms', 'verify', { code });
    await finishAtPortal(rp, done, request);

    const after = await scrape(world.server.url);
    const moved = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(after.get('poortwachter_logins_total')?.type).toBe('counter');
    expect(moved('poortwachter_logins_total', { portal, method: 'password', result: 'failed' })).toBe(1);
    expect(moved('poortwachter_logins_total', { portal, method: 'password', result: 'ok' })).toBe(1);
    expect(moved('poortwachter_logins_total', { portal, method: 'sms', result: 'failed' })).toBe(1);
    expect(moved('poortwachter_logins_total', { portal, method: 'sms', result: 'ok' })).toBe(1);
    expect(moved('poortwachter_logins_completed_total', { portal, acr: 'substantial' })).toBe(1);
    expect(moved('poortwachter_code_sends_total', { channel: 'sms', purpose: 'login', result: 'sent' })).toBe(1);

    // Latency per route pattern: the interaction uid never becomes a label value.
    const uid = new URL(page.url).pathname.split('/')[2]!;
    const http = after.get('poortwachter_http_request_duration_seconds');
    expect(http?.type).toBe('histogram');
    const steps = { method: 'POST', route: '/interaction/:uid/step/:step/:action' };
    expect(sampleSum(after, 'poortwachter_http_request_duration_seconds_count', steps) - sampleSum(before, 'poortwachter_http_request_duration_seconds_count', steps)).toBe(4);
    expect(sampleValue(after, 'poortwachter_http_request_duration_seconds_count', { method: 'POST', route: '/token', status: '200' })).toBeGreaterThanOrEqual(1);
    const labelValues = [...after.values()].flatMap((family) => family.samples.flatMap((sample) => Object.values(sample.labels)));
    expect(labelValues.some((value) => value.includes(uid))).toBe(false);

    // Store latency per sub-store and method.
    expect(after.get('poortwachter_store_operation_duration_seconds')?.type).toBe('histogram');
    for (const [part, method] of [['flows', 'put'], ['flows', 'findByInteraction'], ['accounts', 'findByLogin'], ['codes', 'consume'], ['oidc', 'upsert']]) {
      expect(sampleValue(after, 'poortwachter_store_operation_duration_seconds_count', { part: part!, method: method!, outcome: 'ok' }), `${part}.${method}`).toBeGreaterThan(0);
    }
    // Process metrics from prom-client.
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(after.has(name), name).toBe(true);
  });

  it('counts refused code sends and lockouts', async () => {
    const phone = '+31612345681';
    await userWithFactors(world.server, { username: 'metrics-resend', phoneE164: phone }, ['sms']);
    await world.server.addUser({ username: 'metrics-locked' });
    const before = await scrape(world.server.url);

    // A resend within the cooldown is refused.
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(rp, agent, 'metrics-resend');
    await world.twilio.waitForSms(phone);
    const resent = await submitStep(agent, page, 'sms', 'resend');
    expect(resent.status).toBe(429);

    // LOCKOUT_THRESHOLD (5) wrong passwords lock the account and the typed name.
    const locker = new UserAgent();
    const request = await rp.authorize();
    let login = await locker.open(request.url, REDIRECT_URI);
    for (let i = 0; i < 5; i += 1) login = await locker.submit(login, '/step/password/verify', { login: 'metrics-locked', password: `Fout-wachtwoord-${i}` }, REDIRECT_URI);
    const locked = await locker.submit(login, '/step/password/verify', { login: 'metrics-locked', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(locked.status).toBe(401);

    const after = await scrape(world.server.url);
    const moved = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(moved('poortwachter_code_sends_total', { channel: 'sms', purpose: 'login', result: 'cooldown' })).toBe(1);
    expect(moved('poortwachter_lockouts_total', { scope: 'account', kind: 'temporary' })).toBe(1);
    expect(moved('poortwachter_lockouts_total', { scope: 'login-name', kind: 'temporary' })).toBe(1);
    expect(moved('poortwachter_logins_total', { portal, method: 'password', result: 'failed' })).toBe(5);
    expect(moved('poortwachter_logins_total', { portal, method: 'password', result: 'locked' })).toBe(1);
  });

  it('answers outside production only on loopback when neither METRICS_TOKEN nor METRICS_ALLOW is set', async () => {
    await scrape(world.server.url);
    const access = metricsAccess(loadConfig({}));
    const from = (remoteAddress: string, headers: Record<string, string> = {}) => access({ req: { socket: { remoteAddress } }, get: (name: string) => headers[name.toLowerCase()] ?? '' });
    expect(from('127.0.0.1')).toBe('allowed');
    expect(from('::1')).toBe('allowed');
    expect(from('::ffff:127.0.0.1')).toBe('allowed');
    expect(from('10.1.2.3')).toBe('address');
    expect(from('192.168.1.5')).toBe('address');
    // Through a proxy on this machine, the client is somewhere else.
    expect(from('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).toBe('address');
  });
});

describe('/metrics in production', () => {
  const TOKEN = 'b0d1c9f6e2a84c3f9e7d5b1a0c2e4f6a8b9d7c5e3f1a2b4c6d8e0f1a3b5c7d9e';
  const servers: TestServer[] = [];
  const production = {
    NODE_ENV: 'production',
    ISSUER: 'https://idp.example.nl',
    SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    SMTP_URL: 'smtp://127.0.0.1:9',
    TRUST_PROXY: 'true',
  };
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  async function server(env: Record<string, string>): Promise<TestServer> {
    const started = await startTestServer({ env: { ...production, ...env } });
    servers.push(started);
    return started;
  }

  it('refuses to start without METRICS_TOKEN or METRICS_ALLOW', () => {
    expect(() => loadConfig(production)).toThrow(/METRICS_TOKEN or METRICS_ALLOW: one is required in production/);
    expect(() => loadConfig({ ...production, METRICS_TOKEN: 'too-short' })).toThrow(/METRICS_TOKEN: must be at least 32/);
    expect(() => loadConfig({ ...production, METRICS_ALLOW: '10.0.0.0/33' })).toThrow(/METRICS_ALLOW: "10.0.0.0\/33" is not/);
    expect(loadConfig({ ...production, METRICS_TOKEN: TOKEN }).metrics).toEqual({ token: TOKEN, allow: [] });
    expect(loadConfig({ ...production, METRICS_ALLOW: '10.0.0.0/8, 192.168.0.9' }).metrics).toEqual({ allow: ['10.0.0.0/8', '192.168.0.9'] });
  });

  it('answers only with the bearer token', async () => {
    const { url } = await server({ METRICS_TOKEN: TOKEN });
    for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}0`, `Basic ${TOKEN}`, TOKEN]) {
      const response = await fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await response.text()).not.toContain('poortwachter_');
    }
    const families = await scrape(url, { authorization: `Bearer ${TOKEN}` });
    expect(families.has('poortwachter_http_request_duration_seconds')).toBe(true);
  });

  it('answers only connections from METRICS_ALLOW, never a request relayed by a proxy', async () => {
    const elsewhere = await server({ METRICS_ALLOW: '10.0.0.0/8' });
    expect((await fetch(`${elsewhere.url}/metrics`)).status).toBe(403);
    const here = await server({ METRICS_ALLOW: '127.0.0.1' });
    await scrape(here.url);
    expect((await fetch(`${here.url}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } })).status).toBe(403);
    // With both settings, both apply.
    const both = await server({ METRICS_ALLOW: '127.0.0.1', METRICS_TOKEN: TOKEN });
    expect((await fetch(`${both.url}/metrics`)).status).toBe(401);
    await scrape(both.url, { authorization: `Bearer ${TOKEN}` });
  });
});
