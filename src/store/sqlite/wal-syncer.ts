// Makes committed writes durable without stopping the event loop. With synchronous=FULL SQLite
// fsyncs the write-ahead log inside every COMMIT, on the calling thread: better-sqlite3 is
// synchronous, so each commit would stall every request for the length of an fsync (2 ms typical,
// 45 ms at p99 on the test VM). Instead the connection runs synchronous=NORMAL (commits write the
// WAL without syncing it) and this worker thread fsyncs the WAL file after each group commit; the
// write queue acknowledges the batch only when that fsync returned. On Linux fsync flushes the
// file, whichever descriptor wrote it, and the WAL is written sequentially, so one fsync covers
// every commit before it: what was acknowledged survives a power cut, as with FULL.
//
// A dedicated thread, not libuv's pool: argon2 password hashing occupies that pool during logins.
import { Worker } from 'node:worker_threads';

// Signalling through shared memory rather than messages: a postMessage each way cost about 60 µs
// of the event loop's time per batch, as much as the rest of the batch's bookkeeping.
const REQUESTED = 0;
const COMPLETED = 1;
/** The last failed fsync covered the requests FAILED_FROM..FAILED (later ones succeeded or not). */
const FAILED = 2;
const STOP = 3;
const FAILED_FROM = 4;

const SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const state = new Int32Array(workerData.shared);
let fd;
let done = 0;
for (;;) {
  if (Atomics.load(state, ${STOP}) === 1) break;
  const requested = Atomics.load(state, ${REQUESTED});
  if (requested === done) {
    Atomics.wait(state, ${REQUESTED}, requested, 1000);
    continue;
  }
  try {
    if (fd === undefined) {
      fd = fs.openSync(workerData.wal, 'r');
      // The WAL's directory entry must survive too, the first time it exists.
      const dir = fs.openSync(workerData.dir, 'r');
      try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
    }
    fs.fsyncSync(fd);
  } catch {
    if (fd !== undefined) { try { fs.closeSync(fd); } catch {} fd = undefined; }
    Atomics.store(state, ${FAILED_FROM}, done + 1);
    Atomics.store(state, ${FAILED}, requested);
  }
  done = requested;
  Atomics.store(state, ${COMPLETED}, requested);
  Atomics.notify(state, ${COMPLETED});
}
if (fd !== undefined) fs.closeSync(fd);
`;

export interface Syncer {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

interface Waiter {
  sequence: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WalSyncer implements Syncer {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(5 * Int32Array.BYTES_PER_ELEMENT));
  private requested = 0;
  private waiters: Waiter[] = [];
  private watching = false;

  constructor(databaseFile: string, dir: string) {
    this.worker = new Worker(SOURCE, { eval: true, workerData: { wal: `${databaseFile}-wal`, dir, shared: this.state.buffer } });
    this.worker.unref();
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      // The worker reads the request before it fsyncs: a sync that completes this number or a
      // later one started after this call, so it covers every commit made before it.
      this.requested += 1;
      // A pending Atomics.waitAsync does not keep Node alive: the worker's handle does, while
      // anyone waits (a CLI run would otherwise exit in the middle of its first write).
      if (this.waiters.length === 0) this.worker.ref();
      this.waiters.push({ sequence: this.requested, resolve, reject });
      Atomics.store(this.state, REQUESTED, this.requested);
      Atomics.notify(this.state, REQUESTED);
      this.watch();
    });
  }

  async stop(): Promise<void> {
    Atomics.store(this.state, STOP, 1);
    Atomics.notify(this.state, REQUESTED);
    await this.worker.terminate();
    for (const w of this.waiters.splice(0)) w.reject(new Error('the database is closed'));
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    const completed = Atomics.load(this.state, COMPLETED);
    const wait = Atomics.waitAsync(this.state, COMPLETED, completed);
    const settle = () => {
      this.watching = false;
      this.settle();
      if (this.waiters.length) this.watch();
    };
    if (wait.async) void wait.value.then(settle);
    else queueMicrotask(settle);
  }

  private settle(): void {
    const completed = Atomics.load(this.state, COMPLETED);
    const failedFrom = Atomics.load(this.state, FAILED_FROM);
    const failed = Atomics.load(this.state, FAILED);
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.sequence > completed) still.push(w);
      else if (failedFrom > 0 && w.sequence >= failedFrom && w.sequence <= failed) w.reject(new Error('could not make the write durable (fsync of the SQLite WAL failed)'));
      else w.resolve();
    }
    this.waiters = still;
    if (still.length === 0) this.worker.unref();
  }
}
