/**
 * The engine suite's harness: `useEngine` gives each test its own Sluice on a fresh store of the backend
 * under test and a ManualClock, for behaviour that spans the store and a service (validation, AWS's
 * shapes and errors, wake-ups, timers). The store's own contract is tested without an engine
 * (../store/harness.ts).
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { Sluice, type SluiceOptions } from '../../engine/sluice.js';
import { ManualClock, trackPendingWork } from '../../model/clock.js';
import { SluiceError, type ErrorCode } from '../../model/errors.js';
import { countingStore, type CountingStore } from '../../testkit/counting-store.js';
import type { BackendUnderTest } from '../backend.js';

export type { BackendUnderTest } from '../backend.js';

export interface EngineContext {
  sluice: Sluice;
  clock: ManualClock;
  counter: CountingStore;
}

/**
 * Registers hooks that give each test a fresh engine; read the returned object inside tests. `options`
 * are passed to Sluice.open (the store and clock are the harness's).
 */
export function useEngine(
  backend: BackendUnderTest,
  options: Omit<SluiceOptions, 'store' | 'clock'> = {},
): EngineContext {
  const context = {} as EngineContext;
  let untrack: (() => void) | undefined;
  beforeEach(async () => {
    context.clock = new ManualClock();
    context.counter = countingStore(await backend.open());
    const counter = context.counter;
    untrack = trackPendingWork(() => counter.inFlight());
    context.sluice = await Sluice.open({ ...options, store: context.counter.store, clock: context.clock });
  });
  afterEach(async () => {
    untrack?.();
    await context.sluice?.close();
  });
  return context;
}

/** Asserts that `promise` rejects with a SluiceError of `code` whose message matches `message`. */
export async function expectSluiceError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<SluiceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(SluiceError);
  const sluiceError = error as SluiceError;
  expect(sluiceError.code).toBe(code);
  if (message) expect(sluiceError.message).toMatch(message);
  return sluiceError;
}
