/**
 * A store receive may hand out more than SQS's 10 messages: a trigger claims up to its BatchSize (up to
 * 10,000) in one call. Every claim path must keep its rules at that size.
 */
import { describe, expect, it } from 'vitest';
import type { ReceiveParams } from '../../store/queue-store.js';
import { useEngine, type BackendUnderTest } from './harness.js';

export function largeClaimConformance(backend: BackendUnderTest): void {
  describe(`claims of more than 10 messages [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;
    const params = async (
      name: string,
      maxMessages: number,
    ): Promise<ReceiveParams & { queueName: string }> => {
      const queue = await q().definition(name);
      const now = t.clock.now();
      return {
        queueId: queue.id,
        queueName: name,
        fifo: queue.fifo,
        maxMessages,
        now,
        visibleAt: now + 60_000,
        expiredBefore: 0,
        receiptToken: `token-${maxMessages}`,
        deadLetter: null,
      };
    };
    const sendMany = async (name: string, count: number, entry: (i: number) => Record<string, unknown>) => {
      for (let i = 0; i < count; i += 10) {
        const entries = Array.from({ length: Math.min(10, count - i) }, (_, k) => ({
          id: `e${k}`,
          body: String(i + k),
          ...entry(i + k),
        }));
        await q().sendBatch(name, entries);
      }
    };

    it('hands out up to maxMessages distinct standard messages, oldest first', async () => {
      await q().create('wide');
      await sendMany('wide', 250, () => ({}));
      const first = await t.sluice.store.messageReceive(await params('wide', 100));
      expect(first.messages.map((m) => Number(m.body))).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const rest = await t.sluice.store.messageReceive(await params('wide', 1000));
      expect(rest.messages).toHaveLength(150);
      expect(new Set([...first.messages, ...rest.messages].map((m) => m.seq)).size).toBe(250);
    });

    it('keeps FIFO order and group blocking in a claim of more than 10', async () => {
      await q().create('wide.fifo', { ContentBasedDeduplication: true });
      await sendMany('wide.fifo', 60, (i) => ({ messageGroupId: `g${i % 3}` }));
      const { messages } = await t.sluice.store.messageReceive(await params('wide.fifo', 45));
      expect(messages).toHaveLength(45);
      for (const group of ['g0', 'g1', 'g2']) {
        const bodies = messages.filter((m) => m.groupId === group).map((m) => Number(m.body));
        expect(bodies).toEqual([...bodies].sort((a, b) => a - b));
      }
      const more = await t.sluice.store.messageReceive(await params('wide.fifo', 100));
      expect(more.messages).toEqual([]); // every group has a message in flight
    });

    it('claims one message from each of hundreds of groups limited to one at a time', async () => {
      await q().create('tenants', { SluiceGroupKey: 'MessageGroupId' });
      await t.sluice.groupLimits.setDefault('tenants', { maxConcurrency: 1 });
      await sendMany('tenants', 600, (i) => ({ messageGroupId: `t${i % 300}` }));
      const { messages } = await t.sluice.store.messageClaimByGroup(await params('tenants', 1000));
      expect(messages).toHaveLength(300);
      expect(new Set(messages.map((m) => m.groupId)).size).toBe(300);
    });
  });
}
