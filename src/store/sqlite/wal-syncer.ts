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
//
// A failed fsync is final. On Linux the kernel reports a writeback error once and may already have
// dropped the dirty pages it could not write: a later fsync, on this descriptor or a new one, can
// succeed although earlier frames never reached the disk (PostgreSQL's "fsyncgate", 2018). So the
// syncer does not retry or reopen: it fails every waiter and every later sync, and the store stops
// taking writes until the process is restarted (write-queue.ts, serve.ts). The same when the worker
// dies, when an fsync hangs past SYNC_TIMEOUT_MS (a frozen file system), or after stop().
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../errors.ts';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
let fd;
parentPort.on('message', (id) => {
  try {
    if (fd === undefined) {
      fd = fs.openSync(workerData.wal, 'r');
      // The WAL's directory entry must survive too, the first time it exists.
      const dir = fs.openSync(workerData.dir, 'r');
      try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
    }
    fs.fsyncSync(fd);
    parentPort.postMessage({ id });
  } catch (error) {
    // No reopening: the parent treats this as final (see the comment in wal-syncer.ts).
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

export interface Syncer {
  /** Resolves once everything committed before the call is on disk; rejects with StoreUnavailableError. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/** How long one fsync may take before the file system is taken for frozen. */
export const SYNC_TIMEOUT_MS = 30_000;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WalSyncer implements Syncer {
  private readonly worker: Worker;
  private inFlight: Waiter[] | undefined;
  private next: Waiter[] = [];
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set once for good: after it every sync fails at once with it. */
  private failure: StoreUnavailableError | undefined;

  constructor(databaseFile: string, dir: string, private readonly timeoutMs = SYNC_TIMEOUT_MS) {
    this.worker = new Worker(SOURCE, { eval: true, workerData: { wal: `${databaseFile}-wal`, dir } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; error?: string }) => {
      if (message.error === undefined) this.settle();
      else this.fail('io', `fsync of the SQLite WAL failed: ${message.error}`);
    });
    this.worker.on('error', (error) => this.fail('io', `the WAL sync thread failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail('unreachable', `the WAL sync thread exited (code ${code})`));
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      // A sync already running may have started before the caller's commit: wait for the next one.
      this.next.push({ resolve, reject });
      if (!this.inFlight) this.start();
    });
  }

  /**
   * The worker is unref'd so an idle store never keeps Node alive, but while a write waits for its
   * fsync it must: a CLI run would otherwise exit (code 13) in the middle of its first write.
   */
  private get waiting(): boolean {
    return this.inFlight !== undefined || this.next.length > 0;
  }

  async stop(): Promise<void> {
    this.fail('unreachable', 'the database is closed');
    await this.worker.terminate();
  }

  private start(): void {
    this.worker.ref();
    this.inFlight = this.next;
    this.next = [];
    this.sequence += 1;
    this.worker.postMessage(this.sequence);
    this.timer = setTimeout(() => this.fail('io', `fsync of the SQLite WAL did not return within ${this.timeoutMs} ms`), this.timeoutMs);
  }

  private settle(): void {
    clearTimeout(this.timer);
    const waiters = this.inFlight ?? [];
    this.inFlight = undefined;
    for (const w of waiters) w.resolve();
    if (this.next.length) this.start();
    else if (!this.waiting) this.worker.unref();
  }

  /** Fails every waiter now and every sync from now on: a write that is not durable was not done. */
  private fail(reason: 'io' | 'unreachable', message: string): void {
    clearTimeout(this.timer);
    this.failure ??= new StoreUnavailableError(reason, { cause: new Error(`could not make the write durable (${message})`) });
    const waiters = [...(this.inFlight ?? []), ...this.next];
    this.inFlight = undefined;
    this.next = [];
    for (const w of waiters) w.reject(this.failure);
    this.worker.unref();
  }
}
