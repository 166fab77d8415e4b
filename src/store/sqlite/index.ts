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
import { createOrganisationStore } from './organisations.ts';
import { createAdminGrantStore } from './admin-grants.ts';
import { asOpenError, checkDatabaseFile, checkIntegrity, checkSchemaVersion } from './preflight.ts';
import { queued } from './queued.ts';
import { createTransferStore } from './transfer.ts';
import { WriteQueue } from './write-queue.ts';
import { WalSyncer } from './wal-syncer.ts';
import { BUSY_TIMEOUT_MS, retryWhenBusy, type BusyRetryOptions } from './busy-retry.ts';

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
  /** How long one statement blocks for another connection's lock (tests shorten it). */
  busyTimeoutMs?: number;
  /** Retrying store calls that still got SQLITE_BUSY (busy-retry.ts); `onBusy` feeds the metrics. */
  busyRetry?: BusyRetryOptions;
}

/**
 * Opening and migrating block for another process's lock this long: at start nothing else waits,
 * and two processes starting at once take turns migrating. At run time BUSY_TIMEOUT_MS applies.
 */
const OPEN_BUSY_TIMEOUT_MS = 5000;
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
    db = new Database(file, { timeout: OPEN_BUSY_TIMEOUT_MS });
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
    db.pragma('foreign_keys = ON');
    db.pragma('wal_autocheckpoint = 10000');
    const foundVersion = Number(db.pragma('user_version', { simple: true }));
    migrate(db);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
    return createStore(db, file, durability, options.busyRetry ?? {}, foundVersion);
  } catch (error) {
    if (db?.open) db.close();
    throw asOpenError(error, file);
  }
}

function createStore(db: Database.Database, file: string, durability: SqliteSynchronous, busy: BusyRetryOptions, foundVersion: number): SqliteStore {
  const expired = [
    // Tokens of a grant that ended go with it: their rows keep their own expiry (a later sign-in
    // may renew the grant, adapter.ts), so they may outlive it, but can never work once it is gone.
    db.prepare<[number]>("DELETE FROM oidc_models WHERE grant_id IN (SELECT id FROM oidc_models WHERE model = 'Grant' AND expires_at <= ?) AND model <> 'Grant'"),
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
  const sync = {
    oidc: createOidcModelStore(db),
    accounts: createAccountStore(db),
    credentials: createCredentialStore(db),
    flows: createFlowStore(db),
    codes: createOneTimeCodeStore(db),
    lockouts: createLockoutStore(db),
    devices: createDeviceStore(db),
    sessionProofs: createSessionProofStore(db),
    audit: createAuditStore(db),
    clients: createClientStore(db),
    settings: createSettingStore(db),
    passwordProfiles: createPasswordProfileStore(db),
    accountPortals: createAccountPortalStore(db),
    organisations: createOrganisationStore(db),
    adminGrants: createAdminGrantStore(db),
  };

  return {
    kind: 'sqlite',
    file,
    writes,
    oidc: queued(sync.oidc, writes, ['upsert', 'consume', 'rotate', 'destroy', 'revokeByGrantId', 'revokeByAccount', 'rewriteAll'], busy),
    accounts: queued(sync.accounts, writes, ['create', 'update', 'remove', 'replaceSealedPhone'], busy),
    credentials: queued(sync.credentials, writes, ['put', 'remove', 'removeByAccount', 'compareAndSwap'], busy),
    flows: queued(sync.flows, writes, ['put', 'remove', 'removeByAccount'], busy),
    codes: queued(sync.codes, writes, ['replace', 'recordAttempt', 'consume', 'removeByAccount'], busy),
    throttles: queued(createThrottleStore(db), writes, ['hit', 'reset', 'release'], busy),
    lockouts: queued(sync.lockouts, writes, ['update', 'remove'], busy),
    devices: queued(sync.devices, writes, ['put', 'remove', 'removeByAccount'], busy),
    sessionProofs: queued(sync.sessionProofs, writes, ['put', 'removeByAccount'], busy),
    audit: queued(sync.audit, writes, ['append', 'removeBefore', 'pseudonymise'], busy),
    clients: queued(sync.clients, writes, ['put', 'putIfAbsent', 'remove'], busy),
    settings: queued(sync.settings, writes, ['put', 'putIfAbsent', 'compareAndSet'], busy),
    passwordProfiles: queued(sync.passwordProfiles, writes, ['put', 'remove'], busy),
    accountPortals: queued(sync.accountPortals, writes, ['record', 'removeByAccount'], busy),
    organisations: queued(sync.organisations, writes, ['create', 'remove', 'setMemberships'], busy),
    adminGrants: queued(sync.adminGrants, writes, ['put', 'remove'], busy),
    transfer: createTransferStore(db, sync, writes),
    durability() {
      const level = (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[Number(db.pragma('synchronous', { simple: true }))] ?? 'OFF';
      return level === 'NORMAL' && syncer ? 'FULL' : level;
    },
    durably(work) {
      return writes.durably(work);
    },
    onFatal(listener) {
      writes.onFatal(listener);
    },
    removeExpired(now) {
      return retryWhenBusy(() => writes.run(() => {
        const removed = expired.reduce((total, statement) => total + statement.run(now).changes, 0);
        // Give up to RECLAIM_PAGES free pages back per sweep: bounded work, steady shrinking.
        db.pragma(`incremental_vacuum(${RECLAIM_PAGES})`);
        return removed;
      }), busy);
    },
    async schemaVersion() {
      return { current: Number(db.pragma('user_version', { simple: true })), expected: SCHEMA_VERSION };
    },
    async migrate() {
      // Opening migrated the file already (always has: an embedded store has no separate step).
      return { from: foundVersion, to: Number(db.pragma('user_version', { simple: true })) };
    },
    async compact() {
      await writes.idle();
      // VACUUM rewrites the file without free pages (and turns on incremental auto-vacuum for a
      // file that had none). It runs between batches (a batch begins and commits within one tick,
      // so no transaction is open here) and waits for another process's write lock without blocking.
      await retryWhenBusy(async () => {
        db.pragma('auto_vacuum = INCREMENTAL');
        db.exec('VACUUM');
      }, busy);
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
