// "Voer nieuw wachtwoord in" + "Bevestig nieuw wachtwoord" (Flynth), under the rules of the
// account's portals (profiles, history: the password lifecycle), every rule shown before typing.
// The lifecycle mails the password-changed notice; the step reports `password_changed`, on which
// the kind's hooks revoke what stood in for a sign-in and lift the lock.
import type { Step } from '../../../steps/step.ts';
import { passwordFormView } from '../../../accounts/password-form.ts';
import { NEW_PASSWORD, shared } from '../recovery-state.ts';
import { resetPassword } from '../reset-password.ts';

export const newPasswordStep: Step = {
  id: NEW_PASSWORD,
  view: 'flows/recovery/new-password',
  actions: ['submit'],
  enter: async () => ({ kind: 'show' }),
  async present(ctx) {
    const rules = ctx.account ? await ctx.services.passwordLifecycle.rulesFor(ctx.account, ctx.policy.clientId || null) : undefined;
    // Reached on the unlock path only for a hard-locked account (the decider): say why a new password is needed.
    const hardLockNotice = shared.reason(ctx.flowScratch) === 'unlock';
    return { pageTitle: ctx.t('forgot.new_password.title'), hardLockNotice, ...(rules ? { passwordForm: passwordFormView(rules) } : {}) };
  },
  async handle(ctx, _action, form) {
    const account = ctx.account;
    if (!account) return { kind: 'fail', status: 400, messageKey: 'errors.bad_request' };
    const result = await resetPassword(ctx, account, form.new ?? '', form.confirm ?? '');
    if (!result.ok) return { kind: 'show', status: result.status, locals: { passwordForm: passwordFormView(result.rules, result) } };
    return { kind: 'done', events: [{ type: 'password_changed' }] };
  },
};
