// One-time codes sent by SMS, voice or e-mail (NIST SP 800-63B-4 §3.1.3, the patient-portal
// "sessiecode"): 6 digits, about 10 minutes, single use, a new code voids the old one. Only a
// salted, keyed hash is stored; comparison is constant-time. Limits (policy.codes, defaults.ts):
//  - at most 5 wrong attempts per code (then the code is void);
//  - failures per account and channel address (the phone — SMS and voice share it — or the
//    mailbox) in a window, which a resend does not reset and a success on another address does
//    not reset either: a code from the mailbox must not buy new guesses at the phone's codes;
//  - a resend cooldown and a cap on sends per hour.
// Only a guess that could succeed is counted: a post without a live code of this flow, or with
// something that is not 6 digits, is answered (4xx) without touching the budget, so whoever has
// only the password cannot spend the patient's guesses with junk.
// A code belongs to the flow that sent it (and to the moment that flow sent it): it verifies only
// there, so a second browser that starts a login meanwhile can neither use nor burn it.
import { createHmac, randomBytes } from 'node:crypto';
import type { Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { limitRule, type Limits, type LimitRule } from './limits.ts';
import { randomDigits, randomId, safeEqual } from './random.ts';
import type { Policy } from '../policy/defaults.ts';

export const CODE_LENGTH = 6;

/** Where a channel's codes go; each address has its own failure budget (SMS and voice share the phone's). */
export type CodeAddress = 'phone' | 'email';

export type CodeCheck =
  | { ok: true }
  | {
    ok: false;
    reason: 'malformed' | 'wrong' | 'expired_or_missing' | 'too_many_attempts' | 'account_locked';
    attemptsLeft?: number;
    /** This wrong guess used up the account's budget for the address: codes there are refused until the window ends. */
    budgetSpent?: true;
  };

/** The key of an account's failure budget for one address: the kind of address, never the address itself. */
export function codeFailureKey(accountId: string, address: CodeAddress): string {
  return `code-fail:${address}:${accountId}`;
}

export type SendPermission = { ok: true } | { ok: false; reason: 'cooldown'; retryInSeconds: number } | { ok: false; reason: 'hourly_cap' };

/** Removes what people paste along with a code: spaces, dashes, dots, line breaks. */
export function normaliseCodeInput(input: string): string {
  return input.replace(/[\s\-.\u00a0\u200b]/g, '');
}

export class OneTimeCodes {
  constructor(
    private readonly store: Store,
    private readonly limits: Limits,
    private readonly clock: Clock,
    private readonly pepper: Buffer,
    policy: Policy['codes'],
  ) {
    this.ttlMs = policy.ttlSeconds * 1000;
    this.attemptsPerCode = policy.attemptsPerCode;
    this.failuresPerAccount = limitRule(policy.failuresPerAccount);
    this.sends = limitRule(policy.sends);
    this.cooldownMs = policy.resendCooldownSeconds * 1000;
  }

  private readonly ttlMs: number;
  private readonly attemptsPerCode: number;
  /** Wrong codes per account across codes and resends (a resend must not buy new guesses). */
  private readonly failuresPerAccount: LimitRule;
  private readonly sends: LimitRule;
  private readonly cooldownMs: number;

  private hash(salt: string, code: string): string {
    return `${salt}.${createHmac('sha256', this.pepper).update(salt).update(code).digest('base64url')}`;
  }

  /** Whether a (re)send is allowed now for this account and purpose. Does not count. */
  async maySend(accountId: string, purpose: string): Promise<SendPermission> {
    const key = `code-send:${purpose}:${accountId}`;
    if (await this.limits.exhausted(key, this.sends)) return { ok: false, reason: 'hourly_cap' };
    const since = await this.limits.sinceLastHit(key);
    if (since !== undefined && since < this.cooldownMs) return { ok: false, reason: 'cooldown', retryInSeconds: Math.ceil((this.cooldownMs - since) / 1000) };
    return { ok: true };
  }

  /**
   * Creates a new code, hands it to `deliver`, and only when delivery succeeded stores it (voiding
   * the previous one): a failed resend must not break the code the patient already has. The send
   * is counted either way, so a failing provider is not hammered.
   */
  async issue(accountId: string, purpose: string, flowId: string, deliver: (code: string, sentAt: number) => Promise<void>): Promise<{ sentAt: number; expiresAt: number }> {
    const now = this.clock.now();
    const code = randomDigits(CODE_LENGTH);
    const salt = randomBytes(16).toString('base64url');
    await this.limits.hit(`code-send:${purpose}:${accountId}`, this.sends);
    await deliver(code, now);
    await this.store.codes.replace({ id: randomId(), accountId, purpose, flowId, codeHash: this.hash(salt, code), attempts: 0, sentAt: now, expiresAt: now + this.ttlMs, consumedAt: null });
    return { sentAt: now, expiresAt: now + this.ttlMs };
  }

  /** The send time of the active code (for "sent at 11:50") when `flowId` sent it; else undefined. */
  async activeFor(accountId: string, purpose: string, flowId: string): Promise<number | undefined> {
    const active = await this.store.codes.findActive(accountId, purpose, this.clock.now());
    return active?.flowId === flowId ? active.sentAt : undefined;
  }

  /**
   * Checks `input` against the active code, which counts only for the flow that sent it, at the
   * time that flow remembers sending it (`owner.sentAt`; undefined when this step sent nothing).
   * `address` names the failure budget: the phone's or the mailbox's.
   */
  async verify(accountId: string, purpose: string, owner: { flowId: string; sentAt: number | undefined }, input: string, address: CodeAddress): Promise<CodeCheck> {
    const code = normaliseCodeInput(input);
    // Posts that cannot succeed are not guesses: not 6 digits, no live code of this flow (another
    // flow's code is not this flow's to try), or a code already void. None is counted; the first
    // two are answered before the budget is read, so they tell nothing about it either.
    if (!new RegExp(`^\\d{${CODE_LENGTH}}$`).test(code)) return { ok: false, reason: 'malformed' };
    const active = owner.sentAt === undefined ? undefined : await this.store.codes.findActive(accountId, purpose, this.clock.now());
    if (!active || active.flowId !== owner.flowId || active.sentAt !== owner.sentAt) return { ok: false, reason: 'expired_or_missing' };
    const failuresKey = codeFailureKey(accountId, address);
    // A spent budget is the more useful answer than a void code: a new code would not help either.
    if (await this.limits.exhausted(failuresKey, this.failuresPerAccount)) return { ok: false, reason: 'account_locked' };
    if (active.attempts >= this.attemptsPerCode) return { ok: false, reason: 'too_many_attempts' };
    // Every guess is counted before it is checked (per account and address, and per code below):
    // parallel guesses cannot all pass a check made before any of them counted.
    const left = await this.limits.hit(failuresKey, this.failuresPerAccount);
    if (left < 0) return { ok: false, reason: 'account_locked' };
    const attempts = await this.store.codes.recordAttempt(active.id);
    if (attempts > this.attemptsPerCode) {
      // Lost a race for the code's last attempt: not evaluated, so not a guess.
      await this.limits.release(failuresKey);
      return { ok: false, reason: 'too_many_attempts' };
    }
    const [salt] = active.codeHash.split('.');
    if (!safeEqual(this.hash(salt!, code), active.codeHash)) {
      // The last guess of the budget already locks: the caller says so now, not on the next try.
      if (left === 0) return { ok: false, reason: 'wrong', budgetSpent: true };
      if (attempts >= this.attemptsPerCode) return { ok: false, reason: 'too_many_attempts' };
      return { ok: false, reason: 'wrong', attemptsLeft: this.attemptsPerCode - attempts };
    }
    // Single use, also against a second process racing with the same code.
    if (!(await this.store.codes.consume(active.id, this.clock.now()))) return { ok: false, reason: 'expired_or_missing' };
    // Only this address's budget: a success elsewhere says nothing about who guesses here.
    await this.limits.reset(failuresKey);
    return { ok: true };
  }
}
