// The recovery kind's decider, rule by rule, without I/O: which proofs reset an account, with and
// without a second factor (docs/architecture.md, "Which combinations reset an AAL2 account").
import { describe, expect, it } from 'vitest';
import { decideRecoveryStep, type RecoveryFacts } from '../../src/flows/recovery/decide-recovery-step.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { NO_ACCOUNT_FACTS } from '../../src/steps/facts.ts';
import type { FactorFacts } from '../../src/policy/proof-rules.ts';

const facts = (enrolled: string[] = []): FactorFacts[] => [
  { id: 'password', role: 'first', positions: ['first'], strength: 1, enrolled: true, enrollable: false },
  { id: 'sms', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('sms'), enrollable: true },
  { id: 'voice', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('voice'), enrollable: true },
  { id: 'email', role: 'second', positions: ['second'], strength: 1, enrolled: enrolled.includes('email'), enrollable: true },
  { id: 'totp', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('totp'), enrollable: true },
  { id: 'recovery', role: 'recovery', positions: ['fallback'], strength: 2, enrolled: enrolled.includes('recovery'), enrollable: false },
];
const proof = (factor: string) => ({ factor, amr: [], strength: 1 as const, at: 0 });
const IDENTIFIED = proof('recovery-identified');

function input(overrides: Partial<RecoveryFacts> = {}): RecoveryFacts {
  return {
    proofs: [IDENTIFIED],
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
    reason: 'reset',
    channel: undefined,
    hardLocked: false,
    ...overrides,
  };
}

describe('decideRecoveryStep', () => {
  it('asks who, then why, then a channel', () => {
    expect(decideRecoveryStep(input({ proofs: [] }))).toEqual({ kind: 'action', action: 'recovery-identify' });
    expect(decideRecoveryStep(input({ reason: undefined }))).toEqual({ kind: 'action', action: 'recovery-choose' });
    expect(decideRecoveryStep(input())).toEqual({ kind: 'action', action: 'recovery-verify' });
  });

  it('after the full number, the code of the channel picked; the number alone proves nothing', () => {
    const decision = decideRecoveryStep(input({ proofs: [IDENTIFIED, proof('recovery-phone-number')], channel: 'voice' }));
    expect(decision).toEqual({ kind: 'factor', factor: 'voice', mode: 'challenge', alternatives: [] });
  });

  it('without a second factor: the e-mail link, or the number and its code, reset the password', () => {
    expect(decideRecoveryStep(input({ proofs: [IDENTIFIED, proof('recovery-email-link')] }))).toEqual({ kind: 'action', action: 'recovery-new-password' });
    expect(decideRecoveryStep(input({ proofs: [IDENTIFIED, proof('recovery-phone-number'), proof('sms')], channel: 'sms' }))).toEqual({ kind: 'action', action: 'recovery-new-password' });
  });

  it('an SMS account: the number and the SMS code suffice (the channel is its factor); the link needs the SMS code too', () => {
    const sms = facts(['sms']);
    expect(decideRecoveryStep(input({ factors: sms, proofs: [IDENTIFIED, proof('recovery-phone-number'), proof('sms')], channel: 'sms' })).kind).toBe('action');
    expect(decideRecoveryStep(input({ factors: sms, proofs: [IDENTIFIED, proof('recovery-email-link')] }))).toMatchObject({ kind: 'factor', factor: 'sms', mode: 'challenge' });
    expect(decideRecoveryStep(input({ factors: sms, proofs: [IDENTIFIED, proof('recovery-email-link'), proof('sms')] }))).toEqual({ kind: 'action', action: 'recovery-new-password' });
  });

  it('an app account: any channel, then the app code or a recovery code', () => {
    const app = facts(['totp', 'recovery']);
    expect(decideRecoveryStep(input({ factors: app, proofs: [IDENTIFIED, proof('recovery-email-link')] }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: ['recovery'] });
    expect(decideRecoveryStep(input({ factors: app, proofs: [IDENTIFIED, proof('recovery-phone-number'), proof('sms')], channel: 'sms' }))).toMatchObject({ kind: 'factor', factor: 'totp' });
    expect(decideRecoveryStep(input({ factors: app, proofs: [IDENTIFIED, proof('recovery-email-link'), proof('totp')] })).kind).toBe('action');
    expect(decideRecoveryStep(input({ factors: app, proofs: [IDENTIFIED, proof('recovery-email-link'), proof('recovery')] })).kind).toBe('action');
  });

  it('an e-mail-code account: the link proves the mailbox, its factor', () => {
    expect(decideRecoveryStep(input({ factors: facts(['email']), proofs: [IDENTIFIED, proof('recovery-email-link')] }))).toEqual({ kind: 'action', action: 'recovery-new-password' });
  });

  it('only recovery codes left: they are asked', () => {
    expect(decideRecoveryStep(input({ factors: facts(['recovery']), proofs: [IDENTIFIED, proof('recovery-email-link')] }))).toEqual({ kind: 'factor', factor: 'recovery', mode: 'challenge', alternatives: [] });
  });

  describe('several methods: only the strongest second factors (or a recovery code) count', () => {
    const link = [IDENTIFIED, proof('recovery-email-link')];
    const phone = (channel: 'sms' | 'voice') => [IDENTIFIED, proof('recovery-phone-number'), proof(channel)];
    const NEW_PASSWORD = { kind: 'action', action: 'recovery-new-password' };

    it('app + e-mail code: the link (the weaker e-mail factor) is not enough; the app or a recovery code is', () => {
      const factors = facts(['totp', 'email']);
      expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: [] });
      expect(decideRecoveryStep(input({ factors, reason: 'unlock', proofs: link }))).toMatchObject({ kind: 'factor', factor: 'totp' });
      // A proved e-mail code is no better than the link.
      expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('email')] }))).toMatchObject({ kind: 'factor', factor: 'totp' });
      expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('totp')] }))).toEqual(NEW_PASSWORD);
      const withCodes = facts(['totp', 'email', 'recovery']);
      expect(decideRecoveryStep(input({ factors: withCodes, proofs: link }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: ['recovery'] });
      expect(decideRecoveryStep(input({ factors: withCodes, proofs: [...link, proof('recovery')] }))).toEqual(NEW_PASSWORD);
    });

    it('app + SMS: both are of the strongest strength, so the SMS code to the registered phone counts, as it would bind a new factor', () => {
      const factors = facts(['totp', 'sms']);
      expect(decideRecoveryStep(input({ factors, proofs: phone('sms'), channel: 'sms' }))).toEqual(NEW_PASSWORD);
      expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: ['totp'] });
      expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('totp')] }))).toEqual(NEW_PASSWORD);
    });

    it('SMS + e-mail code: the link is not enough, the SMS code is asked; the number and its code suffice', () => {
      const factors = facts(['sms', 'email']);
      expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: [] });
      expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('sms')] }))).toEqual(NEW_PASSWORD);
      expect(decideRecoveryStep(input({ factors, proofs: phone('sms'), channel: 'sms' }))).toEqual(NEW_PASSWORD);
      // A call to the registered phone when only SMS is enrolled proves no enrolled factor.
      expect(decideRecoveryStep(input({ factors, proofs: phone('voice'), channel: 'voice' }))).toMatchObject({ kind: 'factor', factor: 'sms' });
    });

    it('app only: neither the link nor the number and an SMS code stand in for it', () => {
      const factors = facts(['totp']);
      expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'totp', mode: 'challenge', alternatives: [] });
      expect(decideRecoveryStep(input({ factors, proofs: phone('sms'), channel: 'sms' }))).toMatchObject({ kind: 'factor', factor: 'totp' });
    });

    it('SMS only: the number and its code suffice; the link needs the SMS code', () => {
      const factors = facts(['sms']);
      expect(decideRecoveryStep(input({ factors, proofs: phone('sms'), channel: 'sms' }))).toEqual(NEW_PASSWORD);
      expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'sms', mode: 'challenge', alternatives: [] });
    });

    it('passkey (± recovery codes, ± e-mail code): the link alone is not enough; the passkey or a recovery code is', () => {
      const passkey = { id: 'passkey', role: 'second' as const, positions: ['first', 'second'] as const, strength: 2 as const, phishingResistant: true, enrolled: true, enrollable: true };
      for (const factors of [[...facts(['recovery']), passkey], [...facts(['recovery', 'email']), passkey]]) {
        expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'passkey', mode: 'challenge', alternatives: ['recovery'] });
        expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('email')] }))).toMatchObject({ kind: 'factor', factor: 'passkey' });
        expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('passkey')] }))).toEqual(NEW_PASSWORD);
        expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('recovery')] }))).toEqual(NEW_PASSWORD);
      }
    });

    it('stays generic: any second factor of the strongest strength counts, whatever its name', () => {
      const factors = [...facts(['email']), { id: 'new-key', role: 'second' as const, positions: ['second'] as const, strength: 2 as const, enrolled: true, enrollable: true }];
      expect(decideRecoveryStep(input({ factors, proofs: link }))).toEqual({ kind: 'factor', factor: 'new-key', mode: 'challenge', alternatives: [] });
      expect(decideRecoveryStep(input({ factors, proofs: [...link, proof('new-key')] }))).toEqual(NEW_PASSWORD);
    });
  });

  it('unlock of a hard-locked account sets a new password too (the guesser must not keep the old one)', () => {
    const verified = [IDENTIFIED, proof('recovery-email-link')];
    expect(decideRecoveryStep(input({ reason: 'unlock', hardLocked: true, proofs: verified }))).toEqual({ kind: 'action', action: 'recovery-new-password' });
    expect(decideRecoveryStep(input({ reason: 'unlock', hardLocked: true, proofs: verified, actionsDone: ['recovery-choose', 'recovery-new-password'] }))).toEqual({ kind: 'done' });
    // The second factor still comes first.
    expect(decideRecoveryStep(input({ reason: 'unlock', hardLocked: true, factors: facts(['totp']), proofs: verified }))).toMatchObject({ kind: 'factor', factor: 'totp' });
  });

  it('unlock ends after verification; reset after the new password', () => {
    expect(decideRecoveryStep(input({ reason: 'unlock', proofs: [IDENTIFIED, proof('recovery-email-link')] }))).toEqual({ kind: 'done' });
    expect(decideRecoveryStep(input({ proofs: [IDENTIFIED, proof('recovery-email-link')], actionsDone: ['recovery-choose', 'recovery-new-password'] }))).toEqual({ kind: 'done' });
  });
});
