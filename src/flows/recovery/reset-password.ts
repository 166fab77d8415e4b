// Setting the new password of a recovery: the one place the recovery flow reaches the password
// service. On main that is accounts/passwords.ts (length, blocklist, names); the password
// lifecycle's `reset` (profiles, history) takes its place when it is merged.
import type { StepContext } from '../../steps/step.ts';
import type { AccountRecord } from '../../store/port.ts';

export type ResetResult = { ok: true } | { ok: false; status: number; errors: Record<string, string> };

const MAX_INPUT = 1024;

export async function resetPassword(ctx: StepContext, account: AccountRecord, next: string, confirm: string): Promise<ResetResult> {
  const { passwords, audit } = ctx.services;
  if (!next) return { ok: false, status: 400, errors: { password: 'forgot.errors.password_required' } };
  if (next.length > MAX_INPUT) return { ok: false, status: 413, errors: { password: 'forgot.errors.password_too_long' } };
  if (next !== confirm) return { ok: false, status: 400, errors: { confirm: 'forgot.errors.confirm_mismatch' } };
  const [problem] = passwords.check(account, next);
  if (problem) return { ok: false, status: 400, errors: { password: `update-password.errors.${problem}` } };
  await passwords.set(account, next);
  await audit.record({ type: 'recovery.password_reset', accountId: account.id, clientId: ctx.policy.clientId || null, ip: ctx.ip, detail: { actor: 'patient', userAgent: ctx.userAgent, outcome: 'reset' } });
  return { ok: true };
}
