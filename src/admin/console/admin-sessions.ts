// The console's own session, kept server side (a flow record of its own kind): the cookie holds a
// random token and the store only its SHA-256, so a copy of the database signs nobody in. Short
// by design (policy.adminConsole): idle time and a maximum, both checked on every request.
import type { Store } from '../../store/port.ts';
import type { Clock } from '../../clock.ts';
import type { Policy } from '../../policy/defaults.ts';
import { randomId, sha256 } from '../../accounts/random.ts';

export const ADMIN_SESSION_KIND = 'admin-session';

export interface AdminSession {
  /** The store key (the token's hash); the token itself is only in the cookie. */
  id: string;
  accountId: string;
  /**
   * The uid of the Poortwachter login session the console was opened from: the console lives only
   * as long as it does, so "sign out everywhere", a 2FA reset or a password change end it too.
   */
  loginSessionUid: string;
  /** The CSRF token every console form carries. */
  csrf: string;
  lastSeenAt: number;
}

interface State {
  loginSessionUid: string;
  lastSeenAt: number;
  [key: string]: unknown;
}

/** A request within this long of the last one does not write again (a page load is many requests). */
const TOUCH_GRANULARITY_MS = 30_000;

export class AdminSessions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: Policy['adminConsole'],
  ) {}

  /** A new session for the account; returns the cookie's token (shown nowhere else). */
  async start(accountId: string, loginSessionUid: string): Promise<{ token: string; session: AdminSession }> {
    const token = randomId(32);
    const now = this.clock.now();
    const session: AdminSession = { id: sha256(token), accountId, loginSessionUid, csrf: randomId(24), lastSeenAt: now };
    await this.store.flows.put({
      id: session.id, kind: ADMIN_SESSION_KIND, interactionUid: null, accountId, clientId: null,
      state: { loginSessionUid, lastSeenAt: now } satisfies State, csrf: session.csrf, createdAt: now,
      expiresAt: now + this.policy.maxSeconds * 1000,
    });
    return { token, session };
  }

  /** The live session of a cookie token, its idle clock reset; undefined when absent, idle or too old. */
  async resume(token: string | undefined): Promise<AdminSession | undefined> {
    if (!token || token.length > 100) return undefined;
    const now = this.clock.now();
    const record = await this.store.flows.find(sha256(token), now);
    if (!record || record.kind !== ADMIN_SESSION_KIND || !record.accountId) return undefined;
    const state = record.state as State;
    const idle = now - state.lastSeenAt > this.policy.idleSeconds * 1000;
    // The maximum age is the record's expiry (createdAt + maxSeconds): the store returns no expired record.
    if (idle || typeof state.loginSessionUid !== 'string') {
      await this.store.flows.remove(record.id);
      return undefined;
    }
    if (now - state.lastSeenAt > TOUCH_GRANULARITY_MS) await this.store.flows.put({ ...record, state: { ...state, lastSeenAt: now } });
    return { id: record.id, accountId: record.accountId, loginSessionUid: state.loginSessionUid, csrf: record.csrf, lastSeenAt: now };
  }

  end(session: AdminSession): Promise<void> {
    return this.store.flows.remove(session.id);
  }
}
