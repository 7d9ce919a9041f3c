/**
 * GroupStore on its own: limits kept by queue name and group, the grouped claim that serves each group
 * within its concurrency and rate (the claim planner runs inside the backend's transaction), slots freed
 * by deletes, keys assigned after the fact, and what an operator inspects. Validating limits and the
 * grouping rule is the group-limits feature's (the engine suite).
 */
import { describe, expect, it } from 'vitest';
import type { GroupLimit } from '../../store/group-limit.js';
import type { GroupClaimParams } from '../../store/group-store.js';
import type { QueueSettings } from '../../store/queue-settings.js';
import type { NewMessage, StoredQueue } from '../../store/queue-store.js';
import type { Store } from '../../store/store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';
import { settingsOf, t0 } from './queue-fixtures.js';

const settings: QueueSettings = settingsOf({ SluiceGroupKey: 'MessageGroupId' });
const concurrency = (maxConcurrency: number): GroupLimit => ({ maxConcurrency, rate: null });

async function groupedQueue(store: Store, name = 'tenants'): Promise<StoredQueue> {
  const result = await store.queueCreate({
    name,
    fifo: false,
    settings,
    tags: {},
    now: t0,
    nameReuseDelayMs: 0,
  });
  if (result.outcome === 'deletedRecently') throw new Error('unexpected');
  return result.queue;
}

let nextId = 0;
async function send(store: Store, queue: StoredQueue, groups: Array<string | null>, now = t0, keyed = true) {
  const messages: NewMessage[] = groups.map((group) => ({
    messageId: `m-${++nextId}`,
    body: `${group}:${nextId}`,
    messageAttributes: null,
    groupId: group,
    deduplicationId: null,
    visibleAt: now,
    ...(keyed ? { groupKey: group ?? '' } : {}),
  }));
  const outcomes = await store.messageSend({
    queueId: queue.id,
    fifo: false,
    deduplicationByGroup: false,
    messages,
    now,
    deduplicationWindowMs: 0,
  });
  if (outcomes === 'queueGone') throw new Error('queue gone');
  return outcomes;
}

const claimParams = (queue: StoredQueue, now: number, maxMessages = 10): GroupClaimParams => ({
  queueId: queue.id,
  queueName: queue.name,
  fifo: false,
  maxMessages,
  now,
  visibleAt: now + 30_000,
  expiredBefore: 0,
  receiptToken: `r-${now}-${++nextId}`,
  deadLetter: null,
});

const groupsOf = (messages: Array<{ groupId: string | null }>) => messages.map((m) => m.groupId).sort();

export function groupStoreConformance(backend: BackendUnderTest): void {
  describe(`group store [${backend.name}]`, () => {
    const t = useStore(backend);

    it('keeps limits by queue name and group: put, get, list in key order without the default, delete with null', async () => {
      const put = (groupKey: string | null, limit: GroupLimit | null, now = t0) =>
        t.store.groupLimitPut({ queueName: 'tenants', groupKey, limit, now });
      const rate = { limit: 2, intervalMs: 1000, burst: 3 };
      await put(null, concurrency(1));
      await put('b', { maxConcurrency: null, rate });
      await put('a', concurrency(5));
      await put('c', concurrency(2));
      expect(await t.store.groupLimitGet({ queueName: 'tenants', groupKey: null })).toEqual({
        queueName: 'tenants',
        groupKey: null,
        limit: concurrency(1),
        modifiedAt: t0,
      });
      expect(await t.store.groupLimitGet({ queueName: 'tenants', groupKey: 'b' })).toMatchObject({
        limit: { maxConcurrency: null, rate },
      });
      const keys = async (after: string | null, limit = 10) =>
        (await t.store.groupLimitList({ queueName: 'tenants', after, limit })).map((l) => l.groupKey);
      expect(await keys(null)).toEqual(['a', 'b', 'c']);
      expect(await keys('a', 1)).toEqual(['b']);
      await put('a', concurrency(6), t0 + 5);
      expect(await t.store.groupLimitGet({ queueName: 'tenants', groupKey: 'a' })).toMatchObject({
        limit: concurrency(6),
        modifiedAt: t0 + 5,
      });
      await put('a', null);
      expect(await t.store.groupLimitGet({ queueName: 'tenants', groupKey: 'a' })).toBeUndefined();
      expect(await keys(null)).toEqual(['b', 'c']);
      expect(await t.store.groupLimitList({ queueName: 'other', after: null, limit: 10 })).toEqual([]);
    });

    it('claims within each group’s concurrency: the default for groups without an entry, an entry over it', async () => {
      const queue = await groupedQueue(t.store);
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: null, limit: concurrency(1), now: t0 });
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: 'big', limit: concurrency(3), now: t0 });
      await send(t.store, queue, ['a', 'a', 'b', 'b', 'big', 'big', 'big', 'big']);
      const first = await t.store.messageClaimByGroup(claimParams(queue, t0 + 1));
      expect(groupsOf(first.messages)).toEqual(['a', 'b', 'big', 'big', 'big']);
      expect((await t.store.messageClaimByGroup(claimParams(queue, t0 + 2))).messages).toEqual([]);
      expect(await t.store.groupInspect({ queueId: queue.id, groupKey: 'big', now: t0 + 2 })).toMatchObject({
        waiting: 1,
        inFlight: 3,
      });
    });

    it('frees a group’s slot when its in-flight message is deleted, at that instant', async () => {
      const queue = await groupedQueue(t.store);
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: null, limit: concurrency(1), now: t0 });
      await send(t.store, queue, ['a', 'a']);
      const params = claimParams(queue, t0 + 1);
      const [claimed] = (await t.store.messageClaimByGroup(params)).messages;
      expect((await t.store.messageClaimByGroup(claimParams(queue, t0 + 2))).messages).toEqual([]);
      expect(
        await t.store.messageDelete({
          queueId: queue.id,
          fifo: false,
          receipts: [{ seq: claimed!.seq, token: params.receiptToken }],
          grouped: true,
          now: t0 + 3,
        }),
      ).toEqual(['deleted']);
      expect((await t.store.messageClaimByGroup(claimParams(queue, t0 + 3))).messages).toHaveLength(1);
    });

    it('serves a group at its rate: a burst, then one message per interval', async () => {
      const queue = await groupedQueue(t.store);
      const limit: GroupLimit = { maxConcurrency: null, rate: { limit: 1, intervalMs: 1000, burst: 2 } };
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: 'a', limit, now: t0 });
      await send(t.store, queue, ['a', 'a', 'a', 'a', 'b']);
      const first = await t.store.messageClaimByGroup(claimParams(queue, t0));
      expect(groupsOf(first.messages)).toEqual(['a', 'a', 'b']);
      const early = await t.store.messageClaimByGroup(claimParams(queue, t0 + 999));
      expect(early.messages).toEqual([]);
      expect(early.nextVisibleAt).not.toBeNull();
      expect(early.nextVisibleAt!).toBeGreaterThan(t0 + 999);
      expect(early.nextVisibleAt!).toBeLessThanOrEqual(t0 + 1000);
      expect(groupsOf((await t.store.messageClaimByGroup(claimParams(queue, t0 + 1000))).messages)).toEqual([
        'a',
      ]);
    });

    it('reports when the next group becomes ready on an empty claim', async () => {
      const queue = await groupedQueue(t.store);
      const limit: GroupLimit = { maxConcurrency: null, rate: { limit: 4, intervalMs: 1000, burst: 1 } };
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: 'a', limit, now: t0 });
      await send(t.store, queue, ['a', 'a']);
      expect((await t.store.messageClaimByGroup(claimParams(queue, t0 + 1))).messages).toHaveLength(1);
      expect(await t.store.messageClaimByGroup(claimParams(queue, t0 + 1))).toMatchObject({
        messages: [],
        nextVisibleAt: t0 + 1 + 250,
      });
    });

    it('costs nothing for idle groups: 200 defined limits and no messages leave no group rows', async () => {
      const queue = await groupedQueue(t.store);
      for (let i = 0; i < 200; i++) {
        await t.store.groupLimitPut({
          queueName: 'tenants',
          groupKey: `tenant-${i}`,
          limit: concurrency(1),
          now: t0,
        });
      }
      expect(await t.store.groupRows({ queueId: queue.id, limit: 10 })).toEqual([]);
      await send(t.store, queue, ['tenant-7']);
      expect(await t.store.groupRows({ queueId: queue.id, limit: 10 })).toHaveLength(1);
      const params = claimParams(queue, t0 + 1);
      const [message] = (await t.store.messageClaimByGroup(params)).messages;
      await t.store.messageDelete({
        queueId: queue.id,
        fifo: false,
        receipts: [{ seq: message!.seq, token: params.receiptToken }],
        grouped: true,
        now: t0 + 2,
      });
      expect(await t.store.groupRows({ queueId: queue.id, limit: 10 })).toEqual([]);
    });

    it('claims one message from each of hundreds of groups limited to one at a time', async () => {
      const queue = await groupedQueue(t.store);
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: null, limit: concurrency(1), now: t0 });
      for (let i = 0; i < 600; i += 200) {
        await send(
          t.store,
          queue,
          Array.from({ length: 200 }, (_, j) => `t${(i + j) % 300}`),
        );
      }
      const { messages } = await t.store.messageClaimByGroup(claimParams(queue, t0 + 1, 1000));
      expect(messages).toHaveLength(300);
      expect(new Set(messages.map((m) => m.groupId)).size).toBe(300);
    });

    it('assigns keys after the fact: reads unkeyed messages in seq order, writes keys, clears them all with null', async () => {
      const queue = await groupedQueue(t.store);
      await send(t.store, queue, ['x', 'y', 'x'], t0, false);
      expect(await t.store.groupRows({ queueId: queue.id, limit: 10 })).toEqual([]);
      const unkeyed = await t.store.groupKeysRead({ queueId: queue.id, afterSeq: 0, limit: 10 });
      expect(unkeyed.map((m) => m.groupId)).toEqual(['x', 'y', 'x']);
      expect(unkeyed[0]).toMatchObject({ messageAttributes: null, body: expect.stringMatching(/^x:/) });
      expect(await t.store.groupKeysRead({ queueId: queue.id, afterSeq: unkeyed[0]!.seq, limit: 1 })).toEqual(
        [unkeyed[1]],
      );
      await t.store.groupKeysWrite({
        queueId: queue.id,
        keys: unkeyed.map((m) => ({ seq: m.seq, groupKey: m.groupId! })),
        now: t0,
      });
      expect(
        (await t.store.groupRows({ queueId: queue.id, limit: 10 })).map((row) => row.groupKey).sort(),
      ).toEqual(['x', 'y']);
      await t.store.groupLimitPut({ queueName: 'tenants', groupKey: null, limit: concurrency(1), now: t0 });
      expect(groupsOf((await t.store.messageClaimByGroup(claimParams(queue, t0 + 1))).messages)).toEqual([
        'x',
        'y',
      ]);
      await t.store.groupKeysWrite({ queueId: queue.id, keys: null, now: t0 + 2 });
      expect(await t.store.groupRows({ queueId: queue.id, limit: 10 })).toEqual([]);
    });

    it('inspects a group: waiting, in flight and delayed messages, the oldest waiting, its row', async () => {
      const queue = await groupedQueue(t.store);
      await send(t.store, queue, ['a', 'a', 'a'], t0);
      await t.store.messageSend({
        queueId: queue.id,
        fifo: false,
        deduplicationByGroup: false,
        messages: [
          {
            messageId: 'delayed',
            body: 'later',
            messageAttributes: null,
            groupId: 'a',
            deduplicationId: null,
            visibleAt: t0 + 60_000,
            groupKey: 'a',
          },
        ],
        now: t0 + 5,
        deduplicationWindowMs: 0,
      });
      await t.store.messageClaimByGroup(claimParams(queue, t0 + 10, 1));
      const inspection = await t.store.groupInspect({ queueId: queue.id, groupKey: 'a', now: t0 + 10 });
      expect(inspection).toMatchObject({ waiting: 2, inFlight: 1, delayed: 1, oldestWaitingSentAt: t0 });
      expect(inspection.row).toMatchObject({ groupKey: 'a' });
      expect(await t.store.groupInspect({ queueId: queue.id, groupKey: 'none', now: t0 })).toEqual({
        waiting: 0,
        inFlight: 0,
        delayed: 0,
        oldestWaitingSentAt: null,
        row: null,
      });
    });
  });
}
