/**
 * Three SQS rules around receiving: ReceiveRequestAttemptId (a retried FIFO receive returns the same
 * messages and receipt handles), the in-flight limits (OverLimit), and a redriven message keeping its
 * original sent time and retention clock.
 */
import { describe, expect, it } from 'vitest';
import { settle } from '../../model/clock.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

export function receiveLimitConformance(backend: BackendUnderTest): void {
  describe(`ReceiveRequestAttemptId [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;
    const send = (groupId: string, body: string) =>
      q().send('jobs.fifo', { body, messageGroupId: groupId, messageDeduplicationId: body });
    const ids = (messages: Array<{ messageId: string }>) => messages.map((m) => m.messageId);

    it('returns the same messages and receipt handles to a retry, and restarts their visibility timeout', async () => {
      await q().create('jobs.fifo', { VisibilityTimeout: 30 });
      await send('g', 'a');
      await send('g', 'b');
      await send('h', 'c');
      const first = await q().receive('jobs.fifo', {
        maxNumberOfMessages: 2,
        receiveRequestAttemptId: 'try-1',
      });
      expect(first.map((m) => m.body)).toEqual(['a', 'b']);
      await t.clock.advance(20_000);
      const retry = await q().receive('jobs.fifo', {
        maxNumberOfMessages: 2,
        receiveRequestAttemptId: 'try-1',
      });
      expect(retry).toEqual(first); // same ids, bodies, receipt handles, ApproximateReceiveCount 1
      // Another receive (no id, or another id) does not get them: group g is in flight.
      const other = await q().receive('jobs.fifo', {
        maxNumberOfMessages: 10,
        receiveRequestAttemptId: 'try-2',
      });
      expect(other.map((m) => m.body)).toEqual(['c']);
      await q().deleteMessage('jobs.fifo', other[0]!.receiptHandle);
      // The retry at 20 s restarted the 30 s timeout: still in flight at 45 s, visible again at 50 s.
      await t.clock.advance(25_000);
      expect(await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).toEqual([]);
      await t.clock.advance(5_000);
      const again = await q().receive('jobs.fifo', { maxNumberOfMessages: 10 });
      expect(ids(again)).toEqual(ids(first));
      expect(again[0]!.attributes.ApproximateReceiveCount).toBe('2');
    });

    it('a handle returned by a retry deletes the message', async () => {
      await q().create('jobs.fifo');
      await send('g', 'a');
      await q().receive('jobs.fifo', { receiveRequestAttemptId: 'r' });
      const [retried] = await q().receive('jobs.fifo', { receiveRequestAttemptId: 'r' });
      await q().deleteMessage('jobs.fifo', retried!.receiptHandle);
      const counts = await q().counts('jobs.fifo');
      expect(counts.visible + counts.inFlight).toBe(0);
    });

    it('cannot be retried once a message of its receive was deleted, changed or became visible again', async () => {
      await q().create('jobs.fifo', { VisibilityTimeout: 30 });
      for (const group of ['g1', 'g2', 'g3']) {
        await send(group, `${group}-a`);
        await send(group, `${group}-b`);
      }
      const notRetryable = /ReceiveRequestAttemptId: "(deleted|changed|expired)" is not valid anymore/;

      const deleted = await q().receive('jobs.fifo', {
        maxNumberOfMessages: 2,
        receiveRequestAttemptId: 'deleted',
      });
      await q().deleteMessage('jobs.fifo', deleted[1]!.receiptHandle);
      const error = await expectSluiceError(
        q().receive('jobs.fifo', { maxNumberOfMessages: 2, receiveRequestAttemptId: 'deleted' }),
        'InvalidParameterValue',
        notRetryable,
      );
      expect(error.field).toBe('ReceiveRequestAttemptId');

      const changed = await q().receive('jobs.fifo', {
        maxNumberOfMessages: 2,
        receiveRequestAttemptId: 'changed',
      });
      expect(changed).toHaveLength(2);
      await q().changeMessageVisibility('jobs.fifo', changed[0]!.receiptHandle, 120);
      await expectSluiceError(
        q().receive('jobs.fifo', { receiveRequestAttemptId: 'changed' }),
        'InvalidParameterValue',
        notRetryable,
      );

      const expired = await q().receive('jobs.fifo', {
        maxNumberOfMessages: 2,
        receiveRequestAttemptId: 'expired',
      });
      expect(expired).toHaveLength(2);
      await t.clock.advance(30_000);
      await expectSluiceError(
        q().receive('jobs.fifo', { receiveRequestAttemptId: 'expired' }),
        'InvalidParameterValue',
        notRetryable,
      );
    });

    it('is forgotten 5 minutes after its receive, and not recorded when the receive returned nothing', async () => {
      await q().create('jobs.fifo', { VisibilityTimeout: 600 });
      expect(await q().receive('jobs.fifo', { receiveRequestAttemptId: 'empty' })).toEqual([]);
      await send('g', 'a');
      await send('g', 'b');
      expect(
        (await q().receive('jobs.fifo', { receiveRequestAttemptId: 'empty' })).map((m) => m.body),
      ).toEqual(['a']);
      await t.clock.advance(5 * 60_000 - 1);
      expect(
        (await q().receive('jobs.fifo', { receiveRequestAttemptId: 'empty' })).map((m) => m.body),
      ).toEqual(['a']);
      await t.clock.advance(1);
      // A new receive under the old id: group g is still in flight, so nothing.
      expect(await q().receive('jobs.fifo', { receiveRequestAttemptId: 'empty' })).toEqual([]);
    });

    it('validates the id on FIFO queues, and ignores it on standard queues as SQS does', async () => {
      await q().create('jobs.fifo');
      await q().create('plain');
      const bad = ['', 'x'.repeat(129), 'with space', 'caf\u00e9', 'tab\t'];
      for (const id of bad) {
        const error = await expectSluiceError(
          q().receive('jobs.fifo', { receiveRequestAttemptId: id }),
          'InvalidParameterValue',
          /ReceiveRequestAttemptId: .* is invalid; must be 1 to 128 characters of letters, digits and punctuation/,
        );
        expect(error.field).toBe('ReceiveRequestAttemptId');
      }
      const punctuation = `!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;
      await send('g', 'a');
      const longest = `${punctuation}${'A1'.repeat(64)}`.slice(0, 128);
      expect(await q().receive('jobs.fifo', { receiveRequestAttemptId: longest })).toHaveLength(1);
      // Standard queue: no validation, no deduplication of the receive.
      await q().sendBatch('plain', [
        { id: '1', body: 'p1' },
        { id: '2', body: 'p2' },
      ]);
      const one = await q().receive('plain', { receiveRequestAttemptId: 'same id' });
      const two = await q().receive('plain', { receiveRequestAttemptId: 'same id' });
      expect([...one, ...two].map((m) => m.body).sort()).toEqual(['p1', 'p2']);
    });
  });

  describe(`in-flight limits [${backend.name}]`, () => {
    const t = useEngine(backend, { queueInFlightLimits: { standard: 5, fifo: 3 } });
    const q = () => t.sluice.queues;

    it('fails a standard receive with OverLimit at the limit, and receives again once messages are deleted or released', async () => {
      await q().create('work', { VisibilityTimeout: 30 });
      await q().sendBatch(
        'work',
        Array.from({ length: 8 }, (_, i) => ({ id: `m${i}`, body: `m${i}` })),
      );
      await q().send('work', { body: 'later', delaySeconds: 60 }); // delayed: not in flight
      const first = await q().receive('work', { maxNumberOfMessages: 10 });
      expect(first).toHaveLength(5); // a receive takes no more than the room left under the limit
      const error = await expectSluiceError(
        q().receive('work'),
        'OverLimit',
        /too many messages have been received without being deleted.*5/,
      );
      expect(error.status).toBe(403);
      await q().deleteMessageBatch(
        'work',
        first.slice(0, 2).map((m, i) => ({ id: `d${i}`, receiptHandle: m.receiptHandle })),
      );
      expect(await q().receive('work', { maxNumberOfMessages: 10 })).toHaveLength(2);
      await expectSluiceError(q().receive('work', { maxNumberOfMessages: 10 }), 'OverLimit');
      await q().changeMessageVisibility('work', first[2]!.receiptHandle, 0);
      expect(await q().receive('work', { maxNumberOfMessages: 10 })).toHaveLength(1);
      await expectSluiceError(q().receive('work'), 'OverLimit');
      await t.clock.advance(30_000); // every visibility timeout expired: nothing in flight
      expect(await q().receive('work', { maxNumberOfMessages: 10 })).toHaveLength(5);
    });

    it('applies the FIFO limit to FIFO queues', async () => {
      await q().create('jobs.fifo', { ContentBasedDeduplication: true });
      for (let i = 0; i < 5; i++) await q().send('jobs.fifo', { body: `m${i}`, messageGroupId: `g${i}` });
      const first = await q().receive('jobs.fifo', { maxNumberOfMessages: 10 });
      expect(first).toHaveLength(3);
      await expectSluiceError(q().receive('jobs.fifo'), 'OverLimit', /limit of a FIFO queue/);
      await q().deleteMessage('jobs.fifo', first[0]!.receiptHandle);
      expect(await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).toHaveLength(1);
      await expectSluiceError(q().receive('jobs.fifo'), 'OverLimit');
    });

    it('counts each queue on its own', async () => {
      await q().create('a');
      await q().create('b');
      await q().sendBatch(
        'a',
        Array.from({ length: 6 }, (_, i) => ({ id: `m${i}`, body: `a${i}` })),
      );
      await q().sendBatch(
        'b',
        Array.from({ length: 6 }, (_, i) => ({ id: `m${i}`, body: `b${i}` })),
      );
      expect(await q().receive('a', { maxNumberOfMessages: 10 })).toHaveLength(5);
      await expectSluiceError(q().receive('a'), 'OverLimit');
      expect(await q().receive('b', { maxNumberOfMessages: 10 })).toHaveLength(5);
    });
  });

  describe(`redrive keeps the original sent time [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;

    it('a redriven message keeps its SentTimestamp and expires at its original sent time + retention', async () => {
      await q().create('dlq', { MessageRetentionPeriod: 1_209_600 });
      await q().create('src', {
        MessageRetentionPeriod: 3600,
        RedrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 1 },
      });
      const sentAt = t.clock.now();
      await q().send('src', { body: 'poison' });
      await q().receive('src');
      await t.clock.advance(30_000);
      expect(await q().receive('src')).toEqual([]); // moved to the dead-letter queue
      const [dead] = await q().receive('dlq', { visibilityTimeout: 0 });
      expect(dead!.attributes.SentTimestamp).toBe(String(sentAt)); // a standard dead-letter queue keeps it too
      await t.clock.advance(30 * 60_000);
      await q().startMessageMoveTask({ sourceArn: arn('dlq') });
      for (let i = 0; i < 10; i++) await settle();
      const [back] = await q().receive('src', { visibilityTimeout: 0 });
      expect(back).toMatchObject({
        body: 'poison',
        attributes: { SentTimestamp: String(sentAt), ApproximateReceiveCount: '1' },
      });
      // Retention runs from the original send: 1 h after it, not 1 h after the redrive.
      await t.clock.advance(sentAt + 3_600_000 - t.clock.now());
      expect((await q().counts('src')).visible).toBe(1);
      await t.clock.advance(1);
      expect(await q().receive('src')).toEqual([]);
      expect(await q().counts('src')).toMatchObject({ visible: 0, inFlight: 0 });
      // The retention sweep, armed for that instant by the redrive, reclaimed the row.
      await t.clock.advance(1000);
      const source = await q().definition('src');
      expect((await t.sluice.store.messageLastSeq({ queueId: source.id })).count).toBe(0);
    });

    it('a redrive to an explicit destination keeps the sent time too', async () => {
      await q().create('dlq');
      await q().create('src', { RedrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 1 } });
      await q().create('elsewhere', { MessageRetentionPeriod: 600 });
      const sentAt = t.clock.now();
      await q().send('src', { body: 'm' });
      await q().receive('src');
      await t.clock.advance(30_000);
      await q().receive('src');
      await t.clock.advance(5 * 60_000);
      await q().startMessageMoveTask({ sourceArn: arn('dlq'), destinationArn: arn('elsewhere') });
      for (let i = 0; i < 10; i++) await settle();
      const [moved] = await q().receive('elsewhere', { visibilityTimeout: 0 });
      expect(moved!.attributes.SentTimestamp).toBe(String(sentAt));
      await t.clock.advance(sentAt + 600_000 - t.clock.now());
      expect((await q().counts('elsewhere')).visible).toBe(1);
      await t.clock.advance(1);
      expect(await q().receive('elsewhere')).toEqual([]);
      // 'elsewhere' never had a send: the redrive armed its retention sweep, which reclaimed the row.
      const destination = await q().definition('elsewhere');
      expect((await t.sluice.store.messageLastSeq({ queueId: destination.id })).count).toBe(0);
    });

    it('a FIFO dead-letter queue restarts the enqueue timestamp at the move, as SQS documents', async () => {
      await q().create('jobs-dlq.fifo');
      await q().create('jobs.fifo', {
        ContentBasedDeduplication: true,
        RedrivePolicy: { deadLetterTargetArn: arn('jobs-dlq.fifo'), maxReceiveCount: 1 },
      });
      const sentAt = t.clock.now();
      await q().send('jobs.fifo', { body: 'bad', messageGroupId: 'g' });
      await q().receive('jobs.fifo');
      await t.clock.advance(30_000);
      const movedAt = t.clock.now();
      expect(await q().receive('jobs.fifo')).toEqual([]);
      const [dead] = await q().receive('jobs-dlq.fifo');
      expect(movedAt).toBeGreaterThan(sentAt);
      expect(dead!.attributes.SentTimestamp).toBe(String(movedAt));
    });
  });
}
