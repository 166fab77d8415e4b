// Turns measurements into the printed table, the target checks and the JSON file.
import type { Measurement } from './drivers.ts';
import type { ServerName } from './shared.ts';
import type { ProfileSummary } from './profile-summary.ts';

export type ScenarioId = 'discovery' | 'jwks' | 'login' | 'refresh' | 'client_credentials' | 'introspection';

export interface ScenarioDef {
  id: ScenarioId;
  title: string;
  /** What one counted operation is. */
  unit: 'request' | 'login';
  /** Target of the issue, in operations per second per vCPU. */
  targetPerVcpu?: number;
  tool: 'autocannon' | 'async loops';
}

/** The targets: throughput per vCPU, and Poortwachter at least 0.9 of bare oidc-provider. */
export const RATIO_TARGET = 0.9;

export const SCENARIOS: ScenarioDef[] = [
  { id: 'discovery', title: 'discovery', unit: 'request', tool: 'autocannon' },
  { id: 'jwks', title: 'JWKS', unit: 'request', tool: 'autocannon' },
  { id: 'login', title: 'password login', unit: 'login', targetPerVcpu: 30, tool: 'async loops' },
  { id: 'refresh', title: 'refresh_token', unit: 'request', targetPerVcpu: 1200, tool: 'async loops' },
  { id: 'client_credentials', title: 'client_credentials', unit: 'request', targetPerVcpu: 1200, tool: 'autocannon' },
  { id: 'introspection', title: 'introspection', unit: 'request', targetPerVcpu: 5000, tool: 'autocannon' },
];

export interface Row {
  scenario: ScenarioId;
  server: ServerName;
  /** Alternating slices the measurement was taken in. */
  slices: number;
  measurement: Measurement;
  /** Completed operations per second of wall time. */
  perSecond: number;
  /** perSecond divided by os.availableParallelism(): every core counted, also the generator's. */
  perCore: number;
  /** CPU the server process used in the window (all its threads), seconds. */
  serverCpuSeconds: number;
  /** Share of the window the server's event loop was busy (1 = saturated). */
  serverLoopBusy: number;
  /** Operations per CPU-second of the server: what one fully busy core of its own would do. */
  perBusyCore: number;
  /** CPU the runner process (load generator) used in the window, seconds. */
  generatorCpuSeconds: number;
  /** Machine CPU-seconds used by neither (other people's tests, browsers…); Linux only. */
  otherCpuSeconds?: number;
  /** CPU-seconds the hypervisor gave to other guests; Linux only. */
  stealSeconds?: number;
  /** Login only: HTTP requests per login (authorize, page, post, resume, token). */
  httpRequestsPerOperation?: number;
  profile?: { file: string; summary: ProfileSummary };
}

export interface Comparison {
  scenario: ScenarioId;
  /** Poortwachter / bare, operations per second. */
  ratio: number;
  /** Poortwachter / bare, operations per server CPU-second (server efficiency, load generator excluded). */
  cpuRatio: number;
  ratioMet: boolean;
  target?: { perVcpu: number; perCore: number; perCoreMet: boolean; perBusyCore: number; perBusyCoreMet: boolean };
}

export function compare(def: ScenarioDef, poortwachter: Row | undefined, bare: Row | undefined): Comparison | undefined {
  if (!poortwachter || !bare) return undefined;
  const ratio = bare.perSecond ? poortwachter.perSecond / bare.perSecond : Number.NaN;
  const cpuRatio = bare.perBusyCore ? poortwachter.perBusyCore / bare.perBusyCore : Number.NaN;
  return {
    scenario: def.id,
    ratio,
    cpuRatio,
    ratioMet: ratio >= RATIO_TARGET,
    target: def.targetPerVcpu === undefined
      ? undefined
      : {
          perVcpu: def.targetPerVcpu,
          perCore: poortwachter.perCore,
          perCoreMet: poortwachter.perCore >= def.targetPerVcpu,
          perBusyCore: poortwachter.perBusyCore,
          perBusyCoreMet: poortwachter.perBusyCore >= def.targetPerVcpu,
        },
  };
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const count = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const ms = (value: number) => (!Number.isFinite(value) ? '-' : value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0));
const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');

function table(header: string[], rows: string[][], rightAlign: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function formatTable(rows: Row[], comparisons: Map<ScenarioId, Comparison>): string {
  const header = ['scenario', 'server', 'ops/s', 'p50 ms', 'p99 ms', 'failed', 'ops/s/core', 'srv CPU s', 'srv loop', 'ops/CPU-s', 'gen CPU s', 'other CPU s', 'target/vCPU', 'PW/bare', 'PW/bare CPU'];
  const body = rows.map((row) => {
    const def = SCENARIOS.find((s) => s.id === row.scenario);
    const cmp = row.server === 'poortwachter' ? comparisons.get(row.scenario) : undefined;
    const unit = def?.unit === 'login' ? ' logins' : '';
    return [
      row.server === 'poortwachter' ? `${def?.title ?? row.scenario}` : '',
      row.server,
      `${count(row.perSecond)}${unit}`,
      ms(row.measurement.latencyMs.p50),
      ms(row.measurement.latencyMs.p99),
      String(row.measurement.failed),
      count(row.perCore),
      fixed(row.serverCpuSeconds, 2),
      `${fixed(100 * row.serverLoopBusy, 0)}%`,
      count(row.perBusyCore),
      fixed(row.generatorCpuSeconds, 2),
      row.otherCpuSeconds === undefined ? '?' : fixed(row.otherCpuSeconds, 2),
      row.server === 'poortwachter' && def?.targetPerVcpu !== undefined ? `>= ${def.targetPerVcpu}` : '',
      cmp ? fixed(cmp.ratio, 2) : '',
      cmp ? fixed(cmp.cpuRatio, 2) : '',
    ];
  });
  return table(header, body, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14]));
}

export function formatTargets(comparisons: Comparison[]): string {
  const lines = ['Targets (issue): login >= 30/s per vCPU, refresh and client_credentials >= 1200/s per vCPU, introspection >= 5000/s per vCPU, Poortwachter/bare >= 0.9'];
  for (const cmp of comparisons) {
    const def = SCENARIOS.find((s) => s.id === cmp.scenario);
    const parts = [`  ${(def?.title ?? cmp.scenario).padEnd(19)} ratio ${fixed(cmp.ratio, 2)} (>= ${RATIO_TARGET}: ${mark(cmp.ratioMet)}; per server CPU-s ${fixed(cmp.cpuRatio, 2)})`];
    if (cmp.target) {
      parts.push(
        `    >= ${cmp.target.perVcpu}/s per vCPU: per core of this machine ${count(cmp.target.perCore)} (${mark(cmp.target.perCoreMet)}), per busy server core ${count(cmp.target.perBusyCore)} (${mark(cmp.target.perBusyCoreMet)})`,
      );
    }
    lines.push(...parts);
  }
  return lines.join('\n');
}
