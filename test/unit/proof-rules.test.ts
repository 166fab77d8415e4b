// The proof rules shared by the step engine, /account and the session check, without I/O.
import { describe, expect, it } from 'vitest';
import { bindingAcr, bindingFactors, provesAcceptedSecondFactor, provesBinding, shortfalls, type FactorFacts } from '../../src/policy/proof-rules.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { ACR, type Proof } from '../../src/oidc/assurance.ts';

const facts = (enrolled: string[] = []): FactorFacts[] => [
  { id: 'password', role: 'first', positions: ['first'], strength: 1, enrolled: true, enrollable: false },
  { id: 'sms', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('sms'), enrollable: true },
  { id: 'email', role: 'second', positions: ['second'], strength: 1, enrolled: enrolled.includes('email'), enrollable: true },
  { id: 'totp', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('totp'), enrollable: true },
  { id: 'recovery', role: 'recovery', positions: ['fallback'], strength: 2, enrolled: enrolled.includes('recovery'), enrollable: false },
];
const T = 1_000_000_000;
const proof = (factor: string, strength: 1 | 2, extra: Partial<Proof> = {}): Proof => ({ factor, amr: [factor], strength, at: T, ...extra });
const pwd = proof('password', 1);
const appRequired = policyFromMetadata({ client_id: 'md', mfa: 'required', mfa_methods: ['totp'] });
const strict = policyFromMetadata({ client_id: 's', mfa: 'optional', remember_device: false });
const open = policyFromMetadata({ client_id: 'o' });

describe('proof rules', () => {
  it('binds new authenticators only with the strongest factor, or a recovery code', () => {
    expect(bindingFactors(facts(['sms', 'email', 'recovery'])).map((f) => f.id)).toEqual(['sms', 'recovery']);
    expect(bindingFactors(facts(['email'])).map((f) => f.id)).toEqual(['email']);
    expect(bindingFactors(facts())).toEqual([]);
    expect(provesBinding([pwd, proof('email', 1)], facts(['sms', 'email']))).toBe(false);
    expect(provesBinding([pwd, proof('sms', 2)], facts(['sms', 'email']))).toBe(true);
    expect(provesBinding([pwd, proof('sms', 2, { replayed: true })], facts(['sms', 'email']))).toBe(false);
    expect(provesBinding([pwd], facts())).toBe(true);
    expect(bindingAcr(facts(['sms', 'email']))).toBe(ACR.substantial);
    expect(bindingAcr(facts(['email']))).toBe(ACR.lowMfa);
    expect(bindingAcr(facts())).toBe(ACR.low);
  });

  it('lets a recovery code stand in only for a method the account has and the portal accepts (finding 6)', () => {
    const recovery = proof('recovery', 2);
    expect(provesAcceptedSecondFactor(recovery, appRequired, facts(['sms', 'recovery']))).toBe(false);
    expect(provesAcceptedSecondFactor(recovery, appRequired, facts(['totp', 'recovery']))).toBe(true);
    expect(shortfalls([pwd, recovery], facts(['sms', 'recovery']), { policy: appRequired, requiredAcr: undefined, maxAgeMs: undefined }, T)).toEqual(['mfa_required']);
    expect(shortfalls([pwd, proof('totp', 2)], facts(['totp']), { policy: appRequired, requiredAcr: undefined, maxAgeMs: undefined }, T)).toEqual([]);
  });

  it('counts no remembered device where the portal forbids them (finding 2)', () => {
    const replayed = [pwd, proof('totp', 2, { replayed: true })];
    expect(shortfalls(replayed, facts(['totp']), { policy: open, requiredAcr: ACR.substantial, maxAgeMs: undefined }, T)).toEqual([]);
    expect(shortfalls(replayed, facts(['totp']), { policy: strict, requiredAcr: undefined, maxAgeMs: undefined }, T)).toEqual(['mfa_required']);
    expect(shortfalls(replayed, facts(['totp']), { policy: strict, requiredAcr: ACR.substantial, maxAgeMs: undefined }, T)).toEqual(['mfa_required', 'acr_too_weak']);
  });

  it('counts only fresh proofs towards a level the request demands, wherever devices are allowed (review F1)', () => {
    const replayed = [pwd, proof('totp', 2, { replayed: true })];
    const asked = { policy: appRequired, requiredAcr: ACR.substantial, requestedAcr: ACR.substantial, maxAgeMs: undefined };
    expect(shortfalls(replayed, facts(['totp']), asked, T)).toEqual(['acr_too_weak']);
    expect(shortfalls([pwd, proof('totp', 2)], facts(['totp']), asked, T)).toEqual([]);
    // The portal's own policy (min_acr, mfa required) takes the device; a request for `low` too.
    expect(shortfalls(replayed, facts(['totp']), { ...asked, requestedAcr: undefined }, T)).toEqual([]);
    expect(shortfalls(replayed, facts(['totp']), { ...asked, requestedAcr: ACR.low }, T)).toEqual([]);
  });

  it('holds every proof to max_age, and an unknown session to nothing (finding 3)', () => {
    const requirement = { policy: strict, requiredAcr: ACR.low, maxAgeMs: 600_000 };
    expect(shortfalls([pwd], facts(), requirement, T + 600_000)).toEqual([]);
    expect(shortfalls([pwd], facts(), requirement, T + 600_001)).toEqual(['proofs_too_old']);
    expect(shortfalls([], facts(), requirement, T)).toEqual(['proofs_too_old']);
    expect(shortfalls([], facts(['totp']), { policy: appRequired, requiredAcr: undefined, maxAgeMs: undefined }, T)).toEqual(['mfa_required']);
  });

  it('measures max_age from the login that made the proofs (review F4)', () => {
    const minute = 60_000;
    const requirement = { policy: strict, requiredAcr: ACR.substantial, maxAgeMs: 10 * minute };
    const slow = [pwd, proof('sms', 2, { at: T + 11 * minute })];
    // A login that took eleven minutes is not too old when it arrives, nor nine minutes later.
    expect(shortfalls(slow, facts(['sms']), requirement, T + 11 * minute, { startedAt: T, completedAt: T + 11 * minute })).toEqual([]);
    expect(shortfalls(slow, facts(['sms']), requirement, T + 20 * minute, { startedAt: T, completedAt: T + 11 * minute })).toEqual([]);
    // More than max_age after it completed, it is.
    expect(shortfalls(slow, facts(['sms']), requirement, T + 21 * minute + 1, { startedAt: T, completedAt: T + 11 * minute })).toEqual(['proofs_too_old']);
    // A step-up's password seeded from a session two hours old stays too old, however fresh the code.
    const seeded = [proof('password', 1, { at: T - 120 * minute }), proof('sms', 2, { at: T + minute })];
    expect(shortfalls(seeded, facts(['sms']), requirement, T + minute, { startedAt: T, completedAt: T + minute })).toEqual(['proofs_too_old']);
    // Without the login's times (older records), every proof by its own age.
    expect(shortfalls(slow, facts(['sms']), requirement, T + 11 * minute)).toEqual(['proofs_too_old']);
  });
});
