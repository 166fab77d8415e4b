import Database from 'better-sqlite3';
import { DuplicateError } from '../port.ts';
import type { UnavailableReason } from '../errors.ts';

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

/**
 * Which SQLite failures mean "the database cannot be used right now" rather than a bug: a full
 * disk (ENOSPC), an I/O error (a failing disk, a file-size limit: EFBIG), the lock held past the
 * busy timeout, a read-only file or file system, a file that cannot be opened, and damaged pages
 * (a failing file system reports "disk I/O error" first and "malformed" after).
 */
export function sqliteUnavailableReason(error: unknown): UnavailableReason | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  const { code } = error;
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR')) return 'io';
  if (code.startsWith('SQLITE_BUSY')) return 'busy';
  if (code.startsWith('SQLITE_READONLY')) return 'read-only';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'cannot-open';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  return undefined;
}
