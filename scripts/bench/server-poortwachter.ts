// Poortwachter as the bench measures it: the real composition root (buildServices + startServer),
// SQLite in a fresh temporary DATA_DIR, one first-party confidential client and one user with a
// password. Started by run.ts as a child process; see child-control.ts for the protocol.
//
// NODE_ENV=test because production refuses to start without SMTP, Twilio and an https issuer;
// nothing on the measured paths depends on it (the dev outbox is only used by SMS/mail factors).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { buildServices, startServer } from '../../src/bootstrap.ts';
import { createLogger } from '../../src/log.ts';
import { pino } from 'pino';
import { ClientRegistry } from '../../src/oidc/client-registry.ts';
import { serveControl } from './child-control.ts';
import { BENCH_PATIENTS, BENCH_USER, REDIRECT_URI, TTL } from './shared.ts';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-bench-'));
try {
  // BENCH_LOG_LEVEL=info measures production logging too (one JSON line per request, written to
  // /dev/null: stdout is the control channel). Default silent, as the figures have always been.
  const logLevel = process.env.BENCH_LOG_LEVEL || 'silent';
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: logLevel,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    ACCESS_TOKEN_TTL_SECONDS: String(TTL.accessToken),
    REFRESH_TOKEN_TTL_SECONDS: String(TTL.refreshToken),
    SESSION_TTL_SECONDS: String(TTL.session),
    FLOW_TTL_SECONDS: String(TTL.interaction),
    // Passed through so the cost of durable commits can be measured (FULL, the default, vs NORMAL).
    SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS,
  });
  const services = await buildServices(config, { logger: createLogger(config.logLevel, pino.destination({ dest: '/dev/null', sync: false })) });
  const running = await startServer(services, { port: 0, host: '127.0.0.1', issuerFromAddress: true });
  const registry = new ClientRegistry(services.store, running.app.provider, services.clock, services.box);
  const client = await registry.add({ name: 'Bench portal', redirectUris: [REDIRECT_URI], firstParty: true, clientCredentials: true });
  if (!client.clientSecret) throw new Error('confidential client without a secret');
  for (let i = 0; i < BENCH_PATIENTS; i += 1) {
    const account = await services.accounts.create({
      username: `${BENCH_USER.username}.${i}`,
      email: `bench.patient.${i}@example.nl`,
      givenName: BENCH_USER.givenName,
      familyName: BENCH_USER.familyName,
      emailVerified: true,
    });
    await services.passwords.set(account, BENCH_USER.password);
  }

  serveControl(
    {
      name: 'poortwachter',
      url: running.url,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUri: REDIRECT_URI,
      login: BENCH_USER.username,
      password: BENCH_USER.password,
    },
    async () => {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  );
} catch (error) {
  await rm(dataDir, { recursive: true, force: true });
  throw error;
}
