// Development convenience: on a fresh store, a demo portal and a demo patient, so a newcomer can
// sign in at once. Never runs in production.
import { randomBytes } from 'node:crypto';
import type { Services } from '../services.ts';
import { ClientValidationError, type ClientRegistry, type ClientInput } from '../oidc/client-registry.ts';
import type { NewAccount } from '../accounts/accounts.ts';
import { isInternalClient } from '../oidc/internal-clients.ts';

export const DEMO_CLIENT_ID = 'demo-portal';
export const DEMO_RP_PORT = 3001;

/** The example portal's registration, for the portal at `rpBase`. */
export function demoClientInput(rpBase: string): ClientInput {
  return {
    clientId: DEMO_CLIENT_ID,
    name: 'Demo portaal',
    redirectUris: [`${rpBase}/callback`],
    postLogoutRedirectUris: [`${rpBase}/`],
    backchannelLogoutUri: `${rpBase}/backchannel-logout`,
    firstParty: true,
    clientCredentials: true,
  };
}

export const DEMO_PATIENT: NewAccount = {
  username: 'demo',
  email: 'demo.patient@example.nl',
  emailVerified: true,
  phoneE164: '+31612345616',
  phoneVerified: true,
  givenName: 'Demi',
  familyName: 'de Patiënt',
  locale: 'nl',
};

export interface DemoCredentials {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  username: string;
  password: string;
}

export async function seedDemo(services: Services, clients: ClientRegistry, rpBase = `http://localhost:${DEMO_RP_PORT}`): Promise<DemoCredentials | undefined> {
  if (services.config.env === 'production') return undefined;
  const anyClient = (await clients.list()).find((c) => !isInternalClient(c.clientId));
  const [anyAccount] = await services.accounts.list();
  if (anyClient || anyAccount) return undefined;
  const redirectUri = `${rpBase}/callback`;
  let client;
  try {
    client = await clients.add(demoClientInput(rpBase));
  } catch (error) {
    // Another process starting on the same fresh store seeded it a moment ago and printed it.
    if (error instanceof ClientValidationError) return undefined;
    throw error;
  }
  // Words from the blocklist would be rejected: a random suffix keeps the demo password valid.
  const password = `Tulp-${randomBytes(4).toString("hex")}-Molen`;
  const account = await services.accounts.create(DEMO_PATIENT);
  await services.passwords.set(account, password);
  return { clientId: client.clientId, clientSecret: client.clientSecret!, redirectUri, username: DEMO_PATIENT.username, password };
}

export function describeDemo(issuer: string, demo: DemoCredentials): string {
  return [
    '',
    'Demo data created (development only, shown once):',
    `  portal client_id:     ${demo.clientId}`,
    `  portal client_secret: ${demo.clientSecret}`,
    `  portal redirect_uri:  ${demo.redirectUri}`,
    `  patient username:     ${demo.username}`,
    `  patient password:     ${demo.password}`,
    `  discovery:            ${issuer}/.well-known/openid-configuration`,
    `  dev outbox:           ${issuer}/dev/outbox`,
    '',
  ].join('\n');
}
