// The service the update-password action calls to change a password: its interface, kept tiny so
// the password lifecycle (profiles per portal, history, temporary passwords; issue 8) can put its
// own implementation behind it, and the first implementation, on accounts/passwords.ts (NIST SP
// 800-63B-4 length, blocklist and names; the new hash replaces the old; remembered devices end).
import type { AccountRecord } from '../../store/port.ts';
import type { PortalPolicy } from '../../oidc/client-policy.ts';
import type { Passwords } from '../../accounts/passwords.ts';
import { limitRule, type Limits, type LimitRule } from '../../accounts/limits.ts';
import type { LimitPolicy } from '../../policy/defaults.ts';
import type { Audit } from '../../accounts/audit.ts';

/** Which field a refusal belongs to, and its locale key. */
export type PasswordChangeErrors = Partial<Record<'current' | 'password', string>>;

export type PasswordChangeResult = { ok: true } | { ok: false; status: number; errors: PasswordChangeErrors };

export interface PasswordChangeRequest {
  account: AccountRecord;
  /** The password the patient has now (a temporary one, too). */
  current: string;
  next: string;
  /** The portal the patient is signing in to: its password profile applies. */
  policy: PortalPolicy;
  ip: string | null;
}

export interface PasswordChange {
  /** Sets `next` as the password when `current` is the password and `next` passes the rules. */
  change(request: PasswordChangeRequest): Promise<PasswordChangeResult>;
  /**
   * Whether the password itself must change before a login at this portal goes on (a temporary
   * password, one that fails the portal's profile). Optional: without profiles or temporary
   * passwords there is nothing to report, and only a stored `update-password` asks for a change.
   */
  isRequired?(account: AccountRecord, policy: PortalPolicy): Promise<boolean>;
}

export class BasicPasswordChange implements PasswordChange {
  /** Wrong current passwords on the change form: counted before checking, like every password guess. */
  private readonly failuresRule: LimitRule;

  constructor(
    private readonly passwords: Passwords,
    private readonly limits: Limits,
    private readonly audit: Audit,
    failures: LimitPolicy,
  ) {
    this.failuresRule = limitRule(failures);
  }

  async change({ account, current, next, policy, ip }: PasswordChangeRequest): Promise<PasswordChangeResult> {
    const failures = `pwd-change-fail:${account.id}`;
    if ((await this.limits.hit(failures, this.failuresRule)) < 0) return { ok: false, status: 429, errors: { current: 'update-password.errors.too_many_attempts' } };
    if (!(await this.passwords.verify(account, current))) {
      await this.audit.record({ type: 'password.change_failed', accountId: account.id, clientId: policy.clientId, ip, detail: { reason: 'current' } });
      return { ok: false, status: 401, errors: { current: 'update-password.errors.current_wrong' } };
    }
    await this.limits.release(failures);
    if (next.normalize('NFKC') === current.normalize('NFKC')) return { ok: false, status: 400, errors: { password: 'update-password.errors.same' } };
    const [problem] = this.passwords.check(account, next);
    if (problem) return { ok: false, status: 400, errors: { password: `update-password.errors.${problem}` } };
    await this.passwords.set(account, next);
    await this.audit.record({ type: 'password.changed', accountId: account.id, clientId: policy.clientId, ip, detail: { outcome: 'changed' } });
    return { ok: true };
  }
}
