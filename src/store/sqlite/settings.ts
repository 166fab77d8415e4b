import type Database from 'better-sqlite3';
import type { SettingStore } from '../port.ts';
import { canonicalJson } from '../json.ts';
import type { Synchronous } from './queued.ts';

/** JSON has no `undefined`: a value that serialises to nothing cannot be stored. */
function toText(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('a setting must be JSON data');
  return text;
}

export function createSettingStore(db: Database.Database): Synchronous<SettingStore> {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?');
  const put = db.prepare<[string, string]>(
    'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  const insert = db.prepare<[string, string]>('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING');
  const replace = db.prepare<[string, string]>('UPDATE settings SET value = ? WHERE name = ?');
  const remove = db.prepare<[string]>('DELETE FROM settings WHERE name = ?');
  // Compared as canonical JSON inside one transaction: the stored text may order keys differently.
  const compareAndSet = db.transaction((name: string, expected: unknown, next: string) => {
    const row = get.get(name);
    if (row === undefined || canonicalJson(JSON.parse(row.value)) !== canonicalJson(expected)) return false;
    replace.run(next, name);
    return true;
  });

  return {
    get(name: string) {
      const row = get.get(name);
      // The caller names the type it stored (see SettingStore.get); the store only round-trips JSON.
      return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
    },
    put(name, value) {
      // Storing `undefined` means "no value", which get() reports as undefined.
      if (value === undefined) remove.run(name);
      else put.run(name, toText(value));
    },
    putIfAbsent(name, value) {
      return insert.run(name, toText(value)).changes === 1;
    },
    compareAndSet(name, expected, next) {
      return compareAndSet(name, expected, toText(next));
    },
  };
}
