/**
 * BatchStore on its own: the three rules of store/batch-store.ts (a chunk counts once; the last change
 * wins the completion compare-and-set; the finalizer's delivery enters the outbox in that transaction),
 * sealing, cancelling, failed items and retry chunk numbers. How chunks travel through a queue and how a
 * processor's answer becomes an ack is the batches feature's (the engine suite).
 */
import { describe, expect, it } from 'vitest';
import type { ChunkAck, NewBatch } from '../../store/batch-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = 1_700_000_000_000;
const batch = (id: string, extra: Partial<NewBatch> = {}): NewBatch => ({
  id,
  processor: 'resize',
  queueName: 'sluice-batches',
  finalizer: { kind: 'function', functionName: 'report' },
  itemsPerMessage: 2,
  maxAttempts: 3,
  metadata: '{"by":"test"}',
  createdAt: t0,
  ...extra,
});
const ack = (batchId: string, chunk: number, items: number, failedIndexes: number[] = []): ChunkAck => ({
  batchId,
  chunk,
  items,
  failures: failedIndexes.map((index) => ({ index, item: `{"i":${index}}`, error: 'boom' })),
});

export function batchStoreConformance(backend: BackendUnderTest): void {
  describe(`batch store [${backend.name}]`, () => {
    const t = useStore(backend);

    it('creates a batch once, CREATING with empty counters, and lists newest first', async () => {
      expect(await t.store.batchCreate({ batch: batch('b1') })).toBe('created');
      expect(await t.store.batchCreate({ batch: batch('b1', { processor: 'other' }) })).toBe('exists');
      await t.store.batchCreate({ batch: batch('b2', { createdAt: t0 + 1, processor: 'other' }) });
      expect(await t.store.batchGet({ id: 'b1' })).toEqual({
        ...batch('b1'),
        status: 'CREATING',
        total: 0,
        chunks: 0,
        succeeded: 0,
        failed: 0,
        cancelled: 0,
        sealedAt: null,
        cancelledAt: null,
        finalizedAt: null,
      });
      expect(await t.store.batchGet({ id: 'none' })).toBeUndefined();
      const ids = async (p: Parameters<typeof t.store.batchList>[0]) =>
        (await t.store.batchList(p)).map((b) => b.id);
      expect(await ids({ limit: 10 })).toEqual(['b2', 'b1']);
      expect(await ids({ limit: 10, processor: 'resize' })).toEqual(['b1']);
      expect(await ids({ limit: 10, createdBefore: t0 + 1 })).toEqual(['b1']);
      expect(await ids({ limit: 1 })).toEqual(['b2']);
    });

    it('counts each chunk once, however often it is acknowledged', async () => {
      await t.store.batchCreate({ batch: batch('b') });
      expect(await t.store.batchEnqueued({ id: 'b', items: 4, chunks: 2 })).toBe('ok');
      const first = await t.store.batchAckChunks({ acks: [ack('b', 0, 2, [1])], now: t0 + 1 });
      expect(first).toEqual({ recorded: 1, duplicates: 0, ignored: 0, finalized: [] });
      const again = await t.store.batchAckChunks({
        acks: [ack('b', 0, 2, [1]), ack('none', 0, 1)],
        now: t0 + 2,
      });
      expect(again).toEqual({ recorded: 0, duplicates: 1, ignored: 1, finalized: [] });
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({
        succeeded: 1,
        failed: 1,
        status: 'CREATING',
      });
      expect(await t.store.batchChunksDone({ batchId: 'b', chunks: [0, 1, 2] })).toEqual([0]);
    });

    it('finalizes exactly once, on the last change, putting the finalizer into the outbox in that transaction', async () => {
      await t.store.batchCreate({ batch: batch('b') });
      await t.store.batchEnqueued({ id: 'b', items: 3, chunks: 2 });
      await t.store.batchAckChunks({ acks: [ack('b', 0, 2)], now: t0 + 1 });
      // Not sealed: the counters add up to nothing final yet.
      expect(await t.store.outboxGet({ key: 'batch:b' })).toBeUndefined();
      expect(await t.store.batchSeal({ id: 'b', total: 3, chunks: 2, now: t0 + 2 })).toEqual({
        outcome: 'sealed',
        finalized: false,
      });
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({
        status: 'RUNNING',
        total: 3,
        sealedAt: t0 + 2,
      });
      const last = await t.store.batchAckChunks({ acks: [ack('b', 1, 1, [2])], now: t0 + 3 });
      expect(last.finalized).toEqual(['b']);
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({
        status: 'COMPLETED',
        succeeded: 2,
        failed: 1,
        finalizedAt: t0 + 3,
      });
      expect(await t.store.outboxGet({ key: 'batch:b' })).toMatchObject({
        topic: 'batch-finalizer',
        deliveredAt: null,
      });
      expect((await t.store.batchAckChunks({ acks: [ack('b', 1, 1)], now: t0 + 4 })).finalized).toEqual([]);
    });

    it('finalizes at the seal when every chunk was done before it', async () => {
      await t.store.batchCreate({ batch: batch('b', { finalizer: null }) });
      await t.store.batchAckChunks({ acks: [ack('b', 0, 2)], now: t0 + 1 });
      // The creator's count is authoritative even though batchEnqueued was never called.
      expect(await t.store.batchSeal({ id: 'b', total: 2, chunks: 1, now: t0 + 2 })).toEqual({
        outcome: 'sealed',
        finalized: true,
      });
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({ status: 'COMPLETED', total: 2, chunks: 1 });
      expect(await t.store.batchSeal({ id: 'none', total: 1, chunks: 1, now: t0 })).toMatchObject({
        outcome: 'missing',
      });
    });

    it('cancels an unfinished batch: what is not done counts as cancelled, it finalizes, later acks are ignored', async () => {
      await t.store.batchCreate({ batch: batch('b') });
      await t.store.batchEnqueued({ id: 'b', items: 6, chunks: 3 });
      await t.store.batchSeal({ id: 'b', total: 6, chunks: 3, now: t0 + 1 });
      await t.store.batchAckChunks({ acks: [ack('b', 0, 2)], now: t0 + 2 });
      expect(await t.store.batchCancel({ id: 'b', now: t0 + 3 })).toEqual({
        outcome: 'cancelled',
        finalized: true,
      });
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({
        status: 'CANCELLED',
        succeeded: 2,
        cancelled: 4,
        cancelledAt: t0 + 3,
        finalizedAt: t0 + 3,
      });
      expect(await t.store.outboxGet({ key: 'batch:b' })).toBeDefined();
      expect(await t.store.batchAckChunks({ acks: [ack('b', 1, 2)], now: t0 + 4 })).toMatchObject({
        ignored: 1,
      });
      expect(await t.store.batchCancel({ id: 'b', now: t0 + 5 })).toMatchObject({ outcome: 'finished' });
      expect(await t.store.batchCancel({ id: 'none', now: t0 + 5 })).toMatchObject({ outcome: 'missing' });
      await t.store.batchCreate({ batch: batch('c') });
      await t.store.batchCancel({ id: 'c', now: t0 + 6 });
      expect(await t.store.batchEnqueued({ id: 'c', items: 1, chunks: 1 })).toBe('cancelled');
      expect(await t.store.batchEnqueued({ id: 'none', items: 1, chunks: 1 })).toBe('missing');
      expect(await t.store.batchSeal({ id: 'c', total: 1, chunks: 1, now: t0 + 7 })).toMatchObject({
        outcome: 'cancelled',
      });
      expect((await t.store.batchList({ limit: 10, unfinished: true })).map((b) => b.id)).toEqual([]);
    });

    it('keeps failed items in index order, and a retry chunk moves its successes from failed to succeeded', async () => {
      await t.store.batchCreate({ batch: batch('b') });
      await t.store.batchAckChunks({ acks: [ack('b', 0, 2, [0, 1]), ack('b', 1, 2, [3])], now: t0 + 1 });
      await t.store.batchSeal({ id: 'b', total: 4, chunks: 2, now: t0 + 2 });
      const failed = await t.store.batchFailedItems({ id: 'b', afterIndex: -1, limit: 10 });
      expect(failed.map((f) => [f.index, f.item, f.error, f.attempts, f.failedAt])).toEqual([
        [0, '{"i":0}', 'boom', 1, t0 + 1],
        [1, '{"i":1}', 'boom', 1, t0 + 1],
        [3, '{"i":3}', 'boom', 1, t0 + 1],
      ]);
      expect(
        (await t.store.batchFailedItems({ id: 'b', afterIndex: 0, limit: 1 })).map((f) => f.index),
      ).toEqual([1]);
      // The batch completed with its failures; a retry does not change when it completed.
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({
        status: 'COMPLETED',
        succeeded: 1,
        failed: 3,
      });
      expect(await t.store.batchReserveRetryChunks({ id: 'b', count: 2 })).toBe(-1);
      expect(await t.store.batchReserveRetryChunks({ id: 'b', count: 1 })).toBe(-3);
      expect(await t.store.batchReserveRetryChunks({ id: 'none', count: 1 })).toBeUndefined();
      await t.store.batchAckChunks({
        acks: [
          {
            batchId: 'b',
            chunk: -1,
            items: 2,
            failures: [ack('b', -1, 0, [1]).failures[0]!],
            retriedIndexes: [0, 1],
          },
        ],
        now: t0 + 3,
      });
      expect(await t.store.batchGet({ id: 'b' })).toMatchObject({ succeeded: 2, failed: 2 });
      const still = await t.store.batchFailedItems({ id: 'b', afterIndex: -1, limit: 10 });
      expect(still.map((f) => [f.index, f.attempts])).toEqual([
        [1, 2],
        [3, 1],
      ]);
    });
  });
}
