// `npm run bench`: Poortwachter against a bare oidc-provider baseline, on this machine, on
// 127.0.0.1 only, every scenario bounded in time. The servers run as child processes; this
// process is the load generator. Knobs (environment):
//   BENCH_SECONDS (5)          measured seconds per scenario and server
//   BENCH_CONNECTIONS (16)     concurrent connections / loops
//   BENCH_WARMUP_SECONDS (1)   unmeasured run before each measurement (JIT, caches, pools)
//   BENCH_SCENARIOS            comma list, e.g. login,refresh (default: all)
//   BENCH_LOG_LEVEL (silent)   Poortwachter's LOG_LEVEL; `info` adds the production request log
//                              (one JSON line per request, written to /dev/null)
//   BENCH_PROFILE=1            CPU-profile each measured window of both servers, print where
//                              Poortwachter's time goes (profiling slows the servers down)
import os from 'node:os';
import path from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basicAuth, HttpClient } from './http.ts';
import { passwordLogin, refresh, type LoginCounters, type Tokens } from './oidc-flows.ts';
import { mergeMeasurements, runCannon, runLoops, type RawMeasurement } from './drivers.ts';
import { machineCpu, machineCpuSince } from './machine.ts';
import { PROJECT_ROOT, startServerProcess, type ServerHandle } from './servers.ts';
import { compare, formatTable, formatTargets, RATIO_TARGET, SCENARIOS, type Comparison, type Row, type ScenarioDef, type ScenarioId } from './report.ts';
import { formatComparison, formatSummary, summariseProfile } from './profile-summary.ts';
import type { ServerName } from './shared.ts';

function numberFromEnv(name: string, fallback: number, { min, integer }: { min: number; integer: boolean }): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

const SECONDS = numberFromEnv('BENCH_SECONDS', 5, { min: 0.5, integer: false });
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 1, { min: 0, integer: false });
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 16, { min: 1, integer: true });
const PROFILE = process.env.BENCH_PROFILE === '1';
const CORES = os.availableParallelism();
const OUT_DIR = path.join(PROJECT_ROOT, 'data', 'bench');
const SERVER_ORDER: ServerName[] = ['poortwachter', 'bare'];
const LOAD_AT_START = os.loadavg()[0] ?? 0;

const selected = (process.env.BENCH_SCENARIOS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = selected.filter((s) => !SCENARIOS.some((d) => d.id === s));
if (unknown.length) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
const scenarios = selected.length ? SCENARIOS.filter((s) => selected.includes(s.id)) : SCENARIOS;

// Ctrl-C: stop the load at once, still print what was measured, stop the servers. A second
// Ctrl-C exits right away; the servers then exit by themselves when their stdin closes.
const abort = new AbortController();
process.on('SIGINT', () => {
  if (abort.signal.aborted) process.exit(130);
  console.error('\ninterrupted: stopping the load and the servers (Ctrl-C again to quit at once)');
  abort.abort();
});

// Everything is bounded in time, so is the whole run: a hang somewhere must not keep it alive.
const budgetSeconds = scenarios.length * SERVER_ORDER.length * (SECONDS + WARMUP_SECONDS + 15) + 120;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${budgetSeconds} s, giving up`);
  process.exit(2);
}, budgetSeconds * 1000);
watchdog.unref();

/** Tokens from the logins of the login scenario (or minted), per server: the refresh chains start from them. */
class TokenPool {
  private readonly tokens: Tokens[] = [];
  constructor(private readonly keep: number) {}
  add(tokens: Tokens): void {
    this.tokens.push(tokens);
    if (this.tokens.length > this.keep) this.tokens.shift();
  }
  take(): Tokens | undefined {
    return this.tokens.pop();
  }
  get size(): number {
    return this.tokens.length;
  }
}

interface Target {
  handle: ServerHandle;
  http: HttpClient;
  pool: TokenPool;
}

async function mintTokens(target: Target, wanted: number): Promise<void> {
  const missing = wanted - target.pool.size;
  if (missing <= 0) return;
  const parallel = Math.min(missing, 8);
  let left = missing;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (left > 0 && !abort.signal.aborted) {
      left -= 1;
      target.pool.add(await passwordLogin(target.http, target.handle.info));
    }
  }));
}

/** Repeatable work of one scenario against one server; run for warm-up and for every slice. */
interface Prepared {
  run: (seconds: number) => Promise<RawMeasurement>;
  counters?: LoginCounters;
}

async function prepare(def: ScenarioDef, target: Target): Promise<Prepared> {
  const { info } = target.handle;
  const signal = abort.signal;
  const cannon = { connections: CONNECTIONS, signal };
  const tokenHeaders = { authorization: basicAuth(info.clientId, info.clientSecret), 'content-type': 'application/x-www-form-urlencoded' };
  switch (def.id) {
    case 'discovery':
      return { run: (seconds) => runCannon({ ...cannon, seconds, url: `${info.url}/.well-known/openid-configuration`, verifyBody: (b) => b.includes('"issuer"') }) };
    case 'jwks':
      return { run: (seconds) => runCannon({ ...cannon, seconds, url: `${info.url}/jwks`, verifyBody: (b) => b.includes('"keys"') }) };
    case 'login': {
      const counters: LoginCounters = { httpRequests: 0 };
      return {
        counters,
        run: (seconds) => runLoops({ connections: CONNECTIONS, seconds, signal, iterate: async () => target.pool.add(await passwordLogin(target.http, info, counters)) }),
      };
    }
    case 'refresh': {
      // One chain per loop: each rotation consumes the token, so loops must never share one.
      // The chains live on across warm-up and slices, like a portal refreshing its session.
      const spares = CONNECTIONS;
      await mintTokens(target, CONNECTIONS + spares);
      const chains = Array.from({ length: CONNECTIONS }, () => target.pool.take()?.refreshToken);
      return {
        run: (seconds) => runLoops({
          connections: CONNECTIONS,
          seconds,
          signal,
          iterate: async (loop) => {
            const current = chains[loop];
            if (!current) throw new Error('no refresh token left for this chain');
            try {
              chains[loop] = (await refresh(target.http, info, current)).refreshToken;
            } catch (error) {
              // A broken chain (its token consumed or revoked) continues from a spare token.
              chains[loop] = target.pool.take()?.refreshToken;
              throw error;
            }
          },
        }),
      };
    }
    case 'client_credentials':
      return { run: (seconds) => runCannon({ ...cannon, seconds, url: `${info.url}/token`, method: 'POST', headers: tokenHeaders, body: 'grant_type=client_credentials', verifyBody: (b) => b.includes('"access_token"') }) };
    case 'introspection': {
      // A fresh login's access token: live for the whole scenario (TTL 600 s) and in every store.
      const { accessToken } = await passwordLogin(target.http, info);
      const body = new URLSearchParams({ token: accessToken, token_type_hint: 'access_token' }).toString();
      return { run: (seconds) => runCannon({ ...cannon, seconds, url: `${info.url}/token/introspection`, method: 'POST', headers: tokenHeaders, body, verifyBody: (b) => b.includes('"active":true') }) };
    }
  }
}

const cpuSeconds = (usage: { user: number; system: number }) => (usage.user + usage.system) / 1e6;

/** What one server accumulates over the slices of a scenario. */
interface Tally {
  target: Target;
  prepared: Prepared;
  runs: RawMeasurement[];
  serverCpu: number;
  loopActive: number;
  loopIdle: number;
  generatorCpu: number;
  otherCpu: number | undefined;
  steal: number | undefined;
  httpRequests: number;
}

/**
 * Slices, alternating between the servers (A B B A A B …): background load on this shared
 * machine then falls on both alike, instead of on whichever ran while a test suite started.
 * Logins take up to a second, so their slices are longer (few in-flight logins cut off).
 */
function slicesFor(def: ScenarioDef): number {
  const minimum = def.id === 'login' ? 2.5 : 1;
  return Math.max(1, Math.min(5, Math.floor(SECONDS / minimum)));
}

async function measureScenario(def: ScenarioDef, targets: Target[]): Promise<Row[]> {
  const tallies: Tally[] = [];
  for (const target of targets) {
    const prepared = await prepare(def, target);
    if (WARMUP_SECONDS > 0 && !abort.signal.aborted) await prepared.run(WARMUP_SECONDS);
    tallies.push({ target, prepared, runs: [], serverCpu: 0, loopActive: 0, loopIdle: 0, generatorCpu: 0, otherCpu: 0, steal: 0, httpRequests: 0 });
  }
  const profileFile = (t: Tally) => path.join(OUT_DIR, 'profiles', `${t.target.handle.info.name}-${def.id}.cpuprofile`);
  if (PROFILE) await Promise.all(tallies.map((t) => t.target.handle.profileStart()));

  const slices = slicesFor(def);
  for (let slice = 0; slice < slices && !abort.signal.aborted; slice += 1) {
    const order = slice % 2 === 0 ? tallies : [...tallies].reverse();
    for (const tally of order) {
      if (abort.signal.aborted) break;
      const { handle } = tally.target;
      const requestsBefore = tally.prepared.counters?.httpRequests ?? 0;
      const serverBefore = await handle.stats();
      const generatorBefore = process.cpuUsage();
      const machineBefore = machineCpu();
      tally.runs.push(await tally.prepared.run(SECONDS / slices));
      const machine = machineCpuSince(machineBefore);
      const generator = cpuSeconds(process.cpuUsage(generatorBefore));
      const serverAfter = await handle.stats();
      const server = cpuSeconds(serverAfter.cpu) - cpuSeconds(serverBefore.cpu);
      tally.serverCpu += server;
      tally.generatorCpu += generator;
      tally.loopActive += serverAfter.elu.active - serverBefore.elu.active;
      tally.loopIdle += serverAfter.elu.idle - serverBefore.elu.idle;
      tally.otherCpu = machine && tally.otherCpu !== undefined ? tally.otherCpu + Math.max(0, machine.busy - server - generator) : undefined;
      tally.steal = machine && tally.steal !== undefined ? tally.steal + machine.steal : undefined;
      tally.httpRequests += (tally.prepared.counters?.httpRequests ?? 0) - requestsBefore;
    }
  }
  if (PROFILE) await Promise.all(tallies.map((t) => t.target.handle.profileStop(profileFile(t))));

  const rows: Row[] = [];
  for (const tally of tallies) {
    if (!tally.runs.length) continue; // interrupted before this server's first slice
    const measurement = mergeMeasurements(tally.runs);
    const perSecond = measurement.seconds > 0 ? measurement.completed / measurement.seconds : 0;
    const row: Row = {
      scenario: def.id,
      server: tally.target.handle.info.name,
      slices: tally.runs.length,
      measurement,
      perSecond,
      perCore: perSecond / CORES,
      serverCpuSeconds: tally.serverCpu,
      serverLoopBusy: tally.loopActive + tally.loopIdle > 0 ? tally.loopActive / (tally.loopActive + tally.loopIdle) : Number.NaN,
      perBusyCore: tally.serverCpu > 0 ? measurement.completed / tally.serverCpu : Number.NaN,
      generatorCpuSeconds: tally.generatorCpu,
      otherCpuSeconds: tally.otherCpu,
      stealSeconds: tally.steal,
      ...(tally.prepared.counters && measurement.completed ? { httpRequestsPerOperation: tally.httpRequests / measurement.completed } : {}),
    };
    if (PROFILE) {
      const file = profileFile(tally);
      row.profile = { file: path.relative(PROJECT_ROOT, file), summary: summariseProfile(JSON.parse(await readFile(file, 'utf8'))) };
    }
    rows.push(row);
  }
  return rows;
}

function header(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load1 = LOAD_AT_START;
  return [
    `Poortwachter vs bare oidc-provider — ${new Date().toISOString()}`,
    `Machine: ${CORES} cores available (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}, load average ${load1.toFixed(2)}`,
    `Both servers and the load generator run on THIS machine and share its ${CORES} cores: each server in its own`,
    `process (one event loop; argon2 on the libuv pool), the load generator (autocannon / async loops) in this one.`,
    `"ops/s/core" = ops/s ÷ ${CORES} (every core counted, the generator's too: pessimistic). "ops/CPU-s" = ops ÷ CPU`,
    `seconds the server process used (all its threads, from process.cpuUsage()), i.e. ops/s per fully busy server core.`,
    `"srv loop" = share of the time the server's event loop was busy; well below 100% means the server was not the`,
    `bottleneck. "gen CPU s" = CPU of the load generator (this process); "other CPU s" = CPU used meanwhile by other`,
    `processes on the machine (from /proc/stat): when it is large the figures are depressed and noisy, and the`,
    `CPU-based columns (ops/CPU-s, PW/bare CPU) are the ones to trust.`,
    `${SECONDS} s per scenario and server after ${WARMUP_SECONDS} s warm-up, measured in slices alternating between the servers`,
    `(A B B A …) so background load hits both alike; ${CONNECTIONS} connections/loops; 127.0.0.1 only.`,
    `Baseline: oidc-provider alone (memory adapter, static client, hand-made login route), same client metadata,`,
    `TTLs, refresh rotation, signing keys and claims; its login verifies argon2id m=19456 t=2 p=1 like Poortwachter,`,
    `so the password cost is the same on both. A login = authorize (PKCE S256) → login page → POST credentials →`,
    `redirects → code → token exchange, a fresh browser (no SSO) each time.${PROFILE ? '\nPROFILING ON: the servers run under the V8 profiler; absolute figures are lower than without it.' : ''}`,
    ...(load1 > CORES / 2 ? [`WARNING: load average ${load1.toFixed(2)} on ${CORES} cores before the start: other work is running, expect noisy figures.`] : []),
  ].join('\n');
}

async function main(): Promise<number> {
  console.log(header());
  console.log('\nstarting the servers…');
  const started = await Promise.allSettled(SERVER_ORDER.map((name) => startServerProcess(name)));
  const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const targets = handles.map((handle): Target => ({ handle, http: new HttpClient(CONNECTIONS), pool: new TokenPool(4 * CONNECTIONS) }));
  const rows: Row[] = [];
  let failure: unknown;
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const target of targets) console.log(`  ${target.handle.info.name.padEnd(12)} ${target.handle.info.url}  (pid ${target.handle.info.pid})`);

    for (const def of scenarios) {
      if (abort.signal.aborted) break;
      const measured = await measureScenario(def, targets);
      rows.push(...measured);
      // One line per finished scenario: server stderr (oidc-provider notices) may come in between.
      for (const row of measured) {
        const m = row.measurement;
        console.log(`${def.title} → ${row.server}: ${row.perSecond.toFixed(1)}/s, p50 ${m.latencyMs.p50.toFixed(2)} ms${m.failed ? `, ${m.failed} failed (first: ${m.firstError ?? '?'})` : ''}`);
      }
      const ours = measured.find((r) => r.server === 'poortwachter');
      const bare = measured.find((r) => r.server === 'bare');
      if (ours?.profile) console.log(formatSummary(`  profile ${ours.profile.file}`, ours.profile.summary));
      if (ours?.profile && bare?.profile) {
        console.log(formatComparison('  Poortwachter vs bare', { summary: ours.profile.summary, operations: ours.measurement.completed }, { summary: bare.profile.summary, operations: bare.measurement.completed }));
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    for (const target of targets) target.http.close();
    await Promise.all(handles.map((h) => h.stop()));
  }

  const comparisons = new Map<ScenarioId, Comparison>();
  for (const def of scenarios) {
    const pick = (server: ServerName) => rows.find((r) => r.scenario === def.id && r.server === server);
    const cmp = compare(def, pick('poortwachter'), pick('bare'));
    if (cmp) comparisons.set(def.id, cmp);
  }
  if (rows.length) {
    console.log(`\n${formatTable(rows, comparisons)}`);
    const loginRow = rows.find((r) => r.scenario === 'login' && r.httpRequestsPerOperation);
    if (loginRow?.httpRequestsPerOperation) console.log(`(a login is ${loginRow.httpRequestsPerOperation.toFixed(1)} HTTP requests; its latency is the whole login)`);
    console.log(`\n${formatTargets([...comparisons.values()])}`);
    await mkdir(OUT_DIR, { recursive: true });
    const file = path.join(OUT_DIR, 'latest.json');
    await writeFile(file, `${JSON.stringify({
      when: new Date().toISOString(),
      complete: !failure && !abort.signal.aborted,
      machine: { cores: CORES, cpu: os.cpus()[0]?.model, memoryGiB: os.totalmem() / 2 ** 30, node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverageAtStart: LOAD_AT_START },
      settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, profile: PROFILE, scenarios: scenarios.map((s) => s.id) },
      notes: [
        'servers and load generator share this machine; servers run in their own processes',
        'each scenario is measured in slices alternating between the servers (A B B A ...)',
        'otherCpuSeconds = machine CPU used by other processes meanwhile (/proc/stat); large values mean noisy figures',
        'perCore = perSecond / availableParallelism; perBusyCore = completed / server CPU seconds (all threads)',
        'bare baseline verifies argon2id m=19456 t=2 p=1 on login, like Poortwachter',
      ],
      targets: Object.fromEntries(SCENARIOS.filter((s) => s.targetPerVcpu).map((s) => [s.id, { perVcpu: s.targetPerVcpu }])),
      ratioTarget: RATIO_TARGET,
      results: rows,
      comparisons: [...comparisons.values()],
    }, null, 2)}\n`);
    console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
  }
  if (failure) {
    console.error(`\nbench failed: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    return 1;
  }
  return abort.signal.aborted ? 130 : 0;
}

const code = await main();
clearTimeout(watchdog);
process.exit(code);
