// The service a password form calls — the update-password action at login and the account page's
// "Wachtwoord" section —: what to show before the patient types, and the change itself. Its one
// implementation is the password lifecycle (accounts/password-lifecycle.ts: the strictest
// combination of the profiles of the account's portals, history, temporary passwords, every other
// sign-in revoked), seen through this narrow interface so the pages only ask and show.
import type { AccountRecord } from '../../store/port.ts';
import type { PortalPolicy } from '../../oidc/client-policy.ts';
import type { PasswordLifecycle } from '../../accounts/password-lifecycle.ts';
import { passwordFormView, type PasswordFormView } from '../../accounts/password-form.ts';

export type PasswordChangeResult = { ok: true } | { ok: false; status: number; form: PasswordFormView };

export interface PasswordChangeRequest {
  account: AccountRecord;
  /** The password the patient has now (a temporary one, too); none for the first one (`initial`). */
  current: string;
  next: string;
  confirm: string;
  /** The portal the patient is at (its profile applies, its name is in the audit trail). */
  policy: PortalPolicy;
  /**
   * A required action at login, the account page, or the first password of an account that has
   * none (the activation flow, which proved the mailbox by the invitation link instead).
   */
  via: 'forced' | 'account' | 'initial';
  ip: string | null;
  userAgent: string | null;
  /** The browser session the patient is in: it stays when every other sign-in ends. */
  keepSessionUid?: string;
}

export interface PasswordChange {
  /** Every rule a new password of this account must meet here, for the page before anything is typed. */
  form(account: AccountRecord, policy: PortalPolicy): Promise<PasswordFormView>;
  /** Sets `next` when `current` is right, `confirm` matches and `next` passes every rule; otherwise what failed. */
  change(request: PasswordChangeRequest): Promise<PasswordChangeResult>;
}

/** The lifecycle behind the interface; read when used, as the services bundle is built around it. */
export function lifecyclePasswordChange(lifecycle: () => PasswordLifecycle): PasswordChange {
  return {
    async form(account, policy) {
      return passwordFormView(await lifecycle().rulesFor(account, policy.clientId));
    },
    async change({ account, current, next, confirm, policy, via, ip, userAgent, keepSessionUid }) {
      const who = { ip, userAgent, keepSessionUid, actor: 'patient', clientId: policy.clientId || null, portalName: policy.name };
      const result = via === 'initial'
        ? await lifecycle().reset(account, { ...who, next, confirm, via })
        : await lifecycle().change(account, { ...who, current, next, confirm, via });
      if (result.ok) return { ok: true };
      return { ok: false, status: result.status, form: passwordFormView(result.rules, result) };
    },
  };
}
