// The group-commit queue's promise: a write is acknowledged only after its batch is committed and
// the syncer says it is on disk; a failed fsync is reported, never acknowledged as saved.
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
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
