import type Database from 'better-sqlite3';
import type { ThrottleRecord, ThrottleStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

interface Row {
  key: string;
  count: number;
  window_started_at: number;
  window_ends_at: number;
  last_hit_at: number;
}

export function toRecord(row: Row): ThrottleRecord {
  return {
    key: row.key,
    count: row.count,
    windowStartedAt: row.window_started_at,
    windowEndsAt: row.window_ends_at,
    lastHitAt: row.last_hit_at,
  };
}

export const COLUMNS = 'key, count, window_started_at, window_ends_at, last_hit_at';

export function createThrottleStore(db: Database.Database): Synchronous<ThrottleStore> {
  // One statement, so concurrent hits from several processes can never lose a count. Every SET
  // expression sees the row as it was before the update, hence the repeated window test.
  const hit = db.prepare<{ key: string; now: number; endsAt: number }, Row>(`
    INSERT INTO throttles (${COLUMNS}) VALUES (@key, 1, @now, @endsAt, @now)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN window_ends_at <= @now THEN 1 ELSE count + 1 END,
      window_started_at = CASE WHEN window_ends_at <= @now THEN @now ELSE window_started_at END,
      window_ends_at = CASE WHEN window_ends_at <= @now THEN @endsAt ELSE window_ends_at END,
      last_hit_at = @now
    RETURNING ${COLUMNS}`);
  const get = db.prepare<[string, number], Row>(
    `SELECT ${COLUMNS} FROM throttles WHERE key = ? AND window_ends_at > ?`);
  const reset = db.prepare<[string]>('DELETE FROM throttles WHERE key = ?');
  const release = db.prepare<[string, number]>(
    'UPDATE throttles SET count = count - 1 WHERE key = ? AND window_ends_at > ? AND count > 0');

  return {
    hit(key, windowMs, now) {
      const row = hit.get({ key, now, endsAt: now + windowMs });
      if (!row) throw new Error('throttle upsert returned no row');
      return toRecord(row);
    },
    get(key, now) {
      const row = get.get(key, now);
      return row && toRecord(row);
    },
    reset(key) {
      reset.run(key);
    },
    release(key, now) {
      release.run(key, now);
    },
  };
}
