// Two Poortwachter processes on one SQLite file behind a round-robin proxy that sends every
// request to the other process than the one before: any step of any flow must work anywhere,
// because everything a request needs is in the store. The portal is openid-client, the browser a
// cookie-keeping HTTP client, SMS goes through the real twilio client to one fake Twilio API
// shared by both processes. The security rules that count across requests — lockout, single-use
// codes, TOTP replay, refresh-token reuse — must hold across processes; `keys rotate` run by the
// CLI is picked up by both without a restart; and a process killed mid-login does not stop it.
import { spawn } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { loadConfig } from '../../src/config.ts';
import { buildServices } from '../../src/bootstrap.ts';
import { createApp } from '../../src/web/app.ts';
import { createLogger } from '../../src/log.ts';
import { ClientRegistry } from '../../src/oidc/client-registry.ts';
import { newTotpSecret } from '../../src/factors/totp/totp-secret.ts';
import { totpContext } from '../../src/factors/totp/totp-binding.ts';
import { randomId } from '../../src/accounts/random.ts';
import { freePort, PROJECT_ROOT, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.ts';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.ts';
import { relyingParty, passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { extractCode, loginUntilSecondFactor, submitStep, TWILIO_NUMBER } from '../support/factor-login.ts';
import { totpCode } from '../support/totp.ts';
import { textOf, UserAgent, type Page } from '../support/user-agent.ts';
import { TEST_PASSWORD } from '../support/server.ts';

const PHONES = { sanne: '+31612345601', kees: '+31612345602', sara: '+31612345603' } as const;
/** Short, so the rotation test waits a second or two, not 30. */
const KEYS_REFRESH_SECONDS = 1;

interface Jwks {
  keys: { kid: string; kty: string; alg: string; n?: string; e?: string; crv?: string; x?: string; y?: string }[];
}

describe('two processes behind a round-robin proxy', () => {
  let dataDir: string;
  let twilio: FakeTwilio;
  let proxy: RoundRobinProxy;
  const processes: ServerProcess[] = [];
  let rp: RelyingParty;
  let totpSecret: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-rr-'));
    twilio = await startFakeTwilio();
    const ports = [await freePort(), await freePort()];
    proxy = await startRoundRobinProxy(ports.map((port) => `http://127.0.0.1:${port}`));
    const issuer = proxy.url;

    // Portal and patients written before either process starts, as an administrator would.
    const services = await buildServices(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ISSUER: issuer, LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
    const app = await createApp(services);
    const client = await new ClientRegistry(services.store, app.provider, services.clock, services.box).add({ name: 'Portaal', redirectUris: [REDIRECT_URI], firstParty: true });
    const now = services.clock.now();
    const patient = async (username: string, phone?: string) => {
      const account = await services.accounts.create({ username, email: `${username}@example.nl`, emailVerified: true, ...(phone ? { phoneE164: phone, phoneVerified: true } : {}) });
      await services.passwords.set(account, TEST_PASSWORD);
      return account;
    };
    for (const [username, phone] of Object.entries(PHONES)) {
      const account = await patient(username, phone);
      await services.store.credentials.put({ id: randomId(16), accountId: account.id, type: 'sms', data: {}, createdAt: now, lastUsedAt: null });
    }
    totpSecret = newTotpSecret();
    for (const username of ['tom', 'tessa']) {
      const account = await patient(username);
      // Sealed bound to its credential, as the TOTP factor stores it.
      const id = randomId(16);
      await services.store.credentials.put({ id, accountId: account.id, type: 'totp', data: { secretSealed: services.box.seal(totpSecret, totpContext(account.id, id)), lastUsedStep: 0 }, createdAt: now, lastUsedAt: null });
    }
    for (const username of ['lotte', 'rik', 'roos']) await patient(username);
    await services.delivery.close();
    await services.store.close();

    const env = {
      DATA_DIR: dataDir,
      ISSUER: issuer,
      TRUST_PROXY: 'true',
      TRUST_PROXY_ADDRESSES: '127.0.0.1',
      TWILIO_API_URL: twilio.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: TWILIO_NUMBER,
      KEYS_REFRESH_SECONDS: String(KEYS_REFRESH_SECONDS),
    };
    processes.push(...(await Promise.all(ports.map((port) => startServerProcess({ env, port })))));
    rp = await relyingParty(issuer, client.clientId, client.clientSecret);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await proxy?.close();
    await twilio?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Which processes served the requests logged since `from`. */
  const servedSince = (from: number) => new Set(proxy.log.slice(from).map((entry) => entry.upstream));
  const otherThan = (upstream: number) => 1 - upstream;

  async function smsCode(phone: string): Promise<string> {
    return extractCode((await twilio.waitForSms(phone, { timeoutMs: 15_000 })).body);
  }

  async function finish(page: Page, request: Parameters<RelyingParty['callback']>[1]) {
    if (!page.url.startsWith(REDIRECT_URI)) throw new Error(`login did not return to the portal: ${page.status} ${textOf(page).slice(0, 500)}`);
    const tokens = await rp.callback(page.url, request);
    return { tokens, claims: tokens.claims()! };
  }

  it('completes a login with SMS, every request on the other process', async () => {
    const from = proxy.log.length;
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, 'sanne');
    const done = await submitStep(agent, page, 'sms', 'verify', { code: await smsCode(PHONES.sanne) });
    const { claims } = await finish(done, request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    const served = proxy.log.slice(from);
    // authorize, login page, password, code, resume, token.
    expect(served.length).toBeGreaterThanOrEqual(6);
    // Strictly alternating: no two consecutive requests of the login on the same process.
    expect(served.every((entry, i) => i === 0 || entry.upstream !== served[i - 1]!.upstream)).toBe(true);
  });

  it('completes a login with an authenticator app, every request on the other process', async () => {
    const from = proxy.log.length;
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, 'tom');
    const done = await agent.submit(page, '/step/totp/verify', { code: await totpCode(totpSecret, Date.now()) }, REDIRECT_URI);
    const { claims } = await finish(done, request);
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(servedSince(from)).toEqual(new Set([0, 1]));
  });

  it('adds up wrong passwords on both processes into one lockout', async () => {
    const agent = new UserAgent();
    const request = await rp.authorize();
    let page = await agent.open(request.url, REDIRECT_URI);
    const from = proxy.log.length;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      page = await agent.submit(page, '/step/password/verify', { login: 'lotte', password: `fout-${attempt}-wachtwoord` }, REDIRECT_URI);
      expect(page.status).toBe(401);
    }
    const posts = proxy.log.slice(from).filter((entry) => entry.method === 'POST');
    const perProcess = [0, 1].map((upstream) => posts.filter((entry) => entry.upstream === upstream).length);
    // Neither process saw five failures by itself: only the shared count reaches the threshold.
    expect(perProcess.every((count) => count > 0 && count < 5)).toBe(true);
    const locked = await agent.submit(page, '/step/password/verify', { login: 'lotte', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(locked.status).toBe(401);
    expect(locked.url.startsWith(REDIRECT_URI)).toBe(false);
  });

  it('honours an SMS code once when the same form is sent to both processes at once', async () => {
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, 'sara');
    const code = await smsCode(PHONES.sara);
    const from = proxy.log.length;
    const results = await Promise.all([submitStep(agent, page, 'sms', 'verify', { code }), submitStep(agent, page, 'sms', 'verify', { code })]);
    const posts = proxy.log.slice(from).filter((entry) => entry.method === 'POST');
    expect(new Set(posts.map((entry) => entry.upstream))).toEqual(new Set([0, 1]));
    const inside = results.filter((r) => r.url.startsWith(REDIRECT_URI));
    const refused = results.filter((r) => !r.url.startsWith(REDIRECT_URI));
    expect(inside).toHaveLength(1);
    expect(refused).toHaveLength(1);
    // Spent by the other process: "expired or used" (400), or the flow had already moved on (409).
    expect([400, 409]).toContain(refused[0]!.status);
    const { claims } = await finish(inside[0]!, request);
    expect(claims.amr).toContain('sms');
  });

  it('refuses an authenticator code on one process once the other accepted it', async () => {
    const first = new UserAgent();
    const second = new UserAgent();
    const one = await loginUntilSecondFactor(rp, first, 'tessa');
    const two = await loginUntilSecondFactor(rp, second, 'tessa');
    const code = await totpCode(totpSecret, Date.now());
    const accepted = await first.submit(one.page, '/step/totp/verify', { code }, REDIRECT_URI);
    const acceptedBy = proxy.log.findLast((entry) => entry.path.includes('/step/totp/verify'))!.upstream;
    await finish(accepted, one.request);
    proxy.sendNextTo(otherThan(acceptedBy));
    const replay = await second.submit(two.page, '/step/totp/verify', { code }, REDIRECT_URI);
    expect(proxy.log.findLast((entry) => entry.path.includes('/step/totp/verify'))!.upstream).toBe(otherThan(acceptedBy));
    expect(replay.status).toBe(401);
    expect(textOf(replay)).toContain('Deze code is onjuist of al gebruikt.');
  });

  it('revokes the grant when a refresh token used on one process is replayed on the other', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'rik', TEST_PASSWORD);
    const rotated = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    const rotatedBy = proxy.last('/token')!.upstream;
    proxy.sendNextTo(otherThan(rotatedBy));
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(proxy.last('/token')!.upstream).toBe(otherThan(rotatedBy));
    // The replay revoked the grant: the token the first refresh handed out is dead as well.
    proxy.sendNextTo(rotatedBy);
    await expect(oidc.refreshTokenGrant(rp.config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  describe('keys rotate on a running pair', () => {
    const jwksOf = async (url: string) => (await (await fetch(`${url}/jwks`)).json()) as Jwks;
    const kidsOf = (jwks: Jwks) => jwks.keys.map((k) => k.kid).sort();
    const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };

    /** Checks a JWT's signature against the key with its kid in `jwks` (false when the kid is missing). */
    function verifiesWith(jwt: string, jwks: Jwks): boolean {
      const [header, payload, signature] = jwt.split('.') as [string, string, string];
      const { kid, alg } = headerOf(jwt);
      const jwk = jwks.keys.find((k) => k.kid === kid);
      if (!jwk) return false;
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      const data = Buffer.from(`${header}.${payload}`);
      return alg === 'ES256'
        ? verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
        : verifySignature('sha256', data, key, Buffer.from(signature, 'base64url'));
    }

    function rotateWithCli(): Promise<{ current: { kid: string; alg: string }[]; next: { kid: string }[]; retired: { kid: string }[] }> {
      return new Promise((resolve, reject) => {
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/admin/cli.ts'), 'keys', 'rotate', '--json'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout) as never) : reject(new Error(`keys rotate exited ${code}: ${stderr}`))));
      });
    }

    it('both processes publish and sign with the new keys within KEYS_REFRESH_SECONDS, and old tokens still verify', async () => {
      const before = await passwordLogin(rp, new UserAgent(), 'roos', TEST_PASSWORD);
      const oldIdToken = before.id_token!;
      const jwksBefore = await jwksOf(processes[0]!.url);
      expect(kidsOf(await jwksOf(processes[1]!.url))).toEqual(kidsOf(jwksBefore));

      const rotated = await rotateWithCli();
      const rotatedAt = Date.now();
      const expected = [...rotated.current, ...rotated.next, ...rotated.retired].map((k) => k.kid).sort();
      expect(expected).not.toEqual(kidsOf(jwksBefore));
      // Poll each process's JWKS until it shows the new set; never longer than needed.
      const deadline = rotatedAt + (KEYS_REFRESH_SECONDS + 10) * 1000;
      for (const process of processes) {
        for (;;) {
          if (kidsOf(await jwksOf(process.url)).join() === expected.join()) break;
          if (Date.now() > deadline) throw new Error(`${process.url} still publishes the old keys`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const pickedUpMs = Date.now() - rotatedAt;
      expect(pickedUpMs).toBeLessThan((KEYS_REFRESH_SECONDS + 10) * 1000);

      // New ID tokens from either process are signed with the new current key (RS256 for this portal).
      const currentRs256 = rotated.current.find((k) => k.alg === 'RS256')!.kid;
      for (const upstream of [0, 1]) {
        const agent = new UserAgent();
        const request = await rp.authorize();
        const page = await agent.open(request.url, REDIRECT_URI);
        const done = await agent.submit(page, '/step/password/verify', { login: 'roos', password: TEST_PASSWORD }, REDIRECT_URI);
        proxy.sendNextTo(upstream);
        const tokens = await rp.callback(done.url, request);
        expect(proxy.last('/token')!.upstream).toBe(upstream);
        expect(headerOf(tokens.id_token!).kid).toBe(currentRs256);
      }
      // The token signed before the rotation still verifies against what each process publishes.
      expect(headerOf(oldIdToken).kid).not.toBe(currentRs256);
      for (const process of processes) expect(verifiesWith(oldIdToken, await jwksOf(process.url))).toBe(true);
    });
  });

  it('finishes a login on the surviving process when the other is killed after the password (kill -9)', async () => {
    const agent = new UserAgent();
    const { page, request } = await loginUntilSecondFactor(rp, agent, 'kees');
    expect(textOf(page)).toContain('sms');
    const code = await smsCode(PHONES.kees);
    const passwordBy = proxy.log.findLast((entry) => entry.path.includes('/step/password/verify'))!.upstream;
    const victim = processes[passwordBy]!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const from = proxy.log.length;
    const done = await submitStep(agent, page, 'sms', 'verify', { code });
    const { claims } = await finish(done, request);
    expect(claims.amr).toEqual(['pwd', 'sms', 'mfa']);
    expect(servedSince(from)).toEqual(new Set([otherThan(passwordBy)]));
  });
});
