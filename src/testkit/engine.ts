/**
 * Helpers for the function and trigger tests: an engine on an in-memory store with a manual clock (and
 * optionally a store that counts its calls), and small waits that move the clock until something holds.
 */
import { Sluice, type SluiceOptions } from '../engine/sluice.js';
import { ManualClock, settle } from '../model/clock.js';
import { openStore } from '../store/open.js';
import { countingStore, type CountingStore } from './counting-store.js';

export interface TestEngine {
  sluice: Sluice;
  clock: ManualClock;
  counting: CountingStore;
  /** Advances the clock in steps until `condition` holds; fails after `maxMs` of engine time. */
  until(
    condition: () => boolean | Promise<boolean>,
    options?: { stepMs?: number; maxMs?: number },
  ): Promise<void>;
  close(): Promise<void>;
}

export async function openTestEngine(
  options: Omit<SluiceOptions, 'store' | 'clock'> = {},
): Promise<TestEngine> {
  const clock = new ManualClock();
  const counting = countingStore(await openStore('sqlite::memory:'));
  const sluice = await Sluice.open({
    ...options,
    store: counting.store,
    clock,
    onBackgroundError:
      options.onBackgroundError ??
      ((error) => {
        throw error;
      }),
  });
  return {
    sluice,
    clock,
    counting,
    async until(condition, { stepMs = 100, maxMs = 600_000 } = {}) {
      await settle();
      for (let waited = 0; !(await condition()); waited += stepMs) {
        if (waited >= maxMs) throw new Error(`condition still false after ${maxMs} ms of engine time`);
        await clock.advance(stepMs);
      }
    },
    close: () => sluice.close({ graceMs: 1000 }),
  };
}

/** A promise the test resolves by hand: lets a handler stay "running" as long as the test wants. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves after `ms` of engine time (the handler's own sleep, on the manual clock). */
export function sleep(clock: ManualClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}
