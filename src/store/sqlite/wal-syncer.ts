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
    if (fd !== undefined) { try { fs.closeSync(fd); } catch {} fd = undefined; }
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

export interface Syncer {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WalSyncer implements Syncer {
  private readonly worker: Worker;
  private inFlight: Waiter[] | undefined;
  private next: Waiter[] = [];
  private sequence = 0;

  constructor(databaseFile: string, dir: string) {
    this.worker = new Worker(SOURCE, { eval: true, workerData: { wal: `${databaseFile}-wal`, dir } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; error?: string }) => this.settle(message.error));
    this.worker.on('error', (error) => this.settle(error.message));
  }

  sync(): Promise<void> {
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
    await this.worker.terminate();
    for (const w of [...(this.inFlight ?? []), ...this.next]) w.reject(new StoreUnavailableError('unreachable', { cause: new Error('the database is closed') }));
    this.inFlight = undefined;
    this.next = [];
  }

  private start(): void {
    this.worker.ref();
    this.inFlight = this.next;
    this.next = [];
    this.sequence += 1;
    this.worker.postMessage(this.sequence);
  }

  private settle(error: string | undefined): void {
    const waiters = this.inFlight ?? [];
    this.inFlight = undefined;
    for (const w of waiters) {
      if (error === undefined) w.resolve();
      // A write that is not durable was not done: the same 503 as any other failing disk.
      else w.reject(new StoreUnavailableError('io', { cause: new Error(`could not make the write durable (fsync of the SQLite WAL failed: ${error})`) }));
    }
    if (this.next.length) this.start();
    else if (!this.waiting) this.worker.unref();
  }
}
