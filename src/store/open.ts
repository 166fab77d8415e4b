// Picks the storage implementation from configuration. Both are imported on demand so a SQLite
// deployment never loads mongoose and a MongoDB deployment never loads the native SQLite addon.
// Each is wrapped so that its driver's "unavailable" errors reach the layers above as
// StoreUnavailableError (store/errors.ts).
import type { Store } from './port.ts';
import { guardStore, StoreOpenError } from './errors.ts';

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string; synchronous?: 'FULL' | 'NORMAL' | 'EXTRA' }
  /**
   * `migrate`: `auto` brings the database to this code's schema while opening (DB_MIGRATE=auto);
   * `off` refuses a database whose schema is behind, naming `poortwachter db migrate`.
   * A database migrated by a newer Poortwachter is refused either way.
   */
  | { kind: 'mongo'; url: string; migrate: 'auto' | 'off' };

export interface StoreHooks {
  /** SQLite only: a store call met another process's write lock and was tried again, or gave up. */
  onSqliteBusy?: (outcome: 'retried' | 'gave_up') => void;
}

export async function openStore(database: DatabaseConfig, hooks: StoreHooks = {}): Promise<Store> {
  switch (database.kind) {
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite/index.ts');
      const { sqliteUnavailableReason } = await import('./sqlite/errors.ts');
      return guardStore(openSqliteStore(database.file, { synchronous: database.synchronous, busyRetry: { onBusy: hooks.onSqliteBusy } }), sqliteUnavailableReason);
    }
    case 'mongo': {
      const { openMongoStore } = await import('./mongo/index.ts');
      const { mongoUnavailableReason } = await import('./mongo/errors.ts');
      let store: Store;
      try {
        store = await openMongoStore(database.url, { migrate: 'none' });
      } catch (error) {
        if (!mongoUnavailableReason(error)) throw error;
        throw new StoreOpenError(withoutPassword(database.url), 'cannot reach MongoDB (no server answered)', 'Check DATABASE_URL and that the MongoDB replica set is running and reachable, then start again', { cause: error });
      }
      try {
        await checkMongoSchema(store, database.url, database.migrate);
      } catch (error) {
        await store.close().catch(() => undefined);
        throw error;
      }
      return guardStore(store, mongoUnavailableReason);
    }
  }
}

/** Migrates (DB_MIGRATE=auto) or refuses a MongoDB database whose schema is not this code's. */
async function checkMongoSchema(store: Store, url: string, migrate: 'auto' | 'off'): Promise<void> {
  const { current, expected } = await store.schemaVersion();
  if (current > expected) {
    throw new StoreOpenError(withoutPassword(url), `was migrated by a newer Poortwachter (schema version ${current}; this version knows up to ${expected})`, 'Run the newer Poortwachter, or restore a backup made before the upgrade');
  }
  if (current === expected) return;
  if (migrate === 'auto') {
    await store.migrate();
    return;
  }
  throw new StoreOpenError(
    withoutPassword(url),
    `the database schema is at version ${current}, this Poortwachter needs version ${expected} (DB_MIGRATE=off)`,
    'Run `poortwachter db migrate` with the same DATABASE_URL, then start again (or set DB_MIGRATE=auto to migrate at start)',
  );
}

/** A connection string fit for a log line or an error message: the password masked. */
export function withoutPassword(url: string): string {
  return url.replace(/^(mongodb(?:\+srv)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
