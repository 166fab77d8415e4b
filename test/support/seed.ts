// Prepares a DATA_DIR for a server process (test/support/server-process.ts): a portal and patients
// written through the real services, before the process starts on the same directory.
import { loadConfig } from '../../src/config.ts';
import { buildServices } from '../../src/bootstrap.ts';
import { createApp } from '../../src/web/app.ts';
import { createLogger } from '../../src/log.ts';
import { ClientRegistry } from '../../src/oidc/client-registry.ts';
import { REDIRECT_URI } from './relying-party.ts';
import { TEST_PASSWORD } from './server.ts';

export interface Seeded {
  clientId: string;
  clientSecret: string;
}

/** A confidential first-party portal (REDIRECT_URI unless given), and patients `usernames` with TEST_PASSWORD. */
export async function seedDataDir(dataDir: string, usernames: string[], redirectUri = REDIRECT_URI): Promise<Seeded> {
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const services = await buildServices(config, { logger: createLogger('silent') });
  try {
    const app = await createApp(services);
    const registry = new ClientRegistry(services.store, app.provider, services.clock, services.box);
    const { clientId, clientSecret } = await registry.add({ name: 'Testportaal', firstParty: true, redirectUris: [redirectUri] });
    for (const username of usernames) {
      const account = await services.accounts.create({ username, email: `${username}@example.nl`, givenName: 'Test', familyName: 'Patiënt' });
      await services.passwords.set(account, TEST_PASSWORD);
    }
    return { clientId, clientSecret: clientSecret! };
  } finally {
    await services.delivery.close();
    await services.store.close();
  }
}
