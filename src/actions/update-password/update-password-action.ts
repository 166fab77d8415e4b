// "U bent verplicht uw wachtwoord te wijzigen": current, new and confirmation, inside the flow,
// before the portal gets the login. Due when stored on the account or when the password service
// says the password itself must change (a temporary password, one failing the portal's profile:
// `PasswordChange.isRequired`); done in this flow once the service changed it. The rules are the service's
// (password-change.ts); this page only asks, and says what is wrong next to each field.
import type { RequiredAction } from '../action.ts';
import { ownPage } from '../action.ts';

const ID = 'update-password';
/** Long enough for any allowed password (PASSWORD_MAX_LENGTH ≤ 1024) in 4-byte characters; longer is refused unread. */
const MAX_INPUT = 4096;

export const updatePasswordAction: RequiredAction = {
  id: ID,
  scope: 'login',
  due: (facts) => (facts.account.passwordChangeRequired || facts.account.requiredActions.includes(ID)) && !facts.actionsDone.includes(ID),
  done: (facts) => facts.actionsDone.includes(ID),
  next: ownPage(ID),
  page: {
    id: ID,
    view: 'actions/update-password',
    actions: ['change'],
    enter: async () => ({ kind: 'show' }),
    present: async (ctx) => ({ minLength: ctx.services.config.policy.passwords.minLength }),
    async handle(ctx, action, form) {
      const { account } = ctx;
      if (action !== 'change' || !account) return { kind: 'show', status: 400 };
      const current = form.current ?? '';
      const next = form.password ?? '';
      const errors: Record<string, string> = {};
      if (!current) errors.current = 'update-password.errors.current_required';
      if (!next) errors.password = 'update-password.errors.password_required';
      else if (next !== (form.confirm ?? '')) errors.confirm = 'update-password.errors.mismatch';
      if (current.length > MAX_INPUT || next.length > MAX_INPUT) errors.password = 'update-password.errors.too_long';
      if (Object.keys(errors).length) return { kind: 'show', status: 400, locals: { errors } };
      const result = await ctx.services.passwordChange.change({ account, current, next, policy: ctx.policy, ip: ctx.ip });
      if (!result.ok) return { kind: 'show', status: result.status, locals: { errors: result.errors } };
      // The after-hooks tell the patient by mail and lift any lock (src/hooks/).
      return { kind: 'done', events: [{ type: 'password_changed' }] };
    },
  },
};
