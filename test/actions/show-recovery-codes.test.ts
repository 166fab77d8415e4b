// The show-recovery-codes action: the codes follow the first second factor, in any flow.
import { describe, expect, it } from 'vitest';
import { showRecoveryCodesAction as action } from '../../src/actions/show-recovery-codes/show-recovery-codes-action.ts';
import { actionFacts, factorFacts } from '../support/action-facts.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';

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

  it('is not due at a portal that switched recovery codes off (one with a fallback on another channel)', () => {
    const policy = policyFromMetadata({ client_id: 'p', redirect_uris: ['https://p.example/cb'], mfa_methods: ['sms', 'totp'], recovery_codes: false });
    expect(action.due(actionFacts({ policy, factors: factorFacts(['totp']), enrolledInFlow: ['totp'] }))).toBe(false);
  });

  it('runs in every flow that binds factors, not only in a login', () => {
    expect(action.scope).toBe('any');
  });
});
