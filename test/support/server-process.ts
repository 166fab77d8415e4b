// A real Poortwachter server in its own OS process (`src/main.ts`, as `npm start` runs it), for
// tests that need what one process cannot show: two processes on one database file, kill -9,
// SIGTERM under load, a process with resource limits. The server logs JSON lines on stdout; we
// wait for its "Poortwachter started" line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** A TCP port that was free a moment ago (the child binds it itself, so it can be the ISSUER's). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface ServerProcessOptions {
  /** Environment on top of a test default (NODE_ENV=test, loopback, this port as ISSUER). */
  env: Record<string, string>;
  port?: number;
  /** Extra arguments for `node` before the script (e.g. resource-limit wrappers are set via `command`). */
  nodeArgs?: string[];
  /** Run through another program, e.g. `['prlimit', '--fsize=...', '--']`; node and its args follow. */
  wrapper?: string[];
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ISSUER: url, LOG_LEVEL: 'info', DEV_OUTBOX: 'false', ...options.env };
  const argv = [...(options.nodeArgs ?? []), '--import', 'tsx', MAIN];
  const [command, ...prefix] = options.wrapper?.length ? [...options.wrapper, process.execPath] : [process.execPath];
  const child = spawn(command!, [...prefix, ...argv], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind.
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${text}`));
    }, START_TIMEOUT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it started:\n${text}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        text += `${line}\n`;
        if (line.includes('Poortwachter started')) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  await started;
  return {
    url,
    pid: child.pid!,
    child,
    output: () => text,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
