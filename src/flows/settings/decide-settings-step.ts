// The decider of the settings kind (/account): a method the patient chose to add or replace is set
// up in enrol mode; after the first second factor the recovery codes follow, as in a login; with
// nothing pending the patient is back on the overview (`done`). Pure: facts in, next step out.
import type { Decision } from '../../steps/decision.ts';
import type { FlowFacts } from '../../steps/facts.ts';

export type SettingsFacts = Pick<FlowFacts, 'factors' | 'enrolling' | 'enrolledInFlow'>;

export function decideSettingsStep(facts: SettingsFacts): Decision {
  if (facts.enrolling) return { kind: 'factor', factor: facts.enrolling, mode: 'enrol', alternatives: [] };
  const recovery = facts.factors.find((f) => f.role === 'recovery');
  const boundSecond = facts.enrolledInFlow.some((id) => facts.factors.find((f) => f.id === id)?.role === 'second');
  if (recovery && !recovery.enrolled && boundSecond && !facts.enrolledInFlow.includes(recovery.id)) {
    return { kind: 'factor', factor: recovery.id, mode: 'enrol', alternatives: [] };
  }
  return { kind: 'done' };
}
