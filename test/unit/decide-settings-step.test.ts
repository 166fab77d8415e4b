// The settings kind's decider: the method being added, then the recovery codes after a first
// second factor (the same action as in a login), then the overview.
import { describe, expect, it } from 'vitest';
import { decideSettingsStep } from '../../src/flows/settings/decide-settings-step.ts';
import { allActions } from '../../src/actions/registry.ts';
import { actionFacts, factorFacts } from '../support/action-facts.ts';

const input = (overrides: Parameters<typeof actionFacts>[0] = {}) => ({ ...actionFacts({ proofs: [], ...overrides }), actions: allActions().filter((a) => a.scope === 'any') });

describe('settings decider', () => {
  it('sets up the chosen method, then shows the recovery codes of a first second factor, then the overview', () => {
    expect(decideSettingsStep(input())).toEqual({ kind: 'done' });
    expect(decideSettingsStep(input({ enrolling: 'totp' }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol', alternatives: [] });
    expect(decideSettingsStep(input({ factors: factorFacts(['totp']), enrolledInFlow: ['totp'] }))).toEqual({ kind: 'factor', factor: 'recovery', mode: 'enrol', alternatives: [] });
    expect(decideSettingsStep(input({ factors: factorFacts(['totp', 'recovery']), enrolledInFlow: ['totp', 'recovery'] }))).toEqual({ kind: 'done' });
  });

  it('runs no login-only action on the account page', () => {
    expect(decideSettingsStep(input({ account: { requiredActions: ['verify-email', 'update-password'], passwordChangeRequired: true } }))).toEqual({ kind: 'done' });
  });
});
