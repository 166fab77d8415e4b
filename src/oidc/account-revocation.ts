// Ending an account's sign-ins: every oidc-provider session, grant, code, access and refresh token
// of the account, except the browser session the patient is in (a password changed on /account
// keeps that one). Here because only oidc/ knows how those records are stored: under HMAC'd ids
// and uids (model-secrets.ts), so the session to keep is named in that form.
//
// Portals that registered a back-channel logout endpoint are told first (account-sessions.ts), once
// the HTTP application is built and hands over its door to oidc-provider's clients (`tellPortalsThrough`):
// the services bundle, which the password lifecycle uses, is built before the provider. Without
// it (the CLI's `user remove`, which builds no provider) the records still go: refresh tokens fail
// at once (`invalid_grant`), access tokens no longer introspect, and a portal's own session ends
// at its next refresh or login (docs/architecture.md, "What a password change revokes").
import type { Store } from '../store/port.ts';
import type { ModelSecrets } from './model-secrets.ts';

/** Tells the account's portals that its sign-ins end (back-channel logout); returns the tokens delivered. */
export interface PortalLogout {
  tellPortalsOfRevocation(accountId: string, keepSessionUid?: string): Promise<number>;
}

export interface SignInsRevoked {
  /** Records removed (sessions, grants, codes, tokens). */
  records: number;
  /** Back-channel logout tokens delivered to portals. */
  logoutTokens: number;
}

export class AccountRevocation {
  private portals: PortalLogout | undefined;

  constructor(
    private readonly store: Store,
    private readonly secrets: ModelSecrets,
  ) {}

  /** Called once the provider exists (web/app.ts). */
  tellPortalsThrough(portals: PortalLogout): void {
    this.portals = portals;
  }

  /** `keepSessionUid`: oidc-provider's uid of the session that stays. Portals are told before the records go. */
  async revokeSignIns(accountId: string, keepSessionUid?: string): Promise<SignInsRevoked> {
    const logoutTokens = this.portals ? await this.portals.tellPortalsOfRevocation(accountId, keepSessionUid) : 0;
    const records = await this.store.oidc.revokeByAccount(accountId, keepSessionUid ? { exceptSessionUid: this.secrets.key(keepSessionUid) } : {});
    return { records, logoutTokens };
  }
}
