// Progressive password lockout, counted per account and per typed login name in the shared store.
//
// Every attempt is *admitted* before its password is evaluated: admission counts it atomically
// (store.lockouts.update), so parallel guesses can never exceed a limit that was checked before
// any of them was counted. After `threshold` consecutive failures a temporary lock starts
// (1 → 5 → 15 minutes by default, then the last step repeats). After `maxFailures` evaluated
// guesses without a successful login the account is hard-locked until an unlock (NIST SP
// 800-63B-4 §3.2.2: at most 100 consecutive failed attempts per account). Login-name records have
// no hard cap (the account's covers every name that reaches it) and are forgotten a day after
// their last failure, so names typed at random do not pile up.
//
// A lock is never visible on the login page (the password factor answers as for a wrong
// password): the patient learns of it from the notification mail.
import type { LockoutChange, LockoutRecord, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import type { Policy } from '../policy/defaults.ts';
import type { LoginNameKeys } from './login-name-key.ts';

export type LockEvent = { kind: 'temporary'; until: number; step: number } | { kind: 'hard' };

export type Admission =
  /** May be evaluated; `lock` is the lock this attempt starts should it fail. */
  | { admitted: true; lock?: LockEvent }
  | { admitted: false };

export interface LockRule {
  threshold: number;
  stepsMs: readonly number[];
  /** Evaluated guesses before a hard lock; undefined: no hard lock. */
  maxFailures?: number;
  /** How long after the last failure (or the end of a lock) the record is kept; null: until reset. */
  memoryMs: number | null;
}

export interface LockStatus {
  state: 'open' | 'locked' | 'hard-locked';
  lockedUntil: number | null;
  /** Evaluated failures since the last successful login or unlock. */
  failures: number;
  /** Temporary locks since then. */
  locks: number;
}

export const accountLockKey = (accountId: string) => `acct:${accountId}`;
const nameLockKey = (nameKey: string) => `name:${nameKey}`;

/** The pure decision of one admission: what to store, and whether the attempt may be evaluated. */
export function admit(current: LockoutRecord | undefined, key: string, now: number, rule: LockRule): LockoutChange<Admission> {
  // Refused: the record stays as it is (and nothing is written).
  if (current && (current.hardLocked || (current.lockedUntil ?? 0) > now)) return { next: current, result: { admitted: false } };
  const base: LockoutRecord = current ?? {
    key, consecutiveFailures: 0, failuresSinceSuccess: 0, locks: 0, lockedUntil: null, hardLocked: false, updatedAt: now, expiresAt: null,
  };
  const next: LockoutRecord = {
    ...base,
    consecutiveFailures: base.consecutiveFailures + 1,
    failuresSinceSuccess: base.failuresSinceSuccess + 1,
    updatedAt: now,
  };
  let lock: LockEvent | undefined;
  if (rule.maxFailures !== undefined && next.failuresSinceSuccess >= rule.maxFailures) {
    next.hardLocked = true;
    next.lockedUntil = null;
    next.consecutiveFailures = 0;
    lock = { kind: 'hard' };
  } else if (next.consecutiveFailures >= rule.threshold) {
    next.locks += 1;
    next.lockedUntil = now + rule.stepsMs[Math.min(next.locks, rule.stepsMs.length) - 1]!;
    next.consecutiveFailures = 0;
    lock = { kind: 'temporary', until: next.lockedUntil, step: next.locks };
  }
  next.expiresAt = rule.memoryMs === null ? null : Math.max(now, next.lockedUntil ?? 0) + rule.memoryMs;
  return { next, result: { admitted: true, ...(lock ? { lock } : {}) } };
}

export function statusOf(record: LockoutRecord | undefined, now: number): LockStatus {
  if (!record) return { state: 'open', lockedUntil: null, failures: 0, locks: 0 };
  const locked = (record.lockedUntil ?? 0) > now;
  return {
    state: record.hardLocked ? 'hard-locked' : locked ? 'locked' : 'open',
    lockedUntil: !record.hardLocked && locked ? record.lockedUntil : null,
    failures: record.failuresSinceSuccess,
    locks: record.locks,
  };
}

export class Lockout {
  private readonly accountRule: LockRule;
  private readonly nameRule: LockRule;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    policy: Policy['lockout'],
    private readonly names: LoginNameKeys,
  ) {
    const stepsMs = policy.stepsSeconds.map((step) => step * 1000);
    this.accountRule = { threshold: policy.threshold, stepsMs, maxFailures: policy.maxFailures, memoryMs: null };
    this.nameRule = { threshold: policy.threshold, stepsMs, memoryMs: policy.loginNameMemorySeconds * 1000 };
  }

  admitLoginName(login: string): Promise<Admission> {
    return this.admitKey(nameLockKey(this.names.of(login)), this.nameRule);
  }

  admitAccount(accountId: string): Promise<Admission> {
    return this.admitKey(accountLockKey(accountId), this.accountRule);
  }

  private admitKey(key: string, rule: LockRule): Promise<Admission> {
    const now = this.clock.now();
    return this.store.lockouts.update(key, now, (current) => admit(current, key, now, rule));
  }

  /** A successful login: the account and every name it answers to start afresh. */
  async succeeded(account: { id: string; username: string; email: string }, typed: string): Promise<void> {
    await this.forget(account, typed);
  }

  /** Lifts any lock of the account (operator, later the patient's self-service); returns the state before. */
  async unlock(account: { id: string; username: string; email: string }): Promise<LockStatus> {
    const before = await this.status(account);
    await this.forget(account);
    return before;
  }

  /** The account's own state, or a login name's lock when that is stricter. */
  async status(account: { id: string; username: string; email: string }): Promise<LockStatus> {
    const now = this.clock.now();
    const own = statusOf(await this.store.lockouts.get(accountLockKey(account.id), now), now);
    if (own.state !== 'open') return own;
    for (const login of this.loginsOf(account)) {
      const named = statusOf(await this.store.lockouts.get(nameLockKey(this.names.of(login)), now), now);
      if (named.state !== 'open') return { ...own, state: named.state, lockedUntil: named.lockedUntil };
    }
    return own;
  }

  private loginsOf(account: { username: string; email: string }, typed?: string): string[] {
    return [...new Set([account.username, account.email, typed].filter((l): l is string => !!l))];
  }

  private async forget(account: { id: string; username: string; email: string }, typed?: string): Promise<void> {
    await this.store.lockouts.remove(accountLockKey(account.id));
    for (const login of this.loginsOf(account, typed)) await this.store.lockouts.remove(nameLockKey(this.names.of(login)));
  }
}
