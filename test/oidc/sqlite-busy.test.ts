// Two processes writing to one SQLite file at once must never show a patient or a portal
// SQLITE_BUSY. A short load (127.0.0.1 only, stops by itself after LOAD_MS): lanes of logins
// (single sign-on after one password login each) and refresh-token rotations through the
// round-robin proxy, so both processes
// write in every moment. Counted from each process's /metrics: store calls that met SQLITE_BUSY
// and were retried after a jittered pause or gave up (busy-retry.ts), and store calls that failed
// as unavailable; and answers that reached a client as a 5xx or a failed grant (must be 0).
// Latency p50/p99 (at the proxy) printed.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { seedDataDir } from '../support/seed.ts';
import { freePort, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.ts';
import { relyingParty, passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { parsePrometheusText, sampleSum } from '../support/prometheus-text.ts';
import { UserAgent } from '../support/user-agent.ts';
import { TEST_PASSWORD } from '../support/server.ts';

const LOAD_MS = 4000;
const LANES = 8;
const REFRESHES_PER_LOGIN = 3;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('SQLite under two writing processes', () => {
  let dataDir: string;
  let proxy: RoundRobinProxy;
  const processes: ServerProcess[] = [];
  let rp: RelyingParty;
  const usernames = Array.from({ length: LANES }, (_, i) => `last${i}`);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-busy-'));
    const ports = [await freePort(), await freePort()];
    proxy = await startRoundRobinProxy(ports.map((port) => `http://127.0.0.1:${port}`));
    const seeded = await seedDataDir(dataDir, usernames);
    const env = { DATA_DIR: dataDir, ISSUER: proxy.url, TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1', PASSWORD_FAILURES_PER_IP: '100000' };
    processes.push(...(await Promise.all(ports.map((port) => startServerProcess({ env, port })))));
    rp = await relyingParty(proxy.url, seeded.clientId, seeded.clientSecret);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await proxy?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** What a process's /metrics says: SQLITE_BUSY retried or given up, store calls that failed as unavailable. */
  async function busyFigures(process: ServerProcess) {
    const families = parsePrometheusText(await (await fetch(`${process.url}/metrics`)).text());
    return {
      retried: sampleSum(families, 'poortwachter_sqlite_busy_total', { outcome: 'retried' }),
      gaveUp: sampleSum(families, 'poortwachter_sqlite_busy_total', { outcome: 'gave_up' }),
      unavailable: sampleSum(families, 'poortwachter_store_operation_duration_seconds_count', { outcome: 'unavailable' }),
    };
  }

  it(`answers every login and refresh of ${LANES} lanes over ${LOAD_MS / 1000} s on two processes without a 5xx`, async () => {
    // Each lane signs in with its password first (argon2 is CPU, not the store); the timed load is
    // then the store-heavy part: single sign-on logins (authorize, code, token) and refreshes.
    const lanes = await Promise.all(usernames.map(async (username) => {
      const agent = new UserAgent();
      return { agent, tokens: await passwordLogin(rp, agent, username, TEST_PASSWORD) };
    }));
    const from = proxy.log.length;
    const deadline = Date.now() + LOAD_MS;
    const failures: string[] = [];
    let logins = 0;
    let refreshes = 0;
    await Promise.all(lanes.map(async (lane) => {
      while (Date.now() < deadline) {
        try {
          const request = await rp.authorize();
          const back = await lane.agent.open(request.url, REDIRECT_URI);
          let tokens = await rp.callback(back.url, request);
          logins += 1;
          for (let i = 0; i < REFRESHES_PER_LOGIN && Date.now() < deadline; i += 1) {
            tokens = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
            refreshes += 1;
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }));
    const served = proxy.log.slice(from);
    const serverErrors = served.filter((entry) => entry.status >= 500);
    const latencies = served.map((entry) => entry.ms).sort((a, b) => a - b);
    const figures = await Promise.all(processes.map(busyFigures));
    const sum = (pick: (f: (typeof figures)[number]) => number) => figures.map(pick).reduce((a, b) => a + b, 0);
    const retried = sum((f) => f.retried);
    const gaveUp = sum((f) => f.gaveUp);
    const token = served.filter((entry) => entry.path === '/token').map((entry) => entry.ms).sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({
      seconds: LOAD_MS / 1000,
      lanes: LANES,
      logins,
      refreshes,
      requests: served.length,
      perProcess: [0, 1].map((upstream) => served.filter((entry) => entry.upstream === upstream).length),
      sqliteBusy: { seenInside: retried + gaveUp, retried, gaveUp, storeUnavailable: sum((f) => f.unavailable), reachedUser: serverErrors.length + failures.length },
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) },
      tokenLatencyMs: { p50: percentile(token, 50), p99: percentile(token, 99) },
    })}\n`);
    expect(gaveUp).toBe(0);
    expect(failures).toEqual([]);
    expect(serverErrors).toEqual([]);
    expect(logins).toBeGreaterThan(0);
    expect(refreshes).toBeGreaterThan(0);
    expect(new Set(served.map((entry) => entry.upstream))).toEqual(new Set([0, 1]));
  }, 120_000);
});
