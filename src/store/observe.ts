// Watches every call of a store method, once, at the port — as guardStore (errors.ts) translates
// errors there: each call's duration and outcome go to `observer` (the metrics), and so do its
// arguments and result (the request log learns the flow from them). Nothing above store/ has to
// time or report its store calls, and a new store method is observed without a line of code.
import { StoreUnavailableError } from './errors.ts';

export type StoreOutcome = 'ok' | 'unavailable' | 'error';

/** `part` is the sub-store (`oidc`, `accounts`, `flows`, ...) or `store` for the store's own methods. */
export type StoreCallObserver = (part: string, method: string, seconds: number, outcome: StoreOutcome, args: readonly unknown[], result: unknown) => void;

type AnyMethod = (...args: unknown[]) => unknown;

const outcomeOf = (error: unknown): StoreOutcome => (error instanceof StoreUnavailableError ? 'unavailable' : 'error');

export function observeStore<S extends object>(store: S, observer: StoreCallObserver): S {
  // Per object and key, not per function: sub-stores of one class share their methods' functions.
  const wrappers = new WeakMap<object, Map<PropertyKey, { fn: AnyMethod; wrapped: AnyMethod }>>();
  const proxies = new WeakMap<object, object>();

  const wrap = (target: object, key: string, fn: AnyMethod, part: string): AnyMethod => {
    let byKey = wrappers.get(target);
    if (!byKey) wrappers.set(target, (byKey = new Map()));
    const known = byKey.get(key);
    if (known?.fn === fn) return known.wrapped;
    const wrapped: AnyMethod = (...args) => {
      const start = performance.now();
      const done = (outcome: StoreOutcome, result: unknown) => observer(part, key, (performance.now() - start) / 1000, outcome, args, result);
      let result: unknown;
      try {
        result = Reflect.apply(fn, target, args);
      } catch (error) {
        done(outcomeOf(error), undefined);
        throw error;
      }
      if (!(result instanceof Promise)) {
        done('ok', result);
        return result;
      }
      return result.then(
        (value: unknown) => {
          done('ok', value);
          return value;
        },
        (error: unknown) => {
          done(outcomeOf(error), undefined);
          throw error;
        },
      );
    };
    byKey.set(key, { fn, wrapped });
    return wrapped;
  };

  // Two levels, as guardStore: the store's own methods and those of its sub-stores.
  const observe = <T extends object>(target: T, part: string | undefined): T => {
    const known = proxies.get(target);
    if (known) return known as T;
    const proxy = new Proxy(target, {
      get(object, key, receiver) {
        const value: unknown = Reflect.get(object, key, receiver);
        if (typeof key !== 'string') return value;
        if (typeof value === 'function') return wrap(object, key, value as AnyMethod, part ?? 'store');
        if (part === undefined && typeof value === 'object' && value !== null) return observe(value, key);
        return value;
      },
    });
    proxies.set(target, proxy);
    return proxy;
  };
  return observe(store, undefined);
}
