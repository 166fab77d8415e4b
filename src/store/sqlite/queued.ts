// The SQLite stores are written synchronously (better-sqlite3 is); this turns one into the async
// port interface once, in one place: reads run at once, writes go through the group-commit queue.
import type { WriteQueue } from './write-queue.ts';
import { retryWhenBusy, type BusyRetryOptions } from './busy-retry.ts';

/** A port interface with every method returning its result directly instead of a promise. */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * `writes` names the methods that change data. A write left out would still be correct and
 * durable (it commits on its own), only not batched; a read listed here would wait a tick.
 * Every call that fails with SQLITE_BUSY is tried again without blocking (busy-retry.ts).
 */
export function queued<T extends object>(store: Synchronous<T>, queue: WriteQueue, writes: readonly (keyof T & string)[], busy: BusyRetryOptions = {}): T {
  const methods: Record<string, AnyMethod> = {};
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function') continue;
    const method = member as AnyMethod;
    const once: AnyMethod = (writes as readonly string[]).includes(name)
      ? (...args) => queue.run(() => method(...args))
      : (...args) => {
          try {
            return Promise.resolve(method(...args));
          } catch (error) {
            return Promise.reject(error);
          }
        };
    methods[name] = (...args) => retryWhenBusy(() => once(...args) as Promise<unknown>, busy);
  }
  // The same methods with the same arguments, each result wrapped in a promise: the port's shape.
  return methods as T;
}
