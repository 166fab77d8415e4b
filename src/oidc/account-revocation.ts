// Ending an account's sign-ins: every oidc-provider session, grant, code, access and refresh token
// of the account, except the browser session the patient is in (a password changed on /account
// keeps that one). Here because only oidc/ knows how those records are stored: under HMAC'd ids
// and uids (model-secrets.ts), so the session to keep is named in that form.
//
// Portals whose sessions end are not told by back-channel logout: their refresh tokens stop
// working at once, their access tokens are gone from introspection, and their own sessions end at
// their next token refresh or login (docs/architecture.md, "What a password change revokes").
import type { Store } from '../store/port.ts';
import type { ModelSecrets } from './model-secrets.ts';

export class AccountRevocation {
  constructor(
    private readonly store: Store,
    private readonly secrets: ModelSecrets,
  ) {}

  /** Returns how many records went. `keepSessionUid`: oidc-provider's uid of the session that stays. */
  revokeSignIns(accountId: string, keepSessionUid?: string): Promise<number> {
    return this.store.oidc.revokeByAccount(accountId, keepSessionUid ? { exceptSessionUid: this.secrets.key(keepSessionUid) } : {});
  }
}
