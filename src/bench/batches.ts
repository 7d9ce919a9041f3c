/**
 * Batch benchmark (issue 8): a batch of 1,000,000 items (100,000 with --quick), generated lazily, 100
 * items per message, through a no-op processor, timed from create() to the finalizer's summary; and the
 * peak resident memory of that run against a batch a tenth of the size, which should be about the same
 * (memory flat in the batch size).
 */
import { processBatchItems } from '../batches/items.js';
import { elapsedSeconds, freshEngine, type BenchOptions, type Figure, type Scenario } from './harness.js';
import { round } from './stats.js';

async function* generate(count: number): AsyncGenerator<{ id: number; value: number }> {
  for (let i = 0; i < count; i++) yield { id: i, value: i % 1000 };
}

async function runBatch(
  options: BenchOptions,
  items: number,
): Promise<{ seconds: number; enqueueSeconds: number; peakRssMb: number }> {
  const engine = await freshEngine(options);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const { sluice } = engine;
    await sluice.functions.create({ name: 'noop', timeout: 60, handler: processBatchItems(() => undefined) });
    const start = process.hrtime.bigint();
    const batch = await sluice.batches.create({
      id: 'bench',
      processor: 'noop',
      items: generate(items),
      itemsPerMessage: 100,
    });
    const enqueueSeconds = elapsedSeconds(start);
    const summary = await sluice.batches.wait(batch.id);
    const seconds = elapsedSeconds(start);
    if (summary.succeeded !== items)
      throw new Error(`batch bench: ${summary.succeeded} of ${items} items succeeded`);
    return { seconds, enqueueSeconds, peakRssMb: Math.max(peak, process.memoryUsage().rss) / 1024 / 1024 };
  } finally {
    clearInterval(sampler);
    await engine.dispose();
  }
}

const batchThroughput: Scenario = {
  name: 'batch of items',
  async run(options) {
    const items = options.quick ? 100_000 : 1_000_000;
    const small = await runBatch(options, items / 10);
    const large = await runBatch(options, items);
    const figures: Figure[] = [
      {
        name: `${items.toLocaleString('en')} items, 100 per message, no-op processor`,
        value: round(items / large.seconds, 0),
        unit: 'items/s',
        aim: '>= 50,000',
      },
      {
        name: 'enqueue (create until sealed)',
        value: round(items / large.enqueueSeconds, 0),
        unit: 'items/s',
      },
      {
        name: `peak RSS, ${(items / 10).toLocaleString('en')} items`,
        value: round(small.peakRssMb, 0),
        unit: 'MiB',
      },
      {
        name: `peak RSS, ${items.toLocaleString('en')} items`,
        value: round(large.peakRssMb, 0),
        unit: 'MiB',
        aim: 'flat in batch size',
      },
    ];
    return figures;
  },
};

export const batchScenarios: Scenario[] = [batchThroughput];
