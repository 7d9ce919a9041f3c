import { describe, expect, it } from 'vitest';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function queueLifecycleConformance(backend: BackendUnderTest): void {
  describe(`queue lifecycle [${backend.name}]`, () => {
    const t = useEngine(backend);

    it('creates a standard queue with the SQS defaults', async () => {
      const created = await t.sluice.queues.create('orders');
      expect(created).toMatchObject({ name: 'orders', fifo: false, arn: 'arn:aws:sqs:us-east-1:000000000000:orders' });
      const attributes = await t.sluice.queues.getAttributes('orders');
      expect(attributes).toMatchObject({
        VisibilityTimeout: '30',
        DelaySeconds: '0',
        MessageRetentionPeriod: '345600',
        MaximumMessageSize: '262144',
        ReceiveMessageWaitTimeSeconds: '0',
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        QueueArn: 'arn:aws:sqs:us-east-1:000000000000:orders',
      });
      expect(attributes.FifoQueue).toBeUndefined();
    });

    it('creates a FIFO queue only under a name ending in .fifo', async () => {
      const created = await t.sluice.queues.create('jobs.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
      expect(created.fifo).toBe(true);
      expect(await t.sluice.queues.getAttributes('jobs.fifo')).toMatchObject({
        FifoQueue: 'true',
        ContentBasedDeduplication: 'true',
        DeduplicationScope: 'queue',
        FifoThroughputLimit: 'perQueue',
      });
      await expectSluiceError(t.sluice.queues.create('jobs', { FifoQueue: true }), 'InvalidAttributeValue', /FifoQueue/);
    });

    it('treats a second create with the same attributes as a no-op and with different ones as an error', async () => {
      await t.sluice.queues.create('orders', { VisibilityTimeout: 60 });
      await t.sluice.queues.create('orders', { VisibilityTimeout: '60' });
      await expectSluiceError(t.sluice.queues.create('orders', { VisibilityTimeout: 61 }), 'QueueNameExists', /orders/);
    });

    it('rejects invalid queue names', async () => {
      for (const name of ['', 'a'.repeat(81), 'has space', 'dot.ted', 'x'.repeat(76) + '.fifo']) {
        await expectSluiceError(t.sluice.queues.create(name), 'InvalidParameterValue', /QueueName/);
      }
      await t.sluice.queues.create('a'.repeat(80));
      await t.sluice.queues.create('b'.repeat(75) + '.fifo');
    });

    it.each([
      ['VisibilityTimeout', -1, 43_201],
      ['DelaySeconds', -1, 901],
      ['MessageRetentionPeriod', 59, 1_209_601],
      ['MaximumMessageSize', 1023, 1_048_577],
      ['ReceiveMessageWaitTimeSeconds', -1, 21],
    ])('rejects %s outside its range, naming the field and the range', async (name, below, above) => {
      for (const value of [below, above, 1.5, 'abc']) {
        const error = await expectSluiceError(t.sluice.queues.create('q', { [name]: value }), 'InvalidAttributeValue');
        expect(error.message).toContain(`Attributes.${name}`);
        expect(error.field).toBe(`Attributes.${name}`);
      }
      expect(await t.sluice.queues.exists('q')).toBe(false);
    });

    it('accepts the boundaries of every range', async () => {
      await t.sluice.queues.create('low', {
        VisibilityTimeout: 0,
        DelaySeconds: 0,
        MessageRetentionPeriod: 60,
        MaximumMessageSize: 1024,
        ReceiveMessageWaitTimeSeconds: 0,
      });
      await t.sluice.queues.create('high', {
        VisibilityTimeout: 43_200,
        DelaySeconds: 900,
        MessageRetentionPeriod: 1_209_600,
        MaximumMessageSize: 1_048_576,
        ReceiveMessageWaitTimeSeconds: 20,
      });
    });

    it('rejects unknown attributes and FIFO-only attributes on standard queues', async () => {
      await expectSluiceError(t.sluice.queues.create('q', { Colour: 'red' } as never), 'InvalidAttributeName', /Colour/);
      await expectSluiceError(t.sluice.queues.create('q', { ContentBasedDeduplication: true }), 'InvalidAttributeName');
      await expectSluiceError(
        t.sluice.queues.create('q.fifo', { FifoThroughputLimit: 'perMessageGroupId' }),
        'InvalidAttributeValue',
        /DeduplicationScope/,
      );
      await t.sluice.queues.create('q.fifo', { FifoThroughputLimit: 'perMessageGroupId', DeduplicationScope: 'messageGroup' });
    });

    it('changes attributes and records the modification time', async () => {
      await t.sluice.queues.create('orders');
      await t.clock.advance(5000);
      await t.sluice.queues.setAttributes('orders', { VisibilityTimeout: '120', DelaySeconds: 5 });
      const attributes = await t.sluice.queues.getAttributes('orders', ['VisibilityTimeout', 'DelaySeconds', 'LastModifiedTimestamp', 'CreatedTimestamp']);
      expect(attributes.VisibilityTimeout).toBe('120');
      expect(attributes.DelaySeconds).toBe('5');
      expect(Number(attributes.LastModifiedTimestamp)).toBe(Number(attributes.CreatedTimestamp) + 5);
      await expectSluiceError(t.sluice.queues.setAttributes('orders', { FifoQueue: true }), 'InvalidAttributeValue', /FifoQueue/);
      await expectSluiceError(t.sluice.queues.setAttributes('orders', { DelaySeconds: 1000 }), 'InvalidAttributeValue', /0 to 900/);
    });

    it('lists queues by name prefix', async () => {
      for (const name of ['orders', 'orders-dlq', 'payments', 'ord_er']) await t.sluice.queues.create(name);
      expect(await t.sluice.queues.list('orders')).toEqual(['orders', 'orders-dlq']);
      expect(await t.sluice.queues.list('ord_')).toEqual(['ord_er']);
      expect(await t.sluice.queues.list()).toHaveLength(4);
    });

    it('deletes a queue with its messages and refuses its name for 60 seconds', async () => {
      await t.sluice.queues.create('orders');
      await t.sluice.queues.send('orders', { body: 'x' });
      await t.sluice.queues.delete('orders');
      await expectSluiceError(t.sluice.queues.send('orders', { body: 'x' }), 'QueueDoesNotExist', /orders/);
      await expectSluiceError(t.sluice.queues.create('orders'), 'QueueDeletedRecently');
      await t.clock.advance(60_000);
      await t.sluice.queues.create('orders');
      expect(await t.sluice.queues.receive('orders')).toEqual([]);
    });

    it('purges all messages, at most once per 60 seconds', async () => {
      await t.sluice.queues.create('orders');
      await t.sluice.queues.sendBatch('orders', [{ id: 'a', body: '1' }, { id: 'b', body: '2' }]);
      await t.sluice.queues.purge('orders');
      expect((await t.sluice.queues.counts('orders')).visible).toBe(0);
      await t.sluice.queues.send('orders', { body: 'after purge' });
      await expectSluiceError(t.sluice.queues.purge('orders'), 'PurgeQueueInProgress', /60 seconds/);
      expect((await t.sluice.queues.receive('orders')).map((m) => m.body)).toEqual(['after purge']);
      await t.clock.advance(60_000);
      await t.sluice.queues.purge('orders');
    });

    it('tags and untags a queue', async () => {
      await t.sluice.queues.create('orders', {}, { tags: { team: 'a' } });
      await t.sluice.queues.tag('orders', { env: 'dev' });
      expect(await t.sluice.queues.listTags('orders')).toEqual({ team: 'a', env: 'dev' });
      await t.sluice.queues.untag('orders', ['team']);
      expect(await t.sluice.queues.listTags('orders')).toEqual({ env: 'dev' });
      const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
      await expectSluiceError(t.sluice.queues.tag('orders', tooMany), 'InvalidParameterValue', /at most 50/);
    });

    it('reports QueueDoesNotExist for every operation on a missing queue', async () => {
      const q = t.sluice.queues;
      await expectSluiceError(q.send('nope', { body: 'x' }), 'QueueDoesNotExist');
      await expectSluiceError(q.receive('nope'), 'QueueDoesNotExist');
      await expectSluiceError(q.getAttributes('nope'), 'QueueDoesNotExist');
      await expectSluiceError(q.purge('nope'), 'QueueDoesNotExist');
      await expectSluiceError(q.delete('nope'), 'QueueDoesNotExist');
      await expectSluiceError(q.deleteMessage('nope', 'x'), 'QueueDoesNotExist');
    });
  });
}
