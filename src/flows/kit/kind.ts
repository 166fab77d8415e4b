// A flow kind: what the runner (runner.ts) needs of login, settings and the kinds still to come
// (recovery, unlock, activation). A kind is a pure decider (facts in, next step out) behind
// `decide`, the steps it may use, its page chrome, and its completion. Adding a kind adds a folder
// under flows/ with one of these; the runner and the other kinds stay as they are.
import type { Decision } from '../../steps/decision.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import type { Form, Step, StepMode, StepOutcome } from '../../steps/step.ts';
import type { FlowRun } from './run.ts';
import type { AfterHook } from '../../hooks/registry.ts';
import type { FlowEvent } from '../../steps/events.ts';

/** What every page of a kind shows around its step: where forms post, the portal, the cancel button. */
export interface PageChrome {
  /** The URL a step's form posts `action` to. */
  stepAction(step: string, action: string): string;
  abortAction: string;
  /** Where a method choice posts: "use another method" at a challenge, another method while enrolling. */
  choiceAction(mode: StepMode): string;
  /** Locals for every page of the kind (the portal, the cancel wording, the "remember me" box, ...). */
  locals: Record<string, unknown>;
}

/** A step that just finished, for the kind's own bookkeeping. */
export interface FinishedStep {
  step: Step;
  mode: StepMode;
  decision: Decision;
  outcome: Extract<StepOutcome, { kind: 'proved' | 'enrolled' | 'done' }>;
  form: Form;
}

export interface FlowKind<R extends FlowRun> {
  /** Stored as the flow's kind. */
  readonly name: string;
  /** Reads the facts the decider needs (flows/kit/facts.ts, plus what is the kind's own: a demanded level). */
  facts(run: R): Promise<FlowFacts>;
  /** The kind's decider: pure, facts in, next step out. */
  decide(facts: FlowFacts): Decision;
  /** The steps this kind may use, by id (factors, required actions' pages). */
  step(id: string): Step | undefined;
  chrome(run: R): PageChrome;
  /** The labels of the alternatives a step page offers ("use another method"). */
  alternativeLabels(run: R, ids: readonly string[], mode: StepMode): Promise<Array<{ id: string; label: string }>>;
  /** Before each decision that may enter a step (e.g. a remembered device stands in for a factor). */
  beforeDecide?(run: R): Promise<void>;
  /** A step finished: what the kind does about it before the runner records it. */
  afterStep?(run: R, finished: FinishedStep): Promise<void>;
  /** Its after-hooks, in order: they react to the events the flow recorded (src/hooks/). */
  readonly hooks: readonly AfterHook[];
  /** Where the flow happens, for the hooks: the portal of a login, or the account page (null, undefined). */
  where(run: R): { clientId: string | null; portal: string | undefined };
  /** The event that says the flow completed, if the kind records one (a login's acr and amr). */
  completedEvent?(run: R): FlowEvent | undefined;
  /**
   * The decider says `done` and the hooks ran: hand the result over (login) or show the kind's
   * home page (settings).
   */
  complete(run: R): Promise<void>;
}
