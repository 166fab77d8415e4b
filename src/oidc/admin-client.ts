// The internal client through which the /admin console sends admins to the regular login flow,
// as the account pages do with theirs (sessions.ts). Admins change other people's accounts, so
// this client asks more than a portal by default: a second factor that reaches AAL2
// (authenticator app or passkey: SMS and voice reach the same level on paper, but a phone number
// can be ported away from an admin; e-mail never reaches it), never a remembered device.
import type { Store } from '../store/port.ts';
import { ACR } from './assurance.ts';
import { ensureInternalClient } from './sessions.ts';

export const ADMIN_CLIENT_ID = 'poortwachter-admin';

/** What every admin login must reach (assurance.ts): password + TOTP, or a passkey. */
export const ADMIN_ACR = ACR.substantial;

/** The second factors the console accepts: held before the login (console-routes.ts), never one set up in it. */
export const ADMIN_METHODS = ['totp', 'passkey'] as const;

/** Registers (or brings in step with the issuer) the console's client; idempotent across processes. */
export async function ensureAdminClient(store: Store, issuer: string, now: number): Promise<void> {
  const metadata = {
    client_id: ADMIN_CLIENT_ID,
    client_name: 'Poortwachter beheer',
    redirect_uris: [`${issuer}/admin/callback`],
    post_logout_redirect_uris: [`${issuer}/admin/signed-out`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    first_party: true,
    mfa: 'required',
    mfa_methods: [...ADMIN_METHODS],
    min_acr: ADMIN_ACR,
    remember_device: false,
  };
  await ensureInternalClient(store, ADMIN_CLIENT_ID, metadata, now);
}
