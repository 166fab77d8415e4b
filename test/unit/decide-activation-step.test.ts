// The activation kind's decider, without I/O: the order of the required actions it runs (phone,
// password, second factor, recovery codes), and that it only orders what the actions decide.
import { describe, expect, it } from 'vitest';
import { decideActivationStep, type ActivationFacts } from '../../src/flows/activation/decide-activation-step.ts';
import { allActions } from '../../src/actions/registry.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { actionFacts, factorFacts } from '../support/action-facts.ts';

const MTD = policyFromMetadata({ client_id: 'mtd', redirect_uris: ['https://mtd.example/cb'], mfa: 'required', mfa_methods: ['totp', 'email'], verify_phone: true });
const ONLY_APP = policyFromMetadata({ client_id: 'app', redirect_uris: ['https://app.example/cb'], mfa_methods: ['totp'] });

/** A fresh activation: nothing proved, the first password still to set. */
function input(overrides: Partial<ActivationFacts> = {}): ActivationFacts {
  const { secondFactorMissing: _ignored, ...base } = actionFacts({ proofs: [], policy: MTD, account: { requiredActions: [], passwordChangeRequired: true } });
  return { ...base, phoneToVerify: false, actions: allActions(), ...overrides };
}

describe('decideActivationStep', () => {
  it('verifies the phone first when the portal wants it and the number is not verified yet', () => {
    expect(decideActivationStep(input({ phoneToVerify: true }))).toEqual({ kind: 'action', action: 'verify-phone' });
    expect(decideActivationStep(input({ phoneToVerify: true, actionsDone: ['verify-phone'] }))).toEqual({ kind: 'action', action: 'update-password' });
  });

  it('then the first password, whatever else is due', () => {
    expect(decideActivationStep(input())).toEqual({ kind: 'action', action: 'update-password' });
  });

  it('then a choice among the portal\'s methods; the password just set counts as typed again', () => {
    const afterPassword = input({ actionsDone: ['update-password'], reauthenticated: true, account: { requiredActions: [], passwordChangeRequired: false } });
    expect(decideActivationStep(afterPassword)).toEqual({ kind: 'choose-enrolment', methods: ['email', 'totp'] });
    expect(decideActivationStep({ ...afterPassword, enrolling: 'totp' })).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol', alternatives: ['email'] });
    // Without that, the enrolment's own rule asks the password again (the action decides, not the kind).
    expect(decideActivationStep({ ...afterPassword, reauthenticated: false })).toEqual({ kind: 'reauthenticate', factor: 'password' });
  });

  it('a portal with one method sets that one up straight away', () => {
    const facts = input({ policy: ONLY_APP, actionsDone: ['update-password'], reauthenticated: true, account: { requiredActions: [], passwordChangeRequired: false } });
    expect(decideActivationStep(facts)).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol', alternatives: [] });
  });

  it('then the recovery codes when the action says so, then done', () => {
    const enrolled = input({ actionsDone: ['update-password'], reauthenticated: true, account: { requiredActions: [], passwordChangeRequired: false }, factors: factorFacts(['totp']), enrolledInFlow: ['totp'] });
    expect(decideActivationStep(enrolled)).toEqual({ kind: 'factor', factor: 'recovery', mode: 'enrol', alternatives: [] });
    expect(decideActivationStep({ ...enrolled, factors: factorFacts(['totp', 'recovery']), enrolledInFlow: ['totp', 'recovery'] })).toEqual({ kind: 'done' });
    // E-mail as the method: the portal may leave the codes out (two channels).
    const noCodes = policyFromMetadata({ client_id: 'mtd', redirect_uris: ['https://mtd.example/cb'], mfa_methods: ['totp', 'email'], recovery_codes: false });
    expect(decideActivationStep({ ...enrolled, policy: noCodes, factors: factorFacts(['email']), enrolledInFlow: ['email'] })).toEqual({ kind: 'done' });
  });

  it('an account that has a second factor already is done after the password', () => {
    const facts = input({ actionsDone: ['update-password'], account: { requiredActions: [], passwordChangeRequired: false }, factors: factorFacts(['sms']) });
    expect(decideActivationStep(facts)).toEqual({ kind: 'done' });
  });

  it('runs only actions that are registered', () => {
    expect(decideActivationStep(input({ actions: [], phoneToVerify: true }))).toEqual({ kind: 'done' });
  });
});
