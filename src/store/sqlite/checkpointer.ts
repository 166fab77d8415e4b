// WAL checkpoints off the request path. SQLite's automatic checkpoint runs (with an fsync) inside
// whichever commit crosses the threshold, stalling that request for up to tens of milliseconds.
// A worker thread with its own connection checkpoints passively once a second instead; the
// automatic one stays as a safety net at a higher threshold.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

// Stopping is asked, not forced: terminating the thread while better-sqlite3 is inside a call (a
// checkpoint waiting out its busy timeout) aborts the whole process (napi fatal error). On "stop"
// the worker finishes its current checkpoint, closes its connection and exits by itself.
const SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
const timer = setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* next second */ } }, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/** How long a stop waits for the current checkpoint (its busy timeout is 5 s) before forcing. */
const STOP_GRACE_MS = 10_000;

export function startCheckpointer(file: string, intervalMs = 1000): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  return {
    async stop() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Keep the process alive until the thread has closed its connection (it is unref'd while running).
      worker.ref();
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => void worker.terminate().then(() => resolve(), () => resolve()), STOP_GRACE_MS);
        timer.unref();
      });
      await Promise.race([exited, forced]);
      clearTimeout(timer);
    },
  };
}
