// The step engine of the login flow: from what is known (the account's state, the portal's
// policy, the level asked for, what this flow already proved) it decides the next step. It is a
// pure function: no I/O, so every rule is testable on its own. It never names a factor except
// through the registry's roles.
import { acrRank, deriveAssurance, type Proof } from '../../oidc/assurance.ts';
import type { PortalPolicy } from '../../oidc/client-policy.ts';
import type { FactorMode } from '../../factors/factor.ts';

export interface FactorFacts {
  id: string;
  role: 'first' | 'second' | 'recovery';
  strength: 1 | 2;
  enrolled: boolean;
  enrollable: boolean;
}

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

export type LoginStep =
  | { kind: 'factor'; factor: string; mode: FactorMode }
  | { kind: 'reauthenticate'; factor: string }
  | { kind: 'choose-enrolment'; methods: string[] }
  | { kind: 'done' }
  | { kind: 'unreachable'; reason: 'no_allowed_method' | 'acr_unreachable' };

function allowedSecondFactors(input: StepInput): FactorFacts[] {
  return input.factors.filter((f) => f.role === 'second' && (input.policy.mfaMethods as string[]).includes(f.id));
}

export function decideLoginStep(input: StepInput): LoginStep {
  const first = input.factors.find((f) => f.role === 'first');
  const proved = new Set(input.proofs.map((p) => p.factor));
  if (!first) return { kind: 'unreachable', reason: 'no_allowed_method' };
  if (!proved.has(first.id)) return { kind: 'factor', factor: first.id, mode: 'challenge' };

  const allowed = allowedSecondFactors(input);
  const allowedIds = new Set(allowed.map((f) => f.id));
  const enrolledAny = input.factors.filter((f) => f.role === 'second' && f.enrolled);
  const enrolled = enrolledAny.filter((f) => allowedIds.has(f.id));
  const recovery = input.factors.find((f) => f.role === 'recovery');
  const secondProofs = input.proofs.filter((p) => p.factor !== first.id);
  // A recovery code stands in for the account's factors, so it counts where one of them would.
  const allowedProved = secondProofs.some((p) => allowedIds.has(p.factor) || (p.factor === recovery?.id && enrolled.length > 0));

  // Recovery codes are shown once, right after the first second factor is enrolled.
  if (recovery && !recovery.enrolled && input.enrolledInFlow.length > 0 && !input.enrolledInFlow.includes(recovery.id)) {
    return { kind: 'factor', factor: recovery.id, mode: 'enrol' };
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
  const recoveryChosen = input.chosenFactor !== undefined && input.chosenFactor === recovery?.id && recovery.enrolled;
  const pickFrom = (candidates: FactorFacts[]): LoginStep | undefined => {
    if (recoveryChosen) return { kind: 'factor', factor: recovery.id, mode: 'challenge' };
    const pick = candidates.find((f) => f.id === input.chosenFactor) ?? candidates.find((f) => f.id === input.defaultFactor) ?? candidates[0];
    return pick ? { kind: 'factor', factor: pick.id, mode: 'challenge' } : undefined;
  };

  // Ask for a factor the account has and the portal accepts (the chosen one, the default, else the first).
  const usable = pickFrom(enrolled.filter(strongEnough));
  if (usable) return usable;

  // The account has factors, but none this portal accepts (or strong enough): before anything new
  // is added, the patient proves they own the account with a factor they already have. At a portal
  // where MFA is optional, that proof is the second factor of this login.
  if (secondProofs.length === 0 && enrolledAny.length > 0) {
    const ownership = pickFrom(enrolledAny);
    if (ownership && (!required || allowed.some((f) => f.enrollable))) return ownership;
  }

  // Enrol one during the login: on a first set-up after the password again (Minddistrict), or
  // after the ownership proof above.
  const enrollable = allowed.filter((f) => f.enrollable && strongEnough(f));
  if (enrollable.length === 0) return { kind: 'unreachable', reason: allowed.length ? 'acr_unreachable' : 'no_allowed_method' };
  if (secondProofs.length === 0 && !input.reauthenticated) return { kind: 'reauthenticate', factor: first.id };
  const chosen = enrollable.find((f) => f.id === input.enrolling);
  if (chosen) return { kind: 'factor', factor: chosen.id, mode: 'enrol' };
  if (enrollable.length === 1) return { kind: 'factor', factor: enrollable[0]!.id, mode: 'enrol' };
  return { kind: 'choose-enrolment', methods: enrollable.map((f) => f.id) };
}
