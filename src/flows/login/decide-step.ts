// The login kind's decider: from what is known (what this flow proved and chose, the portal's
// policy, the level asked for, what each factor is for the account, the account's state) it
// decides the next step, and which other methods the patient may pick there ("use another
// method"). It is a pure function: no I/O, so every rule is testable on its own. It never names a
// factor or an action: factors by their positions and roles, actions through their own rules.
//
// Order: the first position (the password, a passkey beside it); then a second factor the account has, when the portal, an enrolled
// factor or a demanded level asks for one; then the required actions that are due, in registry
// order (setting up a missing second factor and its recovery codes among them); then done.
import { acrRank, deriveAssurance, type Proof } from '../../oidc/assurance.ts';
import { acceptsMethod } from '../../oidc/client-policy.ts';
import { acceptedSecondFactors, provesAcceptedSecondFactor, reachesAcr } from '../../policy/proof-rules.ts';
import { challengeAmong, type Decision } from '../../steps/decision.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import type { RequiredAction } from '../../actions/action.ts';

export type { FactorFacts } from '../../policy/proof-rules.ts';

export interface StepInput extends FlowFacts {
  /** The registered required actions, in the order they run (their pure rules only are used). */
  actions: readonly Pick<RequiredAction, 'id' | 'due' | 'next'>[];
}

/** The login kind's answers: the kit's whole vocabulary (steps/decision.ts). */
export type LoginStep = Decision;

/** Where the second factor stands: enough, a challenge to answer, or one the account lacks. */
type SecondFactor = { kind: 'satisfied' } | { kind: 'missing' } | Extract<Decision, { kind: 'factor' }>;

function secondFactor(input: StepInput, identifying: Proof): SecondFactor {
  const facts = input.factors;
  const proved = new Set(input.proofs.map((p) => p.factor));
  // A factor proved in this login is not asked again (a passkey that identified the patient).
  const enrolledAny = facts.filter((f) => f.role === 'second' && f.enrolled && !proved.has(f.id));
  const enrolled = enrolledAny.filter((f) => acceptsMethod(input.policy, f.id));
  // What stands as the second factor: every proof after the identifying one, and the identifying
  // one itself when it is multi-factor on its own (a passkey that verified the user).
  const secondProofs = [...(identifying.multiFactor ? [identifying] : []), ...input.proofs.slice(1)];
  const allowedProved = secondProofs.some((p) => provesAcceptedSecondFactor(p, input.policy, facts));
  const acrMet = !input.requiredAcr || acrRank(deriveAssurance(input.proofs).acr) >= acrRank(input.requiredAcr);
  const required = input.policy.mfa === 'required';
  // An enrolled factor is always asked for: a patient who set up 2FA expects it every time, also
  // at a portal that does not list that method.
  const wantsSecond = required || enrolledAny.length > 0 || !acrMet;
  if (!wantsSecond) return { kind: 'satisfied' };
  if (acrMet && (allowedProved || (!required && secondProofs.length > 0))) return { kind: 'satisfied' };
  // A factor the account has and the portal accepts (a recovery code stands in for it).
  const usable = challengeAmong(enrolled.filter((f) => reachesAcr(input.proofs, f, input.requiredAcr)), input);
  if (usable) return usable;
  // At a portal that requires neither MFA nor more than the password reaches, any factor the
  // account has is this login's second factor; nothing is enrolled here.
  if (enrolledAny.length > 0 && !required && acrMet) return challengeAmong(enrolledAny, input) ?? { kind: 'satisfied' };
  return { kind: 'missing' };
}

/**
 * The first position: the page of the first factor that can fill it (the password), with the
 * others that can (a passkey) beside it as companions where the portal accepts them. The
 * identifying proof is the flow's first: nothing is proved before the patient is known.
 */
function firstPosition(input: StepInput): { identifying: Proof } | Decision {
  const candidates = input.factors.filter((f) => f.positions.includes('first'));
  const page = candidates[0];
  if (!page) return { kind: 'unreachable', reason: 'no_allowed_method' };
  const identifying = input.proofs[0];
  if (identifying && candidates.some((f) => f.id === identifying.factor)) return { identifying };
  const companions = candidates.slice(1).filter((f) => f.role !== 'second' || acceptsMethod(input.policy, f.id)).map((f) => f.id);
  return { kind: 'factor', factor: page.id, mode: 'challenge', alternatives: [], ...(companions.length ? { companions } : {}) };
}

export function decideLoginStep(input: StepInput): Decision {
  const first = firstPosition(input);
  if ('kind' in first) return first;

  const second = secondFactor(input, first.identifying);
  if (second.kind === 'factor') return second;
  // After authentication, before the portal gets the login: what is due, in registry order.
  const facts = { ...input, secondFactorMissing: second.kind === 'missing' };
  const due = input.actions.find((action) => action.due(facts));
  if (due) return due.next(facts);
  if (second.kind === 'missing') return { kind: 'unreachable', reason: acceptedSecondFactors(input.policy, input.factors).length ? 'acr_unreachable' : 'no_allowed_method' };
  return { kind: 'done' };
}
