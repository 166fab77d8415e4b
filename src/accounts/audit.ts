// Audit trail of security events. `detail` must never hold a secret, code, password, token or
// full phone number: callers pass masked values only.
import type { Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { randomId } from './random.ts';

export interface AuditInput {
  type: string;
  accountId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

const DAY_MS = 24 * 3600_000;

export class Audit {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** null: keep every event (the default); otherwise events older than this many days go. */
    private readonly retentionDays: number | null = null,
  ) {}

  /** Deletes the events older than the retention period; run by the periodic sweep. */
  async applyRetention(): Promise<number> {
    if (this.retentionDays === null) return 0;
    return this.store.audit.removeBefore(this.clock.now() - this.retentionDays * DAY_MS);
  }

  record(input: AuditInput): Promise<void> {
    return this.store.audit.append({
      id: randomId(12),
      at: this.clock.now(),
      type: input.type,
      accountId: input.accountId ?? null,
      clientId: input.clientId ?? null,
      ip: input.ip ?? null,
      detail: input.detail ?? {},
    });
  }
}
