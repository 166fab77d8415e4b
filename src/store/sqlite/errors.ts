import Database from 'better-sqlite3';
import { DuplicateError } from '../port.ts';

/**
 * Turns a UNIQUE / PRIMARY KEY violation into the port's DuplicateError. `fields` maps the
 * violated column to the record field the caller knows (e.g. `username_key` → `username`).
 */
export function asDuplicateError(error: unknown, fields: Readonly<Record<string, string>>): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  if (error.code !== 'SQLITE_CONSTRAINT_UNIQUE' && error.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return error;
  // The message is "UNIQUE constraint failed: table.column[, table.column]".
  const column = /failed: \w+\.(\w+)/.exec(error.message)?.[1];
  const field = column === undefined ? undefined : fields[column];
  return field === undefined ? error : new DuplicateError(field);
}
