// The demo portal (scripts/demo/) against the real Poortwachter, both in-process on ephemeral
// ports, with the cookie-keeping user agent as the patient's browser: what a portal developer
// sees after `npm run demo`, checked end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { buildServices, startServer } from '../../src/bootstrap.ts';
import { createLogger } from '../../src/log.ts';
import { ClientRegistry } from '../../src/oidc/client-registry.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { prepareDemo } from '../../scripts/demo/prepare.ts';
import { createRelyingParty, type RelyingParty } from '../../scripts/demo/relying-party.ts';

describe('demo portal', () => {
  let server: TestServer;
  let portal: http.Server;
  let rpBase = '';
  let rp: RelyingParty;
  // The portal's address must be known before its client is registered: the server listens
  // first and hands requests to whichever relying party is current.
  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  let credentials: { username: string; password: string | undefined; clientSecret: string };

  beforeAll(async () => {
    server = await startTestServer();
    portal = http.createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
    rpBase = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
    credentials = await prepareDemo(server.services, server.clients, rpBase);
    rp = await createRelyingParty({ issuer: server.url, clientId: 'demo-portal', clientSecret: credentials.clientSecret, baseUrl: rpBase });
    handle = rp.handle;
  });

  afterAll(async () => {
    portal?.closeAllConnections();
    await new Promise<void>((resolve) => (portal ? portal.close(() => resolve()) : resolve()));
    await server?.close();
  });

  /** Home → Inloggen → hosted password page → back at the portal, signed in. */
  async function signIn(agent: UserAgent, issuer = server.url): Promise<Page> {
    const home = await agent.open(`${rpBase}/`);
    expect(textOf(home)).toContain('Inloggen');
    // The "Inloggen" button is a GET form (the user agent only posts forms): follow its action.
    const loginPage = await agent.open(findForm(home, '/login').action);
    expect(loginPage.url).toContain(`${issuer}/interaction/`);
    return agent.submit(loginPage, '/step/password/verify', { login: credentials.username, password: credentials.password ?? '' });
  }

  it('signs the demo patient in and shows the verified claims, acr, amr, auth_time and userinfo', async () => {
    const page = await signIn(new UserAgent());
    expect(page.url).toBe(`${rpBase}/`);
    const text = textOf(page);
    expect(text).toContain('Welkom, Demi de Patiënt');
    expect(text).toMatch(/acr \(niveau\) urn:poortwachter:acr:low /);
    expect(text).toMatch(/amr \(methoden\) pwd /);
    expect(text).toMatch(/auth_time \d{10} \(\d{4}-/);
    expect(text).toContain('"email": "demo.patient@example.nl"');
    expect(text).toContain('Uitloggen');
  });

  it('logs out at the portal and at Poortwachter (RP-initiated)', async () => {
    const agent = new UserAgent();
    const page = await signIn(agent);
    const confirm = await agent.submit(page, '/logout');
    expect(confirm.url).toContain(`${server.url}/session/end`);
    const back = await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(back.url).toBe(`${rpBase}/`);
    expect(textOf(back)).toContain('Inloggen');
    // Poortwachter's session is gone too: signing in asks for the password again.
    const again = await agent.open(`${rpBase}/login`);
    expect(again.html).toContain('name="password"');
  });

  it('ends its session when Poortwachter sends a logout token over the back channel', async () => {
    const agent = new UserAgent();
    await signIn(agent);
    const before = rp.sessionCount();
    // Logging out at Poortwachter itself (not through the portal): only the back channel tells the portal.
    const confirm = await agent.open(`${server.url}/session/end`);
    await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    await expect.poll(() => rp.sessionCount()).toBe(before - 1);
    expect(textOf(await agent.open(`${rpBase}/`))).toContain('Inloggen');
  });

  it('explains a cancelled login instead of failing', async () => {
    const agent = new UserAgent();
    const loginPage = await agent.open(`${rpBase}/login`);
    const cancelled = await agent.submit(loginPage, '/abort');
    expect(cancelled.url.startsWith(`${rpBase}/callback?`)).toBe(true);
    expect(cancelled.status).toBe(400);
    expect(textOf(cancelled)).toContain('Inloggen mislukt End-User aborted interaction');
  });

  it('refuses forged logout tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: server.url, aud: 'demo-portal', sub: 'x' })).toString('base64url');
    for (const token of ['', 'not-a-jwt', `${header}.${payload}.`]) {
      const response = await fetch(`${rpBase}/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: token }) });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('on a store from an earlier run, re-registers the demo client with a fresh secret and keeps the patient password', async () => {
    // A second start on the same data, as `npm run demo` after an earlier run (a fresh process:
    // a running provider caches client metadata for a few seconds).
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: server.dataDir, PORT: '0' });
    const services = await buildServices(config, { logger: createLogger('silent') });
    const second = await startServer(services, { port: 0, host: '127.0.0.1', issuerFromAddress: true });
    try {
      const again = await prepareDemo(services, new ClientRegistry(services.store, second.app.provider, services.clock, services.box), rpBase);
      expect(again.reused).toBe(true);
      expect(again.clientSecret).not.toBe(credentials.clientSecret);
      // The password `npm start` printed keeps working: the demo never changes it.
      expect(again.password).toBeUndefined();
      credentials = { ...again, password: credentials.password };
      rp = await createRelyingParty({ issuer: second.url, clientId: again.clientId, clientSecret: again.clientSecret, baseUrl: rpBase });
      handle = rp.handle;
      const page = await signIn(new UserAgent(), second.url);
      expect(textOf(page)).toContain('Welkom, Demi de Patiënt');
    } finally {
      await second.close();
    }
  });
});

describe('npm run demo while Poortwachter already runs', { timeout: 120_000 }, () => {
  it('says so in one line instead of a stack trace', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    // The port `npm start` would hold.
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-demo-'));
    try {
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent' };
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/demo.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(`127.0.0.1:${port} is in use`);
      expect(stderr).toContain('npm start');
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
