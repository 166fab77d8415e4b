// Picks the storage implementation from configuration. Both are imported on demand so a SQLite
// deployment never loads mongoose and a MongoDB deployment never loads the native SQLite addon.
// Each is wrapped so that its driver's "unavailable" errors reach the layers above as
// StoreUnavailableError (store/errors.ts).
import type { Store } from './port.ts';
import { guardStore, StoreOpenError } from './errors.ts';

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string; synchronous?: 'FULL' | 'NORMAL' | 'EXTRA' }
  | { kind: 'mongo'; url: string };

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
      try {
        return guardStore(await openMongoStore(database.url), mongoUnavailableReason);
      } catch (error) {
        if (!mongoUnavailableReason(error)) throw error;
        throw new StoreOpenError(withoutPassword(database.url), 'cannot reach MongoDB (no server answered)', 'Check DATABASE_URL and that the MongoDB replica set is running and reachable, then start again', { cause: error });
      }
    }
  }
}

/** A connection string fit for a log line or an error message: the password masked. */
export function withoutPassword(url: string): string {
  return url.replace(/^(mongodb(?:\+srv)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
