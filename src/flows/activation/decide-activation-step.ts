// The activation kind's decider: pure, facts in, next step out (like decideLoginStep). It only
// decides the ORDER of required actions that exist already (src/actions/); each runs its own page:
//
//   (the invitation link proved the mailbox: "Gebruikersnaam en e-mailadres zijn ingevuld")
//   → verify-phone, when the portal wants a verified phone and the account's number is not yet
//   → update-password, the first password (twice, the profile shown): the account has none
//   → enrol-second-factor, a method among the portal's (its own rules: a choice, the factor's
//     enrolment; the e-mail address or phone proved in this flow needs no second code)
//   → show-recovery-codes, when the action says they are due
//   → done (the kind hands over to the portal, or says "U bent klaar").
//
// An activation never records a sign-in proof of its own: the factors' enrolment proofs stay in
// this flow, and its completion creates no session at Poortwachter.
import type { Decision } from '../../steps/decision.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import type { RequiredAction } from '../../actions/action.ts';
import { acceptedSecondFactors } from '../../policy/proof-rules.ts';
import { ENROL_SECOND_FACTOR, SHOW_RECOVERY_CODES, UPDATE_PASSWORD, VERIFY_PHONE } from './activation-state.ts';

export interface ActivationFacts extends FlowFacts {
  /** The portal wants a verified phone (`verify_phone`) and the account has a number not yet verified. */
  phoneToVerify: boolean;
  /** The registered required actions (their pure rules only are used). */
  actions: readonly Pick<RequiredAction, 'id' | 'due' | 'next'>[];
}

export function decideActivationStep(facts: ActivationFacts): Decision {
  const action = (id: string) => facts.actions.find((a) => a.id === id);
  if (facts.phoneToVerify && !facts.actionsDone.includes(VERIFY_PHONE) && action(VERIFY_PHONE)) return { kind: 'action', action: VERIFY_PHONE };

  const hasSecond = facts.factors.some((f) => f.role === 'second' && f.enrolled);
  // A second factor is set up when the portal accepts one (a standalone invitation: the defaults).
  const secondFactorMissing = !hasSecond && acceptedSecondFactors(facts.policy, facts.factors).length > 0;
  const actionFacts = { ...facts, secondFactorMissing };
  for (const id of [UPDATE_PASSWORD, ENROL_SECOND_FACTOR, SHOW_RECOVERY_CODES]) {
    const found = action(id);
    if (found?.due(actionFacts)) return found.next(actionFacts);
  }
  return { kind: 'done' };
}
