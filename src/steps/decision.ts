// What a flow kind's decider answers, and so what the runner (flows/kit/runner.ts) acts on. A
// decider is a pure function of facts (steps/facts.ts); this is its whole vocabulary.
import type { StepMode } from './step.ts';
import type { FactorFacts } from '../policy/proof-rules.ts';

export type Decision =
  /**
   * A factor step. `alternatives`: the other methods the patient may switch to on this page — at a
   * challenge the account's methods that would count here (posted to `/choose`), while enrolling
   * the other methods that may be set up instead (posted to `/enrol`). Nothing else is offered or
   * accepted.
   */
  | {
    kind: 'factor'; factor: string; mode: StepMode; alternatives: string[];
    /**
     * Other steps shown on the same page, whose forms the runner accepts as this step's: the
     * factors that can fill the same position without a choice first (a passkey beside the
     * password, also in the username field's autofill).
     */
    companions?: string[];
  }
  /** The first factor again, before an account without a second factor binds one (Minddistrict). */
  | { kind: 'reauthenticate'; factor: string }
  /** Which method to set up: one of `methods` (posted to `/enrol`). */
  | { kind: 'choose-enrolment'; methods: string[] }
  /** A required action's own page. */
  | { kind: 'action'; action: string }
  /** Nothing left: the flow completes (after-hooks, then the kind's completion). */
  | { kind: 'done' }
  /** What is demanded cannot be reached with what is allowed: a page that says so. */
  | { kind: 'unreachable'; reason: 'no_allowed_method' | 'acr_unreachable' };

/** The facts a challenge is chosen by. */
export interface ChallengeChoice {
  factors: readonly FactorFacts[];
  /** The method the patient picked ("use another method"), if any. */
  chosenFactor: string | undefined;
  /** The account's preferred second factor. */
  defaultFactor: string | undefined;
}

/**
 * Asks one of `candidates` — the chosen one, else the account's default, else the first — and
 * offers the rest, plus the recovery codes when the account has them, as alternatives. Undefined
 * when there is no candidate.
 */
export function challengeAmong(candidates: readonly FactorFacts[], choice: ChallengeChoice): Extract<Decision, { kind: 'factor' }> | undefined {
  const recovery = choice.factors.find((f) => f.role === 'recovery');
  const offered = recovery?.enrolled ? [...candidates, recovery] : [...candidates];
  const pick = offered.find((f) => f.id === choice.chosenFactor) ?? candidates.find((f) => f.id === choice.defaultFactor) ?? candidates[0];
  if (!pick) return undefined;
  return { kind: 'factor', factor: pick.id, mode: 'challenge', alternatives: offered.filter((f) => f.id !== pick.id).map((f) => f.id) };
}
