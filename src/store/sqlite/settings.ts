import type Database from 'better-sqlite3';
import type { SettingStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

export function createSettingStore(db: Database.Database): Synchronous<SettingStore> {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?');
  const put = db.prepare<[string, string]>(
    'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  const remove = db.prepare<[string]>('DELETE FROM settings WHERE name = ?');

  return {
    get(name: string) {
      const row = get.get(name);
      // The caller names the type it stored (see SettingStore.get); the store only round-trips JSON.
      return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
    },
    put(name, value) {
      const text = JSON.stringify(value);
      // JSON has no `undefined`: storing it means "no value", which get() reports as undefined.
      if (text === undefined) remove.run(name);
      else put.run(name, text);
    },
  };
}
