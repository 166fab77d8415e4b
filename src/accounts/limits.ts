// Counting failures and sends in fixed windows, on the store so every process sees the same
// counts. Keys name what is counted, e.g. `pwd-fail:acct:<id>` or `send:sms:<accountId>`.
import type { Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import type { LimitPolicy } from '../policy/defaults.ts';

export interface LimitRule {
  /** How many hits the window allows. */
  max: number;
  windowMs: number;
}

export class Limits {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** True when `key` has used up its window. Does not count. */
  async exhausted(key: string, rule: LimitRule): Promise<boolean> {
    const record = await this.store.throttles.get(key, this.clock.now());
    return record !== undefined && record.windowEndsAt > this.clock.now() && record.count >= rule.max;
  }

  /** Counts one hit; returns how many the window has left (negative when over). */
  async hit(key: string, rule: LimitRule): Promise<number> {
    const record = await this.store.throttles.hit(key, rule.windowMs, this.clock.now());
    return rule.max - record.count;
  }

  /** Milliseconds since the last hit, or undefined when there is none in a live window. */
  async sinceLastHit(key: string): Promise<number | undefined> {
    const now = this.clock.now();
    const record = await this.store.throttles.get(key, now);
    return record && record.windowEndsAt > now ? now - record.lastHitAt : undefined;
  }

  /** Whole seconds until `key`'s window ends (at least 1): a 429's Retry-After. */
  async retryAfterSeconds(key: string): Promise<number> {
    const now = this.clock.now();
    const record = await this.store.throttles.get(key, now);
    return Math.max(1, Math.ceil(((record?.windowEndsAt ?? now) - now) / 1000));
  }

  reset(key: string): Promise<void> {
    return this.store.throttles.reset(key);
  }

  /** Gives back the hit of an attempt that turned out fine (for limits that count only failures). */
  release(key: string): Promise<void> {
    return this.store.throttles.release(key, this.clock.now());
  }
}

/** A limit of the policy (src/policy/defaults.ts, in seconds) as the rule `hit` and `exhausted` take. */
export function limitRule(policy: LimitPolicy): LimitRule {
  return { max: policy.max, windowMs: policy.windowSeconds * 1000 };
}
