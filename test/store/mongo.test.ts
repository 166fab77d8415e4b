// The MongoDB store against a real server: the contract suite, and a practice moved from SQLite
// to MongoDB with `db export` / `db import`. No MongoDB runs on the development machine, so this
// needs MONGODB_URL (a replica set: `npm run test:mongo` starts one with docker compose).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../../src/store/mongo/index.ts';
import { runStoreContract } from './contract.ts';
import { runLifecycleStoreContract } from './lifecycle-contract.ts';
import { runAdminStoreContract } from './admin-contract.ts';
import { cli } from '../support/cli.ts';
import { expectSameRecords, loginWithApp, openConfigured, seedSource } from '../support/transfer.ts';

const url = process.env.MONGODB_URL ?? '';

if (!url) process.stderr.write('MongoDB contract and export/import tests skipped: set MONGODB_URL to run them (npm run test:mongo)\n');

/** `url` with another database name, keeping host, replica set and options. */
function withDatabase(name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

const throwAway = (purpose: string) => `poortwachter_${purpose}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

async function dropDatabase(dbName: string): Promise<void> {
  const connection = await mongoose.createConnection(url, { dbName }).asPromise();
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

describe.skipIf(!url)('mongo', () => {
  // A throw-away database per run: the contract counts rows, so it needs a store of its own.
  const dbName = throwAway('test');
  afterAll(() => dropDatabase(dbName));

  runStoreContract('mongo', () => openMongoStore(url, { dbName }));
  runLifecycleStoreContract('mongo', () => openMongoStore(url, { dbName }));
  runAdminStoreContract('mongo', () => openMongoStore(url, { dbName }));
});

describe.skipIf(!url)('db export (SQLite) and db import (MongoDB)', { timeout: 180_000 }, () => {
  const dbName = throwAway('import');
  let root: string;
  afterAll(async () => {
    await dropDatabase(dbName);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('moves every record, field by field, and the same app and client secret sign in on MongoDB', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-to-mongo-'));
    const sqlite = { DATA_DIR: path.join(root, 'source') };
    const mongo = { DATABASE_URL: withDatabase(dbName), DATA_DIR: path.join(root, 'unused') };
    const source = await seedSource(sqlite);
    const exported = await cli(['db', 'export', '--include-live'], sqlite);
    expect(exported.code).toBe(0);

    expect(await cli(['db', 'migrate'], mongo)).toMatchObject({ code: 0 });
    const imported = await cli(['db', 'import', '--json'], mongo, exported.stdout);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);

    const [from, to] = [await openConfigured(sqlite), await openConfigured(mongo)];
    try {
      expect(await expectSameRecords(from, to, { live: true })).toMatchObject({ account: 2, credential: 6, client: 3, device: 1, lockout: 1 });
    } finally {
      await from.close();
      await to.close();
    }
    await loginWithApp(mongo, source);
  });
});
