/**
 * Seed 004's normal set-up across processes: the worker process is up first, then another process (the
 * cron's batcher) creates a batch of the worker's processor. The worker must process it although it
 * never declared the processor while the batch existed (issue 19).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { dropSchema, freshSchemaName, postgresSkipped, testPostgresUrl } from '../src/store/postgres/test-database.js';
import { startStoreProcess, type StoreProcess } from './support/store-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sqliteStore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-batch-xp-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'batches.db')}`;
}

function postgresStore(): string {
  const schema = freshSchemaName();
  cleanups.push(() => dropSchema(schema));
  return `${testPostgresUrl}?schema=${schema}`;
}

const stores: Array<[string, () => string, boolean]> = [
  ['SQLite', sqliteStore, true], // enabled with the cross-process wake-ups of SQLite
  ['PostgreSQL', postgresStore, postgresSkipped],
];

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
