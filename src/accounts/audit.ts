// Audit trail of security events. `detail` must never hold a secret, code, password, token or
// full phone number: callers pass masked values only.
//
// Every recorded event is also handed to `onRecorded` (the metrics count logins, code sends and
// locks from it): the audit trail is the one place every flow and factor already reports to.
import type { AuditEvent, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { randomId } from './random.ts';

export interface AuditInput {
  type: string;
  accountId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  /** `patient`, `operator:<name>`, `system`; see AuditEvent.actor. */
  actor?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown>;
}

/** Long enough to tell browsers apart, short enough that a hostile header cannot bloat the trail. */
const MAX_USER_AGENT = 256;
const DAY_MS = 24 * 3600_000;

export type AuditListener = (event: AuditEvent) => void;

export class Audit {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** null: keep every event (the default); otherwise events older than this many days go. */
    private readonly retentionDays: number | null = null,
    private readonly onRecorded?: AuditListener,
  ) {}

  /** Deletes the events older than the retention period; run by the periodic sweep. */
  async applyRetention(): Promise<number> {
    if (this.retentionDays === null) return 0;
    return this.store.audit.removeBefore(this.clock.now() - this.retentionDays * DAY_MS);
  }

  async record(input: AuditInput): Promise<void> {
    const event: AuditEvent = {
      id: randomId(12),
      at: this.clock.now(),
      type: input.type,
      accountId: input.accountId ?? null,
      clientId: input.clientId ?? null,
      ip: input.ip ?? null,
      actor: input.actor ?? null,
      userAgent: input.userAgent ? input.userAgent.slice(0, MAX_USER_AGENT) : null,
      detail: input.detail ?? {},
    };
    await this.store.audit.append(event);
    // Only what was recorded is counted; a listener's failure must never fail a login.
    try {
      this.onRecorded?.(event);
    } catch {
      // Metrics are best effort.
    }
  }
}
