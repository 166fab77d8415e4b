// The recovery kind's decider: pure, facts in, next step out (like decideLoginStep).
//
// Order: who are you (user id + CAPTCHA) → what is wrong (reset or unlock) → verify by a channel
// the portal offers (the full phone number then a code by SMS or call, or the e-mail link) → a
// second factor of the account when the channel was not itself one of them → a new password
// (reset) → done. An unknown account walks the same pages and never gets past verification.
//
// Recovery never bypasses MFA (ASVS 5.0 6.4.3, NIST SP 800-63B-4 §4.2): an account with a second
// factor proves one of its STRONGEST second factors (the binding rule's, policy/proof-rules.ts
// `bindingFactors`) or a recovery code in this flow. The channel counts as that factor only when
// it is one of those: a code to the registered phone for an account whose strongest factors
// include SMS or voice (with the typed full number before it), the e-mail link for an account whose
// strongest factor is the e-mail code. A weaker factor never stands in for a stronger one: whoever
// has the mailbox of an account with an app must not reset it with the e-mail link alone, just as
// the mailbox cannot bind a new app to it (a recovery sets the password, which is as much).
import { challengeAmong, type Decision } from '../../steps/decision.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import { bindingFactors } from '../../policy/proof-rules.ts';
import { EMAIL_LINK, IDENTIFIED, PHONE_NUMBER, NEW_PASSWORD, IDENTIFY, CHOOSE, VERIFY, type RecoveryReason } from './recovery-state.ts';

export interface RecoveryFacts extends FlowFacts {
  reason: RecoveryReason | undefined;
  /** The phone channel picked with the full number. */
  channel: 'sms' | 'voice' | undefined;
  /**
   * The account is hard-locked (the lockout's guess cap, NIST SP 800-63B-4 §3.2.2). Known only once
   * a channel is proved (false before): telling it earlier would tell who has an account.
   */
  hardLocked: boolean;
}

/** The factor a recovery proof stands for: the e-mail link proves the mailbox, as an e-mail code does. */
function standsFor(factor: string): string {
  return factor === EMAIL_LINK ? 'email' : factor;
}

/**
 * Whether a channel is proved: the e-mail link opened, or the full number typed and its code
 * entered. Before that the decider reads nothing of the account's factors, and the kind does not
 * read them either (an unknown name has none to read: the time would tell).
 */
export function channelProved(proofs: RecoveryFacts['proofs'], channel: RecoveryFacts['channel']): boolean {
  const proved = (id: string) => proofs.some((p) => p.factor === id);
  return proved(EMAIL_LINK) || (proved(PHONE_NUMBER) && channel !== undefined && proved(channel));
}

export function decideRecoveryStep(facts: RecoveryFacts): Decision {
  const proved = (id: string) => facts.proofs.some((p) => p.factor === id);
  if (!proved(IDENTIFIED)) return { kind: 'action', action: IDENTIFY };
  if (!facts.reason) return { kind: 'action', action: CHOOSE };

  const phoneCode = facts.channel !== undefined && proved(facts.channel);
  if (proved(PHONE_NUMBER) && !phoneCode && facts.channel) return { kind: 'factor', factor: facts.channel, mode: 'challenge', alternatives: [] };
  if (!channelProved(facts.proofs, facts.channel)) return { kind: 'action', action: VERIFY };

  const seconds = facts.factors.filter((f) => f.role === 'second' && f.enrolled);
  const recovery = facts.factors.find((f) => f.role === 'recovery' && f.enrolled);
  if (seconds.length > 0 || recovery) {
    const strongest = bindingFactors(facts.factors).filter((f) => f.role === 'second');
    const counted = new Set([...strongest.map((f) => f.id), ...(recovery ? [recovery.id] : [])]);
    const satisfied = facts.proofs.some((p) => counted.has(standsFor(p.factor)));
    if (!satisfied) {
      const challenge = challengeAmong(strongest, facts);
      // Only recovery codes left (their factor gone): they are the way back in.
      if (challenge) return challenge;
      if (recovery) return { kind: 'factor', factor: recovery.id, mode: 'challenge', alternatives: [] };
    }
  }
  // A hard lock means the password itself was under attack (100 guesses): lifting it while the
  // password stays would hand the guesser another 100. So an unlock of a hard-locked account sets a
  // new password too (review of issue 9, finding 6); a temporary lock is lifted as asked.
  const needsPassword = facts.reason === 'reset' || facts.hardLocked;
  if (needsPassword && !facts.actionsDone.includes(NEW_PASSWORD)) return { kind: 'action', action: NEW_PASSWORD };
  return { kind: 'done' };
}
