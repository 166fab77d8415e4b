// The step engine of the login flow: from what is known (the account's state, the portal's
// policy, the level asked for, what this flow already proved) it decides the next step, and which
// other methods the patient may pick there ("use another method"). It is a pure function: no I/O,
// so every rule is testable on its own. It never names a factor except through the registry's
// roles; the rules it shares with other places live in ../proof-rules.ts.
import { acrRank, deriveAssurance, type Proof } from '../../oidc/assurance.ts';
import { acceptsMethod, type PortalPolicy } from '../../oidc/client-policy.ts';
import { acceptedSecondFactors, bindingFactors, provesAcceptedSecondFactor, provesBinding, type FactorFacts } from '../../policy/proof-rules.ts';
import { challengeAmong, type Decision } from '../../steps/decision.ts';

export type { FactorFacts } from '../../policy/proof-rules.ts';

export interface StepInput {
  proofs: readonly Proof[];
  policy: PortalPolicy;
  /** The acr the request and portal demand, if any. */
  requiredAcr: string | undefined;
  factors: readonly FactorFacts[];
  /** The second factor the user picked ("use another method"), if any. */
  chosenFactor: string | undefined;
  /** The account's preferred second factor. */
  defaultFactor: string | undefined;
  /** An enrolment in progress (chosen method). */
  enrolling: string | undefined;
  /** Whether the password was entered again for enrolment (Minddistrict asks for that). */
  reauthenticated: boolean;
  /** Factors enrolled in this very flow (recovery codes are shown after the first one). */
  enrolledInFlow: readonly string[];
}

/** The login kind's answers: the kit's whole vocabulary (steps/decision.ts). */
export type LoginStep = Decision;

export function decideLoginStep(input: StepInput): LoginStep {
  const facts = input.factors;
  const first = facts.find((f) => f.role === 'first');
  const proved = new Set(input.proofs.map((p) => p.factor));
  if (!first) return { kind: 'unreachable', reason: 'no_allowed_method' };
  if (!proved.has(first.id)) return { kind: 'factor', factor: first.id, mode: 'challenge', alternatives: [] };

  const allowed = acceptedSecondFactors(input.policy, facts);
  const enrolledAny = facts.filter((f) => f.role === 'second' && f.enrolled);
  const enrolled = enrolledAny.filter((f) => acceptsMethod(input.policy, f.id));
  const recovery = facts.find((f) => f.role === 'recovery');
  const secondProofs = input.proofs.filter((p) => p.factor !== first.id);
  const allowedProved = secondProofs.some((p) => provesAcceptedSecondFactor(p, input.policy, facts));

  // Recovery codes are shown once, right after the first second factor is enrolled.
  if (recovery && !recovery.enrolled && input.enrolledInFlow.length > 0 && !input.enrolledInFlow.includes(recovery.id)) {
    return { kind: 'factor', factor: recovery.id, mode: 'enrol', alternatives: [] };
  }

  const current = deriveAssurance(input.proofs);
  const acrMet = !input.requiredAcr || acrRank(current.acr) >= acrRank(input.requiredAcr);
  const required = input.policy.mfa === 'required';
  // An enrolled factor is always asked for: a patient who set up 2FA expects it every time, also
  // at a portal that does not list that method.
  const wantsSecond = required || enrolledAny.length > 0 || !acrMet;
  if (!wantsSecond) return { kind: 'done' };
  if (acrMet && (allowedProved || (!required && secondProofs.length > 0))) return { kind: 'done' };

  const strongEnough = (f: FactorFacts) => !input.requiredAcr || acrRank(deriveAssurance([...input.proofs, { factor: f.id, amr: [], strength: f.strength, at: 0 }]).acr) >= acrRank(input.requiredAcr);

  const challenge = (candidates: readonly FactorFacts[]) => challengeAmong(candidates, input);

  // A factor the account has and the portal accepts (a recovery code stands in for it).
  const usable = challenge(enrolled.filter(strongEnough));
  if (usable) return usable;

  const enrollable = allowed.filter((f) => f.enrollable && strongEnough(f));
  if (enrolledAny.length > 0) {
    // At a portal that requires neither MFA nor more than the password reaches, any factor the
    // account has is this login's second factor; nothing is enrolled here.
    if (!required && acrMet) return challenge(enrolledAny) ?? { kind: 'done' };
    // Something new must be set up. Before a new authenticator is bound to the account, the
    // patient proves a fresh factor of the account's strongest kind (../proof-rules.ts).
    if (enrollable.length > 0 && !provesBinding(input.proofs, facts)) {
      const ownership = challenge(bindingFactors(facts).filter((f) => f.role === 'second'));
      if (ownership) return ownership;
    }
  }

  // Enrol one during the login: on a first set-up after the password again (Minddistrict), or
  // after the ownership proof above.
  if (enrollable.length === 0) return { kind: 'unreachable', reason: allowed.length ? 'acr_unreachable' : 'no_allowed_method' };
  if (enrolledAny.length === 0 && !input.reauthenticated) return { kind: 'reauthenticate', factor: first.id };
  const chosen = enrollable.find((f) => f.id === input.enrolling) ?? (enrollable.length === 1 ? enrollable[0] : undefined);
  if (chosen) return { kind: 'factor', factor: chosen.id, mode: 'enrol', alternatives: enrollable.filter((f) => f !== chosen).map((f) => f.id) };
  return { kind: 'choose-enrolment', methods: enrollable.map((f) => f.id) };
}
