// Starts the real Poortwachter on an ephemeral port with a fresh SQLite file, as every
// integration test does. Extra env (SMTP_URL, TWILIO_API_URL, ...) comes from the test.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import { buildServices, startServer, type RunningServer } from '../../src/bootstrap.ts';
import { FakeClock, type Clock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { ClientRegistry, type ClientInput } from '../../src/oidc/client-registry.ts';
import type { AccountRecord } from '../../src/store/port.ts';
import type { NewAccount } from '../../src/accounts/accounts.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  clock: Clock;
  /** Everything the server logged, as text: tests check it holds no secrets. */
  logs: () => string;
  clients: ClientRegistry;
  addClient(input: Partial<ClientInput> & { redirectUris: string[] }): Promise<{ clientId: string; clientSecret?: string }>;
  addUser(input: Partial<NewAccount> & { username: string }, password?: string): Promise<AccountRecord>;
}

export const TEST_PASSWORD = 'Kastanje-Fietsbel-42';

/** `issuerHost: 'localhost'` for browser tests of passkeys (WebAuthn needs a host name, not 127.0.0.1). */
export async function startTestServer(options: { env?: Record<string, string>; clock?: FakeClock; issuerHost?: string } = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-test-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'debug', ...options.env });
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const services = await buildServices(config, { clock: options.clock, logger: createLogger('debug', sink) });
  const running = await startServer(services, { port: 0, host: '127.0.0.1', issuerFromAddress: true, issuerHost: options.issuerHost });
  const clients = new ClientRegistry(services.store, running.app.provider, services.clock, services.box);
  return {
    ...running,
    dataDir,
    clock: services.clock,
    logs: () => logText,
    clients,
    async addClient(input) {
      const { clientId, clientSecret } = await clients.add({ name: 'Testportaal', firstParty: true, ...input });
      return { clientId, clientSecret };
    },
    async addUser(input, password = TEST_PASSWORD) {
      const account = await services.accounts.create({ email: `${input.username}@example.nl`, givenName: 'Test', familyName: 'Patiënt', ...input });
      await services.passwords.set(account, password);
      return account;
    },
    async close() {
      const outcome = await running.close();
      await rm(dataDir, { recursive: true, force: true });
      return outcome;
    },
  };
}
