// The checks a database file gets before Poortwachter uses it. Each failure is a StoreOpenError:
// one line for the operator that names the file and says what to do, instead of a stack trace,
// a misleading SQLite message, or — worst — silently starting over as a new identity provider
// with new signing keys and no portals or patients.
import { accessSync, constants, mkdirSync, openSync, readdirSync, readSync, closeSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.ts';

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const HEADER_BYTES = 100;
const RESTORE = 'Restore it from a backup (with its -wal file, if it had one)';
// An empty database would be initialised from scratch: new keys, no portals, no patients.
const startsOver = (how: string) => `starting ${how} would make a new identity provider with new signing keys and no portals or patients`;

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function readHeader(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const read = readSync(fd, header, 0, HEADER_BYTES, 0);
    return header.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Other non-empty files in the directory that show it was in use before (a backup, a key export),
 * besides the database's own files. The WAL is judged separately, from a look taken earlier.
 */
function traces(file: string): string[] {
  const base = path.basename(file);
  const own = new Set([base, `${base}-wal`, `${base}-shm`, `${base}-journal`]);
  return readdirSync(path.dirname(file), { withFileTypes: true })
    .filter((entry) => entry.isFile() && !own.has(entry.name) && !entry.name.startsWith('.'))
    .filter((entry) => (statOrUndefined(path.join(entry.parentPath, entry.name))?.size ?? 0) > 0)
    .map((entry) => entry.name)
    .sort();
}

/** File-system checks, before SQLite touches the file. */
export function checkDatabaseFile(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new StoreOpenError(file, `its directory ${dir} cannot be created (${errnoOf(error)})`, 'Create it, or set DATA_DIR to a directory the server may write to');
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new StoreOpenError(file, `its directory ${dir} is not writable (${errnoOf(error)})`, "Give the server's user write access to it (SQLite writes -wal and -shm files beside the database), or set DATA_DIR to a writable directory");
  }

  // The WAL is looked at before the database: while another process creates a new database, the
  // database file gets its first bytes before any WAL exists, so "a WAL but an empty or missing
  // database" never shows up during a simultaneous first start.
  const walSize = statOrUndefined(`${file}-wal`)?.size ?? 0;
  const stats = statOrUndefined(file);
  if (!stats) {
    if (walSize > 0) throw new StoreOpenError(file, `is missing, but its write-ahead log ${path.basename(file)}-wal is there`, `${RESTORE}; ${startsOver('without it')}. For a new installation, remove the -wal and -shm files`);
    return;
  }
  if (!stats.isFile()) throw new StoreOpenError(file, 'is not a regular file', 'Point DATA_DIR or DATABASE_URL at the database file');
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new StoreOpenError(file, `cannot be read and written (${errnoOf(error)})`, "Give the server's user read and write access to it");
  }
  if (stats.size === 0) {
    const earlier = [...(walSize > 0 ? [`${path.basename(file)}-wal`] : []), ...traces(file)];
    if (earlier.length) throw new StoreOpenError(file, `is empty, but its directory holds data from earlier use (${earlier.join(', ')})`, `${RESTORE}; ${startsOver('on it')}. If this really is a new installation, delete the empty file (and any -wal and -shm beside it)`);
    return;
  }
  const header = readHeader(file);
  if (header.length < HEADER_BYTES || !header.subarray(0, HEADER.length).equals(HEADER)) {
    throw new StoreOpenError(file, 'is not a SQLite database (it does not start with the SQLite header)', `${RESTORE}, and check that DATA_DIR or DATABASE_URL names Poortwachter's database`);
  }
  // With a WAL, pages may legitimately still live only in the WAL: then quick_check decides.
  if (walSize === 0) {
    const rawPageSize = header.readUInt16BE(16);
    const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
    const pages = header.readUInt32BE(28);
    // The header's page count is valid only when its change counter matches "version valid for".
    const countValid = pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
    if (countValid && stats.size < pages * pageSize) {
      throw new StoreOpenError(file, `is truncated: ${stats.size} bytes where its header says ${pages} pages of ${pageSize} bytes`, RESTORE);
    }
  }
}

/** The highest schema version this code can migrate to; read before migrating. */
export function checkSchemaVersion(db: Database.Database, file: string, supported: number): void {
  const found = Number(db.pragma('user_version', { simple: true }));
  if (found > supported) {
    throw new StoreOpenError(file, `was written by a newer Poortwachter (schema version ${found}; this version knows up to ${supported})`, 'Run that newer Poortwachter (or a later one), or restore a backup made with this version');
  }
}

/**
 * SQLite's quick_check reads every page once and checks the B-tree structure, so damaged pages
 * stop the start instead of failing requests later. It costs one read of the file: see
 * docs/architecture.md ("Startup") for measurements.
 */
export function checkIntegrity(db: Database.Database, file: string): void {
  const rows = db.pragma('quick_check(3)') as Array<{ quick_check: string }>;
  const problems = rows.map((row) => row.quick_check).filter((message) => message !== 'ok');
  if (problems.length) throw new StoreOpenError(file, `is damaged (quick_check: ${problems[0]!.replace(/\s+/g, ' ')})`, RESTORE);
}

/** What a SQLite error while opening means for the operator. */
export function asOpenError(error: unknown, file: string): unknown {
  if (error instanceof StoreOpenError || !(error instanceof Database.SqliteError)) return error;
  const { code } = error;
  const options = { cause: error };
  if (code === 'SQLITE_NOTADB') return new StoreOpenError(file, 'is not a SQLite database (or is encrypted)', `${RESTORE}, and check that DATA_DIR or DATABASE_URL names Poortwachter's database`, options);
  if (code.startsWith('SQLITE_CORRUPT')) return new StoreOpenError(file, 'is damaged (SQLite reports a malformed database)', RESTORE, options);
  if (code === 'SQLITE_FULL') return new StoreOpenError(file, 'cannot be written: the disk is full', 'Free space on its file system, then start again', options);
  if (code.startsWith('SQLITE_IOERR')) return new StoreOpenError(file, `cannot be read or written: I/O error (${code})`, 'Check the disk and its file system (dmesg), then start again', options);
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM') {
    return new StoreOpenError(file, `cannot be opened for writing (${code})`, "Give the server's user read and write access to the file and its directory", options);
  }
  if (code.startsWith('SQLITE_BUSY')) return new StoreOpenError(file, 'is locked by another program', 'Stop the program holding the lock, then start again', options);
  return error;
}
