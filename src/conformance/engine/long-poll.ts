import { describe, expect, it } from 'vitest';
import { settle } from '../../model/clock.js';
import { useEngine, type BackendUnderTest } from './harness.js';

export function longPollConformance(backend: BackendUnderTest): void {
  describe(`long polling and wake-ups [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;

    /** Starts a receive and reports whether it has finished, without awaiting it. */
    function pending<T>(promise: Promise<T>) {
      const state = { done: false, value: undefined as T | undefined };
      void promise.then((value) => {
        state.done = true;
        state.value = value;
      });
      return state;
    }

    it('returns as soon as a message is sent, without waiting out the poll', async () => {
      await q().create('orders');
      const receive = pending(q().receive('orders', { waitTimeSeconds: 20 }));
      await settle();
      expect(receive.done).toBe(false);
      await q().send('orders', { body: 'wake up' });
      await settle();
      expect(receive.done).toBe(true);
      expect(receive.value!.map((m) => m.body)).toEqual(['wake up']);
    });

    it('uses the queue wait time when the receive names none', async () => {
      await q().create('orders', { ReceiveMessageWaitTimeSeconds: 10 });
      const receive = pending(q().receive('orders'));
      await settle();
      await t.clock.advance(9_999);
      expect(receive.done).toBe(false);
      await t.clock.advance(1);
      expect(receive.done).toBe(true);
      expect(receive.value).toEqual([]);
    });

    it('wakes when a delayed message becomes visible', async () => {
      await q().create('orders');
      await q().send('orders', { body: 'later', delaySeconds: 5 });
      const receive = pending(q().receive('orders', { waitTimeSeconds: 20 }));
      await settle();
      await t.clock.advance(4_999);
      expect(receive.done).toBe(false);
      await t.clock.advance(1);
      expect(receive.value!.map((m) => m.body)).toEqual(['later']);
    });

    it('wakes when an in-flight message times out', async () => {
      await q().create('orders', { VisibilityTimeout: 7 });
      await q().send('orders', { body: 'retry me' });
      await q().receive('orders');
      const receive = pending(q().receive('orders', { waitTimeSeconds: 20 }));
      await settle();
      await t.clock.advance(7_000);
      expect(receive.value!.map((m) => m.body)).toEqual(['retry me']);
    });

    it('wakes a FIFO long poll when the blocking message of a group is deleted', async () => {
      await q().create('jobs.fifo', { ContentBasedDeduplication: true });
      await q().send('jobs.fifo', { body: 'a', messageGroupId: 'g' });
      await q().send('jobs.fifo', { body: 'b', messageGroupId: 'g' });
      const [a] = await q().receive('jobs.fifo');
      const receive = pending(q().receive('jobs.fifo', { waitTimeSeconds: 20 }));
      await settle();
      expect(receive.done).toBe(false);
      await q().deleteMessage('jobs.fifo', a!.receiptHandle);
      await settle();
      expect(receive.value!.map((m) => m.body)).toEqual(['b']);
    });

    it('runs no store query while it waits with nothing due', async () => {
      await q().create('orders');
      await q().send('orders', { body: 'far future', delaySeconds: 900 });
      const receive = pending(q().receive('orders', { waitTimeSeconds: 20 }));
      await settle();
      t.counter.reset();
      await t.clock.advance(19_999);
      expect(t.counter.total()).toBe(0);
      await t.clock.advance(1);
      expect(receive.value).toEqual([]);
      expect(t.counter.total()).toBe(0); // the deadline passes without a last query
    });

    it('ends a long poll when its signal aborts', async () => {
      await q().create('orders');
      const controller = new AbortController();
      const receive = pending(q().receive('orders', { waitTimeSeconds: 20, signal: controller.signal }));
      await settle();
      controller.abort();
      await settle();
      expect(receive.value).toEqual([]);
    });

    it('serves several waiting receivers from one send each', async () => {
      await q().create('orders');
      const receivers = Array.from({ length: 3 }, () => pending(q().receive('orders', { waitTimeSeconds: 20 })));
      await settle();
      await q().sendBatch('orders', [{ id: 'a', body: '1' }, { id: 'b', body: '2' }, { id: 'c', body: '3' }]);
      await settle();
      const bodies = receivers.flatMap((r) => r.value?.map((m) => m.body) ?? []);
      expect(bodies.sort()).toEqual(['1', '2', '3']);
      expect(receivers.every((r) => r.done)).toBe(true);
    });
  });
}
