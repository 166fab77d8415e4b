// The two load generators, both bounded in time and both answering in the same shape:
//  - autocannon, for requests that can be repeated as they are (discovery, JWKS,
//    client_credentials, introspection of one live access token);
//  - concurrent async loops, for work where each step depends on the previous answer (a login is
//    five requests with cookies and a code; a refresh chain needs the token the last refresh
//    returned).
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

/** One run of a driver. Runs of the same scenario and server are merged into a Measurement. */
export interface RawMeasurement {
  /** Successful operations (requests, or whole logins). */
  completed: number;
  failed: number;
  firstError?: string;
  /** Wall time from the first request to the last answer. */
  seconds: number;
  /** Latency of every successful operation, ms. */
  latencies: number[];
}

export interface Measurement {
  completed: number;
  failed: number;
  firstError?: string;
  seconds: number;
  latencyMs: { p50: number; p99: number; mean: number };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Merges runs: counts and times add up, percentiles are taken over all latencies together. */
export function mergeMeasurements(runs: RawMeasurement[]): Measurement {
  const sorted = Array.from(Float64Array.from(runs.flatMap((r) => r.latencies)).sort());
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : Number.NaN;
  return {
    completed: runs.reduce((n, r) => n + r.completed, 0),
    failed: runs.reduce((n, r) => n + r.failed, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean },
  };
}

/** After this many failures in a row a loop stops, instead of spinning against a broken server. */
const MAX_CONSECUTIVE_FAILURES = 20;

export interface LoopOptions {
  connections: number;
  seconds: number;
  signal: AbortSignal;
  /** One operation of loop number `loop`; throws when it failed. */
  iterate: (loop: number) => Promise<void>;
}

/** `connections` loops, each running `iterate` back to back until the time is up. */
export async function runLoops(options: LoopOptions): Promise<RawMeasurement> {
  const latencies: number[] = [];
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;

  async function loop(index: number): Promise<void> {
    let failuresInRow = 0;
    while (performance.now() < deadline && !options.signal.aborted) {
      const t0 = performance.now();
      try {
        await options.iterate(index);
        latencies.push(performance.now() - t0);
        completed += 1;
        failuresInRow = 0;
      } catch (error) {
        failed += 1;
        firstError ??= (error as Error).message;
        if (++failuresInRow >= MAX_CONSECUTIVE_FAILURES) return;
      }
    }
  }

  await Promise.all(Array.from({ length: options.connections }, (_, i) => loop(i)));
  return { completed, failed, firstError, seconds: (performance.now() - started) / 1000, latencies };
}

export interface CannonOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  signal: AbortSignal;
  /** A 2xx answer that fails this counts as failed (e.g. introspection saying active:false). */
  verifyBody?: (body: string) => boolean;
}

/** autocannon for `seconds`; latencies from its per-response timings (µs resolution, not whole ms). */
export function runCannon(options: CannonOptions): Promise<RawMeasurement> {
  const latencies: number[] = [];
  let firstError: string | undefined;
  const check = options.verifyBody;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'GET',
        headers: options.headers,
        body: options.body,
        connections: options.connections,
        duration: options.seconds,
        timeout: 15,
        verifyBody: check
          ? (body) => {
              const text = typeof body === 'string' ? body : (body?.toString('utf8') ?? '');
              const ok = check(text);
              if (!ok) firstError ??= `unexpected body: ${text.slice(0, 200)}`;
              return ok;
            }
          : undefined,
      },
      (error: Error | null, result: autocannon.Result) => {
        options.signal.removeEventListener('abort', stop);
        if (error) return reject(error);
        const completed = Math.max(0, result['2xx'] - result.mismatches);
        const failed = result.errors + result.non2xx + result.mismatches;
        if (!firstError && result.non2xx) {
          const codes = Object.entries(result.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2'));
          firstError = `non-2xx answers: ${codes.map(([code, s]) => `${code}×${s.count ?? 0}`).join(', ')}`;
        }
        resolve({ completed, failed, firstError, seconds: result.duration, latencies });
      },
    );
    const stop = () => instance.stop();
    options.signal.addEventListener('abort', stop, { once: true });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
    instance.on('reqError', (error: Error) => {
      firstError ??= error.message;
    });
  });
}
