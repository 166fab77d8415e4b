// Setting up a second factor inside the flow (Minddistrict: "tweestapsverificatie inschakelen"):
// due when the login needs a second factor the account lacks (a portal requires one, or demands a
// level only a factor the account lacks reaches), or when it is stored on the account (an operator
// wants one set up) while the account has none. It drives factor steps and the method choice:
//  - binding a new authenticator needs the strongest factor: an account that has a second factor
//    proves, freshly (never by a remembered device), one of its strongest kind or a recovery code
//    first (policy/proof-rules.ts; issue 6, finding 1);
//  - an account without any second factor enters its password again (Minddistrict's first set-up);
//  - then the method: the only one, the one chosen, or a choice among those the portal accepts
//    that reach the demanded level.
// It never adds a proof itself: the factor's enrolment does (an app's first code, an SMS code).
import type { ActionFacts, ActionNext, RequiredAction } from '../action.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import { acceptedSecondFactors, bindingFactors, provesBinding, reachesAcr } from '../../policy/proof-rules.ts';
import { challengeAmong } from '../../steps/decision.ts';

const ID = 'enrol-second-factor';

/** Stored on the account, it is done once the account has a second factor. */
function hasSecondFactor(facts: FlowFacts): boolean {
  return facts.factors.some((f) => f.role === 'second' && f.enrolled);
}

/**
 * A portal may switch the password-again step off (`reauth_before_enrolment: false`): then the
 * password typed in this very flow stands, but never one seeded from an older session (a step-up).
 */
function typedInThisFlow(facts: FlowFacts, factor: string): boolean {
  const { startedAt } = facts;
  return startedAt !== undefined && facts.proofs.some((p) => p.factor === factor && !p.replayed && p.at >= startedAt);
}

function next(facts: ActionFacts): ActionNext {
  const allowed = acceptedSecondFactors(facts.policy, facts.factors);
  const enrolledAny = facts.factors.filter((f) => f.role === 'second' && f.enrolled);
  const enrollable = allowed.filter((f) => f.enrollable && reachesAcr(facts.proofs, f, facts.requiredAcr));
  if (enrolledAny.length > 0 && enrollable.length > 0 && !provesBinding(facts.proofs, facts.factors)) {
    const ownership = challengeAmong(bindingFactors(facts.factors).filter((f) => f.role === 'second'), facts);
    if (ownership) return ownership;
  }
  if (enrollable.length === 0) return { kind: 'unreachable', reason: allowed.length ? 'acr_unreachable' : 'no_allowed_method' };
  const first = facts.factors.find((f) => f.role === 'first');
  if (first && enrolledAny.length === 0 && !facts.reauthenticated && (facts.policy.reauthBeforeEnrolment || !typedInThisFlow(facts, first.id))) {
    return { kind: 'reauthenticate', factor: first.id };
  }
  const chosen = enrollable.find((f) => f.id === facts.enrolling) ?? (enrollable.length === 1 ? enrollable[0] : undefined);
  if (chosen) return { kind: 'factor', factor: chosen.id, mode: 'enrol', alternatives: enrollable.filter((f) => f !== chosen).map((f) => f.id) };
  return { kind: 'choose-enrolment', methods: enrollable.map((f) => f.id) };
}

export const enrolSecondFactorAction: RequiredAction = {
  id: ID,
  scope: 'login',
  due: (facts) => facts.secondFactorMissing || (facts.account.requiredActions.includes(ID) && !hasSecondFactor(facts)),
  done: hasSecondFactor,
  next,
};
