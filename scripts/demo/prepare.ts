// Makes sure the demo portal and the demo patient exist. On a fresh store seedDemo creates both.
// On a store from an earlier run the demo client is re-registered with a fresh secret (the demo
// portal needs one it knows), but an existing demo patient keeps its password: `npm start` printed
// it, and someone may be using it. Only a demo patient created here gets a new password.
// Development only: demo.ts refuses production.
import { randomBytes } from 'node:crypto';
import type { Services } from '../../src/services.ts';
import type { ClientRegistry } from '../../src/oidc/client-registry.ts';
import { DEMO_CLIENT_ID, DEMO_PATIENT, demoClientInput, seedDemo, type DemoCredentials } from '../../src/admin/demo-seed.ts';

const DEMO_USERNAME = DEMO_PATIENT.username;

export type PreparedDemo = Omit<DemoCredentials, 'password'> & {
  /** Undefined when the demo patient existed already and kept the password printed back then. */
  password: string | undefined;
  reused: boolean;
};

export async function prepareDemo(services: Services, clients: ClientRegistry, rpBase: string): Promise<PreparedDemo> {
  const seeded = await seedDemo(services, clients, rpBase);
  if (seeded) return { ...seeded, reused: false };

  // Same registration as seedDemo, for the portal at `rpBase` (its port may have changed).
  const redirectUri = `${rpBase}/callback`;
  await clients.remove(DEMO_CLIENT_ID);
  const client = await clients.add(demoClientInput(rpBase));

  const existing = await services.accounts.findByLogin(DEMO_USERNAME);
  if (existing) return { clientId: client.clientId, clientSecret: client.clientSecret!, redirectUri, username: existing.username, password: undefined, reused: true };
  const account = await services.accounts.create(DEMO_PATIENT);
  // Blocklisted words would be refused; the random part keeps it valid and unguessable.
  const password = `Tulp-${randomBytes(4).toString('hex')}-Molen`;
  await services.passwords.set(account, password);
  return { clientId: client.clientId, clientSecret: client.clientSecret!, redirectUri, username: account.username, password, reused: true };
}
