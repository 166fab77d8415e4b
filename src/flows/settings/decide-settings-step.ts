// The decider of the settings kind (/account): a method the patient chose to add or replace is set
// up in enrol mode; then the required actions of every flow that binds factors are run (the
// recovery codes after a first second factor); with nothing pending the patient is back on the
// overview (`done`). Pure: facts in, next step out.
import type { Decision } from '../../steps/decision.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import type { RequiredAction } from '../../actions/action.ts';

export interface SettingsInput extends FlowFacts {
  /** The registered required actions that run in every flow (scope `any`), in order. */
  actions: readonly Pick<RequiredAction, 'id' | 'due' | 'next'>[];
}

export function decideSettingsStep(input: SettingsInput): Decision {
  if (input.enrolling) return { kind: 'factor', factor: input.enrolling, mode: 'enrol', alternatives: [] };
  const facts = { ...input, secondFactorMissing: false };
  const due = input.actions.find((action) => action.due(facts));
  return due ? due.next(facts) : { kind: 'done' };
}
