/**
 * QueueStore on its own: queues, messages, receive attempts and move tasks, as each backend must keep
 * them (FIFO queues: queues-fifo.ts; dead-lettering: queues-dead-letter.ts; shared helpers:
 * queue-fixtures.ts). The queues feature decides (attribute validation,
 * receipt handles, AWS's errors: the engine suite); here every instant, token and limit is passed in,
 * and each outcome is the store's own.
 */
import { describe, expect, it, vi } from 'vitest';
import { queueCatalogChannel, queueChannel } from '../../store/notifier.js';
import type { MoveTask, StoredQueue } from '../../store/queue-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

import { createQueue, heard, message, receiveParams, second, send, settingsOf, t0 } from './queue-fixtures.js';

export function queueStoreConformance(backend: BackendUnderTest): void {
  describe(`queue store [${backend.name}]`, () => {
    const t = useStore(backend);

    it('creates a queue once: a second create finds it, a deleted name is refused until its reuse delay passes', async () => {
      const first = await t.store.queueCreate({
        name: 'orders',
        fifo: false,
        settings: settingsOf({ VisibilityTimeout: 60 }),
        tags: { team: 'a' },
        now: t0,
        nameReuseDelayMs: 60 * second,
      });
      expect(first).toMatchObject({
        outcome: 'created',
        queue: {
          name: 'orders',
          fifo: false,
          tags: { team: 'a' },
          createdAt: t0,
          modifiedAt: t0,
          purgedAt: null,
        },
      });
      if (first.outcome === 'deletedRecently') throw new Error('unexpected');
      expect(first.queue.settings).toEqual(settingsOf({ VisibilityTimeout: 60 }));
      const again = await t.store.queueCreate({
        name: 'orders',
        fifo: false,
        settings: settingsOf(),
        tags: {},
        now: t0 + 1,
        nameReuseDelayMs: 60 * second,
      });
      // The caller compares the settings: the store returns the queue as it is.
      expect(again).toMatchObject({
        outcome: 'exists',
        queue: { id: first.queue.id, settings: { VisibilityTimeout: 60 } },
      });
      expect(await t.store.queueGet({ name: 'orders' })).toEqual(first.queue);
      expect(await t.store.queueGetById({ id: first.queue.id })).toEqual(first.queue);
      expect(await t.store.queueGet({ name: 'other' })).toBeUndefined();

      expect(await t.store.queueDelete({ name: 'orders', now: t0 + 10 * second })).toBe(true);
      expect(await t.store.queueDelete({ name: 'orders', now: t0 + 10 * second })).toBe(false);
      expect(await t.store.queueGetById({ id: first.queue.id })).toBeUndefined();
      const create = (now: number) =>
        t.store.queueCreate({
          name: 'orders',
          fifo: false,
          settings: settingsOf(),
          tags: {},
          now,
          nameReuseDelayMs: 60 * second,
        });
      expect(await create(t0 + 69_999)).toEqual({ outcome: 'deletedRecently' });
      expect(await create(t0 + 70 * second)).toMatchObject({
        outcome: 'created',
        queue: { createdAt: t0 + 70 * second },
      });
    });

    it('lists queues by name prefix, taking _ and % literally', async () => {
      for (const name of ['orders', 'orders-dlq', 'payments', 'ord_er', 'ord%x'])
        await createQueue(t.store, name);
      const names = async (prefix?: string) =>
        (await t.store.queueList(prefix === undefined ? {} : { prefix })).map((queue) => queue.name).sort();
      expect(await names('orders')).toEqual(['orders', 'orders-dlq']);
      expect(await names('ord_')).toEqual(['ord_er']);
      expect(await names('ord%')).toEqual(['ord%x']);
      expect(await names()).toHaveLength(5);
    });

    it('updates settings and tags apart, recording the modification time', async () => {
      const queue = await createQueue(t.store, 'orders');
      const updated = await t.store.queueUpdate({
        name: 'orders',
        settings: settingsOf({ DelaySeconds: 5 }),
        now: t0 + 5 * second,
      });
      expect(updated).toMatchObject({
        settings: { DelaySeconds: 5 },
        tags: {},
        createdAt: t0,
        modifiedAt: t0 + 5 * second,
      });
      const tagged = await t.store.queueUpdate({
        name: 'orders',
        tags: { env: 'dev' },
        now: t0 + 6 * second,
      });
      expect(tagged).toMatchObject({ id: queue.id, settings: { DelaySeconds: 5 }, tags: { env: 'dev' } });
      expect(await t.store.queueUpdate({ name: 'missing', tags: {}, now: t0 })).toBeUndefined();
    });

    it('publishes the catalog channel on create, update and delete, and the queue channel on a send', async () => {
      const catalog = heard(t.store, queueCatalogChannel);
      const queue = await createQueue(t.store, 'orders');
      await t.store.queueUpdate({ name: 'orders', tags: { a: 'b' }, now: t0 });
      const messages = heard(t.store, queueChannel(queue.id));
      await send(t.store, queue, [message('x')]);
      await vi.waitFor(() => expect(messages.count()).toBeGreaterThanOrEqual(1));
      await t.store.queueDelete({ name: 'orders', now: t0 });
      await vi.waitFor(() => expect(catalog.count()).toBeGreaterThanOrEqual(3));
      catalog.stop();
      messages.stop();
    });

    it('sends messages with growing sequence numbers and refuses a send to a queue that is gone', async () => {
      const queue = await createQueue(t.store, 'orders');
      const outcomes = await send(t.store, queue, [message('a'), message('b'), message('c')]);
      expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent']);
      const seqs = outcomes.map((o) => o.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(3);
      expect(await t.store.messageLastSeq({ queueId: queue.id })).toEqual({ lastSeq: seqs[2], count: 3 });
      await t.store.queueDelete({ name: 'orders', now: t0 });
      const gone = await t.store.messageSend({
        queueId: queue.id,
        fifo: false,
        deduplicationByGroup: false,
        messages: [message('d')],
        now: t0,
        deduplicationWindowMs: 0,
      });
      expect(gone).toBe('queueGone');
    });

    it('hands a visible message out with its row, counts its receives and keeps its first receive time', async () => {
      const queue = await createQueue(t.store, 'orders');
      const attributes = JSON.stringify({ name: { dataType: 'String', stringValue: 'Ada' } });
      const [sent] = await send(t.store, queue, [message('hello', { messageAttributes: attributes })]);
      const first = await t.store.messageReceive(receiveParams(queue, t0 + 250, { visibleAt: t0 + 10_250 }));
      expect(first).toEqual({
        deadLettered: 0,
        nextVisibleAt: null,
        messages: [
          {
            seq: sent!.seq,
            messageId: sent!.messageId,
            body: 'hello',
            messageAttributes: attributes,
            groupId: null,
            deduplicationId: null,
            sentAt: t0,
            firstReceivedAt: t0 + 250,
            receiveCount: 1,
            deadLetterSource: null,
          },
        ],
      });
      const hidden = await t.store.messageReceive(receiveParams(queue, t0 + 10_249));
      expect(hidden).toEqual({ messages: [], deadLettered: 0, nextVisibleAt: t0 + 10_250 });
      const again = await t.store.messageReceive(receiveParams(queue, t0 + 10_250));
      expect(again.messages).toMatchObject([{ seq: sent!.seq, receiveCount: 2, firstReceivedAt: t0 + 250 }]);
    });

    it('claims up to maxMessages, oldest first, each message once per receive token', async () => {
      const queue = await createQueue(t.store, 'orders');
      await send(
        t.store,
        queue,
        Array.from({ length: 25 }, (_, i) => message(`b${i}`)),
      );
      const first = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 20 }));
      expect(first.messages.map((m) => m.body)).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
      // Visibility 0: claimed messages stay visible, yet one receive hands each out only once.
      const token = 'same-receive';
      const zero = await t.store.messageReceive(
        receiveParams(queue, t0, { maxMessages: 10, visibleAt: t0, receiptToken: token }),
      );
      expect(zero.messages.map((m) => m.body)).toEqual(['b20', 'b21', 'b22', 'b23', 'b24']);
    });

    it('hides a message until its own visible time: delays are the caller’s, the store keeps visibleAt', async () => {
      const queue = await createQueue(t.store, 'orders');
      await send(t.store, queue, [message('later', { visibleAt: t0 + 2 * second }), message('now')]);
      expect(await t.store.queueCounts({ queueId: queue.id, now: t0, expiredBefore: 0 })).toEqual({
        visible: 1,
        inFlight: 0,
        delayed: 1,
        oldestSentAt: t0,
      });
      expect((await t.store.messageReceive(receiveParams(queue, t0))).messages.map((m) => m.body)).toEqual([
        'now',
      ]);
      const empty = await t.store.messageReceive(receiveParams(queue, t0 + 1));
      expect(empty).toMatchObject({ messages: [], nextVisibleAt: t0 + 2 * second });
      expect(await t.store.queueCounts({ queueId: queue.id, now: t0 + 1, expiredBefore: 0 })).toMatchObject({
        visible: 0,
        inFlight: 1,
        delayed: 1,
      });
      const later = await t.store.messageReceive(receiveParams(queue, t0 + 2 * second));
      expect(later.messages.map((m) => m.body)).toEqual(['later']);
    });

    it('deletes by receipt: the current receipt deletes, an older one is stale, a deleted message is gone', async () => {
      const queue = await createQueue(t.store, 'orders');
      const [sent] = await send(t.store, queue, [message('x')]);
      const seq = sent!.seq;
      await t.store.messageReceive(
        receiveParams(queue, t0, { receiptToken: 'first', visibleAt: t0 + 10 * second }),
      );
      await t.store.messageReceive(receiveParams(queue, t0 + 10 * second, { receiptToken: 'second' }));
      const remove = (token: string) =>
        t.store.messageDelete({ queueId: queue.id, fifo: false, receipts: [{ seq, token }] });
      expect(await remove('first')).toEqual(['staleReceipt']);
      expect(
        await t.store.queueCounts({ queueId: queue.id, now: t0 + 10 * second, expiredBefore: 0 }),
      ).toMatchObject({
        inFlight: 1,
      });
      expect(await remove('second')).toEqual(['deleted']);
      expect(await remove('second')).toEqual(['gone']);
      expect(
        await t.store.queueCounts({ queueId: queue.id, now: t0 + 10 * second, expiredBefore: 0 }),
      ).toMatchObject({
        visible: 0,
        inFlight: 0,
      });
    });

    it('changes the visibility of an in-flight message only, with its current receipt, within the maximum', async () => {
      const queue = await createQueue(t.store, 'orders');
      const [sent] = await send(t.store, queue, [message('x')]);
      const seq = sent!.seq;
      await t.store.messageReceive(
        receiveParams(queue, t0, { receiptToken: 'r1', visibleAt: t0 + 30 * second }),
      );
      const change = (now: number, token: string, visibleAt: number) =>
        t.store.messageChangeVisibility({
          queueId: queue.id,
          fifo: false,
          now,
          changes: [{ seq, token, visibleAt }],
          maxInvisibleMs: 12 * 3_600_000,
        });
      expect(await change(t0 + 1, 'r1', t0 + 100 * second)).toEqual(['changed']);
      expect((await t.store.messageReceive(receiveParams(queue, t0 + 99 * second))).messages).toEqual([]);
      expect(await change(t0 + 2, 'r1', t0 + 12 * 3_600_000 + 1)).toEqual(['beyondMaximum']);
      expect(await change(t0 + 3, 'other', t0 + 5)).toEqual(['staleReceipt']);
      expect(await change(t0 + 4, 'r1', t0 + 4)).toEqual(['changed']); // visibility 0: released
      expect(await change(t0 + 5, 'r1', t0 + 60 * second)).toEqual(['notInflight']);
      const again = await t.store.messageReceive(receiveParams(queue, t0 + 6, { receiptToken: 'r2' }));
      expect(again.messages).toMatchObject([{ seq, receiveCount: 2 }]);
      expect(await change(t0 + 7, 'r1', t0 + 10)).toEqual(['staleReceipt']);
      await t.store.messageDelete({ queueId: queue.id, fifo: false, receipts: [{ seq, token: 'r2' }] });
      expect(await change(t0 + 8, 'r2', t0 + 10)).toEqual(['gone']);
    });

    it('drops messages past retention on receive, on count and on expire', async () => {
      const queue = await createQueue(t.store, 'orders', { MessageRetentionPeriod: 60 });
      await send(t.store, queue, [message('old')], t0);
      await send(t.store, queue, [message('young', { visibleAt: t0 + 30 * second })], t0 + 30 * second);
      const now = t0 + 60_001;
      const expiredBefore = now - 60 * second;
      expect(await t.store.queueCounts({ queueId: queue.id, now, expiredBefore })).toEqual({
        visible: 1,
        inFlight: 0,
        delayed: 0,
        oldestSentAt: t0 + 30 * second,
      });
      expect(
        (await t.store.messagePeek({ queueId: queue.id, limit: 10, expiredBefore })).map((m) => m.body),
      ).toEqual(['young']);
      expect((await t.store.messageReceive(receiveParams(queue, now))).messages.map((m) => m.body)).toEqual([
        'young',
      ]);
      await send(t.store, queue, [message('newest', { visibleAt: now })], now);
      expect(
        await t.store.messageExpire({ queueId: queue.id, fifo: false, expiredBefore: t0 + 31 * second, now }),
      ).toEqual({
        expired: 1,
        oldestSentAt: now,
      });
    });

    it('purges all messages at most once per interval', async () => {
      const queue = await createQueue(t.store, 'orders');
      await send(t.store, queue, [message('a'), message('b')]);
      const purge = (now: number) =>
        t.store.queuePurge({ queueId: queue.id, now, minIntervalMs: 60 * second });
      expect(await purge(t0)).toBe('purged');
      expect(await t.store.queueCounts({ queueId: queue.id, now: t0, expiredBefore: 0 })).toMatchObject({
        visible: 0,
      });
      expect(await t.store.queueGet({ name: 'orders' })).toMatchObject({ purgedAt: t0 });
      await send(t.store, queue, [message('after purge')], t0 + 1);
      expect(await purge(t0 + 59_999)).toBe('tooSoon');
      expect(
        (await t.store.messageReceive(receiveParams(queue, t0 + 59_999))).messages.map((m) => m.body),
      ).toEqual(['after purge']);
      expect(await purge(t0 + 60 * second)).toBe('purged');
      await t.store.queueDelete({ name: 'orders', now: t0 });
      expect(await purge(t0 + 200 * second)).toBe('gone');
    });

    it('counts in-flight messages up to a bound, each queue apart', async () => {
      const a = await createQueue(t.store, 'a');
      const b = await createQueue(t.store, 'b');
      await send(
        t.store,
        a,
        Array.from({ length: 6 }, (_, i) => message(`a${i}`)),
      );
      await send(t.store, b, [message('b0')]);
      await t.store.messageReceive(receiveParams(a, t0, { maxMessages: 6 }));
      const count = (queue: StoredQueue, atMost: number, now = t0 + 1) =>
        t.store.messageInFlightCount({ queueId: queue.id, now, expiredBefore: 0, atMost });
      expect(await count(a, 5)).toBe(5);
      expect(await count(a, 100)).toBe(6);
      expect(await count(b, 100)).toBe(0);
      expect(await count(a, 100, t0 + 30 * second)).toBe(0); // visible again
    });

    it('peeks in visibility order without receiving', async () => {
      const queue = await createQueue(t.store, 'dlq');
      await send(t.store, queue, [message('second', { visibleAt: t0 + 5 }), message('first')]);
      const peeked = await t.store.messagePeek({ queueId: queue.id, limit: 10, expiredBefore: 0 });
      expect(peeked).toMatchObject([
        { body: 'first', receiveCount: 0, visibleAt: t0, sentAt: t0 },
        { body: 'second', receiveCount: 0, visibleAt: t0 + 5 },
      ]);
      expect(await t.store.messagePeek({ queueId: queue.id, limit: 1, expiredBefore: 0 })).toHaveLength(1);
      expect(await t.store.queueCounts({ queueId: queue.id, now: t0 + 5, expiredBefore: 0 })).toMatchObject({
        visible: 2,
        inFlight: 0,
      });
    });


    it('records a receive attempt with its messages as they are now, and forgets attempts past the window', async () => {
      const queue = await createQueue(t.store, 'jobs.fifo');
      const sent = await send(t.store, queue, [
        message('a', { groupId: 'g' }),
        message('b', { groupId: 'g' }),
      ]);
      const claimed = await t.store.messageReceive(
        receiveParams(queue, t0, { receiptToken: 'tok', visibleAt: t0 + 30 * second }),
      );
      const seqs = claimed.messages.map((m) => m.seq);
      await t.store.receiveAttemptPut({
        queueId: queue.id,
        attemptId: 'attempt-1',
        receiptToken: 'tok',
        seqs,
        visibleAt: t0 + 30 * second,
        createdAt: t0,
        forgetBefore: t0 - 300 * second,
      });
      const attempt = await t.store.receiveAttemptGet({
        queueId: queue.id,
        attemptId: 'attempt-1',
        createdAfter: t0 - 1,
      });
      expect(attempt).toMatchObject({
        receiptToken: 'tok',
        seqs,
        visibleAt: t0 + 30 * second,
        createdAt: t0,
      });
      expect(attempt!.messages).toMatchObject([
        { seq: sent[0]!.seq, body: 'a', receiveCount: 1, visibleAt: t0 + 30 * second, receiptToken: 'tok' },
        { seq: sent[1]!.seq, body: 'b', receiveCount: 1, receiptToken: 'tok' },
      ]);
      await t.store.messageDelete({
        queueId: queue.id,
        fifo: true,
        receipts: [{ seq: sent[0]!.seq, token: 'tok' }],
      });
      const after = await t.store.receiveAttemptGet({
        queueId: queue.id,
        attemptId: 'attempt-1',
        createdAfter: t0 - 1,
      });
      expect(after!.messages.map((m) => m.body)).toEqual(['b']);
      expect(
        await t.store.receiveAttemptGet({ queueId: queue.id, attemptId: 'attempt-1', createdAfter: t0 }),
      ).toBeUndefined();
      expect(
        await t.store.receiveAttemptGet({ queueId: queue.id, attemptId: 'other', createdAfter: 0 }),
      ).toBeUndefined();
      // A later put forgets the attempts created at or before forgetBefore.
      await t.store.receiveAttemptPut({
        queueId: queue.id,
        attemptId: 'attempt-2',
        receiptToken: 'tok2',
        seqs: [],
        visibleAt: t0 + 400 * second,
        createdAt: t0 + 300 * second,
        forgetBefore: t0,
      });
      expect(
        await t.store.receiveAttemptGet({ queueId: queue.id, attemptId: 'attempt-1', createdAfter: 0 }),
      ).toBeUndefined();
    });

    it('keeps one running move task per source queue, and updates its progress and status', async () => {
      const queue = await createQueue(t.store, 'orders-dlq');
      const task = (handle: string): MoveTask => ({
        taskHandle: handle,
        sourceQueueId: queue.id,
        sourceArn: 'arn:orders-dlq',
        destinationArn: null,
        maxPerSecond: 5,
        status: 'RUNNING',
        moved: 0,
        toMove: 3,
        lastSeq: 7,
        startedAt: t0,
        failureReason: null,
      });
      expect(await t.store.moveTaskCreate({ task: task('one') })).toBe('created');
      expect(await t.store.moveTaskCreate({ task: task('two') })).toBe('alreadyRunning');
      expect(await t.store.moveTaskUpdate({ taskHandle: 'one', movedIncrement: 2 })).toMatchObject({
        moved: 2,
        status: 'RUNNING',
      });
      expect(
        await t.store.moveTaskUpdate({
          taskHandle: 'one',
          status: 'FAILED',
          failureReason: 'destination gone',
        }),
      ).toEqual({ ...task('one'), moved: 2, status: 'FAILED', failureReason: 'destination gone' });
      expect(await t.store.moveTaskCreate({ task: { ...task('two'), startedAt: t0 + 1 } })).toBe('created');
      expect(
        (await t.store.moveTaskList({ sourceQueueId: queue.id, limit: 10 })).map((m) => m.taskHandle),
      ).toEqual(['two', 'one']);
      expect(await t.store.moveTaskList({ sourceQueueId: queue.id, limit: 1 })).toHaveLength(1);
      expect(await t.store.moveTaskGet({ taskHandle: 'two' })).toMatchObject({
        status: 'RUNNING',
        startedAt: t0 + 1,
      });
      expect(await t.store.moveTaskGet({ taskHandle: 'none' })).toBeUndefined();
      expect(await t.store.moveTaskUpdate({ taskHandle: 'none', movedIncrement: 1 })).toBeUndefined();
    });

    it('claims thousands in one call: distinct, oldest first; and one per group across hundreds of FIFO groups', async () => {
      const queue = await createQueue(t.store, 'big');
      const total = 2_500;
      for (let i = 0; i < total; i += 500) {
        await send(
          t.store,
          queue,
          Array.from({ length: 500 }, (_, j) => message(String(i + j))),
        );
      }
      const claimed = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 2_000 }));
      expect(claimed.messages.map((m) => Number(m.body))).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
      const rest = await t.store.messageReceive(receiveParams(queue, t0, { maxMessages: 2_000 }));
      expect(rest.messages).toHaveLength(500);
      expect(new Set([...claimed.messages, ...rest.messages].map((m) => m.seq)).size).toBe(total);

      const fifo = await createQueue(t.store, 'groups.fifo');
      await send(
        t.store,
        fifo,
        Array.from({ length: 600 }, (_, i) =>
          message(`${i % 300}:${Math.floor(i / 300)}`, { groupId: `g${i % 300}` }),
        ),
      );
      const page = await t.store.messageReceive(receiveParams(fifo, t0, { maxMessages: 1_000 }));
      expect(page.messages).toHaveLength(600);
      const byGroup = new Map<string, string[]>();
      for (const m of page.messages) byGroup.set(m.groupId!, [...(byGroup.get(m.groupId!) ?? []), m.body]);
      expect(byGroup.size).toBe(300);
      for (const [group, bodies] of byGroup)
        expect(bodies).toEqual([`${group.slice(1)}:0`, `${group.slice(1)}:1`]);
      // Every group now has messages in flight: nothing more until they are visible again.
      expect(
        (await t.store.messageReceive(receiveParams(fifo, t0 + 1, { maxMessages: 1_000 }))).messages,
      ).toEqual([]);
    });
  });
}
