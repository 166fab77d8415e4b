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
  /** `patient`, `operator:<name>`, `system`; see AuditEvent.actor. */
  actor?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown>;
}

/** Long enough to tell browsers apart, short enough that a hostile header cannot bloat the trail. */
const MAX_USER_AGENT = 256;

export class Audit {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  record(input: AuditInput): Promise<void> {
    return this.store.audit.append({
      id: randomId(12),
      at: this.clock.now(),
      type: input.type,
      accountId: input.accountId ?? null,
      clientId: input.clientId ?? null,
      ip: input.ip ?? null,
      actor: input.actor ?? null,
      userAgent: input.userAgent ? input.userAgent.slice(0, MAX_USER_AGENT) : null,
      detail: input.detail ?? {},
    });
  }
}
