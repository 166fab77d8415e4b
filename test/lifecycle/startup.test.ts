// Starting on a database that cannot or must not be used: the real entry (src/main.ts, as npm
// start runs it) exits 1 with one line on stderr that names the file and says what to do — no
// stack trace, and never a fresh identity provider with new keys on top of an installation that
// lost its database file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, openSync, closeSync, writeSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { freePort, PROJECT_ROOT, startServerProcess } from '../support/server-process.ts';
import { seedDataDir } from '../support/seed.ts';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.ts';
import { openStore } from '../../src/store/open.ts';
import { StoreOpenError } from '../../src/store/errors.ts';

const DB = 'poortwachter.sqlite';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs src/main.ts on `dataDir` until it exits (it must: every case here refuses to start).
 * `dataDir` null: none in the environment (a `.env` in `cwd` names it).
 */
async function start(dataDir: string | null, wrapper: string[] = [], cwd = PROJECT_ROOT): Promise<Run> {
  const port = await freePort();
  const env = { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info', DEV_OUTBOX: 'false', ...(dataDir === null ? {} : { DATA_DIR: dataDir }) };
  if (dataDir === null) delete env.DATA_DIR;
  // tsx by its full address: `--import tsx` resolves from the working directory.
  const argv = [...wrapper, process.execPath, '--import', import.meta.resolve('tsx'), path.join(PROJECT_ROOT, 'src/main.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exit 1, nothing served, and exactly one line on stderr naming `file`, without a stack trace. */
function expectOneLineRefusal(run: Run, file: string, says: RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stdout).not.toContain('Poortwachter started');
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^Poortwachter cannot start: /);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(says);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('starting on a database that cannot be used', { timeout: 120_000 }, () => {
  let root: string;
  /** A healthy DATA_DIR written by this version: a portal and two patients. */
  let seeded: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-startup-'));
    seeded = path.join(root, 'seeded');
    await seedDataDir(seeded, ['anna', 'bram']);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** A copy of the seeded DATA_DIR to break. */
  function copy(name: string): { dir: string; file: string } {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(seeded, DB), path.join(dir, DB));
    return { dir, file: path.join(dir, DB) };
  }

  it('a read-only DATA_DIR', async () => {
    const { dir, file } = copy('read-only');
    chmodSync(dir, 0o555);
    // Root ignores file modes; without the capabilities that let it, it is bound by them too.
    const wrapper = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
    try {
      expectOneLineRefusal(await start(dir, wrapper), file, /directory .* is not writable \((EACCES|EROFS)\).*write access/);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('a file that is not a database', async () => {
    const dir = path.join(root, 'garbage');
    mkdirSync(dir);
    const file = path.join(dir, DB);
    writeFileSync(file, 'PK\u0003\u0004 this is a zip file, or a text file, or anything else '.repeat(100));
    expectOneLineRefusal(await start(dir), file, /is not a SQLite database.*Restore it from a backup/);
  });

  /** A data directory holding a file that is not a database, and a working directory whose .env names it. */
  function garbageNamedByEnv(name: string, extra = ''): { file: string; cwd: string } {
    const dir = path.join(root, `garbage-${name}`);
    mkdirSync(dir);
    const file = path.join(dir, DB);
    writeFileSync(file, 'not a database at all '.repeat(100));
    const cwd = path.join(root, `${name}-cwd`);
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, '.env'), `# as an operator would write it\nDATA_DIR=${dir}\n${extra}`);
    return { file, cwd };
  }

  it('the server (configured by a .env in its working directory, as npm start runs it) refuses a file that is not a database with the same one line, and says nothing of .env itself', async () => {
    const { file, cwd } = garbageNamedByEnv('server');
    // One line naming the file from .env: the .env was read, and nothing else was printed.
    expectOneLineRefusal(await start(null, [], cwd), file, /is not a SQLite database/);
  });

  it('the CLI (configured by a .env in its working directory) refuses a file that is not a database with the same one line', async () => {
    const { file, cwd } = garbageNamedByEnv('cli', 'NODE_ENV=test\n');
    const run = await new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/poortwachter.js'), 'client', 'list'], {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([`poortwachter: ${file}: is not a SQLite database (it does not start with the SQLite header). Restore it from a backup (with its -wal file, if it had one), and check that DATA_DIR or DATABASE_URL names Poortwachter's database`]);
  });

  it('a truncated database', async () => {
    const { dir, file } = copy('truncated');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    expectOneLineRefusal(await start(dir), file, /is truncated: \d+ bytes where its header says \d+ pages.*Restore it from a backup/);
  });

  it('a database written by a newer Poortwachter', async () => {
    const { dir, file } = copy('newer');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 3}`);
    db.close();
    expectOneLineRefusal(await start(dir), file, new RegExp(`newer Poortwachter \\(schema version ${SCHEMA_VERSION + 3}; this version knows up to ${SCHEMA_VERSION}\\)`));
  });

  it('a database with damaged pages (quick_check)', async () => {
    const { dir, file } = copy('damaged');
    const db = new Database(file, { readonly: true });
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const { rootpage } = db.prepare<[], { rootpage: number }>("SELECT rootpage FROM sqlite_schema WHERE name = 'accounts'").get()!;
    db.close();
    // Scribble over the accounts table's page: same size, valid header, broken B-tree.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);
    expectOneLineRefusal(await start(dir), file, /is damaged.*Restore it from a backup/);
  });

  it('an empty database file where the directory shows earlier use', async () => {
    const { dir, file } = copy('emptied');
    copyFileSync(file, path.join(dir, `${DB}.backup`));
    truncateSync(file, 0);
    expectOneLineRefusal(await start(dir), file, /is empty, but its directory holds data from earlier use \(poortwachter\.sqlite\.backup\).*new signing keys/);
  });

  it('an empty database file beside a write-ahead log', async () => {
    const { dir, file } = copy('emptied-wal');
    writeFileSync(`${file}-wal`, Buffer.alloc(4096, 1));
    truncateSync(file, 0);
    expectOneLineRefusal(await start(dir), file, /is empty, but its directory holds data from earlier use \(poortwachter\.sqlite-wal\)/);
  });

  it('a missing database file beside a write-ahead log', async () => {
    const dir = path.join(root, 'missing');
    mkdirSync(dir);
    const file = path.join(dir, DB);
    writeFileSync(`${file}-wal`, Buffer.alloc(4096, 1));
    expectOneLineRefusal(await start(dir), file, /is missing, but its write-ahead log poortwachter\.sqlite-wal is there/);
  });

  it('three processes starting at once on an empty DATA_DIR all start (none mistakes another\'s new database for a lost one)', async () => {
    const dir = path.join(root, 'simultaneous');
    mkdirSync(dir);
    const starts = await Promise.allSettled([1, 2, 3].map(() => startServerProcess({ env: { DATA_DIR: dir } })));
    const started = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // Stop whatever started before judging, so a failure leaves no server behind.
    const exits = await Promise.all(started.map((server) => server.stop()));
    expect(starts.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason))).toEqual([]);
    expect(exits).toEqual([0, 0, 0]);
  });

  it('starts as usual on an empty file in an empty directory (a new installation)', async () => {
    const dir = path.join(root, 'new');
    mkdirSync(dir);
    writeFileSync(path.join(dir, DB), '');
    const server = await startServerProcess({ env: { DATA_DIR: dir } });
    expect(await server.stop()).toBe(0);
  });
});

describe('starting on a MongoDB that cannot be reached', () => {
  it('fails with one line naming the URL, its password masked', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const error = await openStore({ kind: 'mongo', url: `mongodb://poortwachter:geheim-wachtwoord@127.0.0.1:${port}/poortwachter`, migrate: 'auto' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    const message = (error as Error).message;
    expect(message).toBe(`mongodb://poortwachter:***@127.0.0.1:${port}/poortwachter: cannot reach MongoDB (no server answered). Check DATABASE_URL and that the MongoDB replica set is running and reachable, then start again`);
    expect(message).not.toContain('geheim');
  });
});
