// Which driver errors mean "the store is unavailable" (classified once, in store/), produced by
// the real drivers, and the guard that turns exactly those into StoreUnavailableError.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mongoose from 'mongoose';
import { guardStore, storeUnavailableCause, StoreUnavailableError, type UnavailableReason } from '../../src/store/errors.ts';
import { sqliteUnavailableReason } from '../../src/store/sqlite/errors.ts';
import { mongoUnavailableReason } from '../../src/store/mongo/errors.ts';
import { freePort } from '../support/server-process.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('SQLite errors', () => {
  it('classifies a lock held past the busy timeout, a read-only database, a file that cannot be opened and a non-database', () => {
    const file = path.join(dir, 'busy.sqlite');
    const holder = new Database(file);
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN IMMEDIATE');
    const waiter = new Database(file, { timeout: 50 });
    expect(sqliteUnavailableReason(thrownBy(() => waiter.exec('INSERT INTO t VALUES (1)')))).toBe('busy');
    holder.exec('ROLLBACK');
    holder.close();
    waiter.close();

    const reader = new Database(file, { readonly: true });
    expect(sqliteUnavailableReason(thrownBy(() => reader.exec('INSERT INTO t VALUES (1)')))).toBe('read-only');
    reader.close();

    // A directory where the file should be.
    expect(sqliteUnavailableReason(thrownBy(() => new Database(dir).pragma('user_version')))).toBe('cannot-open');

    const garbage = path.join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database, only text '.repeat(200));
    const notADatabase = new Database(garbage);
    expect(sqliteUnavailableReason(thrownBy(() => notADatabase.pragma('user_version')))).toBe('corrupt');
    notADatabase.close();
  });

  it('leaves bugs and constraint violations alone', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x UNIQUE)');
    db.exec('INSERT INTO t VALUES (1)');
    expect(sqliteUnavailableReason(thrownBy(() => db.exec('INSERT INTO t VALUES (1)')))).toBeUndefined();
    expect(sqliteUnavailableReason(thrownBy(() => db.exec('SELECT nonsense FROM nowhere')))).toBeUndefined();
    expect(sqliteUnavailableReason(new TypeError('x'))).toBeUndefined();
    db.close();
  });
});

describe('MongoDB errors', () => {
  it('classifies a server that cannot be reached', { timeout: 20_000 }, async () => {
    const port = await freePort();
    const connection = mongoose.createConnection(`mongodb://127.0.0.1:${port}/x`, { serverSelectionTimeoutMS: 300 });
    const error = await connection.asPromise().then(() => undefined, (e: unknown) => e);
    await connection.close().catch(() => undefined);
    expect(mongoUnavailableReason(error)).toBe('unreachable');
    expect(mongoUnavailableReason(new Error('E11000 duplicate key'))).toBeUndefined();
  });
});

describe('guardStore', () => {
  const classify = (error: unknown): UnavailableReason | undefined => (error instanceof Error && error.message === 'disk full' ? 'full' : undefined);
  const store = {
    kind: 'sqlite' as const,
    items: {
      async put(value: string) {
        if (value === 'full') throw new Error('disk full');
        if (value === 'bug') throw new TypeError('a bug');
        return value.length;
      },
      count(this: { size: number }) {
        throw new Error('disk full');
      },
      size: 3,
    },
    async close() {
      throw new Error('disk full');
    },
  };
  const guarded = guardStore(store, classify);

  it('turns classified errors into StoreUnavailableError with the driver error as cause, on every level', async () => {
    const refused = await guarded.items.put('full').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as StoreUnavailableError).reason).toBe('full');
    expect(((refused as Error).cause as Error).message).toBe('disk full');
    expect(thrownBy(() => guarded.items.count())).toBeInstanceOf(StoreUnavailableError);
    expect(await guarded.close().catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
  });

  it('passes results, other errors and plain values through', async () => {
    expect(await guarded.items.put('abc')).toBe(3);
    expect(await guarded.items.put('bug').catch((e: unknown) => e)).toBeInstanceOf(TypeError);
    expect(guarded.kind).toBe('sqlite');
    expect(guarded.items.size).toBe(3);
    expect(guarded.items).toBe(guarded.items);
  });

  it('finds the unavailable store behind errors that wrap it', () => {
    const cause = new StoreUnavailableError('io', { cause: new Error('disk I/O error') });
    expect(storeUnavailableCause(new Error('outer', { cause: new Error('middle', { cause }) }))).toBe(cause);
    expect(storeUnavailableCause(new Error('unrelated'))).toBeUndefined();
  });
});
