// The scale-out store: several Poortwachter processes share one MongoDB replica set. Every
// operation the port calls atomic is a single-document update, so no multi-document transactions
// are needed. What each operation relies on is written where it is done, and summarised in
// docs/architecture.md ("MongoDB: what holds per operation").
import mongoose from 'mongoose';
import type { Store } from '../port.ts';
import { createAccountStore } from './accounts.ts';
import { createAuditStore } from './audit.ts';
import { createClientStore } from './clients.ts';
import { createOneTimeCodeStore } from './codes.ts';
import { createCredentialStore } from './credentials.ts';
import { createDeviceStore } from './devices.ts';
import { createFlowStore } from './flows.ts';
import { createModels } from './models.ts';
import { createOidcModelStore } from './oidc-models.ts';
import { createSessionProofStore } from './session-proofs.ts';
import { createSettingStore } from './settings.ts';
import { createThrottleStore } from './throttles.ts';
import { createLockoutStore } from './lockouts.ts';
import { createPasswordProfileStore } from './password-profiles.ts';
import { createAccountPortalStore } from './account-portals.ts';
import { createOrganisationStore } from './organisations.ts';
import { createAdminGrantStore } from './admin-grants.ts';
import { createTransferStore } from './transfer.ts';
import { currentVersion, migrate, MONGO_SCHEMA_VERSION } from './migrations.ts';

export interface MongoStore extends Store {
  readonly kind: 'mongo';
}

export interface MongoStoreOptions {
  /** Overrides the database named in the URL (tests use a throw-away database per run). */
  dbName?: string;
  /**
   * `auto` (default): bring the database to this code's schema while opening. `none`: open as it
   * is; the caller checks `schemaVersion()` and refuses, or calls `migrate()`.
   */
  migrate?: 'auto' | 'none';
}

/**
 * The connection's defaults, for every operation on it (none overrides them):
 * - `writeConcern: { w: 'majority', journal: true }`: a write is acknowledged only once a majority
 *   of the replica set has it in its on-disk journal, so an election or a power cut never takes
 *   back a consumed code, a rotated refresh token or a counted guess. (With the default w:1 a
 *   primary that fails before replicating loses acknowledged writes; a standalone mongod with w:1
 *   acknowledges before its journal is flushed.) Set on the connection, not per operation, so no
 *   write can forget it; the price is one replication round trip per write.
 * - `readConcern: { level: 'majority' }`: reads return only data a majority has, which can never be
 *   rolled back: a process never decides on a record (a session, a lockout) that an election then
 *   erases. Reads go to the primary (the default read preference) and our own writes were majority
 *   acknowledged, so a process still reads its own writes.
 * - `retryWrites`/`retryReads`: a write interrupted by a failover or a network blip is retried once
 *   by the driver with the same transaction number, so the server applies it at most once
 *   (findOneAndUpdate, updateOne, insertOne, deleteOne, replaceOne are retryable; updateMany and
 *   deleteMany are not, and are used only where applying twice is harmless).
 * - `autoIndex`/`autoCreate` off: collections and indexes are made by `migrate` (migrations.ts),
 *   never lazily by the first request that touches a model.
 */
export const CONNECTION_OPTIONS = {
  serverSelectionTimeoutMS: 10_000,
  writeConcern: { w: 'majority', journal: true },
  readConcern: { level: 'majority' },
  retryWrites: true,
  retryReads: true,
  autoIndex: false,
  autoCreate: false,
} as const;

export async function openMongoStore(url: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const connection = mongoose.createConnection(url, {
    ...(options.dbName === undefined ? {} : { dbName: options.dbName }),
    ...CONNECTION_OPTIONS,
  });
  try {
    await connection.asPromise();
    const models = createModels(connection);
    const foundVersion = await currentVersion(connection);
    // Unique and TTL indexes must exist before the first write, or duplicates could slip in.
    if ((options.migrate ?? 'auto') === 'auto' && foundVersion < MONGO_SCHEMA_VERSION) await migrate(connection, models);
    const stores = {
      oidc: createOidcModelStore(models),
      accounts: createAccountStore(models),
      credentials: createCredentialStore(models),
      flows: createFlowStore(models),
      codes: createOneTimeCodeStore(models),
      lockouts: createLockoutStore(models),
      devices: createDeviceStore(models),
      sessionProofs: createSessionProofStore(models),
      audit: createAuditStore(models),
      clients: createClientStore(models),
      settings: createSettingStore(models),
      passwordProfiles: createPasswordProfileStore(models),
      accountPortals: createAccountPortalStore(models),
      organisations: createOrganisationStore(models),
      adminGrants: createAdminGrantStore(models),
    };

    return {
      kind: 'mongo',
      ...stores,
      throttles: createThrottleStore(models),
      transfer: createTransferStore(models, stores),
      async removeExpired(now) {
        // TTL deletion also removes these, but only about once a minute; main.ts wants a count.
        const at = new Date(now);
        const results = await Promise.all([
          models.oidc.deleteMany({ expiresAt: { $lte: at } }).exec(),
          models.flows.deleteMany({ expiresAt: { $lte: at } }).exec(),
          models.codes.deleteMany({ expiresAt: { $lte: at } }).exec(),
          models.devices.deleteMany({ expiresAt: { $lte: at } }).exec(),
          models.sessionProofs.deleteMany({ expiresAt: { $lte: at } }).exec(),
          models.throttles.deleteMany({ windowEndsAt: { $lte: at } }).exec(),
          models.lockouts.deleteMany({ expiresAt: { $lte: at } }).exec(),
        ]);
        return results.reduce((total, result) => total + result.deletedCount, 0);
      },
      async schemaVersion() {
        return { current: await currentVersion(connection), expected: MONGO_SCHEMA_VERSION };
      },
      async migrate() {
        const { to } = await migrate(connection, models);
        return { from: foundVersion, to };
      },
      durably(work) {
        // Nothing to gather: every write was acknowledged only once journaled by a majority
        // (CONNECTION_OPTIONS), so whatever `work` wrote is durable when its promise settled.
        return work();
      },
      async compact() {
        // Space is the server's business (WiredTiger reuses it; `compact` is an operator command).
      },
      async close() {
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}
