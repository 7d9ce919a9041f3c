/**
 * The store-level harness: each test gets a fresh, empty store of the backend under test and nothing
 * else (no engine, no clock: a test passes every instant itself), as River's driver suite tests the
 * driver alone. Suites that need the engine's behaviour use `useEngine` (../harness.ts) instead.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Store } from '../../store/store.js';
import type { BackendUnderTest } from '../backend.js';

export interface StoreContext {
  store: Store;
}

/** Registers hooks that open a fresh store before each test and close it after; read `store` inside tests. */
export function useStore(backend: BackendUnderTest): StoreContext {
  const context = {} as StoreContext;
  beforeEach(async () => {
    context.store = await backend.open();
  });
  afterEach(async () => {
    await context.store?.close();
  });
  return context;
}
