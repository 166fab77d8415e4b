import type Database from 'better-sqlite3';
import type { LockoutRecord, LockoutStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

interface Row {
  key: string;
  consecutive_failures: number;
  failures_since_success: number;
  locks: number;
  locked_until: number | null;
  hard_locked: number;
  updated_at: number;
  expires_at: number | null;
}

export function toRecord(row: Row): LockoutRecord {
  return {
    key: row.key,
    consecutiveFailures: row.consecutive_failures,
    failuresSinceSuccess: row.failures_since_success,
    locks: row.locks,
    lockedUntil: row.locked_until,
    hardLocked: row.hard_locked === 1,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

export const COLUMNS = 'key, consecutive_failures, failures_since_success, locks, locked_until, hard_locked, updated_at, expires_at';

export function createLockoutStore(db: Database.Database): Synchronous<LockoutStore> {
  const get = db.prepare<[string, number], Row>(
    `SELECT ${COLUMNS} FROM lockouts WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`);
  const put = db.prepare(`
    INSERT INTO lockouts (${COLUMNS})
    VALUES (@key, @consecutiveFailures, @failuresSinceSuccess, @locks, @lockedUntil, @hardLocked, @updatedAt, @expiresAt)
    ON CONFLICT (key) DO UPDATE SET
      consecutive_failures = excluded.consecutive_failures,
      failures_since_success = excluded.failures_since_success,
      locks = excluded.locks,
      locked_until = excluded.locked_until,
      hard_locked = excluded.hard_locked,
      updated_at = excluded.updated_at,
      expires_at = excluded.expires_at`);
  const remove = db.prepare<[string]>('DELETE FROM lockouts WHERE key = ?');

  return {
    get(key, now) {
      const row = get.get(key, now);
      return row && toRecord(row);
    },
    update(key, now, change) {
      // IMMEDIATE takes the write lock before the read: another process cannot change the record
      // between what `change` saw and what is written.
      const apply = db.transaction(() => {
        const row = get.get(key, now);
        const current = row && toRecord(row);
        const { next, result } = change(current);
        if (next === current) return result;
        if (next === null) remove.run(key);
        else put.run({ ...next, key, hardLocked: next.hardLocked ? 1 : 0 });
        return result;
      });
      return apply.immediate();
    },
    remove(key) {
      remove.run(key);
    },
  };
}
