/** QueueStore on its own, dead-lettering: claims that move messages received maxReceiveCount times. */
import { describe, expect, it, vi } from 'vitest';
import { queueChannel } from '../../store/notifier.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';
import { createQueue, heard, message, receiveParams, second, send, t0 } from './queue-fixtures.js';

export function deadLetterStoreConformance(backend: BackendUnderTest): void {
  describe(`queue store, dead-lettering [${backend.name}]`, () => {
    const t = useStore(backend);
    it('moves a message received maxReceiveCount times to the dead-letter queue at the next claim', async () => {
      const dlq = await createQueue(t.store, 'orders-dlq');
      const queue = await createQueue(t.store, 'orders');
      await send(t.store, queue, [message('poison'), message('fine', { visibleAt: t0 + 45 * second })]);
      const deadLetter = { queueId: dlq.id, fifo: false, maxReceiveCount: 2, sourceArn: 'arn:orders' };
      const dlqHeard = heard(t.store, queueChannel(dlq.id));
      for (const now of [t0, t0 + 30 * second]) {
        const out = await t.store.messageReceive(receiveParams(queue, now, { deadLetter, maxMessages: 1 }));
        expect(out.messages.map((m) => m.body)).toEqual(['poison']);
      }
      const third = await t.store.messageReceive(receiveParams(queue, t0 + 60 * second, { deadLetter }));
      expect(third).toMatchObject({ deadLettered: 1, messages: [{ body: 'fine' }] });
      await vi.waitFor(() => expect(dlqHeard.count()).toBeGreaterThanOrEqual(1));
      dlqHeard.stop();
      const [moved] = await t.store.messagePeek({ queueId: dlq.id, limit: 10, expiredBefore: 0 });
      // A standard dead-letter queue keeps the sent time and the receive count (a redrive resets it).
      expect(moved).toMatchObject({
        body: 'poison',
        sentAt: t0,
        receiveCount: 2,
        deadLetterSource: 'arn:orders',
      });
    });

    it('restarts the sent time of a message moved to a FIFO dead-letter queue, and unblocks its group', async () => {
      const dlq = await createQueue(t.store, 'jobs-dlq.fifo');
      const queue = await createQueue(t.store, 'jobs.fifo');
      await send(t.store, queue, [message('poison', { groupId: 'g' }), message('next', { groupId: 'g' })]);
      const deadLetter = { queueId: dlq.id, fifo: true, maxReceiveCount: 1, sourceArn: 'arn:jobs.fifo' };
      await t.store.messageReceive(receiveParams(queue, t0, { deadLetter, maxMessages: 1 }));
      const later = t0 + 30 * second;
      const out = await t.store.messageReceive(receiveParams(queue, later, { deadLetter, maxMessages: 1 }));
      expect(out).toMatchObject({ deadLettered: 1, messages: [{ body: 'next' }] });
      const dead = await t.store.messageReceive(receiveParams(dlq, later));
      expect(dead.messages).toMatchObject([
        { body: 'poison', groupId: 'g', sentAt: later, deadLetterSource: 'arn:jobs.fifo' },
      ]);
    });

    it('keeps redelivering when the dead-letter queue is gone', async () => {
      const dlq = await createQueue(t.store, 'orders-dlq');
      const queue = await createQueue(t.store, 'orders');
      await send(t.store, queue, [message('poison')]);
      const deadLetter = { queueId: dlq.id, fifo: false, maxReceiveCount: 1, sourceArn: 'arn:orders' };
      await t.store.messageReceive(receiveParams(queue, t0, { deadLetter }));
      await t.store.queueDelete({ name: 'orders-dlq', now: t0 });
      const again = await t.store.messageReceive(receiveParams(queue, t0 + 30 * second, { deadLetter }));
      expect(again).toMatchObject({ deadLettered: 0, messages: [{ body: 'poison', receiveCount: 2 }] });
    });

    it('moves visible messages up to a sequence, home by their source or to one destination, keeping the sent time', async () => {
      const home = await createQueue(t.store, 'orders');
      const dlq = await createQueue(t.store, 'orders-dlq');
      const elsewhere = await createQueue(t.store, 'elsewhere');
      const deadLetter = { queueId: dlq.id, fifo: false, maxReceiveCount: 1, sourceArn: 'arn:orders' };
      await send(t.store, home, [message('a'), message('b'), message('c')]);
      await t.store.messageReceive(receiveParams(home, t0, { deadLetter }));
      await t.store.messageReceive(receiveParams(home, t0 + 30 * second, { deadLetter }));
      const { lastSeq, count } = await t.store.messageLastSeq({ queueId: dlq.id });
      expect(count).toBe(3);
      await send(t.store, dlq, [message('sent later')], t0 + 31 * second); // beyond lastSeq: stays
      const move = (limit: number, destination: { queueId: number; fifo: boolean } | null) =>
        t.store.messageMove({
          fromQueueId: dlq.id,
          fromFifo: false,
          lastSeq,
          limit,
          now: t0 + 40 * second,
          destination,
          resolveSource: { 'arn:orders': { queueId: home.id, fifo: false } },
        });
      expect(await move(1, { queueId: elsewhere.id, fifo: false })).toEqual({ moved: 1, remaining: 2 });
      expect(await move(10, null)).toMatchObject({ moved: 2, remaining: 0 });
      const homeAgain = await t.store.messagePeek({ queueId: home.id, limit: 10, expiredBefore: 0 });
      expect(homeAgain.map((m) => [m.body, m.sentAt, m.receiveCount])).toEqual([
        ['b', t0, 0],
        ['c', t0, 0],
      ]);
      expect(
        (await t.store.messagePeek({ queueId: elsewhere.id, limit: 10, expiredBefore: 0 }))[0],
      ).toMatchObject({
        body: 'a',
        sentAt: t0,
      });
      expect(
        (await t.store.messagePeek({ queueId: dlq.id, limit: 10, expiredBefore: 0 })).map((m) => m.body),
      ).toEqual(['sent later']);
    });

    it('stops a move at a message whose source queue cannot be resolved', async () => {
      const home = await createQueue(t.store, 'orders');
      const dlq = await createQueue(t.store, 'orders-dlq');
      const deadLetter = { queueId: dlq.id, fifo: false, maxReceiveCount: 1, sourceArn: 'arn:orders' };
      await send(t.store, home, [message('a')]);
      await t.store.messageReceive(receiveParams(home, t0, { deadLetter }));
      await t.store.messageReceive(receiveParams(home, t0 + 30 * second, { deadLetter }));
      const { lastSeq } = await t.store.messageLastSeq({ queueId: dlq.id });
      const result = await t.store.messageMove({
        fromQueueId: dlq.id,
        fromFifo: false,
        lastSeq,
        limit: 10,
        now: t0 + 40 * second,
        destination: null,
        resolveSource: {},
      });
      expect(result).toEqual({ moved: 0, remaining: 1, unresolvedSource: 'arn:orders' });
    });
  });
}
