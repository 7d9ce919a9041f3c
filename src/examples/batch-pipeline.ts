/**
 * The batch pattern of seeds/004 on Sluice: a cron schedule (four times a day) starts a batch; a
 * batcher creates the items (an id and a random value, packed 25 per message); a processor handles
 * each item (it "works" for value/100 ms, and fails the items whose value is a multiple of 97); and
 * when every item is done a finalizer is told, exactly once, with a summary. We then list the failed
 * items, retry them, and watch the counts move. Run with `npm run example:batch`.
 *
 * Where the seed keeps an item-state table in DynamoDB and a finalizer that queries it for leftovers,
 * Sluice keeps the counts in the store and finalizes in the transaction that records the last item.
 * To avoid waiting for 06:00 UTC, the engine's clock is moved to two seconds before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBatchItems } from '../batches/items.js';
import type { BatchSummary } from '../store/rules/batch-finalizer.js';
import { Sluice } from '../engine/sluice.js';
import { systemClock, type Clock } from '../model/clock.js';

interface Item {
  id: string;
  value: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The system clock, shifted so that `target` is `leadMs` away. */
function clockBefore(target: Date, leadMs: number): Clock {
  const offset = target.getTime() - leadMs - Date.now();
  return { now: () => Date.now() + offset, setTimer: systemClock.setTimer };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-example-batch-'));
  const nextSix = new Date();
  nextSix.setUTCHours(Math.floor(nextSix.getUTCHours() / 6) * 6 + 6, 0, 0, 0);
  const sluice = await Sluice.open({
    store: `sqlite:${join(dir, 'batch.db')}`,
    clock: clockBefore(nextSix, 2000),
  });
  try {
    // Batcher: yields the items lazily; a batch of millions is never held in memory.
    sluice.batches.registerSource('batcher', async function* ({ input }) {
      const { count } = input as { count: number };
      for (let i = 0; i < count; i++)
        yield { id: `item-${i}`, value: Math.floor(Math.random() * 1000) } satisfies Item;
    });
    await sluice.functions.create({
      name: 'processor',
      timeout: 30,
      handler: processBatchItems<Item>(
        async (item) => {
          await pause(item.value / 100);
          if (item.value % 97 === 0) throw new Error(`value ${item.value} is unlucky`);
        },
        { concurrency: 25 },
      ),
    });
    let finalized: BatchSummary | undefined;
    await sluice.functions.create({
      name: 'finalizer',
      handler: async (summary: BatchSummary) => {
        finalized = summary;
        console.log(
          `finalizer: batch ${summary.batchId} ${summary.status}: ${summary.succeeded} succeeded, ${summary.failed} failed of ${summary.total}`,
        );
      },
    });
    const schedule = await sluice.schedules.create({
      name: 'four-times-a-day',
      expression: 'cron(0 0/6 * * ? *)',
      target: {
        batch: {
          source: 'batcher',
          processor: 'processor',
          itemsPerMessage: 25,
          input: { count: 2000 },
          finalizer: { function: 'finalizer' },
        },
      },
    });
    console.log(
      `schedule ${schedule.name}: next fire times ${(await sluice.schedules.nextFireTimes(schedule.name, 4)).join(', ')}`,
    );

    const started = Date.now();
    while (!finalized) {
      await pause(250);
      const [batch] = await sluice.batches.list({ limit: 1 });
      if (batch)
        console.log(
          `  ${batch.id}: ${batch.status}, ${batch.succeeded} succeeded, ${batch.failed} failed, ${batch.inFlight} in flight`,
        );
    }
    console.log(
      `finished ${((Date.now() - started) / 1000).toFixed(1)} s after the schedule was created (its tick came 2 s in)`,
    );

    const id = finalized.batchId;
    const failed = await sluice.batches.failedItems(id, { limit: 5 });
    console.log(
      `first failed items: ${failed.map((f) => `${(f.item as Item).id} (${f.error})`).join('; ') || 'none'}`,
    );
    const { retried } = await sluice.batches.retryFailed(id);
    console.log(
      `retrying ${retried} failed items (they fail again: the processor is deterministic about them)`,
    );
    for (let i = 0; i < 20; i++) {
      await pause(100);
      const batch = await sluice.batches.get(id);
      if (batch.failed === retried && (await sluice.batches.failedItems(id, { limit: 1 }))[0]?.attempts === 2)
        break;
    }
    const after = await sluice.batches.get(id);
    console.log(
      `after the retry: ${after.succeeded} succeeded, ${after.failed} failed; the finalizer did not fire again`,
    );
  } finally {
    await sluice.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
