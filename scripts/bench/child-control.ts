// The server-process side of the runner protocol. The server prints its ServerInfo as one JSON
// line, then answers requests read from stdin: CPU and event-loop counters (so the runner can
// charge each scenario with the CPU the *server* used, not the load generator's), and on demand
// a CPU profile of exactly the measured window.
//
// When stdin closes the process shuts down: if the runner dies in any way (even SIGKILL), its
// end of the pipe closes and no server is left behind listening.
import readline from 'node:readline';
import { Session } from 'node:inspector/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isRecord, type ControlReply, type ControlRequest, type ProcessStats, type ServerInfo } from './shared.ts';

function send(message: ServerInfo | ControlReply): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function parseRequest(line: string): ControlRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.id !== 'number') return undefined;
  if (value.cmd === 'stats' || value.cmd === 'profile-start') return { id: value.id, cmd: value.cmd };
  if (value.cmd === 'profile-stop' && typeof value.file === 'string') return { id: value.id, cmd: 'profile-stop', file: value.file };
  return undefined;
}

function stats(): ProcessStats {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return { cpu: { user: cpu.user, system: cpu.system }, elu: { idle: elu.idle, active: elu.active } };
}

export function serveControl(info: Omit<ServerInfo, 'pid'>, shutdown: () => Promise<void>): void {
  let profiler: Session | undefined;
  let stopping = false;

  async function handle(request: ControlRequest): Promise<ControlReply> {
    switch (request.cmd) {
      case 'stats':
        return { id: request.id, ok: true, stats: stats() };
      case 'profile-start': {
        profiler ??= new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
        return { id: request.id, ok: true };
      }
      case 'profile-stop': {
        if (!profiler) return { id: request.id, ok: false, error: 'profiler not started' };
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        profiler = undefined;
        await mkdir(path.dirname(request.file), { recursive: true });
        await writeFile(request.file, JSON.stringify(profile));
        return { id: request.id, ok: true };
      }
    }
  }

  async function stop(): Promise<void> {
    if (stopping) return;
    stopping = true;
    // A shutdown that hangs (a stuck connection) must not keep the process alive.
    setTimeout(() => process.exit(1), 5_000).unref();
    try {
      await shutdown();
    } catch (error) {
      console.error(`${info.name}: shutdown failed: ${(error as Error).message}`);
    }
    process.exit(0);
  }

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const request = parseRequest(line);
    if (!request) {
      console.error(`${info.name}: ignoring control line ${JSON.stringify(line.slice(0, 200))}`);
      return;
    }
    handle(request).then(send, (error: Error) => send({ id: request.id, ok: false, error: error.message }));
  });
  lines.on('close', () => void stop());
  // Ctrl-C reaches the whole process group, the servers included. Under the runner (stdin a
  // pipe) the runner decides: it stops the load, reads the servers' last counters, then closes
  // their stdin. Started by hand from a terminal, Ctrl-C stops the server as usual.
  process.on('SIGINT', () => {
    if (process.stdin.isTTY) void stop();
  });
  process.on('SIGTERM', () => void stop());

  send({ ...info, pid: process.pid });
}
