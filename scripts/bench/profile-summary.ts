// Reads a V8 .cpuprofile and says where the time went: self time per package (or src/ file),
// the hottest functions, and the inclusive time of Poortwachter's own functions (their callees
// included, so "render" also counts the pug template it runs).
// Usage on its own: tsx scripts/bench/profile-summary.ts data/bench/profiles/<file>.cpuprofile
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { isRecord } from './shared.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  busyMs: number;
  idleMs: number;
  /** Samples under the bench's control code (profiler start/stop), excluded from busyMs. */
  controlMs: number;
  byPackage: Share[];
  hottestFunctions: Share[];
  ownCodeInclusive: Share[];
  /** Self time of every package / file, microseconds: what compareProfiles works on. */
  selfUsByPackage: Record<string, number>;
}

function isCpuProfile(value: unknown): value is CpuProfile {
  return isRecord(value) && Array.isArray(value.nodes) && Array.isArray(value.samples) && Array.isArray(value.timeDeltas);
}

/** Where a frame's code lives: a package, a node: module, a project file, or a V8 pseudo-frame. */
export function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const views = url.indexOf('/views/');
  if (views >= 0) return url.slice(views + 1);
  return url.replace(/^file:\/\//, '');
}

function frameName(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${category(frame)}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, total: number, n: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: total ? (100 * us) / total : 0 }));
}

export function summariseProfile(profile: unknown, n = 12): ProfileSummary {
  if (!isCpuProfile(profile)) throw new Error('not a V8 CPU profile');
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // V8 names native frames unreliably (a SQLite statement may show up as "VerifyTask"), so their
  // time is charged to the nearest JavaScript caller: "src/store/sqlite/oidc-models.ts (native)".
  function nativeCaller(id: number): CallFrame | undefined {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.url || frame.functionName.startsWith('(')) return undefined;
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const up = byId.get(at)?.callFrame;
      if (up?.url) return up;
    }
    return undefined;
  }

  const selfByPackage = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let control = 0;
  // Samples under the bench's own control code (starting and stopping the profiler) are the
  // measurement's cost, not the server's: left out.
  const controlMemo = new Map<number, boolean>();
  function underControl(id: number): boolean {
    const known = controlMemo.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)?.callFrame;
    const up = parent.get(id);
    const result = (frame?.url.includes('/scripts/bench/') ?? false) || (up !== undefined && underControl(up));
    controlMemo.set(id, result);
    return result;
  }
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += delta;
      return;
    }
    if (underControl(id)) {
      control += delta;
      return;
    }
    busy += delta;
    const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + delta);
    const caller = nativeCaller(id);
    add(selfByPackage, caller ? `${category(caller)} (native)` : category(node.callFrame));
    add(selfByFunction, caller ? `[native] in ${frameName(caller)}` : frameName(node.callFrame));
    // Inclusive: every distinct own function on the stack gets the sample once (recursion-safe).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !category(frame).startsWith('src/')) continue;
      const name = frameName(frame);
      if (!seen.has(name)) {
        seen.add(name);
        add(inclusiveOwn, name);
      }
    }
  });
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    controlMs: control / 1000,
    byPackage: top(selfByPackage, busy, n),
    hottestFunctions: top(selfByFunction, busy, n),
    ownCodeInclusive: top(inclusiveOwn, busy, n),
    selfUsByPackage: Object.fromEntries(selfByPackage),
  };
}

/**
 * Poortwachter against bare, in main-thread microseconds per operation: which packages and files
 * make up the difference. Work off the main thread (argon2, the crypto pool) is not in a profile.
 */
export function formatComparison(title: string, ours: { summary: ProfileSummary; operations: number }, bare: { summary: ProfileSummary; operations: number }, n = 10): string {
  if (!ours.operations || !bare.operations) return `${title}: no completed operations to compare`;
  const names = new Set([...Object.keys(ours.summary.selfUsByPackage), ...Object.keys(bare.summary.selfUsByPackage)]);
  const rows = [...names]
    .map((name) => {
      const a = (ours.summary.selfUsByPackage[name] ?? 0) / ours.operations;
      const b = (bare.summary.selfUsByPackage[name] ?? 0) / bare.operations;
      return { name, a, b, diff: a - b };
    })
    .sort((x, y) => y.diff - x.diff)
    .slice(0, n);
  const perOp = (summary: ProfileSummary, ops: number) => (1000 * summary.busyMs) / ops;
  const ourTotal = perOp(ours.summary, ours.operations);
  const bareTotal = perOp(bare.summary, bare.operations);
  return [
    `${title}: main-thread busy µs per operation: Poortwachter ${ourTotal.toFixed(0)}, bare ${bareTotal.toFixed(0)} (+${(ourTotal - bareTotal).toFixed(0)})`,
    '  largest differences (self time per operation, µs):   Poortwachter     bare     diff',
    ...rows.map((r) => `    ${r.name.slice(0, 48).padEnd(48)} ${r.a.toFixed(1).padStart(9)} ${r.b.toFixed(1).padStart(8)} ${(r.diff >= 0 ? '+' : '') + r.diff.toFixed(1).padStart(7)}`),
  ].join('\n');
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const rows = (shares: Share[]) => shares.map((s) => `    ${s.percent.toFixed(1).padStart(5)}%  ${s.ms.toFixed(0).padStart(6)} ms  ${s.name}`).join('\n');
  return [
    `${title}: ${summary.busyMs.toFixed(0)} ms on the main thread busy, ${summary.idleMs.toFixed(0)} ms idle (also while the other server ran), ${summary.controlMs.toFixed(0)} ms profiler control left out`,
    '  self time by package / file:',
    rows(summary.byPackage),
    '  hottest functions (self):',
    rows(summary.hottestFunctions),
    ...(summary.ownCodeInclusive.length ? ['  Poortwachter functions (inclusive, callees counted):', rows(summary.ownCodeInclusive)] : []),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of process.argv.slice(2)) {
    console.log(formatSummary(file, summariseProfile(JSON.parse(await readFile(file, 'utf8')))));
  }
}
