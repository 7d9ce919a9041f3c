/**
 * Seed 004's normal set-up across processes: the worker process is up first, then another process (the
 * cron's batcher) creates a batch of the worker's processor. The worker must process it although it
 * never declared the processor while the batch existed (issue 19).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { runCleanups, sharedStores, type Cleanups } from './support/shared-stores.js';
import { startStoreProcess, type StoreProcess } from './support/store-process.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

const stores = sharedStores(cleanups);

describe.each(stores)('a batch created by another process (%s)', (_name, makeStore, skipped) => {
  it.skipIf(skipped)('is processed by the worker process that was already running', async () => {
    const store = makeStore();
    const worker: StoreProcess = await startStoreProcess('batch-worker', [store]);
    cleanups.push(() => worker.stop());

    // The batcher: declares the processor too (as a node of the same deployment would), but with a
    // reservation of 0, so every item must be processed by the worker process.
    const batcher = await Sluice.open({ store, cluster: false });
    cleanups.push(() => batcher.close({ graceMs: 0 }));
    await batcher.functions.create({ name: 'crunch', handler: () => ({}), reservedConcurrency: 0 });
    const total = 50;
    await batcher.batches.create({
      id: 'nightly',
      processor: 'crunch',
      items: Array.from({ length: total }, (_, i) => i),
      itemsPerMessage: 5,
    });

    const summary = await batcher.batches.wait('nightly', { signal: AbortSignal.timeout(15_000) });
    expect(summary).toMatchObject({ status: 'COMPLETED', total, succeeded: total });
    const processed = new Set(
      worker.lines.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { item: number }).item),
    );
    expect(processed.size).toBe(total);
  });
});
