// The step engine's rules, one by one, without I/O.
import { describe, expect, it } from 'vitest';
import { decideLoginStep, type FactorFacts, type StepInput } from '../../src/flows/login/decide-step.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { ACR } from '../../src/oidc/assurance.ts';

const facts = (enrolled: string[] = []): FactorFacts[] => [
  { id: 'password', role: 'first', strength: 1, enrolled: true, enrollable: false },
  { id: 'sms', role: 'second', strength: 2, enrolled: enrolled.includes('sms'), enrollable: true },
  { id: 'email', role: 'second', strength: 1, enrolled: enrolled.includes('email'), enrollable: true },
  { id: 'totp', role: 'second', strength: 2, enrolled: enrolled.includes('totp'), enrollable: true },
  { id: 'recovery', role: 'recovery', strength: 2, enrolled: enrolled.includes('recovery'), enrollable: false },
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
    ...overrides,
  };
}

describe('login step engine', () => {
  it('starts with the password', () => {
    expect(decideLoginStep(input())).toEqual({ kind: 'factor', factor: 'password', mode: 'challenge' });
  });

  it('is done after the password when nothing more is asked or enrolled', () => {
    expect(decideLoginStep(input({ proofs: [pwd] }))).toEqual({ kind: 'done' });
  });

  it('asks an enrolled factor even when the portal makes MFA optional', () => {
    expect(decideLoginStep(input({ proofs: [pwd], factors: facts(['totp']) }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge' });
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
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: facts(['totp']), reauthenticated: true }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge' });
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    // The app proved ownership but is not what this portal accepts: now enrol SMS.
    expect(decideLoginStep(input({ proofs: [pwd, totpProof], policy, factors: facts(['totp']) }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'enrol' });
  });

  it('asks an enrolled factor even at an optional portal that does not list it, and counts it there', () => {
    const policy = policyFromMetadata({ client_id: 'zinn', mfa: 'optional', mfa_methods: ['sms'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, factors: facts(['totp']) }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge' });
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    expect(decideLoginStep(input({ proofs: [pwd, totpProof], policy, factors: facts(['totp']) }))).toEqual({ kind: 'done' });
  });

  it('does not let a weak factor enrol a strong one for a substantial demand without proof', () => {
    const emailOnly = facts(['email']);
    const step = decideLoginStep(input({ proofs: [pwd], factors: emailOnly, requiredAcr: ACR.substantial, reauthenticated: true }));
    expect(step).toEqual({ kind: 'factor', factor: 'email', mode: 'challenge' });
  });

  it('makes an account without a factor enrol when the portal requires MFA: password again first', () => {
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['sms', 'totp'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy }))).toEqual({ kind: 'reauthenticate', factor: 'password' });
    expect(decideLoginStep(input({ proofs: [pwd], policy, reauthenticated: true }))).toEqual({ kind: 'choose-enrolment', methods: ['sms', 'totp'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, reauthenticated: true, enrolling: 'totp' }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'enrol' });
  });

  it('shows recovery codes right after the first enrolment, then finishes', () => {
    const totpProof = { factor: 'totp', amr: ['otp'], strength: 2 as const, at: 0 };
    const policy = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['totp'] });
    const after = { proofs: [pwd, totpProof], policy, factors: facts(['totp']), enrolledInFlow: ['totp'] };
    expect(decideLoginStep(input(after))).toEqual({ kind: 'factor', factor: 'recovery', mode: 'enrol' });
    expect(decideLoginStep(input({ ...after, factors: facts(['totp', 'recovery']), enrolledInFlow: ['totp', 'recovery'] }))).toEqual({ kind: 'done' });
  });

  it('steps up past a weak factor when a portal demands substantial', () => {
    const emailProof = { factor: 'email', amr: ['email'], strength: 1 as const, at: 0 };
    const step = decideLoginStep(input({ proofs: [pwd, emailProof], factors: facts(['email', 'sms']), requiredAcr: ACR.substantial }));
    expect(step).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge' });
  });

  it('says so when the demanded level cannot be reached with what the portal allows', () => {
    const policy = policyFromMetadata({ client_id: 'mtd', mfa_methods: ['email'] });
    expect(decideLoginStep(input({ proofs: [pwd], policy, requiredAcr: ACR.substantial, reauthenticated: true }))).toEqual({ kind: 'unreachable', reason: 'acr_unreachable' });
  });
});
