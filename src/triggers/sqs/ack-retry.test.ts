import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import { ManualClock, settle } from '../../model/clock.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/store.js';

/** A store whose first `failures` deletes fail as a lost connection does (a database restart). */
function flakyDeletes(inner: Store, failures: number): { store: Store; failed: () => number } {
  let failed = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'messageDelete' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (failed < failures) {
          failed++;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, failed: () => failed };
}

let sluice: Sluice | undefined;
afterEach(async () => {
  await sluice?.close({ graceMs: 1000 });
  sluice = undefined;
});

describe('acknowledgements that fail while the store is unreachable', () => {
  for (const fifo of [false, true]) {
    it(`are retried until they succeed, so nothing is handled twice (${fifo ? 'FIFO' : 'standard'} queue)`, async () => {
      const clock = new ManualClock();
      const flaky = flakyDeletes(await openStore('sqlite::memory:'), 3);
      const errors: unknown[] = [];
      sluice = await Sluice.open({ store: flaky.store, clock, onBackgroundError: (error) => errors.push(error) });
      const queue = fifo ? 'jobs.fifo' : 'jobs';
      await sluice.queues.create(queue, { VisibilityTimeout: 30, ...(fifo ? { FifoQueue: true, ContentBasedDeduplication: true } : {}) });
      const handled: string[] = [];
      await sluice.functions.create({
        name: 'work',
        handler: async (event: SQSEvent) => {
          for (const record of event.Records) handled.push(record.body);
        },
      });
      for (let i = 0; i < 5; i++)
        await sluice.queues.send(queue, { body: `m${i}`, ...(fifo ? { messageGroupId: 'g' } : {}) });
      await sluice.triggers.create({ queue, functionName: 'work', batchSize: 1 });
      for (let waited = 0; waited < 120_000; waited += 100) {
        await settle();
        const counts = await sluice.queues.counts(queue);
        if (counts.visible + counts.inFlight + counts.delayed === 0) break;
        await clock.advance(100);
      }
      const counts = await sluice.queues.counts(queue);
      expect(counts.visible + counts.inFlight + counts.delayed).toBe(0);
      expect(flaky.failed()).toBe(3);
      // Each message once: a delete given up on would have brought it back after 30 s.
      expect(handled.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      if (fifo) expect(handled).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect(errors.map((error) => String(error))).toContain('Error: Connection terminated unexpectedly');
    });
  }
});
