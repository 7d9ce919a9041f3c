/**
 * Wraps a store so a test can count the operations it receives: the idle-cost tests assert that a
 * waiting receive or an idle trigger runs none.
 */
import type { Store } from '../store/store.js';

export interface CountingStore {
  store: Store;
  /** Operation name to number of calls since the last reset. */
  calls: Map<string, number>;
  total(): number;
  reset(): void;
  /** Operations started and not yet finished. */
  inFlight(): number;
}

export function countingStore(inner: Store): CountingStore {
  const calls = new Map<string, number>();
  let inFlight = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          inFlight++;
          const done = () => {
            inFlight--;
          };
          result.then(done, done);
        }
        return result;
      };
    },
  });
  return {
    store,
    calls,
    total: () => [...calls.values()].reduce((sum, n) => sum + n, 0),
    reset: () => calls.clear(),
    inFlight: () => inFlight,
  };
}
