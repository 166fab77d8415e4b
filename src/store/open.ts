// Picks the storage implementation from configuration. Both are imported on demand so a SQLite
// deployment never loads mongoose and a MongoDB deployment never loads the native SQLite addon.
import type { Store } from './port.ts';

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string; synchronous?: 'FULL' | 'NORMAL' | 'EXTRA' }
  | { kind: 'mongo'; url: string };

export async function openStore(database: DatabaseConfig): Promise<Store> {
  switch (database.kind) {
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite/index.ts');
      return openSqliteStore(database.file, { synchronous: database.synchronous });
    }
    case 'mongo': {
      const { openMongoStore } = await import('./mongo/index.ts');
      return openMongoStore(database.url);
    }
  }
}
