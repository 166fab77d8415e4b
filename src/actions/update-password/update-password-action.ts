// "U bent verplicht uw wachtwoord te wijzigen": current, new and confirmation, inside the login,
// before the portal gets it. Due when stored on the account (an operator's `user require-action`)
// or when the password just typed must be replaced (a temporary password, or one that no longer
// meets the portal's profile: the password factor says so with its proof). It runs after the
// second factor, like every required action: whoever only has the temporary password's mail (or a
// phished password) cannot set a new one, as a recovery needs the second factor too. Done in this
// flow once the lifecycle changed the password. The rules are the lifecycle's; this page lists
// them before the patient types and says after which failed, next to each field.
import type { RequiredAction } from '../action.ts';
import { ownPage } from '../action.ts';
import type { StepContext } from '../../steps/step.ts';

const ID = 'update-password';

/** What the activation's password page shows of the profile ("profile shown"): the account's names. */
function profileOf(ctx: StepContext): { username: string; email: string; name: string } | undefined {
  const account = ctx.account;
  if (!account) return undefined;
  return { username: account.username, email: account.email, name: [account.givenName, account.familyName].filter(Boolean).join(' ') };
}

/** Why the page asks: the first factor's reason, else an operator's stored action. */
function reasonKey(ctx: StepContext): string {
  if (ctx.passwordChange === 'initial') return 'password_change.initial_reason';
  if (ctx.passwordChange === 'temporary') return 'password_change.forced_temporary';
  if (ctx.passwordChange === 'portal_profile') return 'password_change.forced_portal_profile';
  return 'password_change.forced_required';
}

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
    async present(ctx) {
      const form = ctx.account ? await ctx.services.passwordChange.form(ctx.account, ctx.policy) : undefined;
      const initial = ctx.passwordChange === 'initial';
      return { form, reasonKey: reasonKey(ctx), temporary: ctx.passwordChange === 'temporary', initial, ...(initial ? { pageTitle: ctx.t('password_change.initial_title'), profile: profileOf(ctx) } : {}) };
    },
    async handle(ctx, action, form) {
      const { account } = ctx;
      if (action !== 'change' || !account) return { kind: 'show', status: 400 };
      const result = await ctx.services.passwordChange.change({
        account,
        current: form.current ?? '',
        next: form.new ?? '',
        confirm: form.confirm ?? '',
        policy: ctx.policy,
        // The first password of an activation: there is no current one to ask.
        via: ctx.passwordChange === 'initial' ? 'initial' : 'forced',
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
      if (!result.ok) return { kind: 'show', status: result.status, locals: { form: result.form } };
      // The after-hooks tell the patient by mail and lift any lock (src/hooks/).
      return { kind: 'done', events: [{ type: 'password_changed' }] };
    },
  },
};
