// Setting the new password of a recovery: the one place the recovery flow reaches the password
// lifecycle (accounts/password-lifecycle.ts `reset`: the account's portals' profiles and history,
// the password-changed notice). No current password: this flow proved the patient otherwise.
import type { StepContext } from '../../steps/step.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { ChangeResult } from '../../accounts/password-lifecycle.ts';

export function resetPassword(ctx: StepContext, account: AccountRecord, next: string, confirm: string): Promise<ChangeResult> {
  return ctx.services.passwordLifecycle.reset(account, {
    next,
    confirm,
    actor: 'patient',
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    clientId: ctx.policy.clientId || null,
    ...(ctx.policy.clientId ? { portalName: ctx.policy.name } : {}),
  });
}
