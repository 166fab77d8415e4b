// The recovery flow's own audit lines: actor (the patient, or "unknown" before the account is
// known), account when known, portal, address, user agent and outcome — never the typed name,
// number, token or password.
import type { StepContext } from '../../steps/step.ts';
import type { AccountRecord } from '../../store/port.ts';

export function recoveryAudit(ctx: StepContext, type: string, account: AccountRecord | undefined, detail: Record<string, unknown>): Promise<void> {
  return ctx.services.audit.record({
    type,
    accountId: account?.id ?? null,
    clientId: ctx.policy.clientId || null,
    ip: ctx.ip,
    actor: account ? 'patient' : 'unknown',
    userAgent: ctx.userAgent,
    detail,
  });
}
