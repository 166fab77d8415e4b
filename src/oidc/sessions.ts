// Reading the patient's oidc-provider session from our own pages (the account settings), and the
// internal client through which those pages send the patient to the regular login flow.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Store } from '../store/port.ts';
import type { DeploymentBrand } from '../brand/brand.ts';

export const ACCOUNT_CLIENT_ID = 'poortwachter-account';

export interface CurrentSession {
  /** oidc-provider's session uid: the key of the record of its proofs (session-proofs.ts). */
  uid: string;
  accountId: string;
  acr: string | undefined;
  amr: string[];
  authTime: number | undefined;
}

export class Sessions {
  constructor(private readonly provider: Provider) {}

  async current(ctx: Context): Promise<CurrentSession | undefined> {
    const session = await this.provider.Session.get(ctx as Parameters<Provider['Session']['get']>[0]);
    if (!session.accountId) return undefined;
    return { uid: session.uid, accountId: session.accountId, acr: session.acr, amr: session.amr ?? [], authTime: session.loginTs };
  }
}

/**
 * The settings pages sign the patient in like any portal does (Keycloak's account console works
 * the same way), so every login rule and factor applies there too. Kept in step with the issuer.
 */
export async function ensureAccountClient(store: Store, issuer: string, now: number, brand: DeploymentBrand = { name: 'Poortwachter' }): Promise<void> {
  const metadata = {
    client_id: ACCOUNT_CLIENT_ID,
    // The account pages' login wears the deployment brand (BRAND_NAME, BRAND_COLOR).
    client_name: brand.name,
    ...(brand.colour ? { brand_color: brand.colour } : {}),
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/account`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    first_party: true,
    // No `mfa_methods`: every second factor counts here (client-policy.ts reads that as all).
    mfa: 'optional',
    // The settings pages always want the real second factor, never a remembered device.
    remember_device: false,
  };
  await ensureInternalClient(store, ACCOUNT_CLIENT_ID, metadata, now);
}

/**
 * Writes one of the server's own clients (account pages, admin console) at start. Insert-if-absent
 * first: processes starting together create it once; then bring an existing one in step (a changed
 * ISSUER), which writes the same metadata whichever process does it.
 */
export async function ensureInternalClient(store: Store, clientId: string, metadata: Record<string, unknown>, now: number): Promise<void> {
  if (await store.clients.putIfAbsent({ clientId, metadata, createdAt: now, updatedAt: now })) return;
  const existing = await store.clients.find(clientId);
  if (existing && JSON.stringify(existing.metadata) === JSON.stringify(metadata)) return;
  await store.clients.put({ clientId, metadata, createdAt: existing?.createdAt ?? now, updatedAt: now });
}
