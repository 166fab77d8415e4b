// "Voer nieuw wachtwoord in" + "Bevestig nieuw wachtwoord" (Flynth), under the account's password
// rules. Reports `password_changed`: the kind's hooks mail the notice, forget remembered devices
// and lift the lock.
import type { Step } from '../../../steps/step.ts';
import { NEW_PASSWORD } from '../recovery-state.ts';
import { resetPassword } from '../reset-password.ts';

export const newPasswordStep: Step = {
  id: NEW_PASSWORD,
  view: 'flows/recovery/new-password',
  actions: ['submit'],
  enter: async () => ({ kind: 'show' }),
  present: async (ctx) => ({ pageTitle: ctx.t('forgot.new_password.title'), minLength: ctx.services.config.policy.passwords.minLength }),
  async handle(ctx, _action, form) {
    const account = ctx.account;
    if (!account) return { kind: 'fail', status: 400, messageKey: 'errors.bad_request' };
    const result = await resetPassword(ctx, account, form.password ?? '', form.confirm ?? '');
    if (!result.ok) return { kind: 'show', status: result.status, locals: { errors: result.errors } };
    return { kind: 'done', events: [{ type: 'password_changed' }] };
  },
};
