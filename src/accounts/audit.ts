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
  detail?: Record<string, unknown>;
}

export type AuditListener = (event: AuditEvent) => void;

export class Audit {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly onRecorded?: AuditListener,
  ) {}

  async record(input: AuditInput): Promise<void> {
    const event: AuditEvent = {
      id: randomId(12),
      at: this.clock.now(),
      type: input.type,
      accountId: input.accountId ?? null,
      clientId: input.clientId ?? null,
      ip: input.ip ?? null,
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
