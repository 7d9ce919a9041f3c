import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

export function standardMessageConformance(backend: BackendUnderTest): void {
  describe(`standard queue messages [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;

    it('sends a message and receives it with its system attributes and digests', async () => {
      await q().create('orders');
      const sent = await q().send('orders', { body: 'hello' });
      expect(sent.md5OfMessageBody).toBe(md5('hello'));
      expect(sent.messageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(sent.sequenceNumber).toBeUndefined();
      const sentAt = t.clock.now();
      await t.clock.advance(250);
      const [message] = await q().receive('orders');
      expect(message).toMatchObject({ messageId: sent.messageId, body: 'hello', md5OfBody: md5('hello') });
      expect(message!.attributes).toEqual({
        ApproximateReceiveCount: '1',
        SentTimestamp: String(sentAt),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: String(sentAt + 250),
      });
    });

    it('round-trips String, Number, Binary and custom-typed message attributes with SQS digests', async () => {
      await q().create('orders');
      const sent = await q().send('orders', {
        body: 'b',
        messageAttributes: {
          name: { dataType: 'String', stringValue: 'Ada' },
          count: { dataType: 'Number', stringValue: '42' },
          blob: { dataType: 'Binary', binaryValue: Uint8Array.from([1, 2, 3]) },
          size: { dataType: 'Number.int', stringValue: '-7.5e3' },
        },
      });
      // Digest from SQS's documented encoding, computed independently here.
      const expected = createHash('md5');
      const put = (bytes: Buffer) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(bytes.length);
        expected.update(length).update(bytes);
      };
      for (const [name, type, transport, value] of [
        ['blob', 'Binary', 2, Buffer.from([1, 2, 3])],
        ['count', 'Number', 1, Buffer.from('42')],
        ['name', 'String', 1, Buffer.from('Ada')],
        ['size', 'Number.int', 1, Buffer.from('-7.5e3')],
      ] as const) {
        put(Buffer.from(name));
        put(Buffer.from(type));
        expected.update(Buffer.from([transport]));
        put(value);
      }
      expect(sent.md5OfMessageAttributes).toBe(expected.digest('hex'));
      const [message] = await q().receive('orders');
      expect(message!.messageAttributes).toEqual({
        name: { dataType: 'String', stringValue: 'Ada' },
        count: { dataType: 'Number', stringValue: '42' },
        blob: { dataType: 'Binary', binaryValue: 'AQID' },
        size: { dataType: 'Number.int', stringValue: '-7.5e3' },
      });
      expect(message!.md5OfMessageAttributes).toBe(sent.md5OfMessageAttributes);
    });

    it('rejects malformed message attributes, naming the attribute', async () => {
      await q().create('orders');
      const send = (messageAttributes: Record<string, unknown>) =>
        q().send('orders', { body: 'x', messageAttributes: messageAttributes as never });
      const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { dataType: 'String', stringValue: 'v' }]));
      await expectSluiceError(send(eleven), 'InvalidParameterValue', /at most 10/);
      await expectSluiceError(send({ 'AWS.x': { dataType: 'String', stringValue: 'v' } }), 'InvalidParameterValue', /reserved/);
      await expectSluiceError(send({ n: { dataType: 'Number', stringValue: 'twelve' } }), 'InvalidParameterValue', /MessageAttributes\.n/);
      await expectSluiceError(send({ n: { dataType: 'String' } }), 'InvalidParameterValue', /stringValue/);
      await expectSluiceError(send({ n: { dataType: 'Text', stringValue: 'v' } }), 'InvalidParameterValue', /dataType/);
      await expectSluiceError(send({ 'a..b': { dataType: 'String', stringValue: 'v' } }), 'InvalidParameterValue', /name/);
      expect((await q().counts('orders')).visible).toBe(0);
    });

    it('rejects empty bodies, forbidden characters and oversized messages', async () => {
      await q().create('orders', { MaximumMessageSize: 1024 });
      await expectSluiceError(q().send('orders', { body: '' }), 'InvalidParameterValue', /MessageBody/);
      await expectSluiceError(q().send('orders', { body: 'bad \u0000 char' }), 'InvalidMessageContents', /MessageBody/);
      await expectSluiceError(q().send('orders', { body: 'x'.repeat(1025) }), 'InvalidParameterValue', /1025 bytes.*1024 bytes/);
      await expectSluiceError(
        q().send('orders', { body: 'x'.repeat(1000), messageAttributes: { pad: { dataType: 'String', stringValue: 'y'.repeat(30) } } }),
        'InvalidParameterValue',
        /MaximumMessageSize is 1024/,
      );
      await q().send('orders', { body: 'é'.repeat(512) });
      await q().send('orders', { body: 'emoji \u{1F600} and tab\t' });
      expect((await q().counts('orders')).visible).toBe(2);
    });

    it('hides a delayed message until its delay passes', async () => {
      await q().create('orders', { DelaySeconds: 10 });
      await q().send('orders', { body: 'queue delay' });
      await q().send('orders', { body: 'own delay', delaySeconds: 2 });
      await q().send('orders', { body: 'no delay', delaySeconds: 0 });
      expect((await q().receive('orders', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['no delay']);
      expect(await q().counts('orders')).toMatchObject({ delayed: 2, inFlight: 1 });
      await t.clock.advance(2000);
      expect((await q().receive('orders', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['own delay']);
      await t.clock.advance(8000);
      expect((await q().receive('orders', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['queue delay']);
      await expectSluiceError(q().send('orders', { body: 'x', delaySeconds: 901 }), 'InvalidParameterValue', /0 to 900/);
    });

    it('keeps a received message invisible for the visibility timeout, then delivers it again', async () => {
      await q().create('orders', { VisibilityTimeout: 30 });
      await q().send('orders', { body: 'x' });
      const [first] = await q().receive('orders');
      expect(await q().receive('orders')).toEqual([]);
      expect(await q().counts('orders')).toMatchObject({ visible: 0, inFlight: 1 });
      await t.clock.advance(29_999);
      expect(await q().receive('orders')).toEqual([]);
      await t.clock.advance(1);
      const [second] = await q().receive('orders', { visibilityTimeout: 5 });
      expect(second!.messageId).toBe(first!.messageId);
      expect(second!.receiptHandle).not.toBe(first!.receiptHandle);
      expect(second!.attributes.ApproximateReceiveCount).toBe('2');
      expect(second!.attributes.ApproximateFirstReceiveTimestamp).toBe(first!.attributes.ApproximateFirstReceiveTimestamp);
      await t.clock.advance(5000);
      expect(await q().receive('orders')).toHaveLength(1);
    });

    it('receives up to MaxNumberOfMessages and validates it', async () => {
      await q().create('orders');
      await q().sendBatch('orders', Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, body: `b${i}` })));
      await q().sendBatch('orders', Array.from({ length: 5 }, (_, i) => ({ id: `n${i}`, body: `c${i}` })));
      expect(await q().receive('orders', { maxNumberOfMessages: 10 })).toHaveLength(10);
      expect(await q().receive('orders', { maxNumberOfMessages: 10 })).toHaveLength(5);
      for (const bad of [0, 11, 2.5]) {
        await expectSluiceError(q().receive('orders', { maxNumberOfMessages: bad }), 'InvalidParameterValue', /MaxNumberOfMessages.*1 to 10/);
      }
      await expectSluiceError(q().receive('orders', { visibilityTimeout: 43_201 }), 'InvalidParameterValue', /VisibilityTimeout/);
      await expectSluiceError(q().receive('orders', { waitTimeSeconds: 21 }), 'InvalidParameterValue', /WaitTimeSeconds/);
    });

    it('deletes by receipt handle; a stale handle succeeds without deleting', async () => {
      await q().create('orders', { VisibilityTimeout: 10 });
      await q().send('orders', { body: 'x' });
      const [first] = await q().receive('orders');
      await t.clock.advance(10_000);
      const [second] = await q().receive('orders');
      await q().deleteMessage('orders', first!.receiptHandle); // stale: accepted, message kept
      expect(await q().counts('orders')).toMatchObject({ inFlight: 1 });
      await q().deleteMessage('orders', second!.receiptHandle);
      expect(await q().counts('orders')).toMatchObject({ inFlight: 0, visible: 0 });
      await q().deleteMessage('orders', second!.receiptHandle); // already deleted: still succeeds
    });

    it('rejects malformed receipt handles and handles of another queue', async () => {
      await q().create('a');
      await q().create('b');
      await q().send('a', { body: 'x' });
      const [message] = await q().receive('a');
      await expectSluiceError(q().deleteMessage('a', 'garbage'), 'ReceiptHandleIsInvalid', /ReceiptHandle/);
      await expectSluiceError(q().deleteMessage('b', message!.receiptHandle), 'ReceiptHandleIsInvalid', /another queue/);
      await expectSluiceError(q().changeMessageVisibility('b', message!.receiptHandle, 0), 'ReceiptHandleIsInvalid');
    });

    it('changes the visibility of an in-flight message', async () => {
      await q().create('orders', { VisibilityTimeout: 30 });
      await q().send('orders', { body: 'x' });
      const [message] = await q().receive('orders');
      await q().changeMessageVisibility('orders', message!.receiptHandle, 100);
      await t.clock.advance(99_000);
      expect(await q().receive('orders')).toEqual([]);
      await q().changeMessageVisibility('orders', message!.receiptHandle, 0);
      const [again] = await q().receive('orders');
      expect(again!.messageId).toBe(message!.messageId);
      await expectSluiceError(q().changeMessageVisibility('orders', message!.receiptHandle, 10), 'ReceiptHandleIsInvalid', /received again/);
      await expectSluiceError(q().changeMessageVisibility('orders', again!.receiptHandle, 43_201), 'InvalidParameterValue', /0 to 43200/);
    });

    it('refuses to change the visibility of a message no longer in flight, or beyond 12 hours after its receive', async () => {
      await q().create('orders', { VisibilityTimeout: 30 });
      await q().send('orders', { body: 'x' });
      const [message] = await q().receive('orders');
      await t.clock.advance(20 * 60_000);
      await expectSluiceError(q().changeMessageVisibility('orders', message!.receiptHandle, 60), 'MessageNotInflight');
      const [again] = await q().receive('orders', { visibilityTimeout: 43_200 });
      await t.clock.advance(11 * 3600_000);
      await q().changeMessageVisibility('orders', again!.receiptHandle, 3000);
      await t.clock.advance(10 * 60_000);
      await expectSluiceError(q().changeMessageVisibility('orders', again!.receiptHandle, 43_200), 'InvalidParameterValue', /12 hours|43200 seconds/);
      await q().deleteMessage('orders', again!.receiptHandle);
      await expectSluiceError(q().changeMessageVisibility('orders', again!.receiptHandle, 10), 'InvalidParameterValue', /does not exist/);
    });

    it('sends a batch with per-entry results, failing only the bad entries', async () => {
      await q().create('orders');
      const result = await q().sendBatch('orders', [
        { id: 'ok1', body: 'one' },
        { id: 'bad', body: '' },
        { id: 'ok2', body: 'two', delaySeconds: 1 },
        { id: 'bad2', body: 'x', delaySeconds: 1000 },
      ]);
      expect(result.successful.map((s) => s.id)).toEqual(['ok1', 'ok2']);
      expect(result.successful[0]!.md5OfMessageBody).toBe(md5('one'));
      expect(result.failed).toEqual([
        expect.objectContaining({ id: 'bad', code: 'InvalidParameterValue', senderFault: true }),
        expect.objectContaining({ id: 'bad2', code: 'InvalidParameterValue', message: expect.stringContaining('Entries[3].DelaySeconds') }),
      ]);
      expect(await q().counts('orders')).toMatchObject({ visible: 1, delayed: 1 });
    });

    it('rejects whole batches that break the batch rules, storing nothing', async () => {
      await q().create('orders');
      await expectSluiceError(q().sendBatch('orders', []), 'EmptyBatchRequest');
      await expectSluiceError(
        q().sendBatch('orders', Array.from({ length: 11 }, (_, i) => ({ id: `m${i}`, body: 'x' }))),
        'TooManyEntriesInBatchRequest',
        /11 entries.*at most 10/,
      );
      await expectSluiceError(q().sendBatch('orders', [{ id: 'a', body: 'x' }, { id: 'a', body: 'y' }]), 'BatchEntryIdsNotDistinct');
      await expectSluiceError(q().sendBatch('orders', [{ id: 'no spaces', body: 'x' }]), 'InvalidBatchEntryId');
      await q().setAttributes('orders', { MaximumMessageSize: 1_048_576 });
      const big = 'x'.repeat(200_000);
      await expectSluiceError(
        q().sendBatch('orders', Array.from({ length: 6 }, (_, i) => ({ id: `m${i}`, body: big }))),
        'BatchRequestTooLong',
      );
      expect(await q().counts('orders')).toMatchObject({ visible: 0, delayed: 0 });
    });

    it('deletes and changes visibility in batches with per-entry results', async () => {
      await q().create('orders');
      await q().sendBatch('orders', [{ id: 'a', body: '1' }, { id: 'b', body: '2' }, { id: 'c', body: '3' }]);
      const received = await q().receive('orders', { maxNumberOfMessages: 3 });
      const change = await q().changeMessageVisibilityBatch('orders', [
        { id: 'x', receiptHandle: received[0]!.receiptHandle, visibilityTimeout: 0 },
        { id: 'y', receiptHandle: 'broken', visibilityTimeout: 0 },
      ]);
      expect(change.successful).toEqual([{ id: 'x' }]);
      expect(change.failed).toEqual([expect.objectContaining({ id: 'y', code: 'ReceiptHandleIsInvalid' })]);
      const deleted = await q().deleteMessageBatch('orders', [
        { id: 'p', receiptHandle: received[1]!.receiptHandle },
        { id: 'q', receiptHandle: received[2]!.receiptHandle },
        { id: 'r', receiptHandle: 'nonsense' },
      ]);
      expect(deleted.successful).toEqual([{ id: 'p' }, { id: 'q' }]);
      expect(deleted.failed).toEqual([expect.objectContaining({ id: 'r', code: 'ReceiptHandleIsInvalid' })]);
      expect(await q().counts('orders')).toMatchObject({ visible: 1, inFlight: 0 });
      await expectSluiceError(q().deleteMessageBatch('orders', []), 'EmptyBatchRequest');
    });

    it('drops messages older than the retention period', async () => {
      await q().create('orders', { MessageRetentionPeriod: 60 });
      await q().send('orders', { body: 'old' });
      await t.clock.advance(30_000);
      await q().send('orders', { body: 'young' });
      await t.clock.advance(30_001);
      expect((await q().counts('orders')).visible).toBe(1);
      expect((await q().receive('orders', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['young']);
      await t.clock.advance(60_000);
      expect(await q().counts('orders')).toMatchObject({ visible: 0, inFlight: 0 });
    });

    it('reports approximate counts and the age of the oldest message', async () => {
      await q().create('orders');
      await q().send('orders', { body: 'a' });
      await q().send('orders', { body: 'b' });
      await q().send('orders', { body: 'c', delaySeconds: 60 });
      await t.clock.advance(5000);
      await q().receive('orders');
      expect(await q().counts('orders')).toEqual({ visible: 1, inFlight: 1, delayed: 1, oldestAgeSeconds: 5 });
    });
  });
}
