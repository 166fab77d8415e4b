// The part of a flow's persisted state that the runner owns, the same for every flow kind: what
// was proved, which step was entered, what the patient chose, what was enrolled and which
// required actions were done in this flow. A kind adds its own fields beside these.
import type { Proof } from '../../oidc/assurance.ts';
import type { PasswordChangeReason, StepMode } from '../../steps/step.ts';

export interface KitState {
  proofs: Proof[];
  /** Each step's scratch space, by step id (steps/step.ts StepScratch). */
  scratch: Record<string, Record<string, unknown>>;
  /** The step that was entered, so a reload shows it again without entering it anew (no second code sent). */
  current?: { step: string; mode: StepMode };
  /** The method picked under "use another method". */
  chosenFactor?: string;
  /** The method picked to set up. */
  enrolling?: string;
  /** The first factor was entered again before a first second factor is bound. */
  reauthenticated?: boolean;
  /** Factors enrolled in this flow, in order. */
  enrolledInFlow: string[];
  /** Required actions done in this flow. */
  actionsDone: string[];
  /** The typed password must be replaced before the flow completes (a temporary one, one failing the portal's profile). */
  passwordChange?: PasswordChangeReason;
  /** The account's own addresses proved in this flow (steps/step.ts `provedAddresses`). */
  provedAddresses?: Array<'email' | 'phone'>;
}

export function newKitState(): KitState {
  return { proofs: [], scratch: {}, enrolledInFlow: [], actionsDone: [] };
}
