/**
 * Several nodes on one database: two stores on the same schema stand for two Sluice nodes. These are
 * the guarantees the conformance suite cannot show with one store: no message handed out twice under
 * concurrent receivers, FIFO groups served by one node at a time, wake-ups crossing nodes.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import type { ReceivedMessage } from '../../queues/types.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../../testkit/postgres.js';

describePostgres('postgres cluster: two nodes on one schema', () => {
  let schema: string;
  let nodes: Sluice[];

  beforeEach(async () => {
    schema = freshSchemaName();
    const first = await Sluice.open({ store: await openTestStore({ schema }) });
    const second = await Sluice.open({ store: await openTestStore({ schema }) });
    nodes = [first, second];
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await dropSchema(schema);
  });

  const node = (index: number) => nodes[index % nodes.length]!;

  it('never hands one message to two concurrent receivers on different nodes', async () => {
    await node(0).queues.create('work', { VisibilityTimeout: 600 });
    const total = 2000;
    for (let start = 0; start < total; start += 10) {
      const entries = Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, body: String(start + i) }));
      await node(start / 10).queues.sendBatch('work', entries);
    }
    const seen: string[] = [];
    const receiver = async (index: number) => {
      for (let empty = 0; empty < 3;) {
        const messages = await node(index).queues.receive('work', { maxNumberOfMessages: 10 });
        if (messages.length === 0) empty++;
        for (const message of messages) seen.push(message.body);
      }
    };
    await Promise.all([0, 1, 2, 3].map(receiver));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('serves each FIFO group on one node at a time, in order', async () => {
    await node(0).queues.create('jobs.fifo', { ContentBasedDeduplication: true, VisibilityTimeout: 600 });
    const groups = 20;
    const perGroup = 25;
    for (let n = 0; n < perGroup; n++) {
      const entries = Array.from({ length: groups }, (_, g) => ({
        id: `g${g}`,
        body: `${g}:${n}`,
        messageGroupId: `g${g}`,
      }));
      for (let i = 0; i < entries.length; i += 10)
        await node(n).queues.sendBatch('jobs.fifo', entries.slice(i, i + 10));
    }
    const holder = new Map<string, number>(); // group -> receiver holding some of its messages
    const delivered = new Map<string, number[]>();
    const violations: string[] = [];
    const receiver = async (index: number) => {
      for (let empty = 0; empty < 5;) {
        const messages: ReceivedMessage[] = await node(index).queues.receive('jobs.fifo', {
          maxNumberOfMessages: 10,
        });
        if (messages.length === 0) {
          empty++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        empty = 0;
        for (const message of messages) {
          const [group, n] = message.body.split(':') as [string, string];
          const other = holder.get(group);
          if (other !== undefined && other !== index)
            violations.push(`${group} held by ${other} and ${index}`);
          holder.set(group, index);
          delivered.set(group, [...(delivered.get(group) ?? []), Number(n)]);
        }
        await new Promise((resolve) => setTimeout(resolve, 1)); // "work", while holding the groups
        for (const message of messages) holder.delete(message.body.split(':')[0]!);
        await node(index).queues.deleteMessageBatch(
          'jobs.fifo',
          messages.map((m, i) => ({ id: `d${i}`, receiptHandle: m.receiptHandle })),
        );
      }
    };
    await Promise.all([0, 1, 2, 3].map(receiver));
    expect(violations).toEqual([]);
    expect(delivered.size).toBe(groups);
    for (const sequence of delivered.values())
      expect(sequence).toEqual(Array.from({ length: perGroup }, (_, n) => n));
  });

  it.each([
    ['standard', 'work', 'work-dlq'],
    ['FIFO', 'work.fifo', 'work-dlq.fifo'],
  ])(
    'moves every %s message to the dead-letter queue exactly once while nodes receive concurrently',
    async (_, name, dlq) => {
      const fifo = name.endsWith('.fifo');
      const fifoAttributes = fifo ? { ContentBasedDeduplication: true } : {};
      await node(0).queues.create(dlq, { ...fifoAttributes, VisibilityTimeout: 600 });
      await node(0).queues.create(name, {
        ...fifoAttributes,
        VisibilityTimeout: 0, // every receive makes the message visible again at once
        RedrivePolicy: { deadLetterTargetArn: node(0).queues.arnOf(dlq), maxReceiveCount: 2 },
      });
      const total = 300;
      for (let start = 0; start < total; start += 10) {
        const entries = Array.from({ length: 10 }, (_, i) => ({
          id: `m${i}`,
          body: String(start + i),
          ...(fifo ? { messageGroupId: `g${(start + i) % 7}` } : {}),
        }));
        await node(start / 10).queues.sendBatch(name, entries);
      }
      const receives = new Map<string, number>();
      const drained = async () => {
        const counts = await node(0).queues.counts(name);
        return counts.visible + counts.inFlight + counts.delayed === 0;
      };
      const receiver = async (index: number) => {
        // An empty receive proves little here (the other receivers may hold every group): stop once drained.
        while (!(await drained())) {
          const messages = await node(index).queues.receive(name, { maxNumberOfMessages: 10 });
          for (const m of messages) receives.set(m.body, (receives.get(m.body) ?? 0) + 1);
        }
      };
      await Promise.all([0, 1, 2, 3].map(receiver));
      expect(Math.max(...receives.values())).toBeLessThanOrEqual(2);
      const moved: string[] = [];
      for (;;) {
        const batch = await node(1).queues.receive(dlq, { maxNumberOfMessages: 10 });
        if (batch.length === 0) break;
        moved.push(...batch.map((m) => m.body));
        // Deleting lets a FIFO dead-letter queue hand out the rest of each group.
        await node(1).queues.deleteMessageBatch(
          dlq,
          batch.map((m, i) => ({ id: `d${i}`, receiptHandle: m.receiptHandle })),
        );
      }
      expect(moved).toHaveLength(total);
      expect(new Set(moved).size).toBe(total);
    },
  );

  it('wakes a long poll on one node when another node sends', async () => {
    await node(0).queues.create('orders');
    const started = Date.now();
    const receive = node(1).queues.receive('orders', { waitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the receive find the queue empty and wait
    await node(0).queues.send('orders', { body: 'across nodes' });
    const messages = await receive;
    expect(messages.map((m) => m.body)).toEqual(['across nodes']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('wakes a FIFO long poll on one node when another node deletes the blocking message', async () => {
    await node(0).queues.create('jobs.fifo', { ContentBasedDeduplication: true });
    await node(0).queues.sendBatch('jobs.fifo', [
      { id: 'a', body: 'a', messageGroupId: 'g' },
      { id: 'b', body: 'b', messageGroupId: 'g' },
    ]);
    const [first] = await node(0).queues.receive('jobs.fifo');
    const receive = node(1).queues.receive('jobs.fifo', { waitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await node(0).queues.deleteMessage('jobs.fifo', first!.receiptHandle);
    expect((await receive).map((m) => m.body)).toEqual(['b']);
  });
});
