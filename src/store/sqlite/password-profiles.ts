import type Database from 'better-sqlite3';
import type { PasswordProfileRecord, PasswordProfileStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

interface Row {
  name: string;
  min_length: number;
  max_length: number;
  /** Comma-separated character classes. */
  require: string;
  specials: string | null;
  blocklist: number;
  not_names: number;
  history: number;
  created_at: number;
  updated_at: number;
}

function toRow(p: PasswordProfileRecord): Row {
  return {
    name: p.name,
    min_length: p.minLength,
    max_length: p.maxLength,
    require: p.require.join(','),
    specials: p.specials,
    blocklist: p.blocklist ? 1 : 0,
    not_names: p.notNames ? 1 : 0,
    history: p.history,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

export function toRecord(row: Row): PasswordProfileRecord {
  return {
    name: row.name,
    minLength: row.min_length,
    maxLength: row.max_length,
    require: row.require ? row.require.split(',') : [],
    specials: row.specials,
    blocklist: row.blocklist === 1,
    notNames: row.not_names === 1,
    history: row.history,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const COLUMNS = 'name, min_length, max_length, require, specials, blocklist, not_names, history, created_at, updated_at';

export function createPasswordProfileStore(db: Database.Database): Synchronous<PasswordProfileStore> {
  const put = db.prepare<Row>(`
    INSERT INTO password_profiles (${COLUMNS})
    VALUES (@name, @min_length, @max_length, @require, @specials, @blocklist, @not_names, @history, @created_at, @updated_at)
    ON CONFLICT (name) DO UPDATE SET min_length = excluded.min_length, max_length = excluded.max_length,
      require = excluded.require, specials = excluded.specials, blocklist = excluded.blocklist,
      not_names = excluded.not_names, history = excluded.history, created_at = excluded.created_at,
      updated_at = excluded.updated_at`);
  const find = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM password_profiles WHERE name = ?`);
  const list = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM password_profiles ORDER BY name`);
  const remove = db.prepare<[string]>('DELETE FROM password_profiles WHERE name = ?');

  return {
    put(profile) {
      put.run(toRow(profile));
    },
    find(name) {
      const row = find.get(name);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    remove(name) {
      return remove.run(name).changes > 0;
    },
  };
}
