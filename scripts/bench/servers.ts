// The runner side of the server processes: start one, wait for its ServerInfo line, ask it for
// CPU counters or a profile, and stop it. Servers run in their own processes so the load
// generator never takes turns on the server's event loop.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isRecord, isServerInfo, type ControlReply, type ProcessStats, type ServerInfo, type ServerName } from './shared.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS: Record<ServerName, string> = {
  poortwachter: fileURLToPath(new URL('./server-poortwachter.ts', import.meta.url)),
  bare: fileURLToPath(new URL('./server-bare.ts', import.meta.url)),
};
const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 6_000;

export interface ServerHandle {
  info: ServerInfo;
  stats(): Promise<ProcessStats>;
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  /** Closes the server's stdin (it shuts down), then kills it if it has not exited in time. */
  stop(): Promise<void>;
}

function isReply(value: unknown): value is ControlReply {
  return isRecord(value) && typeof value.id === 'number' && typeof value.ok === 'boolean';
}

export async function startServerProcess(name: ServerName): Promise<ServerHandle> {
  // tsx as an --import hook: the servers are TypeScript like the rest of the project.
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', SCRIPTS[name]], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  const waiting = new Map<number, { resolve: (reply: ControlReply) => void; reject: (error: Error) => void }>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => {
    alive = false;
    for (const pending of waiting.values()) pending.reject(new Error(`${name} server exited`));
    waiting.clear();
  });

  let nextId = 1;
  let announce: ((info: ServerInfo) => void) | undefined;
  const announced = new Promise<ServerInfo>((resolve) => {
    announce = resolve;
  });

  const lines = readline.createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      process.stderr.write(`[${name}] ${line}\n`);
      return;
    }
    if (isServerInfo(value)) announce?.(value);
    else if (isReply(value)) {
      waiting.get(value.id)?.resolve(value);
      waiting.delete(value.id);
    } else process.stderr.write(`[${name}] ${line}\n`);
  });

  function request(cmd: 'stats' | 'profile-start' | 'profile-stop', file?: string): Promise<ControlReply> {
    if (!alive) return Promise.reject(new Error(`${name} server is not running`));
    const id = nextId++;
    return new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${name} server did not answer ${cmd}`));
      }, REQUEST_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          if (reply.ok) resolve(reply);
          else reject(new Error(`${name} ${cmd}: ${reply.error}`));
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.stdin.write(`${JSON.stringify(file === undefined ? { id, cmd } : { id, cmd, file })}\n`);
    });
  }

  async function stop(): Promise<void> {
    if (!alive) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  let startTimer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      announced,
      exited.then((code) => Promise.reject(new Error(`${name} server exited with code ${code} before it listened`))),
      new Promise<never>((_resolve, reject) => {
        startTimer = setTimeout(() => reject(new Error(`${name} server did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      }),
    ]);
    return {
      info,
      async stats() {
        const reply = await request('stats');
        if (!reply.ok || !reply.stats) throw new Error(`${name} server sent no stats`);
        return reply.stats;
      },
      async profileStart() {
        await request('profile-start');
      },
      async profileStop(file) {
        await request('profile-stop', file);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(startTimer);
  }
}
