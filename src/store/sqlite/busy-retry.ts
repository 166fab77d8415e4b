// SQLITE_BUSY with several processes on one file. SQLite's busy handler waits for another
// connection's lock by sleeping the calling thread, and better-sqlite3 runs on the event loop: a
// long wait freezes every request of this process. So the connection's busy timeout is short
// (`BUSY_TIMEOUT_MS`, enough for another process's ordinary group commit, which holds the write
// lock for a millisecond or two), and a store call that still gets SQLITE_BUSY — the other process
// holds the lock longer: a VACUUM, a migration, a big sweep — is tried again after a random pause
// (exponential backoff with full jitter, so two waiting processes do not retry in step) without
// blocking, for up to `BUSY_GIVE_UP_MS` in all. Only then does SQLITE_BUSY reach the caller, which
// answers 503 with Retry-After (store/errors.ts).
//
// Trying again is safe: a call that failed with SQLITE_BUSY changed nothing. A read is just read
// again; a write failed before its batch began (BEGIN IMMEDIATE did not get the lock) or its batch
// was rolled back whole (write-queue.ts), so it never committed.

/** How long one statement may block the event loop waiting for another process's lock. */
export const BUSY_TIMEOUT_MS = 100;
/** Total time a store call keeps trying before SQLITE_BUSY reaches its caller (as before: 5 s). */
export const BUSY_GIVE_UP_MS = 5000;
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 500;

export type BusyOutcome = 'retried' | 'gave_up';

export interface BusyRetryOptions {
  giveUpMs?: number;
  /** Told about every SQLITE_BUSY a call saw: tried again, or passed on to the caller. */
  onBusy?: (outcome: BusyOutcome) => void;
}

/** SQLITE_BUSY*, also when wrapped (a StoreUnavailableError keeps the driver's error as its cause). */
export function isSqliteBusy(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
    current = current.cause;
  }
  return false;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `call`, trying again after a jittered pause while it fails with SQLITE_BUSY. */
export async function retryWhenBusy<R>(call: () => Promise<R>, options: BusyRetryOptions = {}): Promise<R> {
  const giveUpAt = performance.now() + (options.giveUpMs ?? BUSY_GIVE_UP_MS);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isSqliteBusy(error)) throw error;
      const ceiling = Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** attempt);
      const wait = Math.random() * ceiling;
      if (performance.now() + wait >= giveUpAt) {
        options.onBusy?.('gave_up');
        throw error;
      }
      options.onBusy?.('retried');
      await pause(wait);
    }
  }
}
