// Watches every call of a store method, once, at the port — as guardStore (errors.ts) translates
// errors there: each call's duration and outcome go to `observer` (the metrics), and so do its
// arguments and result (the request log learns the flow from them). Nothing above store/ has to
// time or report its store calls, and a new store method is observed without a line of code.
//
// Wrapped once, when the store is opened, into plain objects (no Proxy): every request makes
// several store calls, and a Proxy's traps cost more than the observation itself. The caller gets
// the implementation's own promise back, not a longer chain.
import { StoreUnavailableError } from './errors.ts';

export type StoreOutcome = 'ok' | 'unavailable' | 'error';

/** `part` is the sub-store (`oidc`, `accounts`, `flows`, ...) or `store` for the store's own methods. */
export type StoreCallObserver = (part: string, method: string, seconds: number, outcome: StoreOutcome, args: readonly unknown[], result: unknown) => void;

type AnyMethod = (...args: unknown[]) => unknown;

const outcomeOf = (error: unknown): StoreOutcome => (error instanceof StoreUnavailableError ? 'unavailable' : 'error');

/** Names of the methods of `object`: its own and its classes', not Object's. */
function methodNames(object: object): string[] {
  const names = new Set<string>();
  for (let level: object | null = object; level && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name !== 'constructor' && typeof (object as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}

function observeMethod(target: object, fn: AnyMethod, part: string, method: string, observer: StoreCallObserver): AnyMethod {
  return (...args) => {
    const start = performance.now();
    let result: unknown;
    try {
      result = Reflect.apply(fn, target, args);
    } catch (error) {
      observer(part, method, (performance.now() - start) / 1000, outcomeOf(error), args, undefined);
      throw error;
    }
    if (result instanceof Promise) {
      // Observed beside the caller's chain: the caller awaits (and handles) the original promise.
      result.then(
        (value: unknown) => observer(part, method, (performance.now() - start) / 1000, 'ok', args, value),
        (error: unknown) => observer(part, method, (performance.now() - start) / 1000, outcomeOf(error), args, undefined),
      );
    } else {
      observer(part, method, (performance.now() - start) / 1000, 'ok', args, result);
    }
    return result;
  };
}

/** An object that answers like `target`, with every method observed (and, on the store, every sub-store). */
function observeObject<T extends object>(target: T, part: string | undefined, observer: StoreCallObserver): T {
  const observed = Object.create(target) as Record<string, unknown>;
  for (const name of methodNames(target)) {
    observed[name] = observeMethod(target, (target as Record<string, AnyMethod>)[name]!, part ?? 'store', name, observer);
  }
  if (part === undefined) {
    for (const name of Object.keys(target)) {
      const value = (target as Record<string, unknown>)[name];
      if (typeof value === 'object' && value !== null) observed[name] = observeObject(value, name, observer);
    }
  }
  return observed as T;
}

export function observeStore<S extends object>(store: S, observer: StoreCallObserver): S {
  return observeObject(store, undefined, observer);
}
