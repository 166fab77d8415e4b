// The embedded default store: one SQLite file, no server to run. better-sqlite3 is synchronous
// and fast enough that the async port methods simply wrap its calls.
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

export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  readonly file: string;
}

const BUSY_TIMEOUT_MS = 5000;

function isInMemory(file: string): boolean {
  return file === '' || file === ':memory:';
}

export function openSqliteStore(file: string): SqliteStore {
  const onDisk = !isInMemory(file) && !file.startsWith('file:');
  if (onDisk) checkDatabaseFile(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    checkSchemaVersion(db, file, SCHEMA_VERSION);
    if (onDisk) checkIntegrity(db, file);
    // WAL lets readers proceed while one writer commits, and survives a crash without a rollback
    // journal; synchronous=NORMAL is durable enough under WAL and avoids an fsync per commit.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma('wal_autocheckpoint = 10000');
    migrate(db);
    return createStore(db, file);
  } catch (error) {
    if (db?.open) db.close();
    throw asOpenError(error, file);
  }
}

function createStore(db: Database.Database, file: string): SqliteStore {
  const expired = [
    db.prepare<[number]>('DELETE FROM oidc_models WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM flows WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM one_time_codes WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM devices WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM session_proofs WHERE expires_at <= ?'),
    db.prepare<[number]>('DELETE FROM throttles WHERE window_ends_at <= ?'),
    db.prepare<[number]>('DELETE FROM lockouts WHERE expires_at <= ?'),
  ];
  const removeExpired = db.transaction((now: number) =>
    expired.reduce((total, statement) => total + statement.run(now).changes, 0));
  const checkpointer = isInMemory(file) || file.startsWith('file:') ? undefined : startCheckpointer(file);

  return {
    kind: 'sqlite',
    file,
    oidc: createOidcModelStore(db),
    accounts: createAccountStore(db),
    credentials: createCredentialStore(db),
    flows: createFlowStore(db),
    codes: createOneTimeCodeStore(db),
    throttles: createThrottleStore(db),
    lockouts: createLockoutStore(db),
    devices: createDeviceStore(db),
    sessionProofs: createSessionProofStore(db),
    audit: createAuditStore(db),
    clients: createClientStore(db),
    settings: createSettingStore(db),
    passwordProfiles: createPasswordProfileStore(db),
    accountPortals: createAccountPortalStore(db),
    async removeExpired(now) {
      return removeExpired.immediate(now);
    },
    async schemaVersion() {
      return { current: Number(db.pragma('user_version', { simple: true })), expected: SCHEMA_VERSION };
    },
    async close() {
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
