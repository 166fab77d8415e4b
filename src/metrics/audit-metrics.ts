// Which audit events move which counter: the one place that maps the audit trail to metrics.
// Every login step, code send and lock is audited already (factors, flows, lockout), so counting
// them here needs no call in those files, and a new event type is one line below. Label values
// come from the code (factor ids, reasons) or the registered portal, never from a request.
import type { AuditEvent } from '../store/port.ts';
import type { AuditCounters } from './metrics.ts';

type Count = (event: AuditEvent, counters: AuditCounters) => void;

const portal = (event: AuditEvent) => event.clientId ?? 'none';
const text = (value: unknown, fallback: string) => (typeof value === 'string' && value ? value : fallback);

/** `login:sms` → { purpose: 'login', channel: 'sms' }. */
function purposeOf(event: AuditEvent): { purpose: string; channel: string } {
  const [purpose = 'other', channel] = text(event.detail.purpose, 'other').split(':');
  return { purpose, channel: text(event.detail.factor, channel ?? 'other') };
}

function step(method: string, result: string | ((event: AuditEvent) => string)): Count {
  return (event, { logins }) => logins.inc({ portal: portal(event), method, result: typeof result === 'string' ? result : result(event) });
}

/** A code checked during a login is a login step; one checked while enrolling is not. */
function codeStep(result: string): Count {
  return (event, { logins }) => {
    const { purpose, channel } = purposeOf(event);
    if (purpose === 'login') logins.inc({ portal: portal(event), method: channel, result });
  };
}

function send(result: string | ((event: AuditEvent) => string)): Count {
  return (event, { codeSends }) => {
    const { purpose, channel } = purposeOf(event);
    codeSends.inc({ channel, purpose, result: typeof result === 'string' ? result : result(event) });
  };
}

function lock(kind: (event: AuditEvent) => string): Count {
  return (event, { lockouts }) => lockouts.inc({ scope: event.detail.scope === 'login-name' ? 'login-name' : 'account', kind: kind(event) });
}

const COUNTS: Readonly<Record<string, Count>> = {
  'login.password.ok': step('password', 'ok'),
  'login.password.failed': step('password', (event) => (event.detail.outcome === 'locked' ? 'locked' : 'failed')),
  'login.password.disabled': step('password', 'disabled'),
  'login.totp.ok': step('totp', 'ok'),
  'login.totp.failed': step('totp', 'failed'),
  'login.recovery.used': step('recovery', 'ok'),
  'login.recovery.failed': step('recovery', 'failed'),
  'login.remembered_device': step('remembered_device', 'ok'),
  'factor.code.verified': codeStep('ok'),
  'factor.code.failed': codeStep('failed'),
  'login.completed': (event, { loginsCompleted }) => {
    loginsCompleted.inc({ portal: portal(event), acr: text(event.detail.acr, 'unknown').replace(/^.*:acr:/, '') });
  },
  'factor.code.sent': send('sent'),
  'factor.code.refused': send((event) => (event.detail.reason === 'hourly_cap' ? 'hourly_cap' : 'cooldown')),
  'factor.code.delivery_failed': send((event) => (event.detail.permanent === true ? 'rejected' : 'failed')),
  'login.locked': lock((event) => (event.detail.kind === 'hard' ? 'hard' : 'temporary')),
  'login.hard_locked': lock(() => 'hard'),
};

export function countAuditEvent(event: AuditEvent, counters: AuditCounters): void {
  COUNTS[event.type]?.(event, counters);
}

/** The audit event types that move a metric (documentation and tests). */
export const COUNTED_AUDIT_EVENTS: readonly string[] = Object.keys(COUNTS);
