import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { afterAll, describe } from 'vitest';
import { openMongoStore } from '../../src/store/mongo/index.ts';
import { runStoreContract } from './contract.ts';
import { runLifecycleStoreContract } from './lifecycle-contract.ts';

const url = process.env.MONGODB_URL ?? '';

if (!url) process.stderr.write('MongoDB contract tests skipped: set MONGODB_URL to run them\n');

describe.skipIf(!url)('mongo', () => {
  // A throw-away database per run: the contract counts rows, so it needs a store of its own.
  const dbName = `poortwachter_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

  afterAll(async () => {
    const connection = await mongoose.createConnection(url, { dbName }).asPromise();
    try {
      await connection.dropDatabase();
    } finally {
      await connection.close();
    }
  });

  runStoreContract('mongo', () => openMongoStore(url, { dbName }));
  runLifecycleStoreContract('mongo', () => openMongoStore(url, { dbName }));
});
