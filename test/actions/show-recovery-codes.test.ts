// The show-recovery-codes action: the codes follow the first second factor, in any flow.
import { describe, expect, it } from 'vitest';
import { showRecoveryCodesAction as action } from '../../src/actions/show-recovery-codes/show-recovery-codes-action.ts';
import { actionFacts, factorFacts } from '../support/action-facts.ts';

describe('show-recovery-codes', () => {
  it('is due right after a second factor was set up in this flow on an account without codes', () => {
    expect(action.due(actionFacts())).toBe(false);
    expect(action.due(actionFacts({ factors: factorFacts(['totp']), enrolledInFlow: ['totp'] }))).toBe(true);
    expect(action.next(actionFacts({ enrolledInFlow: ['totp'] }))).toEqual({ kind: 'factor', factor: 'recovery', mode: 'enrol', alternatives: [] });
  });

  it('is not due when the account has codes already, and done once they were saved', () => {
    expect(action.due(actionFacts({ factors: factorFacts(['totp', 'recovery']), enrolledInFlow: ['totp'] }))).toBe(false);
    const saved = actionFacts({ factors: factorFacts(['totp', 'recovery']), enrolledInFlow: ['totp', 'recovery'] });
    expect(action.due(saved)).toBe(false);
    expect(action.done(saved)).toBe(true);
  });

  it('runs in every flow that binds factors, not only in a login', () => {
    expect(action.scope).toBe('any');
  });
});
