// Where a patient is signed in, for the account console: the oidc-provider sessions and grants of
// one account, per portal, and the three ways to end them — sign out of one portal, sign out
// everywhere, revoke a portal's access. Only this folder knows oidc-provider's models; the console
// sees portals, times and counts.
//
// Signing out follows oidc-provider's own end_session (rp-initiated logout) step for step, so a
// portal cannot tell the console from its own logout button: a back-channel logout token to every
// portal that registered `backchannel_logout_uri` (with the session's `sid` for that portal), the
// portal's grant revoked unless the patient gave it lasting access (`offline_access`, the
// grant's `persistsLogout`), the portal's entry removed from the session (or the session
// destroyed when signing out everywhere). Revoking access also ends that lasting access: every
// grant of the portal goes, with its refresh and access tokens.
import type Provider from 'oidc-provider';
import type { Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { ModelSecrets } from './model-secrets.ts';
import { isInternalClient } from './internal-clients.ts';

export interface PortalConnection {
  clientId: string;
  /** The portal's registered display name (client_name), else its id. */
  name: string;
  /** Sessions (browsers) in which the patient is signed in at this portal. */
  sessions: number;
  /** The latest sign-in among those sessions (ms), if any. */
  lastSignInAt: number | null;
  /** The portal may go on without a session: a grant with `offline_access`. */
  lastingAccess: boolean;
}

interface Authorization {
  sid?: string;
  grantId?: string;
  persistsLogout?: boolean;
}

interface StoredSession {
  uid: string;
  loginTs?: number;
  authorizations: Record<string, Authorization>;
}

interface StoredGrant {
  jti: string;
  clientId: string;
  scope: string;
}

/** oidc-provider's Client has `backchannelLogout(sub, sid)` when the feature is on; its types omit it. */
interface LogoutCapable {
  backchannelLogoutUri?: string;
  backchannelLogout?(sub: string, sid: string | undefined): Promise<void>;
}

export class AccountSessions {
  constructor(
    private readonly provider: Provider,
    private readonly store: Store,
    private readonly secrets: ModelSecrets,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Every portal the account is signed in at or that holds a grant of it (the console itself left out). */
  async portals(accountId: string): Promise<PortalConnection[]> {
    const [sessions, grants] = await Promise.all([this.sessions(accountId), this.grants(accountId)]);
    const byClient = new Map<string, PortalConnection>();
    const entry = (clientId: string): PortalConnection => {
      let found = byClient.get(clientId);
      if (!found) byClient.set(clientId, (found = { clientId, name: clientId, sessions: 0, lastSignInAt: null, lastingAccess: false }));
      return found;
    };
    for (const session of sessions) {
      for (const clientId of Object.keys(session.authorizations)) {
        if (isInternalClient(clientId)) continue;
        const portal = entry(clientId);
        portal.sessions += 1;
        const at = typeof session.loginTs === 'number' ? session.loginTs * 1000 : null;
        if (at !== null && (portal.lastSignInAt === null || at > portal.lastSignInAt)) portal.lastSignInAt = at;
      }
    }
    for (const grant of grants) {
      if (isInternalClient(grant.clientId)) continue;
      const portal = entry(grant.clientId);
      if (grant.scope.split(' ').includes('offline_access')) portal.lastingAccess = true;
    }
    const portals = [...byClient.values()];
    await Promise.all(portals.map(async (portal) => {
      const client = await this.store.clients.find(portal.clientId);
      const name = client?.metadata.client_name;
      if (typeof name === 'string' && name) portal.name = name;
    }));
    return portals.sort((a, b) => a.name.localeCompare(b.name, 'nl'));
  }

  /** Signs the account out of one portal in every session; returns the back-channel logouts sent. */
  async signOutOf(accountId: string, clientId: string): Promise<number> {
    let sent = 0;
    for (const stored of await this.sessions(accountId)) {
      if (!stored.authorizations[clientId]) continue;
      const session = await this.provider.Session.findByUid(stored.uid);
      if (!session || session.accountId !== accountId || !session.authorizations?.[clientId]) continue;
      const authorization: Authorization = session.authorizations[clientId];
      if (await this.backchannelLogout(accountId, clientId, authorization.sid)) sent += 1;
      if (authorization.grantId && !authorization.persistsLogout) await this.revokeGrant(authorization.grantId);
      delete session.authorizations[clientId];
      await session.persist();
    }
    return sent;
  }

  /** Ends every session of the account: every portal of each is told, grants without lasting access go. */
  async signOutEverywhere(accountId: string): Promise<number> {
    let sent = 0;
    for (const stored of await this.sessions(accountId)) {
      const session = await this.provider.Session.findByUid(stored.uid);
      if (!session || session.accountId !== accountId) continue;
      for (const [clientId, authorization] of Object.entries(session.authorizations ?? {}) as Array<[string, Authorization]>) {
        if (await this.backchannelLogout(accountId, clientId, authorization.sid)) sent += 1;
        if (authorization.grantId && !authorization.persistsLogout) await this.revokeGrant(authorization.grantId);
      }
      await session.destroy();
    }
    return sent;
  }

  /**
   * Before a password change revokes the account's sign-ins (account-revocation.ts): every portal
   * the account is signed in at is told by back-channel logout, in every session — the one kept
   * (`keepSessionUid`, the browser on the account page) too, whose portal entries go, as their
   * grants go with the revocation. So no portal is left holding a sign-in whose tokens are dead,
   * and the kept session stays signed in at the account page only. Returns the tokens delivered.
   * The records themselves are removed by the revocation right after, so nothing issued
   * meanwhile survives.
   */
  async tellPortalsOfRevocation(accountId: string, keepSessionUid?: string): Promise<number> {
    let sent = 0;
    for (const stored of await this.sessions(accountId)) {
      const kept = stored.uid === keepSessionUid ? await this.provider.Session.findByUid(stored.uid) : undefined;
      let trimmed = false;
      for (const [clientId, authorization] of Object.entries(stored.authorizations)) {
        if (isInternalClient(clientId)) continue;
        if (await this.backchannelLogout(accountId, clientId, authorization.sid)) sent += 1;
        if (kept?.authorizations?.[clientId]) {
          delete kept.authorizations[clientId];
          trimmed = true;
        }
      }
      if (kept && trimmed && kept.accountId === accountId) await kept.persist();
    }
    return sent;
  }

  /** Signs out of the portal everywhere and revokes every grant it holds (refresh tokens included). */
  async revokeAccess(accountId: string, clientId: string): Promise<number> {
    const sent = await this.signOutOf(accountId, clientId);
    for (const grant of await this.grants(accountId)) {
      if (grant.clientId === clientId) await this.revokeGrant(grant.jti);
    }
    return sent;
  }

  /** The account's live sessions as stored (opened from their sealed payloads). */
  private async sessions(accountId: string): Promise<StoredSession[]> {
    const records = await this.store.oidc.listByAccount('Session', accountId, this.clock.now());
    const sessions: StoredSession[] = [];
    for (const record of records) {
      const payload = this.secrets.openListed('Session', record.payload);
      // The sealed payload, not the column beside it, must name the account.
      if (!payload || payload.accountId !== accountId || typeof payload.uid !== 'string') continue;
      const authorizations = payload.authorizations && typeof payload.authorizations === 'object' ? payload.authorizations as Record<string, Authorization> : {};
      sessions.push({ uid: payload.uid, loginTs: typeof payload.loginTs === 'number' ? payload.loginTs : undefined, authorizations });
    }
    return sessions;
  }

  private async grants(accountId: string): Promise<StoredGrant[]> {
    const records = await this.store.oidc.listByAccount('Grant', accountId, this.clock.now());
    const grants: StoredGrant[] = [];
    for (const record of records) {
      const payload = this.secrets.openListed('Grant', record.payload);
      if (!payload || payload.accountId !== accountId || typeof payload.jti !== 'string' || typeof payload.clientId !== 'string') continue;
      const openid = payload.openid as { scope?: unknown } | undefined;
      grants.push({ jti: payload.jti, clientId: payload.clientId, scope: typeof openid?.scope === 'string' ? openid.scope : '' });
    }
    return grants;
  }

  /** Every token and code of the grant, then the grant itself (oidc-provider's helpers/revoke.js). */
  private async revokeGrant(grantId: string): Promise<void> {
    await this.store.oidc.revokeByGrantId(this.secrets.key(grantId));
    await this.store.oidc.destroy('Grant', this.secrets.key(grantId));
  }

  /** True when a logout token was delivered; a portal that fails is logged, as oidc-provider does, and the logout goes on. */
  private async backchannelLogout(accountId: string, clientId: string, sid: string | undefined): Promise<boolean> {
    const client = (await this.provider.Client.find(clientId)) as LogoutCapable | undefined;
    if (!client?.backchannelLogoutUri || typeof client.backchannelLogout !== 'function') return false;
    try {
      await client.backchannelLogout(accountId, sid);
      return true;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, clientId }, 'back-channel logout failed');
      return false;
    }
  }
}
