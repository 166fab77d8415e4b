// How the store fails, in terms the layers above can act on. Each implementation knows its own
// driver's errors (sqlite/errors.ts, mongo/errors.ts) and says which of them mean "the store cannot
// be used right now" (disk full, I/O error, locked too long, read-only, unreachable); guardStore()
// turns exactly those into StoreUnavailableError at the port, so nothing above store/ ever
// inspects a driver error or its message. The web layer answers them with 503 and Retry-After.

export type UnavailableReason = 'full' | 'io' | 'busy' | 'read-only' | 'cannot-open' | 'corrupt' | 'unreachable';

/** The store exists but cannot serve this operation now; the request may succeed later. */
export class StoreUnavailableError extends Error {
  constructor(
    readonly reason: UnavailableReason,
    options: { cause: unknown },
  ) {
    super(`the store is unavailable (${reason})`, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Says whether a driver error means the store is unavailable, and why. */
export type UnavailableClassifier = (error: unknown) => UnavailableReason | undefined;

/** The StoreUnavailableError behind `error` (itself or one of its causes), if any. */
export function storeUnavailableCause(error: unknown): StoreUnavailableError | undefined {
  let current = error;
  // Other layers wrap our error in theirs (oidc-provider's temporarily_unavailable): follow causes.
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof StoreUnavailableError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * The database cannot be used at start: one line for the operator that names the file, what is
 * wrong and what to do. main.ts prints it instead of a stack trace.
 */
export class StoreOpenError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly remedy: string,
    options?: { cause: unknown },
  ) {
    super(`${file}: ${problem}. ${remedy}`, options);
    this.name = 'StoreOpenError';
  }
}

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * Wraps a store so that every method of it and of its sub-stores (store.oidc.find, ...) throws
 * StoreUnavailableError for the errors `classify` recognises; other errors pass unchanged.
 */
export function guardStore<S extends object>(store: S, classify: UnavailableClassifier): S {
  const translate = (error: unknown): unknown => {
    if (error instanceof StoreUnavailableError) return error;
    const reason = classify(error);
    return reason === undefined ? error : new StoreUnavailableError(reason, { cause: error });
  };
  const methods = new WeakMap<object, AnyMethod>();
  const proxies = new WeakMap<object, object>();

  const method = (fn: AnyMethod, self: object): AnyMethod => {
    let wrapped = methods.get(fn);
    if (!wrapped) {
      wrapped = (...args: unknown[]) => {
        let result: unknown;
        try {
          result = Reflect.apply(fn, self, args);
        } catch (error) {
          throw translate(error);
        }
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(translate(error))) : result;
      };
      methods.set(fn, wrapped);
    }
    return wrapped;
  };

  // Two levels: the store's own methods and those of its sub-stores.
  const guard = <T extends object>(target: T, nested: boolean): T => {
    const known = proxies.get(target);
    if (known) return known as T;
    const proxy = new Proxy(target, {
      get(object, key, receiver) {
        const value: unknown = Reflect.get(object, key, receiver);
        if (typeof value === 'function') return method(value as AnyMethod, object);
        if (!nested && typeof value === 'object' && value !== null) return guard(value, true);
        return value;
      },
    });
    proxies.set(target, proxy);
    return proxy;
  };
  return guard(store, false);
}
