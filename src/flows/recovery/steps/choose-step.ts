// "Waarom hebt u problemen bij het aanmelden?" (Flynth): forgotten password (reset) or "I use the
// right password but cannot sign in" (unlock: the lock is lifted, the password stays).
import type { Step } from '../../../steps/step.ts';
import { CHOOSE, type RecoveryReason } from '../recovery-state.ts';

const REASONS: readonly RecoveryReason[] = ['reset', 'unlock'];

export const chooseStep: Step = {
  id: CHOOSE,
  view: 'flows/recovery/choose',
  actions: ['submit'],
  enter: async () => ({ kind: 'show' }),
  present: async (ctx) => ({ pageTitle: ctx.t('forgot.choose.title') }),
  async handle(ctx, _action, form) {
    const reason = REASONS.find((r) => r === form.reason);
    if (!reason) return { kind: 'show', status: 400, locals: { errors: { 'reason-reset': 'forgot.errors.reason_required' } } };
    ctx.flowScratch.set('reason', reason);
    return { kind: 'done' };
  },
};
