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
  const enrolled = allowed.filter((f) => f.enrolled);
  const recovery = input.factors.find((f) => f.role === 'recovery');
  const secondProved = input.proofs.some((p) => p.factor !== first.id);

  // Recovery codes are shown once, right after the first second factor is enrolled.
  if (recovery && !recovery.enrolled && input.enrolledInFlow.length > 0 && !input.enrolledInFlow.includes(recovery.id)) {
    return { kind: 'factor', factor: recovery.id, mode: 'enrol' };
  }

  const current = deriveAssurance(input.proofs);
  const acrMet = !input.requiredAcr || acrRank(current.acr) >= acrRank(input.requiredAcr);
  // An enrolled factor is always asked for: a patient who set up 2FA expects it every time.
  const wantsSecond = input.policy.mfa === 'required' || enrolled.length > 0 || !acrMet;
  if (secondProved && acrMet) return { kind: 'done' };
  if (!wantsSecond) return { kind: 'done' };

  // Ask for a factor the account has (the chosen one, the default, else the first).
  const strongEnough = (f: FactorFacts) => !input.requiredAcr || acrRank(deriveAssurance([...input.proofs, { factor: f.id, amr: [], strength: f.strength, at: 0 }]).acr) >= acrRank(input.requiredAcr);
  const usable = enrolled.filter(strongEnough);
  if (usable.length > 0) {
    const pick = usable.find((f) => f.id === input.chosenFactor)
      ?? (input.chosenFactor === recovery?.id && recovery?.enrolled ? recovery : undefined)
      ?? usable.find((f) => f.id === input.defaultFactor)
      ?? usable[0]!;
    return { kind: 'factor', factor: pick.id, mode: 'challenge' };
  }
  if (input.chosenFactor && input.chosenFactor === recovery?.id && recovery.enrolled) {
    return { kind: 'factor', factor: recovery.id, mode: 'challenge' };
  }

  // Nothing usable enrolled: enrol one during the login.
  const enrollable = allowed.filter((f) => f.enrollable && strongEnough(f));
  if (enrollable.length === 0) return { kind: 'unreachable', reason: allowed.length ? 'acr_unreachable' : 'no_allowed_method' };
  if (!input.reauthenticated) return { kind: 'reauthenticate', factor: first.id };
  const chosen = enrollable.find((f) => f.id === input.enrolling);
  if (chosen) return { kind: 'factor', factor: chosen.id, mode: 'enrol' };
  if (enrollable.length === 1) return { kind: 'factor', factor: enrollable[0]!.id, mode: 'enrol' };
  return { kind: 'choose-enrolment', methods: enrollable.map((f) => f.id) };
}
