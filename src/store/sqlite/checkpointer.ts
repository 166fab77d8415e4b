// WAL checkpoints off the request path. SQLite's automatic checkpoint runs (with an fsync) inside
// whichever commit crosses the threshold, stalling that request for up to tens of milliseconds.
// A worker thread with its own connection checkpoints passively once a second instead; the
// automatic one stays as a safety net at a higher threshold.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* next second */ } }, workerData.intervalMs);
`;

export function startCheckpointer(file: string, intervalMs = 1000): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  return {
    async stop() {
      await worker.terminate();
    },
  };
}
