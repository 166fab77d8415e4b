// The RequiredAction interface: one per folder under actions/ (Keycloak's "required actions"). An
// action is a step that must run inside a flow before it completes — after the patient proved who
// they are and before the portal gets the login —, either stored on the account
// (`AccountRecord.requiredActions`) or due from facts (a temporary password, a portal requiring a
// second factor the account lacks). It declares when it is due and what comes next while it is;
// its own page (if any) is a step that ends in `done`, never in a proof. Flows only talk to this
// interface through the registry, so adding an action never changes a flow.
import type { Decision } from '../steps/decision.ts';
import type { FlowFacts } from '../steps/facts.ts';
import type { Step, StepOutcome } from '../steps/step.ts';

/** What an action's page ends in: done, shown again, or failed. Never `proved`: an action adds no proof. */
export type ActionOutcome = Extract<StepOutcome, { kind: 'done' | 'show' | 'fail' }>;

export interface ActionFacts extends FlowFacts {
  /**
   * The flow needs a second factor the account does not have (a portal requires one, or demands a
   * level only a factor the account lacks reaches): worked out by the flow kind's decider.
   */
  secondFactorMissing: boolean;
}

/** While due, an action either shows its own page or drives factor steps (setting one up, its recovery codes). */
export type ActionNext = Exclude<Decision, { kind: 'done' }>;

export interface RequiredAction {
  /** Stored in `AccountRecord.requiredActions`; unique among actions and factors (it names the step in URLs). */
  readonly id: string;
  /** `login`: only before a login is handed to a portal; `any`: in every flow that binds factors (login and /account). */
  readonly scope: 'login' | 'any';
  /** Pure: whether it must run now. */
  due(facts: ActionFacts): boolean;
  /**
   * Pure: what marks it done — its page finished in this flow, or the account now has what it
   * asked for (a second factor, recovery codes). Stored on the account and done: the flow clears it.
   */
  done(facts: FlowFacts): boolean;
  /** Pure: the step that comes next while it is due. */
  next(facts: ActionFacts): ActionNext;
  /** Its own page, shown for `{ kind: 'action' }`: a step whose `done` marks the action done in the flow. */
  readonly page?: Step<ActionOutcome>;
}

/** For actions with a page of their own: while due, that page. */
export function ownPage(id: string): () => ActionNext {
  return () => ({ kind: 'action', action: id });
}

/**
 * Due, done and next of an action that runs only when stored on the account (an operator or an
 * import asked for it) and is done once its own page finished in this flow.
 */
export function storedOnAccount(id: string): Pick<RequiredAction, 'due' | 'done' | 'next'> {
  return {
    due: (facts) => facts.account.requiredActions.includes(id) && !facts.actionsDone.includes(id),
    done: (facts) => facts.actionsDone.includes(id),
    next: ownPage(id),
  };
}
