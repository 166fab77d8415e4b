// Passkeys in the pure rules: the positions a factor fills (a passkey beside the password, and as
// second factor), a passwordless proof standing as its own second factor, the phishing-resistant
// level (only a fresh passkey proof reaches it), and "strongest" for binding.
import { describe, expect, it } from 'vitest';
import { decideLoginStep, type FactorFacts, type StepInput } from '../../src/flows/login/decide-step.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { ACR, deriveAssurance, requiredAcr } from '../../src/oidc/assurance.ts';
import { allActions } from '../../src/actions/registry.ts';
import { NO_ACCOUNT_FACTS } from '../../src/steps/facts.ts';
import { bindingAcr, bindingFactors } from '../../src/policy/proof-rules.ts';

const facts = (enrolled: string[] = []): FactorFacts[] => [
  { id: 'password', role: 'first', positions: ['first'], strength: 1, enrolled: true, enrollable: false },
  { id: 'sms', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('sms'), enrollable: true },
  { id: 'totp', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('totp'), enrollable: true },
  { id: 'recovery', role: 'recovery', positions: ['fallback'], strength: 2, enrolled: enrolled.includes('recovery'), enrollable: false },
  { id: 'passkey', role: 'second', positions: ['first', 'second'], strength: 2, phishingResistant: true, enrolled: enrolled.includes('passkey'), enrollable: true },
];
const pwd = { factor: 'password', amr: ['pwd'], strength: 1 as const, at: 0 };
const passwordless = { factor: 'passkey', amr: ['hwk', 'user'], strength: 2 as const, multiFactor: true, phishingResistant: true, at: 0 };
const passkeySecond = { factor: 'passkey', amr: ['swk'], strength: 2 as const, multiFactor: false, phishingResistant: true, at: 0 };
const sms = { factor: 'sms', amr: ['sms'], strength: 2 as const, at: 0 };

function input(overrides: Partial<StepInput> & { metadata?: Record<string, unknown> } = {}): StepInput {
  const { metadata, ...rest } = overrides;
  return {
    proofs: [], policy: policyFromMetadata({ client_id: 'p', redirect_uris: ['https://p.example/cb'], ...metadata }), requiredAcr: undefined,
    factors: facts(), chosenFactor: undefined, defaultFactor: undefined, enrolling: undefined, reauthenticated: false,
    enrolledInFlow: [], account: NO_ACCOUNT_FACTS, actionsDone: [], actions: allActions(), ...rest,
  };
}

describe('passkeys in the step engine and the assurance rules', () => {
  it('offers the passkey beside the password where the portal accepts it, not where it does not', () => {
    expect(decideLoginStep(input())).toEqual({ kind: 'factor', factor: 'password', mode: 'challenge', alternatives: [], companions: ['passkey'] });
    expect(decideLoginStep(input({ metadata: { mfa_methods: ['sms'] } }))).toEqual({ kind: 'factor', factor: 'password', mode: 'challenge', alternatives: [] });
  });

  it('a passkey that verified the user is the whole login: multi-factor, phishing-resistant, no password', () => {
    const f = facts(['passkey', 'sms']);
    expect(decideLoginStep(input({ factors: f, proofs: [passwordless], metadata: { mfa: 'required' } }))).toEqual({ kind: 'done' });
    expect(deriveAssurance([passwordless])).toEqual({ acr: ACR.phishingResistant, amr: ['hwk', 'user', 'mfa'] });
    // A portal requiring MFA by SMS only still asks for its SMS after a passwordless passkey.
    expect(decideLoginStep(input({ factors: f, proofs: [passwordless], metadata: { mfa: 'required', mfa_methods: ['sms'] } })))
      .toMatchObject({ kind: 'factor', factor: 'sms', mode: 'challenge' });
  });

  it('after the password the passkey is the second factor; only a fresh passkey proof reaches the phishing-resistant level', () => {
    expect(decideLoginStep(input({ factors: facts(['passkey']), proofs: [pwd] }))).toMatchObject({ kind: 'factor', factor: 'passkey', mode: 'challenge' });
    expect(deriveAssurance([pwd, passkeySecond]).acr).toBe(ACR.phishingResistant);
    expect(deriveAssurance([pwd, sms]).acr).toBe(ACR.substantial);
    expect(deriveAssurance([pwd, { ...passkeySecond, replayed: true }]).acr).toBe(ACR.substantial);
    expect(requiredAcr([ACR.substantial], ACR.phishingResistant)).toBe(ACR.phishingResistant);
  });

  it('a demanded phishing-resistant level asks only a passkey, and enrols one (after the binding) when there is none', () => {
    const demand = { requiredAcr: ACR.phishingResistant, proofs: [pwd] };
    expect(decideLoginStep(input({ ...demand, factors: facts(['sms', 'passkey']) }))).toEqual({ kind: 'factor', factor: 'passkey', mode: 'challenge', alternatives: [] });
    // No passkey: prove the SMS first (binding), then the passkey is the one method to set up.
    expect(decideLoginStep(input({ ...demand, factors: facts(['sms']) }))).toMatchObject({ kind: 'factor', factor: 'sms', mode: 'challenge' });
    expect(decideLoginStep(input({ ...demand, proofs: [pwd, sms], factors: facts(['sms']) }))).toEqual({ kind: 'factor', factor: 'passkey', mode: 'enrol', alternatives: [] });
  });

  it('binding: a passkey outranks SMS, so adding an authenticator to an account with one needs the passkey or a recovery code', () => {
    const f = facts(['sms', 'passkey', 'recovery']);
    expect(bindingFactors(f).map((x) => x.id)).toEqual(['recovery', 'passkey']);
    expect(bindingAcr(f)).toBe(ACR.phishingResistant);
    expect(bindingAcr(facts(['sms']))).toBe(ACR.substantial);
  });
});
