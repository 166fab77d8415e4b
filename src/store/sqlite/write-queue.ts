// Group commit for the embedded store. Writes that arrive while the event loop is busy are queued
// and run together in one transaction at the next setImmediate. Each write runs in its own
// savepoint, so one failing write does not undo the others, and every caller's promise settles
// only after its batch is committed and, with a syncer, durable (wal-syncer.ts: the fsync runs on
// another thread while this one goes on with the next requests and the next batch). So nothing is
// acknowledged that a power cut could take back, and one fsync is shared by every write of a batch.
//
// better-sqlite3 is synchronous, so a batch runs without interruption: no read on this connection
// ever sees half of one, and reads need not wait for the queue. (A read may see a committed write a
// few milliseconds before that write is acknowledged as durable.)
//
// A failed sync is fatal (wal-syncer.ts: after a failed fsync the kernel may report success for
// writes it lost). From then on the queue refuses every write with StoreUnavailableError (a 503,
// readiness not ready) and tells its `onFatal` listeners once, so the process can exit and be
// restarted by its supervisor: SQLite then recovers from what really reached the disk.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import type { Syncer } from './wal-syncer.ts';
import { StoreUnavailableError } from '../errors.ts';
import { sqliteUnavailableReason } from './errors.ts';

interface Job {
  operation: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Inside `durably`: settled at COMMIT, the scope waits for the sync once at its end. */
  scope: DurableScope | undefined;
}

interface DurableScope {
  wrote: boolean;
  /** The request has finished: a write it left running is synced on its own. */
  ended: boolean;
}

/** Enough to amortise the fsync; small enough that one batch never stalls the loop for long. */
const MAX_BATCH = 256;

export class WriteQueue {
  private pending: Job[] = [];
  private scheduled = false;
  private syncing = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackToSavepoint: Database.Statement;
  /** Committed batches; tests read it to see that concurrent writes share a commit. */
  commits = 0;
  private readonly scopes = new AsyncLocalStorage<DurableScope>();
  /** Set when a sync failed: every write from then on is refused with it. */
  private failure: StoreUnavailableError | undefined;
  private readonly fatalListeners: ((error: StoreUnavailableError) => void)[] = [];
  /** Held by a caller running its own long transaction (an import): batches wait meanwhile. */
  private held = false;

  constructor(
    private readonly db: Database.Database,
    readonly syncer?: Syncer,
  ) {
    // IMMEDIATE takes the write lock up front: a batch never fails half-way on another process's lock.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT queued_write');
    this.release = db.prepare('RELEASE queued_write');
    this.rollbackToSavepoint = db.prepare('ROLLBACK TO queued_write');
  }

  /** Runs `operation` in the next batch; settles after that batch's COMMIT and sync (or their failure). */
  run<R>(operation: () => R): Promise<R> {
    const active = this.scopes.getStore();
    const scope = active && !active.ended ? active : undefined;
    if (scope) scope.wrote = true;
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ operation, resolve: resolve as (value: unknown) => void, reject, scope });
      this.schedule();
    });
  }

  /**
   * Runs `work` (a request) with its writes settled at COMMIT, and settles itself only once all of
   * them are durable: one sync after the last write instead of one after each. The WAL is written
   * in order, so a sync that starts after the last commit covers every earlier one. A refresh
   * (rotation, then the access token) or a login (a dozen writes) waits for one fsync, not many,
   * and still answers only once everything it wrote is on disk.
   */
  async durably<R>(work: () => Promise<R>): Promise<R> {
    const scope: DurableScope = { wrote: false, ended: false };
    try {
      return await this.scopes.run(scope, work);
    } finally {
      scope.ended = true;
      if (scope.wrote && this.syncer) await this.synced();
    }
  }

  /** The failure that stopped this queue taking writes, if one did. */
  get failed(): StoreUnavailableError | undefined {
    return this.failure;
  }

  /** Called once, when a failed sync makes the store refuse writes until a restart. */
  onFatal(listener: (error: StoreUnavailableError) => void): void {
    this.fatalListeners.push(listener);
  }

  private async synced(): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      await this.syncer!.sync();
    } catch (error) {
      throw this.markFailed(error);
    }
  }

  private markFailed(error: unknown): StoreUnavailableError {
    if (this.failure) return this.failure;
    this.failure = error instanceof StoreUnavailableError ? error : new StoreUnavailableError('io', { cause: error });
    for (const listener of this.fatalListeners) listener(this.failure);
    return this.failure;
  }

  /** Resolves once every queued write has been committed (and synced) or failed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Takes the connection for one transaction of the caller's own that spans many awaits (an
   * import of one record type): batches wait until `release`. `sync` makes what the caller
   * committed durable, as a batch's sync does.
   */
  async hold(): Promise<{ sync(): Promise<void>; release(): void }> {
    if (this.held) throw new Error('the write queue is held already');
    await this.idle();
    this.held = true;
    return {
      sync: async () => {
        await this.syncer?.sync();
      },
      release: () => {
        this.held = false;
        if (this.pending.length) this.schedule();
      },
    };
  }

  private isIdle(): boolean {
    return !this.scheduled && this.pending.length === 0 && this.syncing === 0;
  }

  private wakeIdleWaiters(): void {
    if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.held) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (batch.length) this.runBatch(batch);
    if (this.pending.length) this.schedule();
    else this.wakeIdleWaiters();
  }

  private runBatch(batch: Job[]): void {
    if (this.failure) {
      for (const job of batch) job.reject(this.failure);
      return;
    }
    if (!this.db.open) {
      for (const job of batch) job.reject(new StoreUnavailableError('unreachable', { cause: new Error('the database is closed') }));
      return;
    }
    try {
      this.begin.run();
    } catch (error) {
      // Typically SQLITE_BUSY: another process (or `db vacuum`) held the write lock past the busy
      // timeout. Nothing was written; the requests get a 503 and may try again.
      this.abandon(batch, [], error);
      return;
    }
    const done: { job: Job; value: unknown }[] = [];
    const failed: { job: Job; error: unknown }[] = [];
    for (let index = 0; index < batch.length; index += 1) {
      const job = batch[index]!;
      // Every statement of the queue's own may fail (an I/O error): never out of this callback,
      // where it would be an uncaught exception that ends the process.
      try {
        this.savepoint.run();
      } catch (error) {
        this.abandon(batch, failed, error);
        return;
      }
      let value: unknown;
      try {
        value = job.operation();
      } catch (error) {
        failed.push({ job, error });
        if (!this.db.inTransaction) {
          // SQLite rolled the whole transaction back by itself (disk full, I/O error): the writes
          // before this one are gone too. None was acknowledged, so they simply go again.
          this.pending.unshift(...done.map((d) => d.job), ...batch.slice(index + 1));
          for (const f of failed) f.job.reject(f.error);
          return;
        }
        try {
          this.rollbackToSavepoint.run();
          this.release.run();
        } catch (rollbackError) {
          this.abandon(batch, failed, rollbackError);
          return;
        }
        continue;
      }
      try {
        this.release.run();
      } catch (error) {
        this.abandon(batch, failed, error);
        return;
      }
      done.push({ job, value });
    }
    try {
      this.commit.run();
      this.commits += 1;
    } catch (error) {
      this.abandon(batch, failed, error);
      return;
    }
    for (const f of failed) f.job.reject(f.error);
    // Writes inside `durably` are settled now; their scope waits for the sync at its end.
    const unscoped = this.syncer ? done.filter((d) => !d.job.scope) : [];
    for (const d of done) if (!this.syncer || d.job.scope) d.job.resolve(d.value);
    if (!this.syncer || unscoped.length === 0) return;
    this.syncing += 1;
    this.syncer.sync().then(
      () => {
        for (const d of unscoped) d.job.resolve(d.value);
      },
      (error: unknown) => {
        // Committed but perhaps not on disk: not acknowledged as saved, and nothing written after.
        const failure = this.markFailed(error);
        for (const d of unscoped) d.job.reject(failure);
      },
    ).finally(() => {
      this.syncing -= 1;
      this.wakeIdleWaiters();
    });
  }

  /**
   * The queue's own statement failed (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO, COMMIT): the batch is given
   * up as a whole. Nothing of it was acknowledged; a write that failed by itself keeps its error,
   * the others learn that the store is unavailable.
   */
  private abandon(batch: Job[], failed: { job: Job; error: unknown }[], error: unknown): void {
    if (this.db.inTransaction) {
      try {
        this.rollback.run();
      } catch {
        // The connection is unusable; every job below learns of the original error.
      }
    }
    const unavailable = error instanceof StoreUnavailableError ? error : new StoreUnavailableError(sqliteUnavailableReason(error) ?? 'io', { cause: error });
    const own = new Map(failed.map((f) => [f.job, f.error]));
    for (const job of batch) job.reject(own.has(job) ? own.get(job) : unavailable);
  }
}
