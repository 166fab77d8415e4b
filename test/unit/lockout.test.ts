// The pure admission rule of accounts/lockout.ts: what each attempt does to a lock record.
import { describe, expect, it } from 'vitest';
import { admit, statusOf, type LockRule } from '../../src/accounts/lockout.ts';
import type { LockoutRecord } from '../../src/store/port.ts';

const MINUTE = 60_000;
const RULE: LockRule = { threshold: 5, stepsMs: [MINUTE, 5 * MINUTE, 15 * MINUTE], maxFailures: 100, memoryMs: null };

/** Applies `count` admissions at `now` and returns the record and the admissions. */
function run(record: LockoutRecord | undefined, count: number, now: number, rule = RULE) {
  const results = [];
  for (let i = 0; i < count; i += 1) {
    const { next, result } = admit(record, 'k', now, rule);
    record = next ?? undefined;
    results.push(result);
  }
  return { record, results };
}

describe('lockout admission', () => {
  it('admits the threshold, starts a lock with the last of them, then refuses without writing', () => {
    const { record, results } = run(undefined, 7, 0);
    expect(results.slice(0, 4)).toEqual(Array(4).fill({ admitted: true }));
    expect(results[4]).toEqual({ admitted: true, lock: { kind: 'temporary', until: MINUTE, step: 1 } });
    expect(results.slice(5)).toEqual([{ admitted: false }, { admitted: false }]);
    expect(record).toMatchObject({ consecutiveFailures: 0, failuresSinceSuccess: 5, locks: 1, lockedUntil: MINUTE });
    // A refusal hands back the very record: the store writes nothing.
    expect(admit(record, 'k', 1, RULE).next).toBe(record);
  });

  it('grows 1 → 5 → 15 minutes and stays at the top step', () => {
    let record: LockoutRecord | undefined;
    let now = 0;
    const untils: number[] = [];
    for (let lock = 0; lock < 5; lock += 1) {
      const step = run(record, 5, now);
      record = step.record;
      const last = step.results[4]!;
      if (!last.admitted || last.lock?.kind !== 'temporary') throw new Error('no lock');
      untils.push(last.lock.until - now);
      now = last.lock.until;
    }
    expect(untils).toEqual([MINUTE, 5 * MINUTE, 15 * MINUTE, 15 * MINUTE, 15 * MINUTE]);
  });

  it('hard-locks at the cap, which no time lifts', () => {
    const { record, results } = run(undefined, 101, 0, { ...RULE, threshold: 1000 });
    expect(results.filter((r) => r.admitted)).toHaveLength(100);
    expect(results[99]).toEqual({ admitted: true, lock: { kind: 'hard' } });
    expect(statusOf(record, 10 ** 12)).toMatchObject({ state: 'hard-locked', failures: 100 });
    expect(admit(record, 'k', 10 ** 12, RULE).result).toEqual({ admitted: false });
  });

  it('keeps login-name records a while after the last failure or the end of the lock', () => {
    const rule = { ...RULE, maxFailures: undefined, memoryMs: 24 * 60 * MINUTE };
    expect(run(undefined, 1, 1000, rule).record?.expiresAt).toBe(1000 + 24 * 60 * MINUTE);
    expect(run(undefined, 5, 1000, rule).record?.expiresAt).toBe(1000 + MINUTE + 24 * 60 * MINUTE);
    expect(run(undefined, 200, 0, rule).record?.hardLocked).toBe(false);
  });
});
