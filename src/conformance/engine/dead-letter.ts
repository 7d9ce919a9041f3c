import { describe, expect, it } from 'vitest';
import { settle } from '../../model/clock.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

export function deadLetterConformance(backend: BackendUnderTest): void {
  describe(`dead-letter queues and redrive [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;

    async function receiveAndFail(queue: string, times: number): Promise<number> {
      let received = 0;
      for (let i = 0; i < times; i++) {
        received += (await q().receive(queue, { maxNumberOfMessages: 10 })).length;
        await t.clock.advance(30_000);
      }
      return received;
    }

    it('moves a message received more than maxReceiveCount times to the dead-letter queue', async () => {
      await q().create('orders-dlq');
      await q().create('orders', { RedrivePolicy: { deadLetterTargetArn: arn('orders-dlq'), maxReceiveCount: 3 } });
      const sent = await q().send('orders', { body: 'poison', messageAttributes: { k: { dataType: 'String', stringValue: 'v' } } });
      expect(await receiveAndFail('orders', 3)).toBe(3);
      expect(await q().receive('orders')).toEqual([]); // the 4th receive moves it instead
      expect((await q().counts('orders')).visible + (await q().counts('orders')).inFlight).toBe(0);
      const [dead] = await q().receive('orders-dlq');
      expect(dead).toMatchObject({ messageId: sent.messageId, body: 'poison', messageAttributes: { k: { stringValue: 'v' } } });
      expect(dead!.attributes.DeadLetterQueueSourceArn).toBe(arn('orders'));
      expect(dead!.attributes.ApproximateReceiveCount).toBe('4');
    });

    // Found by the queue-model property test: the round after a dead-letter move looked again and took a
    // message the first round had claimed with visibility 0 (still visible), so it came back twice.
    it('hands each message out once in a receive that moves others and uses visibility 0', async () => {
      await q().create('zero-dlq');
      await q().create('zero', { RedrivePolicy: { deadLetterTargetArn: arn('zero-dlq'), maxReceiveCount: 3 } });
      await q().send('zero', { body: 'poison' });
      for (let i = 0; i < 3; i++) expect(await q().receive('zero', { visibilityTimeout: 0 })).toHaveLength(1);
      await q().send('zero', { body: 'fresh' });
      const batch = await q().receive('zero', { maxNumberOfMessages: 2, visibilityTimeout: 0 });
      expect(batch.map((m) => [m.body, m.attributes.ApproximateReceiveCount])).toEqual([['fresh', '1']]);
      expect((await q().receive('zero-dlq')).map((m) => m.body)).toEqual(['poison']);
    });

    it('peeks at a dead-letter queue without receiving: no receive count grows, nothing turns invisible', async () => {
      await q().create('orders-dlq');
      await q().create('orders', {
        RedrivePolicy: { deadLetterTargetArn: arn('orders-dlq'), maxReceiveCount: 1 },
      });
      const sent = await q().send('orders', {
        body: 'poison',
        messageAttributes: { k: { dataType: 'String', stringValue: 'v' } },
      });
      await q().send('orders-dlq', { body: 'later', delaySeconds: 60 });
      await receiveAndFail('orders', 1);
      expect(await q().receive('orders')).toEqual([]); // moves it
      for (let i = 0; i < 2; i++) {
        const peeked = await q().peek('orders-dlq');
        expect(peeked).toHaveLength(2);
        expect(peeked[0]).toMatchObject({
          messageId: sent.messageId,
          body: 'poison',
          messageAttributes: { k: { stringValue: 'v' } },
          receiveCount: 1,
          state: 'visible',
          deadLetterSourceArn: arn('orders'),
        });
        expect(peeked[1]).toMatchObject({ body: 'later', state: 'delayed', receiveCount: 0 });
      }
      expect((await q().counts('orders-dlq')).visible).toBe(1);
      const [dead] = await q().receive('orders-dlq');
      expect(dead!.attributes.ApproximateReceiveCount).toBe('2');
      const after = await q().peek('orders-dlq');
      expect(after.find((m) => m.messageId === sent.messageId)).toMatchObject({
        state: 'inFlight',
        receiveCount: 2,
      });
      await expectSluiceError(q().peek('orders-dlq', { limit: 0 }), 'InvalidParameterValue', /limit/);
    });

    it('moves FIFO messages to a FIFO dead-letter queue and unblocks the group', async () => {
      await q().create('jobs-dlq.fifo');
      await q().create('jobs.fifo', {
        ContentBasedDeduplication: true,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn('jobs-dlq.fifo'), maxReceiveCount: 1 }),
      });
      await q().send('jobs.fifo', { body: 'bad', messageGroupId: 'g' });
      await q().send('jobs.fifo', { body: 'good', messageGroupId: 'g' });
      expect((await q().receive('jobs.fifo')).map((m) => m.body)).toEqual(['bad']);
      await t.clock.advance(30_000);
      expect((await q().receive('jobs.fifo')).map((m) => m.body)).toEqual(['good']);
      const [dead] = await q().receive('jobs-dlq.fifo');
      expect(dead).toMatchObject({ body: 'bad', attributes: { MessageGroupId: 'g' } });
    });

    it('validates redrive policies against the dead-letter queue', async () => {
      await q().create('std-dlq');
      await q().create('fifo-dlq.fifo');
      await q().create('closed', { RedriveAllowPolicy: { redrivePermission: 'denyAll' } });
      await q().create('picky', { RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: [arn('allowed')] } });
      const policy = (target: string, maxReceiveCount = 5) => ({ RedrivePolicy: { deadLetterTargetArn: arn(target), maxReceiveCount } });
      await expectSluiceError(q().create('a', policy('missing')), 'InvalidParameterValue', /does not exist/);
      await expectSluiceError(q().create('a', policy('fifo-dlq.fifo')), 'InvalidParameterValue', /standard/);
      await expectSluiceError(q().create('a', policy('closed')), 'InvalidParameterValue', /RedriveAllowPolicy/);
      await expectSluiceError(q().create('a', policy('picky')), 'InvalidParameterValue', /RedriveAllowPolicy/);
      await expectSluiceError(q().create('a', policy('std-dlq', 0)), 'InvalidAttributeValue', /maxReceiveCount.*1 to 1000/);
      await expectSluiceError(q().create('a', policy('std-dlq', 1001)), 'InvalidAttributeValue', /maxReceiveCount/);
      await expectSluiceError(
        q().create('a', { RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: Array(11).fill(arn('x')) } }),
        'InvalidAttributeValue',
        /1 to 10/,
      );
      await q().create('allowed', policy('picky'));
      expect(await q().listDeadLetterSourceQueues('picky')).toEqual(['allowed']);
    });

    it('redrives a dead-letter queue back to the source queues of its messages', async () => {
      await q().create('dlq');
      await q().create('a', { RedrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 1 } });
      await q().create('b', { RedrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 1 } });
      await q().sendBatch('a', [{ id: '1', body: 'a1' }, { id: '2', body: 'a2' }]);
      await q().send('b', { body: 'b1' });
      await receiveAndFail('a', 1);
      await receiveAndFail('b', 1);
      await q().receive('a', { maxNumberOfMessages: 10 });
      await q().receive('b', { maxNumberOfMessages: 10 });
      expect((await q().counts('dlq')).visible).toBe(3);
      const { taskHandle } = await q().startMessageMoveTask({ sourceArn: arn('dlq') });
      for (let i = 0; i < 10; i++) await settle();
      const [task] = await q().listMessageMoveTasks({ sourceArn: arn('dlq') });
      expect(task).toMatchObject({ taskHandle, status: 'COMPLETED', approximateNumberOfMessagesMoved: 3, approximateNumberOfMessagesToMove: 3 });
      const backInA = await q().receive('a', { maxNumberOfMessages: 10 });
      expect(backInA.map((m) => m.body).sort()).toEqual(['a1', 'a2']);
      expect(backInA[0]!.attributes.ApproximateReceiveCount).toBe('1');
      expect((await q().receive('b')).map((m) => m.body)).toEqual(['b1']);
    });

    it('redrives to an explicit destination at a limited rate, reporting progress', async () => {
      await q().create('dlq');
      await q().create('src', { RedrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 1 } });
      await q().create('elsewhere');
      for (let i = 0; i < 3; i++) {
        await q().sendBatch('src', Array.from({ length: 10 }, (_, j) => ({ id: `m${j}`, body: `${i}-${j}` })));
      }
      for (let i = 0; i < 3; i++) await q().receive('src', { maxNumberOfMessages: 10 });
      await t.clock.advance(30_000);
      for (let i = 0; i < 3; i++) await q().receive('src', { maxNumberOfMessages: 10 });
      expect((await q().counts('dlq')).visible).toBe(30);
      await q().startMessageMoveTask({ sourceArn: arn('dlq'), destinationArn: arn('elsewhere'), maxNumberOfMessagesPerSecond: 10 });
      await settle();
      let [task] = await q().listMessageMoveTasks({ sourceArn: arn('dlq') });
      expect(task).toMatchObject({ status: 'RUNNING', approximateNumberOfMessagesMoved: 10, maxNumberOfMessagesPerSecond: 10 });
      await expectSluiceError(q().startMessageMoveTask({ sourceArn: arn('dlq') }), 'UnsupportedOperation', /already running/);
      await t.clock.advance(1000);
      [task] = await q().listMessageMoveTasks({ sourceArn: arn('dlq') });
      expect(task!.approximateNumberOfMessagesMoved).toBe(20);
      await t.clock.advance(1000);
      [task] = await q().listMessageMoveTasks({ sourceArn: arn('dlq') });
      expect(task).toMatchObject({ status: 'COMPLETED', approximateNumberOfMessagesMoved: 30 });
      expect((await q().counts('elsewhere')).visible).toBe(30);
    });

    it('cancels a running move task', async () => {
      await q().create('dlq');
      await q().create('src', { RedrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 1 } });
      await q().sendBatch('src', Array.from({ length: 10 }, (_, j) => ({ id: `m${j}`, body: `${j}` })));
      await q().receive('src', { maxNumberOfMessages: 10 });
      await t.clock.advance(30_000);
      await q().receive('src', { maxNumberOfMessages: 10 });
      const { taskHandle } = await q().startMessageMoveTask({ sourceArn: arn('dlq'), maxNumberOfMessagesPerSecond: 3 });
      await settle();
      expect(await q().cancelMessageMoveTask(taskHandle)).toEqual({ approximateNumberOfMessagesMoved: 3 });
      await t.clock.advance(5000);
      const [task] = await q().listMessageMoveTasks({ sourceArn: arn('dlq') });
      expect(task).toMatchObject({ status: 'CANCELLED', approximateNumberOfMessagesMoved: 3 });
      expect((await q().counts('dlq')).visible).toBe(7);
      await expectSluiceError(q().cancelMessageMoveTask(taskHandle), 'UnsupportedOperation', /CANCELLED/);
    });

    it('refuses a move task whose source is not a dead-letter queue', async () => {
      await q().create('plain');
      await expectSluiceError(q().startMessageMoveTask({ sourceArn: arn('plain') }), 'InvalidParameterValue', /not the dead-letter queue/);
      await expectSluiceError(q().startMessageMoveTask({ sourceArn: 'nonsense' }), 'InvalidParameterValue', /SourceArn/);
      await expectSluiceError(q().startMessageMoveTask({ sourceArn: arn('ghost') }), 'ResourceNotFoundException');
    });
  });
}
