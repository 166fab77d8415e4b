// The group-commit queue's promise: a write is acknowledged only after its batch is committed and
// the syncer says it is on disk; a failed fsync is reported, never acknowledged as saved.
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { mkfifo } from './fifo.ts';
import { openSync, closeSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WriteQueue } from '../../src/store/sqlite/write-queue.ts';
import { WalSyncer, type Syncer } from '../../src/store/sqlite/wal-syncer.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A syncer the test completes by hand. */
class ManualSyncer implements Syncer {
  calls: { resolve: () => void; reject: (error: Error) => void }[] = [];
  sync(): Promise<void> {
    return new Promise((resolve, reject) => this.calls.push({ resolve, reject }));
  }
  async stop(): Promise<void> {}
}

function database(name: string): Database.Database {
  const db = new Database(path.join(dir, name));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  return db;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('write queue with a syncer', () => {
  it('acknowledges a batch only when its sync is done, with one sync for the whole batch', async () => {
    const db = database('acknowledge.sqlite');
    const syncer = new ManualSyncer();
    const queue = new WriteQueue(db, syncer);
    const insert = db.prepare<[string]>('INSERT INTO t VALUES (?)');
    let acknowledged = 0;
    const writes = ['a', 'b', 'c'].map((k) => queue.run(() => insert.run(k)).then(() => (acknowledged += 1)));
    await tick();
    expect(syncer.calls).toHaveLength(1);
    expect(acknowledged).toBe(0);
    syncer.calls[0]!.resolve();
    await Promise.all(writes);
    expect(acknowledged).toBe(3);
    await queue.idle();
    db.close();
  });

  it('reports a failed sync to every write of the batch instead of acknowledging it', async () => {
    const db = database('failed-sync.sqlite');
    const syncer = new ManualSyncer();
    const queue = new WriteQueue(db, syncer);
    const insert = db.prepare<[string]>('INSERT INTO t VALUES (?)');
    const writes = Promise.allSettled(['a', 'b'].map((k) => queue.run(() => insert.run(k))));
    await tick();
    syncer.calls[0]!.reject(new Error('EIO'));
    expect((await writes).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    db.close();
  });

  it('the real syncer fsyncs the WAL of a committed write, and says so when it cannot', async () => {
    const file = path.join(dir, 'real.sqlite');
    const db = database('real.sqlite');
    const syncer = new WalSyncer(file, dir);
    const queue = new WriteQueue(db, syncer);
    try {
      await queue.run(() => db.prepare('INSERT INTO t VALUES (?)').run('x'));
      const missing = new WalSyncer(path.join(dir, 'no-such.sqlite'), dir);
      // A failed fsync is a store fault (503 upstream), and its cause says what failed.
      const failure = await missing.sync().then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String((failure as StoreUnavailableError).cause)).toMatch(/fsync of the SQLite WAL failed/);
      await missing.stop();
    } finally {
      await queue.idle();
      await syncer.stop();
      db.close();
    }
  });

  it('the real syncer settles many overlapping syncs, each by an fsync that started after it', async () => {
    const file = path.join(dir, 'overlapping.sqlite');
    const db = database('overlapping.sqlite');
    db.prepare('INSERT INTO t VALUES (?)').run('wal exists now');
    const syncer = new WalSyncer(file, dir);
    try {
      await Promise.all(Array.from({ length: 200 }, () => syncer.sync()));
      for (let i = 0; i < 20; i += 1) await syncer.sync();
    } finally {
      await syncer.stop();
      db.close();
    }
  });
});

describe('write queue: a request made durable once, at its end', () => {
  it('settles writes inside durably at COMMIT, and durably itself only after one sync', async () => {
    const db = database('durably.sqlite');
    const syncer = new ManualSyncer();
    const queue = new WriteQueue(db, syncer);
    const insert = db.prepare<[string]>('INSERT INTO t VALUES (?)');
    let finished = false;
    const request = queue.durably(async () => {
      await queue.run(() => insert.run('rotated'));
      await queue.run(() => insert.run('access token'));
      return 'response';
    }).then((value) => {
      finished = true;
      return value;
    });
    await tick();
    // Both writes committed without waiting for a sync; the request waits for exactly one.
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    expect(syncer.calls).toHaveLength(1);
    expect(finished).toBe(false);
    syncer.calls[0]!.resolve();
    expect(await request).toBe('response');
    db.close();
  });

  it('a request that failed after writing still waits for them to be durable, and a read-only one for nothing', async () => {
    const db = database('durably-failed.sqlite');
    const syncer = new ManualSyncer();
    const queue = new WriteQueue(db, syncer);
    const insert = db.prepare<[string]>('INSERT INTO t VALUES (?)');
    const failing = queue.durably(async () => {
      await queue.run(() => insert.run('grant revoked'));
      throw new Error('invalid_grant');
    });
    await tick();
    expect(syncer.calls).toHaveLength(1);
    syncer.calls[0]!.resolve();
    await expect(failing).rejects.toThrow('invalid_grant');
    expect(await queue.durably(async () => db.prepare('SELECT count(*) AS n FROM t').get())).toEqual({ n: 1 });
    expect(syncer.calls).toHaveLength(1);
    db.close();
  });
});

describe('write queue: a failed sync is final', () => {
  it('refuses every later write with the same StoreUnavailableError and tells its listeners once', async () => {
    const db = database('fatal.sqlite');
    const syncer = new ManualSyncer();
    const queue = new WriteQueue(db, syncer);
    const fatal: StoreUnavailableError[] = [];
    queue.onFatal((error) => fatal.push(error));
    const insert = db.prepare<[string]>('INSERT INTO t VALUES (?)');
    const first = queue.run(() => insert.run('a')).catch((error: unknown) => error);
    await tick();
    syncer.calls[0]!.reject(new StoreUnavailableError('io', { cause: new Error('EIO') }));
    const failure = await first;
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    // The sync would work now; the queue does not believe it (fsync may lie after an error).
    const later = await queue.run(() => insert.run('b')).catch((error: unknown) => error);
    expect(later).toBe(failure);
    await expect(queue.durably(async () => queue.run(() => insert.run('c')))).rejects.toBe(failure);
    expect(db.prepare('SELECT k FROM t').all()).toEqual([{ k: 'a' }]);
    expect(fatal).toEqual([failure]);
    expect(syncer.calls).toHaveLength(1);
    db.close();
  });
});

describe('write queue: its own statements failing', () => {
  it('a failing SAVEPOINT rejects the batch with StoreUnavailableError and rolls it back, without an uncaught exception', async () => {
    const db = database('savepoint.sqlite');
    const prepare = db.prepare.bind(db);
    let failSavepoints = 0;
    const spy = vi.spyOn(db, 'prepare').mockImplementation(((sql: string) => {
      const statement = prepare(sql);
      if (sql !== 'SAVEPOINT queued_write') return statement;
      return {
        run: () => {
          // The second write's savepoint fails, as on an I/O error; the first one already ran.
          if (failSavepoints > 0 && (failSavepoints -= 1) === 0) throw Object.assign(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'), {});
          return statement.run();
        },
      };
    }) as unknown as typeof db.prepare);
    const queue = new WriteQueue(db);
    spy.mockRestore();
    const insert = db.prepare<[string]>('INSERT INTO t VALUES (?)');
    failSavepoints = 2;
    const results = await Promise.allSettled(['a', 'b', 'c'].map((k) => queue.run(() => insert.run(k))));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'StoreUnavailableError', reason: 'io' });
    // Nothing of the batch was kept, and the connection is usable again.
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    await queue.run(() => insert.run('d'));
    expect(db.prepare('SELECT k FROM t').all()).toEqual([{ k: 'd' }]);
    db.close();
  });

  it('a write lock held past the busy timeout (db vacuum, another process) is StoreUnavailableError busy', async () => {
    const db = database('busy.sqlite');
    db.pragma('busy_timeout = 50');
    const other = new Database(path.join(dir, 'busy.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      const queue = new WriteQueue(db);
      const refused = await queue.run(() => db.prepare('INSERT INTO t VALUES (?)').run('x')).catch((error: unknown) => error);
      expect(refused).toMatchObject({ name: 'StoreUnavailableError', reason: 'busy' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
      db.close();
    }
  });
});

describe('WAL syncer liveness', () => {
  it('a sync after stop() fails at once instead of waiting forever', async () => {
    const db = database('stopped.sqlite');
    db.prepare('INSERT INTO t VALUES (?)').run('x');
    const syncer = new WalSyncer(path.join(dir, 'stopped.sqlite'), dir);
    await syncer.sync();
    await syncer.stop();
    await expect(syncer.sync()).rejects.toBeInstanceOf(StoreUnavailableError);
    db.close();
  });

  it('a sync thread that dies fails its waiters and every later sync', async () => {
    const db = database('died.sqlite');
    db.prepare('INSERT INTO t VALUES (?)').run('x');
    const syncer = new WalSyncer(path.join(dir, 'died.sqlite'), dir);
    const waiting = syncer.sync().catch((error: unknown) => error);
    // The thread ends as if it had crashed (its exit is what the syncer must notice).
    await (syncer as unknown as { worker: Worker }).worker.terminate();
    expect(await waiting).toBeInstanceOf(StoreUnavailableError);
    await expect(syncer.sync()).rejects.toBeInstanceOf(StoreUnavailableError);
    await syncer.stop();
    db.close();
  });

  it('an fsync that hangs (a frozen file system) fails after the timeout, and for good', async () => {
    // The WAL is a FIFO: opening it blocks the sync thread until a writer comes, as a frozen mount would.
    const wal = path.join(dir, 'frozen.sqlite-wal');
    mkfifo(wal);
    const syncer = new WalSyncer(path.join(dir, 'frozen.sqlite'), dir, 200);
    try {
      const failure = await syncer.sync().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String((failure as Error).cause)).toMatch(/did not return within 200 ms/);
      await expect(syncer.sync()).rejects.toBe(failure);
    } finally {
      // Let the blocked thread go, so that it can be stopped.
      closeSync(openSync(wal, 'w'));
      await syncer.stop();
    }
  });
});
