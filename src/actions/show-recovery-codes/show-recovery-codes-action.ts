// The recovery codes follow the first second factor, in any flow that sets one up (a login, the
// account page): one rule, here. Shown once, in the recovery factor's enrol mode; done when the
// patient confirmed they saved them (the codes then exist). A flow that set up a second factor on
// an account that already had recovery codes shows none.
import type { RequiredAction } from '../action.ts';
import type { FlowFacts } from '../../steps/facts.ts';

function recoveryOf(facts: FlowFacts) {
  return facts.factors.find((f) => f.role === 'recovery');
}

function done(facts: FlowFacts): boolean {
  const recovery = recoveryOf(facts);
  return recovery === undefined || recovery.enrolled || facts.enrolledInFlow.includes(recovery.id);
}

export const showRecoveryCodesAction: RequiredAction = {
  id: 'show-recovery-codes',
  scope: 'any',
  // A portal may switch them off where it accepts another fallback (oidc/client-policy.ts).
  due: (facts) => facts.policy.recoveryCodes && !done(facts) && facts.enrolledInFlow.some((id) => facts.factors.find((f) => f.id === id)?.role === 'second'),
  done,
  next: (facts) => ({ kind: 'factor', factor: recoveryOf(facts)!.id, mode: 'enrol', alternatives: [] }),
};
