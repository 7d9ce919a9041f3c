import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { processBatchItems } from '../../batches/items.js';
import type { BatchSummary } from '../../store/rules/batch-finalizer.js';
import type { BatchChunk, BatchProcessorResponse } from '../../batches/types.js';
import { settle } from '../../model/clock.js';
import type { ChunkAck } from '../../store/batch-store.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function batchConformance(backend: BackendUnderTest): void {
  describe(`batches [${backend.name}]`, () => {
    const t = useEngine(backend);
    const batches = () => t.sluice.batches;
    const store = () => t.sluice.store;

    /** Advances the engine clock until `condition` holds (the trigger and the outbox run on it). */
    async function until(condition: () => Promise<boolean>, maxMs = 600_000): Promise<void> {
      for (let waited = 0; ; waited += 100) {
        await settle();
        await t.sluice.outbox.idle();
        if (await condition()) return;
        if (waited > maxMs) throw new Error('condition still false');
        await t.clock.advance(100);
      }
    }

    async function summaries(queue: string): Promise<BatchSummary[]> {
      const out: BatchSummary[] = [];
      for (;;) {
        const got = await t.sluice.queues.receive(queue, {
          maxNumberOfMessages: 10,
          visibilityTimeout: 3600,
        });
        if (got.length === 0) return out;
        out.push(...got.map((m) => JSON.parse(m.body) as BatchSummary));
      }
    }

    const seen: number[] = [];
    async function counter(name = 'count') {
      seen.length = 0;
      await t.sluice.functions.create({
        name,
        handler: processBatchItems<number>((item) => void seen.push(item)),
      });
    }

    it('processes every item, packs itemsPerMessage items per message, and fires the finalizer once with a summary', async () => {
      await counter();
      await t.sluice.queues.create('done');
      const batch = await batches().create({
        id: 'b1',
        processor: 'count',
        items: Array.from({ length: 1234 }, (_, i) => i),
        itemsPerMessage: 50,
        finalizer: { queue: 'done' },
        metadata: { run: 7 },
      });
      expect(batch).toMatchObject({ id: 'b1', total: 1234, queue: 'sluice-batch-count' });
      // Sealed, not finished: on a networked store the workers may already have finished every chunk.
      expect(['RUNNING', 'COMPLETED']).toContain(batch.status);
      await until(async () => (await batches().get('b1')).status === 'COMPLETED');
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 1234 }, (_, i) => i));
      const view = await batches().get('b1');
      expect(view).toMatchObject({ total: 1234, succeeded: 1234, failed: 0, inFlight: 0 });
      await until(async () => (await batches().get('b1')).finalizer.deliveredAt !== null);
      const [summary, ...more] = await summaries('done');
      expect(more).toEqual([]);
      expect(summary).toMatchObject({
        batchId: 'b1',
        status: 'COMPLETED',
        total: 1234,
        succeeded: 1234,
        failed: 0,
        cancelled: 0,
        metadata: { run: 7 },
      });
      expect(await batches().wait('b1')).toEqual(summary);
    });

    it('shows progress while items are in flight', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      await t.sluice.functions.create({
        name: 'slow',
        timeout: 900,
        handler: processBatchItems(async () => gate),
      });
      await batches().create({ id: 'b', processor: 'slow', items: [1, 2, 3, 4, 5], itemsPerMessage: 2 });
      await settle();
      expect(await batches().get('b')).toMatchObject({
        status: 'RUNNING',
        total: 5,
        succeeded: 0,
        inFlight: 5,
      });
      release();
      await until(async () => (await batches().get('b')).status === 'COMPLETED');
      expect(await batches().get('b')).toMatchObject({ succeeded: 5, inFlight: 0 });
    });

    it('counts items the processor reports failed, lists them, and retries them', async () => {
      let failOdd = true;
      await t.sluice.functions.create({
        name: 'picky',
        handler: processBatchItems<number>((item) => {
          if (failOdd && item % 2 === 1) throw new Error(`odd ${item}`);
        }),
      });
      await t.sluice.queues.create('done');
      await batches().create({
        id: 'p',
        processor: 'picky',
        items: [0, 1, 2, 3, 4, 5, 6],
        itemsPerMessage: 3,
        finalizer: { queue: 'done' },
      });
      await until(async () => (await batches().get('p')).status === 'COMPLETED');
      expect(await batches().get('p')).toMatchObject({ succeeded: 4, failed: 3 });
      const failed = await batches().failedItems('p');
      expect(failed.map((f) => [f.index, f.item, f.error])).toEqual([
        [1, 1, 'Error: odd 1'],
        [3, 3, 'Error: odd 3'],
        [5, 5, 'Error: odd 5'],
      ]);
      failOdd = false;
      expect(await batches().retryFailed('p')).toEqual({ retried: 3 });
      await until(async () => (await batches().get('p')).failed === 0);
      expect(await batches().get('p')).toMatchObject({ status: 'COMPLETED', succeeded: 7, failed: 0 });
      expect(await batches().failedItems('p')).toEqual([]);
      await settle();
      expect(await summaries('done')).toHaveLength(1); // the retry does not fire the finalizer again
    });

    it('retries a chunk whose processing threw, and fails its items after maxAttempts receives', async () => {
      await t.sluice.functions.create({
        name: 'broken',
        handler: async () => {
          throw new Error('boom');
        },
      });
      await batches().create({
        id: 'x',
        processor: 'broken',
        items: ['a', 'b', 'c'],
        itemsPerMessage: 10,
        maxAttempts: 2,
      });
      await until(async () => (await batches().get('x')).status === 'COMPLETED');
      expect(await batches().get('x')).toMatchObject({ succeeded: 0, failed: 3 });
      const [first] = await batches().failedItems('x');
      expect(first).toMatchObject({ index: 0, item: 'a', error: 'Error: boom' });
    });

    it('retries the chunks a processor lists in batchItemFailures', async () => {
      let calls = 0;
      await t.sluice.functions.create({
        name: 'flaky',
        handler: async (event: {
          Records: Array<{ messageId: string }>;
        }): Promise<BatchProcessorResponse> => {
          calls++;
          return calls === 1 ? { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] } : {};
        },
      });
      await batches().create({ id: 'f', processor: 'flaky', items: [1, 2], itemsPerMessage: 1 });
      await until(async () => (await batches().get('f')).status === 'COMPLETED');
      expect(await batches().get('f')).toMatchObject({ succeeded: 2, failed: 0 });
      expect(calls).toBeGreaterThanOrEqual(2);
    });

    it('cancels a batch: the rest is dropped and the finalizer fires with status CANCELLED', async () => {
      await t.sluice.functions.create({
        name: 'never',
        reservedConcurrency: 0,
        handler: async () => undefined,
      });
      await t.sluice.functions.create({
        name: 'final',
        handler: async (summary: BatchSummary) => void finals.push(summary),
      });
      const finals: BatchSummary[] = [];
      await batches().create({
        id: 'c',
        processor: 'never',
        items: [1, 2, 3],
        finalizer: { function: 'final' },
      });
      const cancelled = await batches().cancel('c');
      expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelled: 3, inFlight: 0 });
      await until(async () => finals.length > 0);
      expect(finals).toEqual([
        expect.objectContaining({ batchId: 'c', status: 'CANCELLED', total: 3, cancelled: 3 }),
      ]);
      await expectSluiceError(batches().cancel('c'), 'ResourceConflictException');
    });

    it("holds batches to the processor's reserved concurrency: none run at 0, at most N at N", async () => {
      let running = 0;
      let most = 0;
      await t.sluice.functions.create({
        name: 'narrow',
        reservedConcurrency: 0,
        handler: processBatchItems<number>(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => t.clock.setTimer(50, resolve));
          running--;
        }),
      });
      await batches().create({
        id: 'r',
        processor: 'narrow',
        items: Array.from({ length: 40 }, (_, i) => i),
        itemsPerMessage: 1,
      });
      for (let i = 0; i < 10; i++) {
        await settle();
        await t.clock.advance(100);
      }
      expect(await batches().get('r')).toMatchObject({ succeeded: 0, failed: 0, inFlight: 40 });
      expect(most).toBe(0);
      await t.sluice.functions.update('narrow', { reservedConcurrency: 1 });
      await until(async () => (await batches().get('r')).status === 'COMPLETED');
      expect(await batches().get('r')).toMatchObject({ succeeded: 40 });
      expect(most).toBe(1);
    });

    it('finalizes an empty batch as soon as it is sealed', async () => {
      await counter();
      await t.sluice.queues.create('done');
      await batches().create({ id: 'empty', processor: 'count', items: [], finalizer: { queue: 'done' } });
      await until(async () => (await summaries('done')).length === 1);
      expect(await batches().get('empty')).toMatchObject({ status: 'COMPLETED', total: 0 });
    });

    it('reads items from an async iterable and from an NDJSON stream', async () => {
      await counter();
      async function* generate() {
        for (let i = 0; i < 25; i++) yield i;
      }
      await batches().create({ id: 'gen', processor: 'count', items: generate(), itemsPerMessage: 7 });
      await batches().create({
        id: 'nd',
        processor: 'count',
        items: Readable.from([Buffer.from('100\n101\n'), Buffer.from('102\n\n103')], { objectMode: false }),
        itemsPerMessage: 7,
      });
      await until(async () => (await batches().list({ unfinished: true })).length === 0);
      expect(seen.sort((a, b) => a - b)).toEqual([
        ...Array.from({ length: 25 }, (_, i) => i),
        100,
        101,
        102,
        103,
      ]);
      expect(await batches().get('nd')).toMatchObject({ total: 4, succeeded: 4 });
    });

    it('starts a batch from a cron schedule with a registered source', async () => {
      await counter();
      await t.sluice.queues.create('done');
      batches().registerSource('nightly-items', ({ input }) =>
        Array.from({ length: (input as { n: number }).n }, (_, i) => i),
      );
      await t.sluice.schedules.create({
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        target: {
          batch: {
            source: 'nightly-items',
            processor: 'count',
            itemsPerMessage: 10,
            input: { n: 42 },
            finalizer: { queue: 'done' },
          },
        },
      });
      await t.clock.advance(2 * 3_600_000);
      let summary: BatchSummary[] = [];
      await until(async () => (summary = await summaries('done')).length > 0);
      expect(summary[0]).toMatchObject({
        batchId: 'nightly:20260101T020000Z',
        status: 'COMPLETED',
        total: 42,
        succeeded: 42,
        metadata: { schedule: 'nightly', scheduledTime: '2026-01-01T02:00:00.000Z', input: { n: 42 } },
      });
    });

    it('refuses a processor that does not exist and a duplicate id', async () => {
      await expectSluiceError(
        batches().create({ processor: 'nobody', items: [] }),
        'ResourceNotFoundException',
        /processor/,
      );
      await counter();
      await batches().create({ id: 'dup', processor: 'count', items: [] });
      await expectSluiceError(
        batches().create({ id: 'dup', processor: 'count', items: [] }),
        'ResourceConflictException',
      );
      await expectSluiceError(
        batches().create({ processor: 'count', items: [], itemsPerMessage: 0 }),
        'InvalidParameterValue',
        /itemsPerMessage/,
      );
    });

    it('counts a chunk acknowledged twice once', async () => {
      await counter();
      await store().batchCreate({
        batch: {
          id: 'd',
          processor: 'count',
          queueName: 'q',
          finalizer: null,
          itemsPerMessage: 2,
          maxAttempts: 3,
          metadata: null,
          createdAt: 0,
        },
      });
      await store().batchSeal({ id: 'd', total: 4, chunks: 2, now: 1 });
      const ack: ChunkAck = { batchId: 'd', chunk: 0, items: 2, failures: [] };
      const first = await store().batchAckChunks({ acks: [ack, ack], now: 2 });
      const again = await store().batchAckChunks({ acks: [ack], now: 3 });
      expect([first.recorded, first.duplicates, again.duplicates]).toEqual([1, 1, 1]);
      expect(await store().batchGet({ id: 'd' })).toMatchObject({ succeeded: 2, finalizedAt: null });
      expect((await store().batchAckChunks({ acks: [{ ...ack, chunk: 1 }], now: 4 })).finalized).toEqual([
        'd',
      ]);
    });

    it('finalizes exactly once whatever the interleaving of acks from racing workers, duplicates and the seal', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 12 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
          fc.integer({ min: 1, max: 4 }),
          fc.nat(),
          async (chunks, noise, workers, sealAfter) => {
            const id = `prop-${run++}`;
            await store().batchCreate({
              batch: {
                id,
                processor: 'p',
                queueName: 'q',
                finalizer: null,
                itemsPerMessage: 3,
                maxAttempts: 3,
                metadata: null,
                createdAt: 0,
              },
            });
            // Every chunk is acked at least once; `noise` adds redeliveries; each worker sends its share.
            const order = [...Array.from({ length: chunks }, (_, c) => c), ...noise.map((n) => n % chunks)];
            const shares: number[][] = Array.from({ length: workers }, () => []);
            order.forEach((chunk, i) => shares[(noise[i % noise.length] ?? i) % workers]!.push(chunk));
            const sealAt = sealAfter % (order.length + 1);
            let acked = 0;
            const finalizedBy: string[] = [];
            const seal = async () => {
              if ((await store().batchSeal({ id, total: chunks * 3, chunks, now: 1 })).finalized)
                finalizedBy.push('seal');
            };
            let sealed = sealAt === 0 ? seal() : undefined;
            await Promise.all(
              shares.map(async (share, w) => {
                for (const chunk of share) {
                  const failures = chunk % 2 === 0 ? [] : [{ index: chunk * 3, item: 'null', error: 'e' }];
                  const result = await store().batchAckChunks({
                    acks: [{ batchId: id, chunk, items: 3, failures }],
                    now: 2,
                  });
                  if (result.finalized.length > 0) finalizedBy.push(`worker ${w}`);
                  if (++acked === sealAt) sealed = seal();
                  await Promise.resolve();
                }
              }),
            );
            await (sealed ?? seal());
            const batch = (await store().batchGet({ id }))!;
            const failedChunks = Math.floor(chunks / 2);
            expect(finalizedBy).toHaveLength(1);
            expect(batch).toMatchObject({
              status: 'COMPLETED',
              succeeded: chunks * 3 - failedChunks,
              failed: failedChunks,
            });
            expect(await store().outboxGet({ key: `batch:${id}` })).toBeDefined();
          },
        ),
        { numRuns: 60 },
      );
    });

    it('queries nothing while no batch is running', async () => {
      await counter();
      await batches().create({ id: 'q', processor: 'count', items: [1, 2, 3] });
      await until(async () => (await batches().get('q')).status === 'COMPLETED');
      await settle();
      t.counter.reset();
      await t.clock.advance(3_600_000);
      expect(Object.fromEntries(t.counter.calls)).toEqual({});
    });

    it('hands the processor Lambda SQS records whose bodies are chunks', async () => {
      const chunks: BatchChunk[] = [];
      await t.sluice.functions.create({
        name: 'raw',
        handler: async (event: { Records: Array<{ body: string; eventSource: string }> }) => {
          for (const record of event.Records) {
            expect(record.eventSource).toBe('aws:sqs');
            chunks.push(JSON.parse(record.body) as BatchChunk);
          }
        },
      });
      await batches().create({ id: 'raw', processor: 'raw', items: ['a', 'b', 'c'], itemsPerMessage: 2 });
      await until(async () => (await batches().get('raw')).status === 'COMPLETED');
      expect(chunks.sort((a, b) => a.chunk - b.chunk)).toEqual([
        { batchId: 'raw', chunk: 0, firstIndex: 0, items: ['a', 'b'] },
        { batchId: 'raw', chunk: 1, firstIndex: 2, items: ['c'] },
      ]);
    });
  });
}
