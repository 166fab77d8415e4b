// The embedded default store: one SQLite file, no server to run. The stores in this folder are
// written synchronously (better-sqlite3 is); `queued` turns each into the async port, with every
// write going through one group-commit queue (write-queue.ts).
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../port.ts';
import { createAccountStore } from './accounts.ts';
import { createAuditStore } from './audit.ts';
import { createClientStore } from './clients.ts';
import { createOneTimeCodeStore } from './codes.ts';
import { createCredentialStore } from './credentials.ts';
import { createDeviceStore } from './devices.ts';
import { createFlowStore } from './flows.ts';
import { createOidcModelStore } from './oidc-models.ts';
import { migrate, SCHEMA_VERSION } from './schema.ts';
import { createSessionProofStore } from './session-proofs.ts';
import { createSettingStore } from './settings.ts';
import { createThrottleStore } from './throttles.ts';
import { createLockoutStore } from './lockouts.ts';
import { startCheckpointer } from './checkpointer.ts';
import { createPasswordProfileStore } from './password-profiles.ts';
import { createAccountPortalStore } from './account-portals.ts';
import { asOpenError, checkDatabaseFile, checkIntegrity, checkSchemaVersion } from './preflight.ts';
import { queued } from './queued.ts';
import { WriteQueue } from './write-queue.ts';
import { WalSyncer } from './wal-syncer.ts';

export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  readonly file: string;
  /** The group-commit queue, for tests that look at how writes are batched. */
  readonly writes: WriteQueue;
  /** The durability in effect: the connection's synchronous setting, or FULL when the WAL syncer keeps it. */
  durability(): SqliteSynchronous | 'OFF';
}

/**
 * FULL (default): a write is acknowledged only once the WAL holding it is on disk, so nothing
 * acknowledged (a consumed code, a rotated refresh token) is lost or revived by a power cut. Done
 * by group commit plus an fsync of the WAL on a worker thread (wal-syncer.ts), with the connection
 * itself at synchronous=NORMAL, so no request waits for another's fsync. NORMAL: SQLite's NORMAL
 * alone, which may lose the last commits on power loss (not on a process crash). EXTRA: SQLite's
 * EXTRA, syncing inside every commit on the event loop (slowest; for those who want SQLite itself
 * to do it).
 */
export type SqliteSynchronous = 'FULL' | 'NORMAL' | 'EXTRA';

export interface SqliteOptions {
  synchronous?: SqliteSynchronous;
}

const BUSY_TIMEOUT_MS = 5000;
/** Pages (4 KiB) returned to the file system per sweep, i.e. per minute: up to 8 MiB. */
const RECLAIM_PAGES = 2048;

function isInMemory(file: string): boolean {
  return file === '' || file === ':memory:';
}

export function openSqliteStore(file: string, options: SqliteOptions = {}): SqliteStore {
  const onDisk = !isInMemory(file) && !file.startsWith('file:');
  if (onDisk) checkDatabaseFile(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    checkSchemaVersion(db, file, SCHEMA_VERSION);
    if (onDisk) checkIntegrity(db, file);
    // WAL lets readers proceed while one writer commits, and survives a crash without a rollback
    // journal.
    // Free pages go back to the file system bit by bit (removeExpired), instead of the file only
    // ever growing. Takes effect on a new file; compact() converts an existing one.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    const durability = options.synchronous ?? 'FULL';
    // FULL is kept by the WAL syncer, after each group commit (see SqliteSynchronous).
    db.pragma(`synchronous = ${durability === 'FULL' ? 'NORMAL' : durability}`);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma('wal_autocheckpoint = 10000');
    migrate(db);
    return createStore(db, file, durability);
  } catch (error) {
    if (db?.open) db.close();
    throw asOpenError(error, file);
  }
}

function createStore(db: Database.Database, file: string, durability: SqliteSynchronous): SqliteStore {
  const expired = [
    db.prepare<[number]>('DELETE FROM oidc_models WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM flows WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM one_time_codes WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM devices WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM session_proofs WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM throttles WHERE window_ends_at <= ?'),
    db.prepare<[number]>('DELETE FROM lockouts WHERE expires_at <= ?'),
  ];
  const onDisk = !isInMemory(file) && !file.startsWith('file:');
  const checkpointer = onDisk ? startCheckpointer(file) : undefined;
  const syncer = onDisk && durability === 'FULL' ? new WalSyncer(path.resolve(file), path.dirname(path.resolve(file))) : undefined;
  const writes = new WriteQueue(db, syncer);

  return {
    kind: 'sqlite',
    file,
    writes,
    oidc: queued(createOidcModelStore(db), writes, ['upsert', 'consume', 'rotate', 'destroy', 'revokeByGrantId', 'revokeByAccount', 'rewriteAll']),
    accounts: queued(createAccountStore(db), writes, ['create', 'update', 'remove']),
    credentials: queued(createCredentialStore(db), writes, ['put', 'remove', 'removeByAccount', 'compareAndSwap']),
    flows: queued(createFlowStore(db), writes, ['put', 'remove', 'removeByAccount']),
    codes: queued(createOneTimeCodeStore(db), writes, ['replace', 'recordAttempt', 'consume', 'removeByAccount']),
    throttles: queued(createThrottleStore(db), writes, ['hit', 'reset', 'release']),
    lockouts: queued(createLockoutStore(db), writes, ['update', 'remove']),
    devices: queued(createDeviceStore(db), writes, ['put', 'remove', 'removeByAccount']),
    sessionProofs: queued(createSessionProofStore(db), writes, ['put', 'removeByAccount']),
    audit: queued(createAuditStore(db), writes, ['append', 'removeBefore', 'pseudonymise']),
    clients: queued(createClientStore(db), writes, ['put', 'putIfAbsent', 'remove']),
    settings: queued(createSettingStore(db), writes, ['put', 'putIfAbsent', 'compareAndSet']),
    passwordProfiles: queued(createPasswordProfileStore(db), writes, ['put', 'remove']),
    accountPortals: queued(createAccountPortalStore(db), writes, ['record', 'removeByAccount']),
    durability() {
      const level = (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[Number(db.pragma('synchronous', { simple: true }))] ?? 'OFF';
      return level === 'NORMAL' && syncer ? 'FULL' : level;
    },
    durably(work) {
      return writes.durably(work);
    },
    removeExpired(now) {
      return writes.run(() => {
        const removed = expired.reduce((total, statement) => total + statement.run(now).changes, 0);
        // Give up to RECLAIM_PAGES free pages back per sweep: bounded work, steady shrinking.
        db.pragma(`incremental_vacuum(${RECLAIM_PAGES})`);
        return removed;
      });
    },
    async schemaVersion() {
      return { current: Number(db.pragma('user_version', { simple: true })), expected: SCHEMA_VERSION };
    },
    async compact() {
      await writes.idle();
      // Synchronous from here: no queued write can start in between. VACUUM rewrites the file
      // without free pages (and turns on incremental auto-vacuum for a file that had none).
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    async close() {
      await writes.idle();
      await syncer?.stop();
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
