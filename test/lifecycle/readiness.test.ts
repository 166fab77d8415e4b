// /healthz (process up) and /readyz (store writable and readable, schema current, keys loaded, not
// shutting down) through the real server. The store probe is shared for a moment so that load
// balancers polling under load do not turn readiness into a write load of its own. Readiness
// under a full disk and its recovery are in store-faults.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startTestServer, type TestServer } from '../support/server.ts';
import { FakeClock } from '../../src/clock.ts';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.ts';
import { PROBE_CACHE_MS } from '../../src/store/health-probe.ts';

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; reason?: string; current?: number; expected?: number }>;
}

describe('health and readiness', () => {
  let server: TestServer;
  const clock = new FakeClock();

  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(() => server?.close());

  const readyz = async () => {
    const response = await fetch(`${server.url}/readyz`);
    return { status: response.status, body: (await response.json()) as Readiness, cacheControl: response.headers.get('cache-control') };
  };
  const probedAt = async () => (await server.services.store.settings.get<{ at: number }>('readiness.probe'))?.at;
  const afterProbeCache = () => new Promise((resolve) => setTimeout(resolve, PROBE_CACHE_MS + 100));

  it('/healthz says the process is up', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 with every check named when the store works', async () => {
    const { status, body, cacheControl } = await readyz();
    expect(status).toBe(200);
    expect(cacheControl).toBe('no-store');
    expect(body).toEqual({
      status: 'ready',
      checks: { store: { ok: true }, migrations: { ok: true, current: SCHEMA_VERSION, expected: SCHEMA_VERSION }, keys: { ok: true }, shutdown: { ok: true } },
    });
  });

  it('probes the store by writing, once for many callers within a moment', async () => {
    await afterProbeCache();
    clock.advance(60_000);
    const first = clock.now();
    const answers = await Promise.all(Array.from({ length: 40 }, () => readyz()));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await probedAt()).toBe(first);

    clock.advance(60_000);
    await readyz();
    expect(await probedAt()).toBe(first);

    await afterProbeCache();
    await readyz();
    expect(await probedAt()).toBe(clock.now());
  });

  it('is not ready when another process migrated the database to a newer schema', async () => {
    const other = new Database(path.join(server.dataDir, 'poortwachter.sqlite'));
    try {
      other.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      await afterProbeCache();
      const { status, body } = await readyz();
      expect(status).toBe(503);
      expect(body.status).toBe('not_ready');
      expect(body.checks.migrations).toEqual({ ok: false, reason: 'outdated', current: SCHEMA_VERSION + 1, expected: SCHEMA_VERSION });
      expect(body.checks.store).toEqual({ ok: true });
    } finally {
      other.pragma(`user_version = ${SCHEMA_VERSION}`);
      other.close();
    }
    await afterProbeCache();
    expect((await readyz()).status).toBe(200);
  });
});
