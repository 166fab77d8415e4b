// MongoDB's counterpart of SQLite's schema migrations. The connection never creates collections
// or indexes by itself (autoCreate/autoIndex off, index.ts): that would happen lazily, at the first
// request that touches a collection, and a unique index built after documents arrived could fail
// or let duplicates in meanwhile. `migrate` does it explicitly — `poortwachter db migrate`, or at
// start with DB_MIGRATE=auto — and records each version reached in `schema_versions`.
import type { Connection } from 'mongoose';
import type { Models } from './models.ts';
import { upgradeLegacyDevices } from './devices.ts';
import { isDuplicateKey } from './common.ts';

interface Migration {
  description: string;
  run(models: Models): Promise<void>;
}

// Append an entry for every change that needs work on existing data, never edit one that shipped.
// Collections and indexes are ensured on every run anyway (below), so a new index needs an entry
// only to make readiness and DB_MIGRATE=off notice that the database is behind.
const MIGRATIONS: readonly Migration[] = [
  { description: 'collections, indexes and TTL indexes', run: async () => undefined },
  { description: 'remembered devices: factor and strength in fields of their own', run: upgradeLegacyDevices },
  { description: 'organisations, their members, admin roles; audit indexes for the admin log', run: async () => undefined },
];

export const MONGO_SCHEMA_VERSION = MIGRATIONS.length;

const VERSIONS = 'schema_versions';

interface VersionDoc {
  _id: number;
  description: string;
  appliedAt: Date;
}

/** The highest version recorded (0 for a database no Poortwachter has migrated). */
export async function currentVersion(connection: Connection): Promise<number> {
  const newest = await connection.collection<VersionDoc>(VERSIONS).findOne({}, { sort: { _id: -1 }, projection: { _id: 1 } });
  return newest?._id ?? 0;
}

/**
 * Creates every collection and index, then runs the migrations the database has not had. Every
 * step is idempotent, so several processes may run this at once (and one that died half-way is
 * finished by the next run).
 */
export async function migrate(connection: Connection, models: Models): Promise<{ from: number; to: number }> {
  const from = await currentVersion(connection);
  if (from > MONGO_SCHEMA_VERSION) {
    throw new Error(`database schema version ${from} is newer than this Poortwachter supports (${MONGO_SCHEMA_VERSION}); upgrade Poortwachter`);
  }
  for (const model of Object.values(models)) {
    // createCollection ignores "already exists" (NamespaceExists, code 48). createIndexes sends
    // createIndex for each index of the schema with its options (unique, collation, partial
    // filter, expireAfterSeconds: 0 for TTL); an index that exists with the same definition is
    // a no-op, one with the same name and different options fails (IndexOptionsConflict), which
    // stops the migration rather than leaving a weaker index in place. Unlike syncIndexes, it never
    // drops an index, so an older process migrating cannot remove what a newer one added.
    await model.createCollection();
    await model.createIndexes();
  }
  await connection.createCollection(VERSIONS).catch((error: unknown) => {
    if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 48)) throw error;
  });
  for (const [index, migration] of MIGRATIONS.entries()) {
    const version = index + 1;
    if (version <= from) continue;
    await migration.run(models);
    try {
      await connection.collection<VersionDoc>(VERSIONS).updateOne(
        { _id: version },
        { $setOnInsert: { description: migration.description, appliedAt: new Date() } },
        { upsert: true },
      );
    } catch (error) {
      // Another process recorded the same version at the same moment.
      if (!isDuplicateKey(error)) throw error;
    }
  }
  return { from, to: await currentVersion(connection) };
}
