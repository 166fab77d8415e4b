// Readiness of the store: can it take a write and give it back, and is its schema the one this
// code expects? A cheap probe, but load balancers poll readiness often and under load: one probe
// result serves every caller for a moment, and callers arriving while a probe runs share it.
import { performance } from 'node:perf_hooks';
import type { Store } from './port.ts';
import { storeUnavailableCause, type UnavailableReason } from './errors.ts';

export type CheckResult = { ok: true } | { ok: false; reason: UnavailableReason | 'error' | 'outdated' };

export interface StoreHealth {
  store: CheckResult;
  migrations: CheckResult & { current?: number; expected?: number };
}

// One record, shared by every process on the database: a probe only needs to see that a write
// went through and a read works, not that it reads back its own value.
const PROBE_SETTING = 'readiness.probe';

export const PROBE_CACHE_MS = 1500;

export function createHealthProbe(store: Store, now: () => number, onError: (error: unknown) => void, cacheMs = PROBE_CACHE_MS): () => Promise<StoreHealth> {
  let last: { at: number; result: Promise<StoreHealth> } | undefined;

  const failure = (error: unknown): CheckResult => {
    const unavailable = storeUnavailableCause(error);
    if (!unavailable) onError(error);
    return { ok: false, reason: unavailable?.reason ?? 'error' };
  };

  async function probe(): Promise<StoreHealth> {
    let storeCheck: CheckResult = { ok: true };
    try {
      await store.settings.put(PROBE_SETTING, { at: now() });
      if ((await store.settings.get(PROBE_SETTING)) === undefined) storeCheck = { ok: false, reason: 'error' };
    } catch (error) {
      storeCheck = failure(error);
    }
    let migrations: StoreHealth['migrations'];
    try {
      const version = await store.schemaVersion();
      migrations = version.current === version.expected ? { ok: true, ...version } : { ok: false, reason: 'outdated', ...version };
    } catch (error) {
      migrations = failure(error);
    }
    return { store: storeCheck, migrations };
  }

  return () => {
    // Real elapsed time, not the application clock: this limits load, it decides no expiry.
    const at = performance.now();
    if (!last || at - last.at >= cacheMs) last = { at, result: probe() };
    return last.result;
  };
}
