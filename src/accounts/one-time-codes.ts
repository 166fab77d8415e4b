// One-time codes sent by SMS, voice or e-mail (NIST SP 800-63B-4 §3.1.3, the patient-portal
// "sessiecode"): 6 digits, about 10 minutes, single use, a new code voids the old one. Only a
// salted, keyed hash is stored; comparison is constant-time. Limits (policy.codes, defaults.ts):
//  - at most 5 wrong attempts per code (then the code is void);
//  - failures per account in a window, which a resend does not reset;
//  - a resend cooldown and a cap on sends per hour.
// A code belongs to the flow that sent it (and to the moment that flow sent it): it verifies only
// there, so a second browser that starts a login meanwhile can neither use nor burn it.
import { createHmac, randomBytes } from 'node:crypto';
import type { Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { limitRule, type Limits, type LimitRule } from './limits.ts';
import { randomDigits, randomId, safeEqual } from './random.ts';
import type { Policy } from '../policy/defaults.ts';

export const CODE_LENGTH = 6;

export type CodeCheck =
  | { ok: true }
  | { ok: false; reason: 'malformed' | 'wrong' | 'expired_or_missing' | 'too_many_attempts' | 'account_locked'; attemptsLeft?: number };

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
   */
  async verify(accountId: string, purpose: string, owner: { flowId: string; sentAt: number | undefined }, input: string): Promise<CodeCheck> {
    // Every attempt is counted before it is checked (per account, and per code below): parallel
    // guesses cannot all pass a check made before any of them counted. Success resets the count.
    const failuresKey = `code-fail:${accountId}`;
    if ((await this.limits.hit(failuresKey, this.failuresPerAccount)) < 0) return { ok: false, reason: 'account_locked' };
    const code = normaliseCodeInput(input);
    // A malformed entry is still a guess against this account (counted above), so the limit
    // cannot be probed for free.
    if (!new RegExp(`^\\d{${CODE_LENGTH}}$`).test(code)) return { ok: false, reason: 'malformed' };
    const active = await this.store.codes.findActive(accountId, purpose, this.clock.now());
    // Another flow's code is not this flow's to try: no attempt is spent on it.
    if (!active || active.flowId !== owner.flowId || active.sentAt !== owner.sentAt) return { ok: false, reason: 'expired_or_missing' };
    const attempts = await this.store.codes.recordAttempt(active.id);
    if (attempts > this.attemptsPerCode) return { ok: false, reason: 'too_many_attempts' };
    const [salt] = active.codeHash.split('.');
    if (!safeEqual(this.hash(salt!, code), active.codeHash)) {
      if (attempts >= this.attemptsPerCode) return { ok: false, reason: 'too_many_attempts' };
      return { ok: false, reason: 'wrong', attemptsLeft: this.attemptsPerCode - attempts };
    }
    // Single use, also against a second process racing with the same code.
    if (!(await this.store.codes.consume(active.id, this.clock.now()))) return { ok: false, reason: 'expired_or_missing' };
    await this.limits.reset(failuresKey);
    return { ok: true };
  }
}
