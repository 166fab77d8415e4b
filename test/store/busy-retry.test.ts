// Another process holding SQLite's write lock longer than the busy timeout (a VACUUM, a migration):
// a store call waits for it without blocking the event loop — short blocking waits, then pauses
// with jitter — and only past the give-up time does SQLITE_BUSY reach the caller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { BusyOutcome } from '../../src/store/sqlite/busy-retry.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-busy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;

/** A store with a 20 ms busy timeout, and a second connection ("the other process") on its file. */
function storeAndOther(giveUpMs?: number) {
  n += 1;
  const file = path.join(dir, `busy-${n}.sqlite`);
  const outcomes: BusyOutcome[] = [];
  const store = openSqliteStore(file, { synchronous: 'NORMAL', busyTimeoutMs: 20, busyRetry: { giveUpMs, onBusy: (outcome) => outcomes.push(outcome) } });
  const other = new Database(file);
  return { store, other, outcomes };
}

/** The other connection takes the write lock now and gives it back after `ms`. */
function holdWriteLock(other: Database.Database, ms: number): Promise<void> {
  other.exec('BEGIN IMMEDIATE');
  return new Promise((resolve) => setTimeout(() => {
    other.exec('COMMIT');
    resolve();
  }, ms));
}

describe('SQLITE_BUSY from another connection', () => {
  it('waits for a write lock held past the busy timeout, keeping the event loop free, and writes', async () => {
    const { store, other, outcomes } = storeAndOther();
    const released = holdWriteLock(other, 300);
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 10);
    await store.settings.put('written-while-locked', { ok: true });
    clearInterval(ticker);
    await released;
    expect(await store.settings.get('written-while-locked')).toEqual({ ok: true });
    expect(outcomes.filter((o) => o === 'retried').length).toBeGreaterThan(0);
    expect(outcomes).not.toContain('gave_up');
    // The loop ran timers meanwhile: the wait was not one long block of the thread.
    expect(ticks).toBeGreaterThan(5);
    other.close();
    await store.close();
  });

  it('passes SQLITE_BUSY on once the give-up time is over, having written nothing', async () => {
    const { store, other, outcomes } = storeAndOther(150);
    const released = holdWriteLock(other, 600);
    // The write queue reports a BEGIN that stayed busy as the store being unavailable (a 503), its
    // cause the SQLITE_BUSY the retries gave up on.
    await expect(store.settings.put('never', 1)).rejects.toMatchObject({ reason: 'busy', cause: expect.objectContaining({ code: expect.stringMatching(/^SQLITE_BUSY/) }) });
    expect(outcomes.at(-1)).toBe('gave_up');
    await released;
    expect(await store.settings.get('never')).toBeUndefined();
    other.close();
    await store.close();
  });
});
