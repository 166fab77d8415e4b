// observeStore (store/observe.ts) times every store call once, at the port: each call is reported
// with its sub-store, method, outcome, arguments and result, the result and errors pass through
// unchanged, and sub-stores that share one class keep their own `this`.
import { describe, expect, it } from 'vitest';
import { observeStore, type StoreOutcome } from '../../src/store/observe.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';

class Table {
  constructor(readonly name: string) {}
  async find(id: string) {
    return `${this.name}:${id}`;
  }
  async fail(kind: 'unavailable' | 'bug') {
    throw kind === 'unavailable' ? new StoreUnavailableError('full', { cause: new Error('SQLITE_FULL') }) : new TypeError('bug');
  }
  count() {
    return 3;
  }
}

function observed() {
  const calls: { part: string; method: string; seconds: number; outcome: StoreOutcome; args: readonly unknown[]; result: unknown }[] = [];
  const store = observeStore(
    { kind: 'test' as const, accounts: new Table('accounts'), flows: new Table('flows'), close: async () => 'closed' },
    (part, method, seconds, outcome, args, result) => calls.push({ part, method, seconds, outcome, args, result }),
  );
  return { store, calls };
}

describe('observeStore', () => {
  it('reports each call with its sub-store, method, arguments and result, and passes the result on', async () => {
    const { store, calls } = observed();
    expect(await store.accounts.find('a1')).toBe('accounts:a1');
    expect(await store.flows.find('f1')).toBe('flows:f1');
    expect(store.flows.count()).toBe(3);
    expect(await store.close()).toBe('closed');
    expect(store.kind).toBe('test');
    expect(calls.map(({ part, method, outcome, args, result }) => ({ part, method, outcome, args, result }))).toEqual([
      { part: 'accounts', method: 'find', outcome: 'ok', args: ['a1'], result: 'accounts:a1' },
      { part: 'flows', method: 'find', outcome: 'ok', args: ['f1'], result: 'flows:f1' },
      { part: 'flows', method: 'count', outcome: 'ok', args: [], result: 3 },
      { part: 'store', method: 'close', outcome: 'ok', args: [], result: 'closed' },
    ]);
    for (const call of calls) expect(call.seconds).toBeGreaterThanOrEqual(0);
  });

  it('tells an unavailable store from other errors and rethrows both unchanged', async () => {
    const { store, calls } = observed();
    await expect(store.accounts.fail('unavailable')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.accounts.fail('bug')).rejects.toBeInstanceOf(TypeError);
    expect(calls.map((c) => c.outcome)).toEqual(['unavailable', 'error']);
  });

  it('returns the same wrapped method each time (no allocation per call)', () => {
    const { store } = observed();
    expect(store.accounts.find).toBe(store.accounts.find);
    expect(store.accounts).toBe(store.accounts);
    expect(store.accounts.find).not.toBe(store.flows.find);
  });
});
