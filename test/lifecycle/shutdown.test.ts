// Graceful shutdown of the real server process (src/main.ts as `npm start` runs it): SIGTERM under
// load answers every request in flight — a cut refresh that had already consumed the old token
// would lose the patient's session —, refuses new connections, closes idle keep-alive ones at
// once and exits 0 within the deadline; the deadline and a second signal cut the rest and exit
// non-zero; and `npm start` passes SIGTERM to the server instead of orphaning it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import * as oidc from 'openid-client';
import { freePort, PROJECT_ROOT, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { seedDataDir, type Seeded } from '../support/seed.ts';
import { HeldRequests, roundTrip } from '../support/held-requests.ts';
import { passwordLogin, relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { findForm, UserAgent } from '../support/user-agent.ts';
import { TEST_PASSWORD } from '../support/server.ts';

const REFRESHES = 30;
const LOGINS = 20;

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a new TCP connection to `url` is refused (the server stopped accepting). */
function refusesConnections(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    http.get(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      resolve(false);
    }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** An idle keep-alive connection: one request answered, the socket left open. */
async function idleKeepAliveSocket(url: string): Promise<{ closed: Promise<number> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
    const req = http.get(`${url}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.socket!));
    });
    req.on('error', reject);
  });
  return { closed: new Promise((resolve) => socket.once('close', () => resolve(Date.now()))) };
}

describe('graceful shutdown of the server process', { timeout: 240_000 }, () => {
  let dataDir: string;
  let seeded: Seeded;
  const running: ServerProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-shutdown-'));
    const users = [...Array.from({ length: REFRESHES }, (_, i) => `refresh${i}`), ...Array.from({ length: LOGINS }, (_, i) => `login${i}`)];
    seeded = await seedDataDir(dataDir, users);
    return async () => {
      await rm(dataDir, { recursive: true, force: true });
    };
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
  });

  async function start(env: Record<string, string> = {}, port?: number): Promise<{ server: ServerProcess; rp: RelyingParty }> {
    const server = await startServerProcess({ env: { DATA_DIR: dataDir, ...env }, port });
    running.push(server);
    const rp = await relyingParty(server.url, seeded.clientId, seeded.clientSecret);
    return { server, rp };
  }

  it('SIGTERM under load: every request in flight is answered, new connections are refused, idle ones closed, exit 0; the rotated tokens work after a restart', async () => {
    const port = await freePort();
    const { server, rp } = await start({}, port);

    // Sessions to refresh, and login pages whose password form is about to be posted.
    const refreshTokens: string[] = [];
    for (let i = 0; i < REFRESHES; i += 1) {
      const tokens = await passwordLogin(rp, new UserAgent(), `refresh${i}`, TEST_PASSWORD);
      refreshTokens.push(tokens.refresh_token!);
    }
    const logins = await Promise.all(
      Array.from({ length: LOGINS }, async (_, i) => {
        const agent = new UserAgent();
        const request = await rp.authorize();
        const page = await agent.open(request.url, REDIRECT_URI);
        return { agent, request, form: findForm(page, '/step/password/verify'), username: `login${i}` };
      }),
    );

    // 50 requests, each held open halfway through its body: refreshes through openid-client and
    // password posts (argon2: the slow kind).
    const held = new HeldRequests();
    const heldRp = await relyingParty(server.url, seeded.clientId, seeded.clientSecret);
    heldRp.config[oidc.customFetch] = held.fetch;
    const refreshes = refreshTokens.map((token) => oidc.refreshTokenGrant(heldRp.config, token));
    const posts = logins.map(({ agent, form, username }) => {
      agent.fetch = held.fetch;
      return agent.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, login: username, password: TEST_PASSWORD }).toString() });
    });
    const all = Promise.allSettled([...refreshes, ...posts]);
    await held.sent(REFRESHES + LOGINS);
    await roundTrip(server.url);
    const idle = await idleKeepAliveSocket(server.url);

    const signalledAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    await until(() => server.output().includes('stopping: finishing requests in flight'), 'the stopping line');
    expect(server.output()).toMatch(/"inFlight":(5\d|4\d)/);
    expect(await refusesConnections(server.url)).toBe(true);
    // The idle keep-alive connection is closed at once, not after the keep-alive timeout.
    expect((await idle.closed) - signalledAt).toBeLessThan(2000);

    held.release();
    const results = await all;
    const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    const exit = await server.exited;
    expect(exit).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(server.output()).toContain('"msg":"stopped"');

    const rotated = (await Promise.all(refreshes)).map((tokens) => tokens.refresh_token!);
    expect(new Set(rotated).size).toBe(REFRESHES);
    const postPages = await Promise.all(posts);
    expect(postPages.map((page) => page.status)).toEqual(Array.from({ length: LOGINS }, () => 303));

    // Nothing was lost: after a restart every rotated refresh token works, and every login that
    // was posted during the shutdown continues to the portal.
    const again = await start({}, port);
    for (const token of rotated) expect((await oidc.refreshTokenGrant(again.rp.config, token)).access_token).toBeTruthy();
    for (const [i, { agent, request }] of logins.entries()) {
      agent.fetch = (input, init) => fetch(input, init);
      const done = await agent.follow(postPages[i]!, REDIRECT_URI);
      expect((await again.rp.callback(done.url, request)).access_token).toBeTruthy();
    }
  });

  it('the deadline cuts a request that does not finish and exits non-zero', async () => {
    const { server, rp } = await start({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const tokens = await passwordLogin(rp, new UserAgent(), 'refresh0', TEST_PASSWORD);
    const held = new HeldRequests();
    rp.config[oidc.customFetch] = held.fetch;
    const stuck = oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).catch((error: unknown) => error);
    await held.sent(1);
    await roundTrip(server.url);

    const signalledAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    expect(await server.exited).toBe(1);
    const took = Date.now() - signalledAt;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    expect(await stuck).toBeInstanceOf(Error);
    expect(server.output()).toContain('connections still busy were cut');
  });

  it('a second signal cuts at once and exits non-zero', async () => {
    const { server, rp } = await start({ SHUTDOWN_TIMEOUT_SECONDS: '60' });
    const tokens = await passwordLogin(rp, new UserAgent(), 'refresh1', TEST_PASSWORD);
    const held = new HeldRequests();
    rp.config[oidc.customFetch] = held.fetch;
    const stuck = oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).catch((error: unknown) => error);
    await held.sent(1);
    await roundTrip(server.url);

    process.kill(server.pid, 'SIGTERM');
    await until(() => server.output().includes('stopping: finishing requests in flight'), 'the stopping line');
    // A repeat within a second is taken as the same request (npm forwards Ctrl-C once more).
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const secondAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    expect(await server.exited).toBe(1);
    expect(Date.now() - secondAt).toBeLessThan(3000);
    expect(await stuck).toBeInstanceOf(Error);
    expect(server.output()).toContain('second signal: cutting every connection now');
  });

  /** `npm start` in a process group of its own, on a free port; stops it with `stop` and reports. */
  async function npmStart(stop: (npm: ChildProcess) => void): Promise<{ npmExit: number | string; output: string; url: string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ISSUER: url, DATA_DIR: dataDir, LOG_LEVEL: 'info', DEV_OUTBOX: 'false' };
    const npm = spawn('npm', ['start'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exited = new Promise<number | string>((resolve) => npm.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    let output = '';
    for (const stream of [npm.stdout!, npm.stderr!]) readline.createInterface({ input: stream }).on('line', (line) => (output += `${line}\n`));
    let serverPids: number[] = [];
    try {
      await until(() => output.includes('Poortwachter started'), 'npm start', 60_000);
      // Whatever npm runs (a shell and node below it, or node itself through `exec`).
      serverPids = descendants(npm.pid!);
      expect(serverPids.length).toBeGreaterThan(0);
      stop(npm);
      const npmExit = await exited;
      await until(() => serverPids.every((pid) => !isAlive(pid)), 'the server process to exit', 15_000);
      expect(await refusesConnections(url)).toBe(true);
      return { npmExit, output, url };
    } finally {
      for (const pid of serverPids.filter(isAlive)) process.kill(pid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
    }
  }

  it('npm start: SIGTERM to npm reaches the server; it stops gracefully and the port is free', async () => {
    const { npmExit, output } = await npmStart((npm) => npm.kill('SIGTERM'));
    expect(output).toContain('"msg":"stopped"');
    expect(npmExit).toBe(0);
  });

  it('npm start: Ctrl-C in a terminal (SIGINT to the whole process group, forwarded again by npm) is one graceful stop', async () => {
    const { npmExit, output } = await npmStart((npm) => process.kill(-npm.pid!, 'SIGINT'));
    expect(output).toContain('"msg":"stopped"');
    expect(output).not.toContain('second signal');
    expect(npmExit).toBe(0);
  });
});

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    // ps exits 1 when there are none.
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
