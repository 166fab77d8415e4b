// The enrol-second-factor action's own rules: when it is due, what marks it done, and the steps it
// drives (the login decider's tests in test/unit/decide-step.test.ts cover it inside a login).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolSecondFactorAction as action } from '../../src/actions/enrol-second-factor/enrol-second-factor-action.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { actionFacts, factorFacts, passwordProof, stored } from '../support/action-facts.ts';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent } from '../support/user-agent.ts';
import { enrolWithApp, stepAlignedTime } from '../support/totp.ts';

describe('enrol-second-factor', () => {
  it('is due when the login needs a second factor the account lacks', () => {
    expect(action.due(actionFacts())).toBe(false);
    expect(action.due(actionFacts({ secondFactorMissing: true }))).toBe(true);
  });

  it('is due when stored on the account until the account has a second factor, which marks it done', () => {
    expect(action.due(actionFacts({ account: stored('enrol-second-factor') }))).toBe(true);
    const withApp = actionFacts({ account: stored('enrol-second-factor'), factors: factorFacts(['totp']) });
    expect(action.due(withApp)).toBe(false);
    expect(action.done(withApp)).toBe(true);
    expect(action.done(actionFacts({ account: stored('enrol-second-factor') }))).toBe(false);
  });

  it('skips the password again where the portal switched it off, but only for a password typed in this flow', () => {
    const policy = policyFromMetadata({ client_id: 'zinn', mfa: 'required', mfa_methods: ['sms', 'totp'], reauth_before_enrolment: false });
    const typed = { ...passwordProof, at: 1_000 };
    expect(action.next(actionFacts({ policy, proofs: [typed], startedAt: 500, secondFactorMissing: true }))).toEqual({ kind: 'choose-enrolment', methods: ['sms', 'totp'] });
    // A step-up's password, seeded from an older session, is not this flow's: asked again.
    expect(action.next(actionFacts({ policy, proofs: [typed], startedAt: 2_000, secondFactorMissing: true }))).toEqual({ kind: 'reauthenticate', factor: 'password' });
    expect(action.next(actionFacts({ policy, proofs: [typed], secondFactorMissing: true }))).toEqual({ kind: 'reauthenticate', factor: 'password' });
  });

  it('asks the password again, then the method, on an account without a second factor (Minddistrict)', () => {
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['sms', 'totp'] });
    expect(action.next(actionFacts({ policy, secondFactorMissing: true }))).toEqual({ kind: 'reauthenticate', factor: 'password' });
    expect(action.next(actionFacts({ policy, reauthenticated: true }))).toEqual({ kind: 'choose-enrolment', methods: ['sms', 'totp'] });
    expect(action.next(actionFacts({ policy, reauthenticated: true, enrolling: 'sms' }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'enrol', alternatives: ['totp'] });
  });

  it('makes an account with a factor prove its strongest one, freshly, before another is set up', () => {
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['totp'] });
    const account = factorFacts(['sms', 'email', 'recovery']);
    expect(action.next(actionFacts({ policy, factors: account }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: ['recovery'] });
    const replayed = { factor: 'sms', amr: ['sms'], strength: 2 as const, at: 0, replayed: true };
    expect(action.next(actionFacts({ policy, factors: account, proofs: [passwordProof, replayed] }))).toMatchObject({ kind: 'factor', factor: 'sms', mode: 'challenge' });
    const fresh = { ...replayed, replayed: false };
    expect(action.next(actionFacts({ policy, factors: account, proofs: [passwordProof, fresh] }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol', alternatives: [] });
  });

  it('says so when nothing the portal accepts can be set up', () => {
    const policy = policyFromMetadata({ client_id: 'mtd', mfa: 'required', mfa_methods: ['email'] });
    expect(action.next(actionFacts({ policy, requiredAcr: 'urn:poortwachter:acr:substantial' }))).toEqual({ kind: 'unreachable', reason: 'acr_unreachable' });
  });
});

describe('enrol-second-factor stored on the account', () => {
  let world: FactorWorld;

  beforeAll(async () => {
    world = await startFactorWorld({ now: stepAlignedTime() });
  });
  afterAll(() => world?.close());

  it('sets up the app at a portal that does not require a second factor, then clears itself', async () => {
    const portal = await world.portal({ name: 'Optioneel', mfa: 'optional', mfaMethods: ['totp'] });
    const account = await world.server.addUser({ username: 'operator-wil-2fa' });
    await world.server.services.store.accounts.update({ ...account, requiredActions: ['enrol-second-factor'] });
    const { tokens, recoveryCodes } = await enrolWithApp(portal, new UserAgent(), world.clock, account.username);
    expect(tokens.claims()!.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(recoveryCodes).toHaveLength(6);
    expect((await world.server.services.accounts.findById(account.id))!.requiredActions).toEqual([]);
  });
});
