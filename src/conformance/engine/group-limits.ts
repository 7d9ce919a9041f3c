/**
 * Group limits on a grouped queue, through the queue API (a receive on a grouped queue is a claim by
 * group) and the store's group operations. The trigger-level property test runs on both backends too
 * (group-limits-property.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../queues/types.js';
import {
  groupPropertyRuns,
  groupScenario,
  groupScenarioWith,
  runGroupScenario,
} from './group-limits-property.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function groupLimitConformance(backend: BackendUnderTest): void {
  describe(`group limits [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;
    const limits = () => t.sluice.groupLimits;
    const sendTo = (queue: string, group: string | undefined, body = group ?? 'none') =>
      q().send(queue, { body, ...(group === undefined ? {} : { messageGroupId: group }) });
    const receive = (queue = 'tasks', max = 10) => q().receive(queue, { maxNumberOfMessages: max });
    const groupsOf = (messages: ReceivedMessage[]) => messages.map((m) => m.body);
    const tally = (messages: ReceivedMessage[]) =>
      groupsOf(messages).reduce<Record<string, number>>(
        (counts, g) => ({ ...counts, [g]: (counts[g] ?? 0) + 1 }),
        {},
      );
    const create = (attributes: Record<string, unknown> = {}) =>
      q().create('tasks', { VisibilityTimeout: 30, SluiceGroupKey: 'MessageGroupId', ...attributes });

    it('never exceeds a group concurrency or rate, and starves no group, whatever the workload (property)', async () => {
      await fc.assert(
        fc.asyncProperty(groupScenario, (scenario) => runGroupScenario([() => backend.open()], scenario)),
        { numRuns: groupPropertyRuns(backend.name) },
      );
    }, 300_000);

    it('keeps every group concurrency and rate with fast handlers, whose trigger claims ahead (property)', async () => {
      await fc.assert(
        fc.asyncProperty(groupScenarioWith({ min: 1, max: 30 }), (scenario) =>
          runGroupScenario([() => backend.open()], scenario),
        ),
        { numRuns: groupPropertyRuns(backend.name) },
      );
    }, 300_000);

    it('hands out at most maxConcurrency messages of a group at once; a delete frees a slot', async () => {
      await create();
      await limits().set('tasks', 'a', { maxConcurrency: 2 });
      for (let i = 0; i < 5; i++) await sendTo('tasks', 'a');
      for (let i = 0; i < 3; i++) await sendTo('tasks', 'b');
      const first = await receive();
      expect(tally(first)).toEqual({ a: 2, b: 3 });
      expect(await receive()).toEqual([]);
      await q().deleteMessage('tasks', first.find((m) => m.body === 'a')!.receiptHandle);
      expect(groupsOf(await receive())).toEqual(['a']);
    });

    it('takes one message per group per pass, so a deep group cannot crowd out the others', async () => {
      await create();
      for (let i = 0; i < 6; i++) await sendTo('tasks', 'deep');
      await sendTo('tasks', 'x');
      await sendTo('tasks', 'y');
      expect(groupsOf(await receive('tasks', 3)).sort()).toEqual(['deep', 'x', 'y']);
      expect(groupsOf(await receive('tasks', 10))).toEqual(['deep', 'deep', 'deep', 'deep', 'deep']);
    });

    it('serves ready groups round robin across receives', async () => {
      await create();
      for (const g of ['a', 'b', 'c', 'd']) for (let i = 0; i < 3; i++) await sendTo('tasks', g);
      const order: string[] = [];
      for (let i = 0; i < 12; i++) order.push(...groupsOf(await receive('tasks', 1)));
      expect(order.slice(0, 4).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(order.slice(4, 8).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(order.slice(8).sort()).toEqual(['a', 'b', 'c', 'd']);
    });

    it('admits a burst, then one message per interval, and never more than the burst after idling', async () => {
      await create();
      await limits().set('tasks', 'a', { rate: { limit: 1, intervalSeconds: 1, burst: 2 } });
      for (let i = 0; i < 8; i++) await sendTo('tasks', 'a');
      expect(await receive()).toHaveLength(2);
      await t.clock.advance(999);
      expect(await receive()).toHaveLength(0);
      await t.clock.advance(1);
      expect(await receive()).toHaveLength(1);
      await t.clock.advance(60_000);
      expect(await receive()).toHaveLength(2);
    });

    it('keeps a failed message slot until its visibility timeout, or until it is released', async () => {
      await create();
      await limits().setDefault('tasks', { maxConcurrency: 1 });
      await sendTo('tasks', 'a', 'one');
      await sendTo('tasks', 'a', 'two');
      expect(groupsOf(await q().receive('tasks', { maxNumberOfMessages: 10, visibilityTimeout: 5 }))).toEqual(
        ['one'],
      );
      expect(await receive()).toEqual([]);
      await t.clock.advance(5_000);
      // The slot is free again; 'two' has been visible longer than 'one', so it goes first.
      const [next] = await receive();
      expect(next!.body).toBe('two');
      expect(await receive()).toEqual([]);
      await q().changeMessageVisibility('tasks', next!.receiptHandle, 0);
      expect(await receive('tasks', 1)).toHaveLength(1);
    });

    it('applies a changed limit at the next receive', async () => {
      await create();
      await limits().set('tasks', 'a', { maxConcurrency: 1 });
      for (let i = 0; i < 4; i++) await sendTo('tasks', 'a');
      expect(await receive()).toHaveLength(1);
      expect(await receive()).toHaveLength(0);
      await limits().set('tasks', 'a', { maxConcurrency: 3 });
      expect(await receive()).toHaveLength(2);
      await limits().delete('tasks', 'a');
      expect(await receive()).toHaveLength(1);
    });

    it("applies the default to groups without an entry; messages without a key share group ''", async () => {
      await create();
      await limits().setDefault('tasks', { maxConcurrency: 1 });
      await limits().set('tasks', 'vip', { maxConcurrency: 3 });
      for (let i = 0; i < 4; i++) {
        await sendTo('tasks', 'vip');
        await sendTo('tasks', 'plain');
        await sendTo('tasks', undefined);
      }
      expect(tally(await receive())).toEqual({ vip: 3, plain: 1, none: 1 });
    });

    it('keys the messages already queued when a grouping rule is set, by attribute or body path', async () => {
      await q().create('tasks', { VisibilityTimeout: 30 });
      for (const tenant of ['t1', 't1', 't2', 't2']) {
        await q().send('tasks', {
          body: JSON.stringify({ tenant: { id: tenant } }),
          messageAttributes: { tenant: { dataType: 'String', stringValue: tenant } },
        });
      }
      await limits().setDefault('tasks', { maxConcurrency: 1 });
      await q().setAttributes('tasks', { SluiceGroupKey: 'attribute:tenant' });
      expect((await q().getAttributes('tasks', ['SluiceGroupKey'])).SluiceGroupKey).toBe('attribute:tenant');
      const first = await receive();
      expect(first.map((m) => m.messageAttributes.tenant!.stringValue).sort()).toEqual(['t1', 't2']);
      await q().setAttributes('tasks', { SluiceGroupKey: 'body:tenant.id' });
      expect(await receive()).toEqual([]); // the same groups, still at their limit
      await q().setAttributes('tasks', { SluiceGroupKey: null });
      expect(await receive()).toHaveLength(2); // no longer grouped: a plain receive
    });

    it('refuses a grouping rule on a FIFO queue and a malformed one', async () => {
      await q().create('jobs.fifo');
      await expectSluiceError(
        q().setAttributes('jobs.fifo', { SluiceGroupKey: 'MessageGroupId' }),
        'InvalidAttributeName',
        /standard queues/,
      );
      await create();
      await expectSluiceError(
        q().setAttributes('tasks', { SluiceGroupKey: 'header:x' }),
        'InvalidParameterValue',
        /SluiceGroupKey/,
      );
    });

    it('inspects one group: messages waiting, in flight and delayed, the oldest wait and the rate tokens left', async () => {
      await create();
      await limits().set('tasks', 'a', {
        maxConcurrency: 1,
        rate: { limit: 1, intervalSeconds: 10, burst: 2 },
      });
      for (let i = 0; i < 3; i++) await sendTo('tasks', 'a');
      await q().send('tasks', { body: 'later', messageGroupId: 'a', delaySeconds: 60 });
      await t.clock.advance(5_000);
      expect(groupsOf(await receive())).toEqual(['a']);
      const view = await limits().inspect('tasks', 'a');
      expect(view).toMatchObject({
        waiting: 2,
        inFlight: 1,
        delayed: 1,
        oldestWaitSeconds: 5,
        rateTokens: 1,
        nextTokenAt: null,
      });
      expect(view.limits).toEqual({ maxConcurrency: 1, rate: { limit: 1, intervalSeconds: 10, burst: 2 } });
      expect(await limits().inspect('tasks', 'nobody')).toMatchObject({
        waiting: 0,
        inFlight: 0,
        delayed: 0,
        oldestWaitSeconds: null,
        rateTokens: null,
      });
    });

    it('keeps an emptied group row while its bucket refills, so a returning group gets no fresh burst', async () => {
      await create();
      await limits().set('tasks', 'a', { rate: { limit: 1, intervalSeconds: 10, burst: 1 } });
      await sendTo('tasks', 'a');
      const [message] = await receive();
      await q().deleteMessage('tasks', message!.receiptHandle);
      await sendTo('tasks', 'a');
      expect(await receive()).toEqual([]);
      await t.clock.advance(10_000);
      expect(await receive()).toHaveLength(1);
    });

    it('sets, reads, lists by page and deletes limits', async () => {
      await limits().setDefault('tasks', { maxConcurrency: 5 });
      for (const g of ['c', 'a', 'b', ''])
        await limits().set('tasks', g, { rate: { limit: 2, intervalSeconds: 0.5 } });
      expect(await limits().get('tasks', 'a')).toMatchObject({
        queue: 'tasks',
        group: 'a',
        maxConcurrency: null,
        rate: { limit: 2, intervalSeconds: 0.5, burst: 2 },
      });
      expect(await limits().getDefault('tasks')).toMatchObject({
        group: null,
        maxConcurrency: 5,
        rate: null,
      });
      expect(await limits().effective('tasks', 'zzz')).toEqual({ maxConcurrency: 5, rate: null });
      const first = await limits().list('tasks', { limit: 2 });
      expect(first.map((l) => l.group)).toEqual(['', 'a']);
      expect((await limits().list('tasks', { after: 'a' })).map((l) => l.group)).toEqual(['b', 'c']);
      expect(await limits().delete('tasks', 'b')).toBe(true);
      expect(await limits().delete('tasks', 'b')).toBe(false);
      expect(await limits().get('tasks', 'b')).toBeUndefined();
      await expectSluiceError(
        limits().set('tasks', 'a', { maxConcurrency: -1 }),
        'InvalidParameterValue',
        /maxConcurrency/,
      );
    });

    it('dead-letters through the group claim, and a redrive takes the messages home to their groups', async () => {
      await q().create('dlq');
      await create({ RedrivePolicy: { deadLetterTargetArn: q().arnOf('dlq'), maxReceiveCount: 1 } });
      await limits().set('tasks', 'a', { maxConcurrency: 1 });
      await sendTo('tasks', 'a', 'a1');
      await sendTo('tasks', 'a', 'a2');
      for (let i = 0; i < 2; i++) {
        expect(await q().receive('tasks', { maxNumberOfMessages: 10, visibilityTimeout: 1 })).toHaveLength(1);
        await t.clock.advance(1_000);
      }
      // Both were received maxReceiveCount times: claims move them to the dead-letter queue (a claim reads
      // at most as many messages of a group as the group could be given, here one).
      expect(await receive()).toEqual([]);
      expect(await receive()).toEqual([]);
      expect((await q().counts('dlq')).visible).toBe(2);
      await q().startMessageMoveTask({ sourceArn: q().arnOf('dlq') });
      for (let i = 0; i < 100 && (await q().counts('tasks')).visible < 2; i++)
        await new Promise((r) => setTimeout(r, 5));
      // Home again in group a, which still allows one at a time.
      expect(groupsOf(await receive())).toHaveLength(1);
      expect(await receive()).toEqual([]);
    });
  });
}
