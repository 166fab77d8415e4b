// How busy the whole machine was, so a result taken while other work ran (a test suite, a
// browser) can be recognised as such: on a shared 2-core box that changes figures by 2x.
import { readFileSync } from 'node:fs';

export interface MachineCpu {
  /** CPU-seconds spent in user, nice, system, irq and softirq by every process on the machine. */
  busy: number;
  /** CPU-seconds the hypervisor gave to other guests. */
  steal: number;
}

// USER_HZ, the unit of /proc/stat: 100 on every Linux architecture Node runs on.
const USER_HZ = 100;

/** Cumulative machine CPU from /proc/stat; undefined where there is none (macOS, Windows). */
export function machineCpu(): MachineCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [label, ...fields] = line.trim().split(/\s+/);
    if (label !== 'cpu') return undefined;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
    return { busy: (user + nice + system + irq + softirq) / USER_HZ, steal: steal / USER_HZ };
  } catch {
    return undefined;
  }
}

export function machineCpuSince(before: MachineCpu | undefined): MachineCpu | undefined {
  const now = machineCpu();
  return before && now ? { busy: now.busy - before.busy, steal: now.steal - before.steal } : undefined;
}
