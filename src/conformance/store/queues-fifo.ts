/** QueueStore on its own, FIFO queues: group order and blocking, receives from few groups, deduplication. */
import { describe, expect, it } from 'vitest';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';
import { createQueue, message, receiveParams, second, send, t0 } from './queue-fixtures.js';

export function fifoQueueStoreConformance(backend: BackendUnderTest): void {
  describe(`queue store, FIFO [${backend.name}]`, () => {
    const t = useStore(backend);
    it('delivers a group in order and nothing more from it while one of its messages is in flight', async () => {
      const queue = await createQueue(t.store, 'jobs.fifo');
      await send(t.store, queue, [
        message('a1', { groupId: 'a' }),
        message('a2', { groupId: 'a' }),
        message('b1', { groupId: 'b' }),
      ]);
      const first = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 1 }));
      expect(first.messages.map((m) => m.body)).toEqual(['a1']);
      const other = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 10 }));
      expect(other.messages.map((m) => m.body)).toEqual(['b1']);
      expect(await t.store.messageReceive(receiveParams(queue, t0))).toMatchObject({
        messages: [],
        nextVisibleAt: t0 + 30 * second,
      });
      // The head times out: it comes first again, then the rest of its group in the same receive.
      const again = await t.store.messageReceive(receiveParams(queue, t0 + 30 * second));
      expect(again.messages.map((m) => [m.body, m.receiveCount])).toEqual([
        ['a1', 2],
        ['a2', 1],
        ['b1', 2],
      ]);
    });

    it('fills a receive from as few groups as possible', async () => {
      const queue = await createQueue(t.store, 'jobs.fifo');
      await send(t.store, queue, [
        message('a1', { groupId: 'a' }),
        message('b1', { groupId: 'b' }),
        message('a2', { groupId: 'a' }),
        message('b2', { groupId: 'b' }),
      ]);
      const received = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 2 }));
      expect(received.messages.map((m) => m.body)).toEqual(['a1', 'a2']);
    });

    it('releases a group on delete of its head, and keeps it blocked while a later message is in flight', async () => {
      const queue = await createQueue(t.store, 'jobs.fifo');
      const [h, n] = await send(t.store, queue, [
        message('head', { groupId: 'g' }),
        message('next', { groupId: 'g' }),
      ]);
      await t.store.messageReceive(receiveParams(queue, t0, { receiptToken: 'r1' }));
      const release = (seq: number, token: string, now: number) =>
        t.store.messageChangeVisibility({
          queueId: queue.id,
          fifo: true,
          now,
          changes: [{ seq, token, visibleAt: now }],
          maxInvisibleMs: 12 * 3_600_000,
        });
      // Both are in flight; the head made visible does not release the group while `next` is.
      expect(await release(h!.seq, 'r1', t0 + 1)).toEqual(['changed']);
      expect((await t.store.messageReceive(receiveParams(queue, t0 + 2))).messages).toEqual([]);
      expect(await release(n!.seq, 'r1', t0 + 3)).toEqual(['changed']);
      const again = await t.store.messageReceive(
        receiveParams(queue, t0 + 4, { receiptToken: 'r2', maxMessages: 1 }),
      );
      expect(again.messages.map((m) => m.body)).toEqual(['head']);
      expect(
        await t.store.messageDelete({
          queueId: queue.id,
          fifo: true,
          receipts: [{ seq: h!.seq, token: 'r2' }],
        }),
      ).toEqual(['deleted']);
      expect(
        (await t.store.messageReceive(receiveParams(queue, t0 + 5))).messages.map((m) => m.body),
      ).toEqual(['next']);
    });

    it('keeps each group in order in a claim of more than 10 that stops inside a group', async () => {
      const queue = await createQueue(t.store, 'wide.fifo');
      await send(
        t.store,
        queue,
        Array.from({ length: 60 }, (_, i) => message(String(i), { groupId: `g${i % 3}` })),
      );
      const { messages } = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 45 }));
      expect(messages).toHaveLength(45);
      for (const group of ['g0', 'g1', 'g2']) {
        const bodies = messages.filter((m) => m.groupId === group).map((m) => Number(m.body));
        expect(bodies).toEqual([...bodies].sort((a, b) => a - b));
      }
      expect(
        (await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 100 }))).messages,
      ).toEqual([]);
    });

    it('deduplicates within the window, by queue or by group, answering with the first message', async () => {
      const queue = await createQueue(t.store, 'jobs.fifo');
      const [first] = await send(t.store, queue, [message('x', { groupId: 'g', deduplicationId: 'd' })]);
      const [dup] = await send(
        t.store,
        queue,
        [message('y', { groupId: 'h', deduplicationId: 'd' })],
        t0 + 299_999,
      );
      expect(dup).toEqual({ kind: 'duplicate', messageId: first!.messageId, seq: first!.seq });
      const [later] = await send(
        t.store,
        queue,
        [message('z', { groupId: 'g', deduplicationId: 'd' })],
        t0 + 300 * second,
      );
      expect(later!.kind).toBe('sent');

      const byGroup = await createQueue(t.store, 'groups.fifo', { DeduplicationScope: 'messageGroup' });
      const outcomes = await send(t.store, byGroup, [
        message('x', { groupId: 'g', deduplicationId: 'd' }),
        message('x', { groupId: 'h', deduplicationId: 'd' }),
        message('x', { groupId: 'g', deduplicationId: 'd' }),
      ]);
      expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'duplicate']);
      expect((await t.store.messageReceive(receiveParams(queue, t0 + 300 * second))).messages).toHaveLength(
        2,
      );
    });
  });
}
