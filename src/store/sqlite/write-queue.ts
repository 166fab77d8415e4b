// Group commit for the embedded store. With synchronous=FULL every COMMIT waits for an fsync of the
// WAL, so a write is acknowledged only once it survives a power cut. Paying that fsync per write
// would halve the token endpoint's throughput; instead, writes that arrive while the event loop is
// busy (including during the previous commit, which blocks it) are queued and run together in one
// transaction at the next setImmediate. Each write runs in its own savepoint, so one failing write
// does not undo the others, and every caller's promise settles only after the COMMIT returned.
//
// better-sqlite3 is synchronous, so the batch runs without interruption: no read on this
// connection ever sees a half-done batch, and reads need not wait for the queue.
import type Database from 'better-sqlite3';

interface Job {
  operation: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Enough to amortise the fsync; small enough that one batch never stalls the loop for long. */
const MAX_BATCH = 256;

export class WriteQueue {
  private pending: Job[] = [];
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackToSavepoint: Database.Statement;
  /** Committed batches; tests read it to see that concurrent writes share a commit. */
  commits = 0;

  constructor(private readonly db: Database.Database) {
    // IMMEDIATE takes the write lock up front: a batch never fails half-way on another process's lock.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT queued_write');
    this.release = db.prepare('RELEASE queued_write');
    this.rollbackToSavepoint = db.prepare('ROLLBACK TO queued_write');
  }

  /** Runs `operation` in the next batch; settles after that batch's COMMIT (or its failure). */
  run<R>(operation: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ operation, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every queued write has been committed or failed. */
  idle(): Promise<void> {
    if (!this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (batch.length) this.runBatch(batch);
    if (this.pending.length) this.schedule();
    else for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private runBatch(batch: Job[]): void {
    if (!this.db.open) {
      for (const job of batch) job.reject(new Error('the database is closed'));
      return;
    }
    try {
      this.begin.run();
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    const done: { job: Job; value: unknown }[] = [];
    const failed: { job: Job; error: unknown }[] = [];
    for (let index = 0; index < batch.length; index += 1) {
      const job = batch[index]!;
      this.savepoint.run();
      try {
        done.push({ job, value: job.operation() });
        this.release.run();
      } catch (error) {
        failed.push({ job, error });
        if (!this.db.inTransaction) {
          // SQLite rolled the whole transaction back by itself (disk full, I/O error): the writes
          // before this one are gone too. None was acknowledged, so they simply go again.
          this.pending.unshift(...done.map((d) => d.job), ...batch.slice(index + 1));
          for (const f of failed) f.job.reject(f.error);
          return;
        }
        this.rollbackToSavepoint.run();
        this.release.run();
      }
    }
    try {
      this.commit.run();
      this.commits += 1;
    } catch (error) {
      if (this.db.inTransaction) {
        try {
          this.rollback.run();
        } catch {
          // The connection is unusable; every job below learns of the original error.
        }
      }
      for (const job of batch) job.reject(error);
      return;
    }
    for (const d of done) d.job.resolve(d.value);
    for (const f of failed) f.job.reject(f.error);
  }
}
