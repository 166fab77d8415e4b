// Makes sure the demo portal and the demo patient exist with credentials we know. On a fresh store
// seedDemo creates both. On a store from an earlier run the secret and password were printed back
// then and are not ours to read back, so the demo client is re-registered with a fresh secret and
// the demo patient gets a fresh password. Development only: demo.ts refuses production.
import { randomBytes } from 'node:crypto';
import type { Services } from '../../src/services.ts';
import type { ClientRegistry } from '../../src/oidc/client-registry.ts';
import { DEMO_CLIENT_ID, DEMO_PATIENT, demoClientInput, seedDemo, type DemoCredentials } from '../../src/admin/demo-seed.ts';

const DEMO_USERNAME = DEMO_PATIENT.username;

export async function prepareDemo(services: Services, clients: ClientRegistry, rpBase: string): Promise<DemoCredentials & { reused: boolean }> {
  const seeded = await seedDemo(services, clients, rpBase);
  if (seeded) return { ...seeded, reused: false };

  // Same registration as seedDemo, for the portal at `rpBase` (its port may have changed).
  const redirectUri = `${rpBase}/callback`;
  await clients.remove(DEMO_CLIENT_ID);
  const client = await clients.add(demoClientInput(rpBase));

  let account = await services.accounts.findByLogin(DEMO_USERNAME);
  account ??= await services.accounts.create(DEMO_PATIENT);
  if (account.status !== 'active') account = await services.accounts.setStatus(account, 'active');
  // Blocklisted words would be refused; the random part keeps it valid and unguessable.
  const password = `Tulp-${randomBytes(4).toString('hex')}-Molen`;
  await services.passwords.set(account, password);
  return { clientId: client.clientId, clientSecret: client.clientSecret!, redirectUri, username: account.username, password, reused: true };
}
