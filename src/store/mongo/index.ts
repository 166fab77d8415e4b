// The scale-out store: several Poortwachter processes share one MongoDB deployment. Every
// operation the port calls atomic is a single-document update, so no replica-set transactions
// are needed and a standalone server works too.
import mongoose from 'mongoose';
import type { Store } from '../port.ts';
import { createAccountStore } from './accounts.ts';
import { createAuditStore } from './audit.ts';
import { createClientStore } from './clients.ts';
import { createOneTimeCodeStore } from './codes.ts';
import { createCredentialStore } from './credentials.ts';
import { createDeviceStore, upgradeLegacyDevices } from './devices.ts';
import { createFlowStore } from './flows.ts';
import { createModels } from './models.ts';
import { createOidcModelStore } from './oidc-models.ts';
import { createSessionProofStore } from './session-proofs.ts';
import { createSettingStore } from './settings.ts';
import { createThrottleStore } from './throttles.ts';
import { createLockoutStore } from './lockouts.ts';
import { createPasswordProfileStore } from './password-profiles.ts';
import { createAccountPortalStore } from './account-portals.ts';

export interface MongoStore extends Store {
  readonly kind: 'mongo';
}

export interface MongoStoreOptions {
  /** Overrides the database named in the URL (tests use a throw-away database per run). */
  dbName?: string;
}

export async function openMongoStore(url: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const connection = mongoose.createConnection(url, {
    ...(options.dbName === undefined ? {} : { dbName: options.dbName }),
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    await connection.asPromise();
    const models = createModels(connection);
    // Unique and TTL indexes must exist before the first write, or duplicates could slip in.
    await Promise.all(Object.values(models).map((model) => model.init()));
    await upgradeLegacyDevices(models);

    return {
      kind: 'mongo',
      oidc: createOidcModelStore(models),
      accounts: createAccountStore(models),
      credentials: createCredentialStore(models),
      flows: createFlowStore(models),
      codes: createOneTimeCodeStore(models),
      throttles: createThrottleStore(models),
      lockouts: createLockoutStore(models),
      devices: createDeviceStore(models),
      sessionProofs: createSessionProofStore(models),
      audit: createAuditStore(models),
      clients: createClientStore(models),
      settings: createSettingStore(models),
      passwordProfiles: createPasswordProfileStore(models),
      accountPortals: createAccountPortalStore(models),
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
        // Collections need no migrations; indexes are created at start (model.init above).
        return { current: 0, expected: 0 };
      },
      durably(work) {
        // Every MongoDB write is acknowledged by the server as durable as its write concern says.
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
