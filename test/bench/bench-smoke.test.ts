// Keeps `npm run bench` working as the code moves on: both bench servers start, a login with
// PKCE goes through the hosted form, refresh tokens rotate, introspection answers, and the
// server processes report their CPU and go away when stopped. Loads of a fraction of a second
// only: the real measurement is `npm run bench`, not part of the test suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../../scripts/bench/servers.ts';
import { basicAuth, HttpClient } from '../../scripts/bench/http.ts';
import { passwordLogin, refresh, type LoginCounters } from '../../scripts/bench/oidc-flows.ts';
import { mergeMeasurements, runCannon, runLoops } from '../../scripts/bench/drivers.ts';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(['poortwachter', 'bare'] as const)('bench server: %s', (name) => {
  let server: ServerHandle | undefined;
  const http = new HttpClient(4);

  beforeAll(async () => {
    server = await startServerProcess(name);
  });

  afterAll(async () => {
    http.close();
    await server?.stop();
  });

  it('logs in, rotates refresh tokens, introspects and reports CPU, then stops', async () => {
    if (!server) throw new Error('server did not start');
    const { info } = server;
    expect(info.name).toBe(name);
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const before = await server.stats();

    const counters: LoginCounters = { httpRequests: 0 };
    const tokens = await passwordLogin(http, info, counters);
    expect(counters.httpRequests).toBe(5);
    const rotated = await refresh(http, info, tokens.refreshToken);
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
    // The rotated-away token is spent: using it again must fail (and revokes the grant).
    await expect(refresh(http, info, tokens.refreshToken)).rejects.toThrow(/refresh_token grant/);

    const fresh = await passwordLogin(http, info);
    const introspection = await http.request(new URL('/token/introspection', info.url), {
      method: 'POST',
      headers: { authorization: basicAuth(info.clientId, info.clientSecret) },
      body: new URLSearchParams({ token: fresh.accessToken }).toString(),
    });
    expect(introspection.status).toBe(200);
    expect(JSON.parse(introspection.body)).toMatchObject({ active: true, client_id: info.clientId });

    const signal = new AbortController().signal;
    const discovery = await runCannon({ url: `${info.url}/.well-known/openid-configuration`, connections: 2, seconds: 0.3, signal, verifyBody: (b) => b.includes(info.url) });
    expect(discovery.completed).toBeGreaterThan(0);
    expect(discovery.failed).toBe(0);
    const chain = { token: fresh.refreshToken };
    const loops = await runLoops({ connections: 1, seconds: 0.3, signal, iterate: async () => {
      chain.token = (await refresh(http, info, chain.token)).refreshToken;
    } });
    const merged = mergeMeasurements([discovery, loops]);
    expect(merged.failed).toBe(0);
    expect(merged.latencyMs.p50).toBeGreaterThan(0);

    const after = await server.stats();
    expect(after.cpu.user + after.cpu.system).toBeGreaterThan(before.cpu.user + before.cpu.system);

    await server.stop();
    expect(isRunning(info.pid)).toBe(false);
  });
});
