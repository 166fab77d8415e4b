// The store failing under a running server, for real: the server process loses the ability to
// write its SQLite files and gets it back, without a restart. Two ways to take the disk away:
//  - a file-size limit on the running process (prlimit --fsize): every write past 4 KiB fails with
//    EFBIG, which SQLite reports as SQLITE_IOERR_WRITE (Node ignores SIGXFSZ, so the process lives);
//  - a full file system: DATA_DIR on a small tmpfs in the server's own mount namespace, filled up
//    (SQLITE_FULL). Needs mount rights; skipped with a line saying so where they are missing.
// Either way: the token endpoint answers 503 temporarily_unavailable with Retry-After, the
// authorization endpoint sends the portal temporarily_unavailable, our pages say "tijdelijk niet
// beschikbaar" (503, Retry-After) in Dutch and English, /readyz is 503 naming the store, /healthz
// stays 200 — and once the disk is back, service returns by itself and nothing was lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { seedDataDir, type Seeded } from '../support/seed.ts';
import { passwordLogin, relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { findForm, textOf, UserAgent, type Page } from '../support/user-agent.ts';
import { TEST_PASSWORD } from '../support/server.ts';

interface Fault {
  /** Extra wrapper for the server process. */
  wrapper?(dataDir: string, seedDir: string): string[];
  takeDiskAway(server: ServerProcess, dataDir: string): void;
  giveDiskBack(server: ServerProcess, dataDir: string): void;
  /** What /readyz names as the store's problem. */
  reason: string;
}

const sqliteDriver = createRequire(import.meta.url).resolve('better-sqlite3');

const fileSizeLimit: Fault = {
  takeDiskAway: (server) => execFileSync('prlimit', ['--pid', String(server.pid), '--fsize=4096:']),
  giveDiskBack: (server) => execFileSync('prlimit', ['--pid', String(server.pid), '--fsize=unlimited:']),
  reason: 'io',
};

const TMPFS_SIZE = '16m';
const fullTmpfs: Fault = {
  // A mount namespace of the server's own: the tmpfs goes away with the process.
  wrapper: (dataDir, seedDir) => ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `mount -t tmpfs -o size=${TMPFS_SIZE} tmpfs "$0" && cp -a "$1"/. "$0"/ && shift && exec "$@"`, dataDir, seedDir],
  takeDiskAway(server, dataDir) {
    const inside = ['nsenter', '--target', String(server.pid), '--mount', '--'];
    // SQLite reuses a WAL file's space after a checkpoint, so writes would fit into the space it
    // already has: empty the WAL first, so every write must grow it, then fill the file system.
    const truncate = `const D = require(${JSON.stringify(sqliteDriver)}); const db = new D(${JSON.stringify(path.join(dataDir, 'poortwachter.sqlite'))}); db.pragma('wal_checkpoint(TRUNCATE)'); db.close();`;
    execFileSync(inside[0]!, [...inside.slice(1), process.execPath, '-e', truncate]);
    spawnSync(inside[0]!, [...inside.slice(1), 'dd', 'if=/dev/zero', `of=${path.join(dataDir, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
  },
  giveDiskBack(server, dataDir) {
    execFileSync('nsenter', ['--target', String(server.pid), '--mount', '--', 'rm', path.join(dataDir, 'filler')]);
  },
  reason: 'full',
};

function canUse(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

const havePrlimit = process.platform === 'linux' && canUse('prlimit', ['--version']);
if (!havePrlimit) process.stderr.write('Store fault tests with a file-size limit skipped: prlimit (util-linux) is not available\n');

function mountWorks(): boolean {
  if (process.platform !== 'linux' || !canUse('nsenter', ['--version'])) return false;
  const probe = path.join(os.tmpdir(), `poortwachter-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    return canUse('unshare', ['--mount', '--propagation', 'private', '--', 'mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
  } finally {
    spawnSync('rmdir', [probe]);
  }
}
const haveTmpfs = mountWorks();
if (!haveTmpfs) process.stderr.write('Store fault tests on a full tmpfs skipped: this machine does not allow mounting a tmpfs (needs root or CAP_SYS_ADMIN)\n');

async function readiness(url: string): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean; reason?: string }> } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function scenario(name: string, fault: Fault, enabled: boolean) {
  describe.skipIf(!enabled)(name, { timeout: 120_000 }, () => {
    let dataDir: string;
    let seedDir: string;
    let seeded: Seeded;
    let server: ServerProcess;
    let rp: RelyingParty;

    beforeAll(async () => {
      seedDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-faults-seed-'));
      seeded = await seedDataDir(seedDir, ['anna', 'bram', 'cees']);
      // Without a wrapper the server runs on the seeded directory itself.
      dataDir = fault.wrapper ? await mkdtemp(path.join(os.tmpdir(), 'poortwachter-faults-')) : seedDir;
      server = await startServerProcess({ env: { DATA_DIR: dataDir }, wrapper: fault.wrapper?.(dataDir, seedDir) });
      rp = await relyingParty(server.url, seeded.clientId, seeded.clientSecret);
    });

    afterAll(async () => {
      await server?.stop('SIGKILL');
      await rm(seedDir, { recursive: true, force: true });
      if (dataDir !== seedDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('answers 503 with Retry-After everywhere while the disk is gone, and recovers by itself', async () => {
      // Before: a session to refresh, and login pages (Dutch and English) about to be posted.
      const tokens = await passwordLogin(rp, new UserAgent(), 'anna', TEST_PASSWORD);
      const dutch = new UserAgent();
      const dutchPage = await dutch.open((await rp.authorize()).url, REDIRECT_URI);
      const english = new UserAgent();
      const englishPage = await english.open((await rp.authorize({ ui_locales: 'en' })).url, REDIRECT_URI);
      const post = (agent: UserAgent, page: Page, login: string) => {
        const form = findForm(page, '/step/password/verify');
        return agent.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, login, password: TEST_PASSWORD }).toString() });
      };
      expect((await readiness(server.url)).status).toBe(200);

      fault.takeDiskAway(server, dataDir);

      // Token endpoint: 503 with Retry-After and a JSON temporarily_unavailable body. openid-client
      // parses OAuth error bodies only on 4xx, so the portal gets the response itself as the cause.
      const refused = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(oidc.ClientError);
      const response = (refused as oidc.ClientError).cause as Response;
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });

      // Authorization endpoint: the portal is told temporarily_unavailable (RFC 6749 §4.1.2.1).
      const request = await rp.authorize();
      const redirect = await new UserAgent().request(request.url);
      expect(redirect.location ?? '').toContain(REDIRECT_URI);
      const callback = await rp.callback(redirect.location!, request).catch((error: unknown) => error);
      expect(callback).toBeInstanceOf(oidc.AuthorizationResponseError);
      expect((callback as oidc.AuthorizationResponseError).error).toBe('temporarily_unavailable');

      // Our pages: a clear page in the patient's language, 503 with Retry-After.
      const dutchRefused = await post(dutch, dutchPage, 'bram');
      expect(dutchRefused.status).toBe(503);
      expect(dutchRefused.headers?.get('retry-after')).toBe('30');
      expect(textOf(dutchRefused)).toContain('Tijdelijk niet beschikbaar');
      const englishRefused = await post(english, englishPage, 'cees');
      expect(englishRefused.status).toBe(503);
      expect(textOf(englishRefused)).toContain('Temporarily unavailable');

      // Readiness names the store; liveness stays up.
      const notReady = await until(() => readiness(server.url), (r) => r.status === 503, 'readiness to fail');
      expect(notReady.body.status).toBe('not_ready');
      expect(notReady.body.checks.store).toEqual({ ok: false, reason: fault.reason });
      expect(notReady.body.checks.keys!.ok).toBe(true);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      fault.giveDiskBack(server, dataDir);

      // Back by itself: ready again, and what was refused now works, with nothing lost.
      await until(() => readiness(server.url), (r) => r.status === 200, 'readiness to recover');
      const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      expect(refreshed.access_token).toBeTruthy();
      for (const [agent, page, login] of [[dutch, dutchPage, 'bram'], [english, englishPage, 'cees']] as const) {
        const next = await post(agent, page, login);
        expect(next.status).toBe(303);
      }
      expect(server.output()).not.toContain('"level":50');
    });
  });
}

scenario('store faults: a file-size limit on the running server (EFBIG → SQLITE_IOERR)', fileSizeLimit, havePrlimit);
scenario('store faults: a full file system (tmpfs, ENOSPC → SQLITE_FULL)', fullTmpfs, haveTmpfs);
