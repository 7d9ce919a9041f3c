/**
 * A batching window across processes: a full batch fires at once however its messages arrived. The
 * consumer runs in a child process; the messages are sent from this one, one at a time (issue 19: with
 * batch size 2 and a window on PostgreSQL, a batch was held for the window while more messages waited).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { runCleanups, sharedStores, type Cleanups } from './support/shared-stores.js';
import { startStoreProcess } from './support/store-process.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

const stores = sharedStores(cleanups);

/** Far longer than a wake-up takes, far shorter than the window: a batch that waits for it is held. */
const WINDOW_SECONDS = 120;
const FULL_BATCH_DEADLINE_MS = 10_000;

describe.each(stores)('a batching window across processes (%s)', (_name, makeStore, skipped) => {
  it.skipIf(skipped)('fires a batch as soon as it is full, for every pair of messages sent', async () => {
    const store = makeStore();
    const producer = await Sluice.open({ store, cluster: false });
    cleanups.push(() => producer.close({ graceMs: 0 }));
    // The window closes halfway through the visibility timeout at the latest: keep it out of the way.
    await producer.queues.create('pairs', { VisibilityTimeout: 2 * WINDOW_SECONDS + 60 });
    const consumer = await startStoreProcess('batch-consumer', [store, 'pairs', '2', String(WINDOW_SECONDS)]);
    cleanups.push(() => consumer.stop());

    const batches = () => consumer.lines.filter((l) => l.startsWith('{"batch"'));
    for (let pair = 0; pair < 30; pair++) {
      const seen = batches().length;
      await producer.queues.send('pairs', { body: `${pair}a` });
      await producer.queues.send('pairs', { body: `${pair}b` });
      await consumer.waitFor(() => batches().length > seen, FULL_BATCH_DEADLINE_MS).catch((error: unknown) => {
        throw new Error(`pair ${pair} was held: ${String(error)}; consumer printed ${consumer.lines.join(' ')}`);
      });
      expect(JSON.parse(batches()[seen]!)).toEqual({ batch: [`${pair}a`, `${pair}b`] });
    }
  });
});
