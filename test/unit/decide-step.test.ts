// The step engine's rules, one by one, without I/O.
import { describe, expect, it } from 'vitest';
import { decideLoginStep, type FactorFacts, type StepInput } from '../../src/flows/login/decide-step.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { ACR } from '../../src/oidc/assurance.ts';
import { allActions } from '../../src/actions/registry.ts';
import { NO_ACCOUNT_FACTS } from '../../src/steps/facts.ts';

const facts = (enrolled: string[] = []): FactorFacts[] => [
  { id: 'password', role: 'first', positions: ['first'], strength: 1, enrolled: true, enrollable: false },
  { id: 'sms', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('sms'), enrollable: true },
  { id: 'email', role: 'second', positions: ['second'], strength: 1, enrolled: enrolled.includes('email'), enrollable: true },
  { id: 'totp', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('totp'), enrollable: true },
  { id: 'recovery', role: 'recovery', positions: ['fallback'], strength: 2, enrolled: enrolled.includes('recovery'), enrollable: false },
];
const pwd = { factor: 'password', amr: ['pwd'], strength: 1 as const, at: 0 };

function input(overrides: Partial<StepInput> = {}): StepInput {
  return {
    proofs: [],
    policy: policyFromMetadata({ client_id: 'p', redirect_uris: ['https://p.example/cb'] }),
    requiredAcr: undefined,
    factors: facts(),
    chosenFactor: undefined,
    defaultFactor: undefined,
    enrolling: undefined,
    reauthenticated: false,
    enrolledInFlow: [],
    account: NO_ACCOUNT_FACTS,
    actionsDone: [],
    actions: allActions(),
    ...overrides,
  };
}

describe('login step engine', () => {
  it('starts with the password', () => {
    expect(decideLoginStep(input())).toEqual({ kind: 'factor', factor: 'password', mode: 'challenge', alternatives: [] });
  });

  it('is done after the password when nothing more is asked or enrolled', () => {
    expect(decideLoginStep(input({ proofs: [pwd] }))).toEqual({ kind: 'done' });
  });

  it('asks an enrolled factor even when the portal makes MFA optional', () => {
    expect(decideLoginStep(input({ proofs: [pwd], factors: facts(['totp']) }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: [] });
  });

  it('prefers the chosen, then the default factor', () => {
    const base = { proofs: [pwd], factors: facts(['totp', 'sms']) };
    expect(decideLoginStep(input({ ...base, defaultFactor: 'sms' }))).toMatchObject({ factor: 'sms' });
    expect(decideLoginStep(input({ ...base, defaultFactor: 'sms', chosenFactor: 'totp' }))).toMatchObject({ factor: 'totp' });
    expect(decideLoginStep(input({ ...base, factors: facts(['totp', 'recovery']), chosenFactor: 'recovery' }))).toMatchObject({ factor: 'recovery' });
  });

  it('makes an account prove an existing factor before it enrols one a portal requires', () => {
    const policy = policyFromMetadata({ client_id: 'zinn', mfa: 'required', mfa_methods: ['sms'] });
    // A password alone must never add a factor to an account that has one.
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: facts(['totp']), reauthenticated: true }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: [] });
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    // The app proved ownership but is not what this portal accepts: now enrol SMS.
    expect(decideLoginStep(input({ proofs: [pwd, totpProof], policy, factors: facts(['totp']) }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'enrol', alternatives: [] });
  });

  it('asks an enrolled factor even at an optional portal that does not list it, and counts it there', () => {
    const policy = policyFromMetadata({ client_id: 'zinn', mfa: 'optional', mfa_methods: ['sms'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: facts(['totp']) }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: [] });
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    expect(decideLoginStep(input({ proofs: [pwd, totpProof], policy, factors: facts(['totp']) }))).toEqual({ kind: 'done' });
  });

  it('does not let a weak factor enrol a strong one for a substantial demand without proof', () => {
    const emailOnly = facts(['email']);
    const step = decideLoginStep(input({ proofs: [pwd], factors: emailOnly, requiredAcr: ACR.substantial, reauthenticated: true }));
    expect(step).toEqual({ kind: 'factor', factor: 'email', mode: 'challenge', alternatives: [] });
  });

  it('makes an account without a factor enrol when the portal requires MFA: password again first', () => {
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['sms', 'totp'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy }))).toEqual({ kind: 'reauthenticate', factor: 'password' });
    expect(decideLoginStep(input({ proofs: [pwd], policy, reauthenticated: true }))).toEqual({ kind: 'choose-enrolment', methods: ['sms', 'totp'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, reauthenticated: true, enrolling: 'totp' }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol', alternatives: ['sms'] });
  });

  it('shows recovery codes right after the first enrolment, then finishes', () => {
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['totp'] });
    const after = { proofs: [pwd, totpProof], policy, factors: facts(['totp']), enrolledInFlow: ['totp'] };
    expect(decideLoginStep(input(after))).toEqual({ kind: 'factor', factor: 'recovery', mode: 'enrol', alternatives: [] });
    expect(decideLoginStep(input({ ...after, factors: facts(['totp', 'recovery']), enrolledInFlow: ['totp', 'recovery'] }))).toEqual({ kind: 'done' });
  });

  it('steps up past a weak factor when a portal demands substantial', () => {
    const emailProof = { factor: 'email', amr: ['email'], strength: 1 as const, at: 0 };
    const step = decideLoginStep(input({ proofs: [pwd, emailProof], factors: facts(['email', 'sms']), requiredAcr: ACR.substantial }));
    expect(step).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: [] });
  });

  it('says so when the demanded level cannot be reached with what the portal allows', () => {
    const policy = policyFromMetadata({ client_id: 'mtd', mfa_methods: ['email'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, requiredAcr: ACR.substantial, reauthenticated: true }))).toEqual({ kind: 'unreachable', reason: 'acr_unreachable' });
  });

  it('never lets a weaker factor prove ownership before a stronger one is enrolled (issue 6, finding 1)', () => {
    // SMS and e-mail set up; the portal requires the app.
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['totp'] });
    const account = facts(['sms', 'email', 'recovery']);
    const step = decideLoginStep(input({ proofs: [pwd], policy, factors: account, defaultFactor: 'email' }));
    // The SMS (the strongest factor) proves ownership; the recovery codes may stand in; e-mail is not offered.
    expect(step).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: ['recovery'] });
    // Choosing e-mail anyway changes nothing.
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: account, chosenFactor: 'email' }))).toMatchObject({ factor: 'sms' });
    // An e-mail code proved (somehow) is no ownership proof: the SMS is still asked, not the app set up.
    const emailProof = { factor: 'email', amr: ['email'], strength: 1 as const, at: 0 };
    expect(decideLoginStep(input({ proofs: [pwd, emailProof], policy, factors: account }))).toMatchObject({ kind: 'factor', factor: 'sms', mode: 'challenge' });
    // A recovery code does prove it (it exists for a lost phone).
    const recoveryProof = { factor: 'recovery', amr: ['otp'], strength: 2 as const, at: 0 };
    expect(decideLoginStep(input({ proofs: [pwd, recoveryProof], policy, factors: account }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol', alternatives: [] });
    // A remembered device is no ownership proof.
    const replayed = { factor: 'sms', amr: ['sms'], strength: 2 as const, at: 0, replayed: true };
    expect(decideLoginStep(input({ proofs: [pwd, replayed], policy, factors: account }))).toMatchObject({ kind: 'factor', factor: 'sms', mode: 'challenge' });
  });

  it('offers as alternatives only the methods that count at this step', () => {
    // A portal that accepts SMS only: the recovery page offers SMS, never a phone call.
    const policy = policyFromMetadata({ client_id: 'zinn', mfa: 'required', mfa_methods: ['sms'] });
    const account = facts(['sms', 'email', 'recovery']);
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: account }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: ['recovery'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: account, chosenFactor: 'recovery' }))).toEqual({ kind: 'factor', factor: 'recovery', mode: 'challenge', alternatives: ['sms'] });
    // At an optional portal any of the account's factors is the second factor of the login.
    const optional = policyFromMetadata({ client_id: 'o', mfa: 'optional', mfa_methods: ['totp'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy: optional, factors: account }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: ['email', 'recovery'] });
  });

  it('runs required actions only after the second factor, in registry order, and is done after them', () => {
    const account = { requiredActions: ['verify-email', 'update-password'], passwordChangeRequired: false };
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    expect(decideLoginStep(input({ proofs: [pwd], factors: facts(['totp']), account }))).toMatchObject({ kind: 'factor', factor: 'totp', mode: 'challenge' });
    const authenticated = { proofs: [pwd, totpProof], factors: facts(['totp']), account };
    expect(decideLoginStep(input(authenticated))).toEqual({ kind: 'action', action: 'update-password' });
    expect(decideLoginStep(input({ ...authenticated, actionsDone: ['update-password'] }))).toEqual({ kind: 'action', action: 'verify-email' });
    expect(decideLoginStep(input({ ...authenticated, actionsDone: ['update-password', 'verify-email'] }))).toEqual({ kind: 'done' });
  });

  it('sets up a second factor at a portal that does not require one when the account has that stored', () => {
    const account = { requiredActions: ['enrol-second-factor'], passwordChangeRequired: false };
    expect(decideLoginStep(input({ proofs: [pwd], account }))).toEqual({ kind: 'reauthenticate', factor: 'password' });
    expect(decideLoginStep(input({ proofs: [pwd], account, reauthenticated: true }))).toEqual({ kind: 'choose-enrolment', methods: ['sms', 'email', 'totp'] });
  });
});
