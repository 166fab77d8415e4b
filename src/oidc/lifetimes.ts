// How long grants and refresh tokens live, and so how long their rows are kept. The decision:
//
//   - Without offline_access (the normal case) a portal's access is the login session's: its refresh
//     token lives at most SESSION_TTL_SECONDS from issue and stops working when the session ends
//     (logout, expiry; oidc-provider's `expiresWithSession`), and its grant lasts as long as the
//     session could (SESSION_TTL_SECONDS, renewed while the patient keeps signing in there).
//   - With offline_access (asked with prompt=consent, OIDC Core 11, and consented to) the refresh
//     token outlives the session: REFRESH_TOKEN_TTL_SECONDS, within the grant, which lasts
//     REFRESH_TOKEN_TTL_SECONDS from the patient's last sign-in at that portal. Rotating the token
//     does not extend it: offline access needs the patient back now and then.
//   - A refresh token never outlives its grant: the sweep deletes the tokens of an ended grant (its
//     rows keep their own expiry, since a sign-in may renew the grant after they were saved).
//
// A consumed refresh token is kept exactly as long as it would have been valid, and no longer: in
// that window its replay is recognised (and revokes the grant, RFC 9700 4.14.2); after it, a replay
// fails anyway (expired), so keeping the row would only take space. Authorization codes likewise
// (60 s). The sweep deletes them once expired.
import type { Grant, RefreshToken } from 'oidc-provider';

export interface Lifetimes {
  /** SESSION_TTL_SECONDS */
  session: number;
  /** REFRESH_TOKEN_TTL_SECONDS */
  refreshToken: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function grantLifetime(grant: Grant, lifetimes: Lifetimes): number {
  return grant.getOIDCScope().split(' ').includes('offline_access') ? lifetimes.refreshToken : lifetimes.session;
}

/** The token's own lifetime; oidc-provider refuses it once its grant is gone. */
export function refreshTokenLifetime(token: RefreshToken, lifetimes: Lifetimes): number {
  return token.expiresWithSession ? lifetimes.session : lifetimes.refreshToken;
}

/**
 * When the patient authorizes a portal again (or consents to more), a grant with less than half its
 * lifetime left gets its full lifetime from now; true when it changed and must be saved. Halfway,
 * so a patient who signs in often costs one write every few hours, not one per sign-in.
 */
export function renewGrant(grant: Grant, lifetimes: Lifetimes): boolean {
  const lifetime = grantLifetime(grant, lifetimes);
  const now = nowSeconds();
  if (grant.exp !== undefined && grant.exp - now >= lifetime / 2) return false;
  grant.exp = now + lifetime;
  return true;
}
