import { describe, expect, it } from 'vitest';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function fifoConformance(backend: BackendUnderTest): void {
  describe(`FIFO queues [${backend.name}]`, () => {
    const t = useEngine(backend);
    const q = () => t.sluice.queues;
    const send = (groupId: string, body: string, dedup = body) =>
      q().send('jobs.fifo', { body, messageGroupId: groupId, messageDeduplicationId: dedup });

    it('delivers the messages of a group in order, with growing sequence numbers', async () => {
      await q().create('jobs.fifo');
      const sequences: bigint[] = [];
      for (let i = 0; i < 25; i++) sequences.push(BigInt((await send('g', `m${i}`)).sequenceNumber!));
      expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
      const bodies: string[] = [];
      for (;;) {
        const batch = await q().receive('jobs.fifo', { maxNumberOfMessages: 10 });
        if (batch.length === 0) break;
        bodies.push(...batch.map((m) => m.body));
        await q().deleteMessageBatch('jobs.fifo', batch.map((m, i) => ({ id: `d${i}`, receiptHandle: m.receiptHandle })));
      }
      expect(bodies).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    });

    it('delivers nothing more from a group while one of its messages is in flight', async () => {
      await q().create('jobs.fifo', { VisibilityTimeout: 30 });
      await send('g', 'first');
      await send('g', 'second');
      const [first] = await q().receive('jobs.fifo');
      expect(first!.body).toBe('first');
      expect(await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).toEqual([]);
      await q().deleteMessage('jobs.fifo', first!.receiptHandle);
      expect((await q().receive('jobs.fifo')).map((m) => m.body)).toEqual(['second']);
    });

    it('redelivers the same head first when its visibility times out', async () => {
      await q().create('jobs.fifo', { VisibilityTimeout: 10 });
      await send('g', 'a');
      await send('g', 'b');
      const first = await q().receive('jobs.fifo', { maxNumberOfMessages: 10 });
      expect(first.map((m) => m.body)).toEqual(['a', 'b']);
      await t.clock.advance(10_000);
      const again = await q().receive('jobs.fifo', { maxNumberOfMessages: 1 });
      expect(again.map((m) => [m.body, m.attributes.ApproximateReceiveCount])).toEqual([['a', '2']]);
    });

    it('serves different groups in parallel and fills a receive from as few groups as possible', async () => {
      await q().create('jobs.fifo');
      for (const group of ['a', 'b', 'c']) for (let i = 0; i < 4; i++) await send(group, `${group}${i}`);
      const batch = await q().receive('jobs.fifo', { maxNumberOfMessages: 6 });
      const groups = batch.map((m) => m.attributes.MessageGroupId);
      expect(batch.map((m) => m.body)).toEqual(['a0', 'a1', 'a2', 'a3', 'b0', 'b1']);
      expect(new Set(groups).size).toBe(2);
      // a and b are now blocked; c is still available to another consumer.
      expect((await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['c0', 'c1', 'c2', 'c3']);
    });

    it('accepts a duplicate inside five minutes without delivering it again', async () => {
      await q().create('jobs.fifo');
      const original = await send('g', 'x', 'id-1');
      const duplicate = await send('g', 'different body, same id', 'id-1');
      expect(duplicate.messageId).toBe(original.messageId);
      expect(duplicate.sequenceNumber).toBe(original.sequenceNumber);
      expect((await q().counts('jobs.fifo')).visible).toBe(1);
      await t.clock.advance(5 * 60_000);
      const later = await send('g', 'after the window', 'id-1');
      expect(later.messageId).not.toBe(original.messageId);
      expect((await q().counts('jobs.fifo')).visible).toBe(2);
    });

    it('deduplicates by body content when ContentBasedDeduplication is on', async () => {
      await q().create('jobs.fifo', { ContentBasedDeduplication: true });
      const a = await q().send('jobs.fifo', { body: 'same', messageGroupId: 'g' });
      const b = await q().send('jobs.fifo', { body: 'same', messageGroupId: 'h' });
      const c = await q().send('jobs.fifo', { body: 'other', messageGroupId: 'g' });
      expect(b.messageId).toBe(a.messageId);
      expect(c.messageId).not.toBe(a.messageId);
      const [message] = await q().receive('jobs.fifo');
      expect(message!.attributes.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    });

    it('scopes deduplication to the message group when DeduplicationScope is messageGroup', async () => {
      await q().create('jobs.fifo', { DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' });
      await send('g1', 'x', 'same-id');
      await send('g2', 'y', 'same-id');
      await send('g2', 'z', 'same-id');
      expect((await q().counts('jobs.fifo')).visible).toBe(2);
    });

    it('enforces the FIFO send rules', async () => {
      await q().create('jobs.fifo');
      await expectSluiceError(q().send('jobs.fifo', { body: 'x', messageDeduplicationId: 'd' }), 'MissingParameter', /MessageGroupId/);
      await expectSluiceError(q().send('jobs.fifo', { body: 'x', messageGroupId: 'g' }), 'InvalidParameterValue', /ContentBasedDeduplication/);
      await expectSluiceError(
        q().send('jobs.fifo', { body: 'x', messageGroupId: 'g', messageDeduplicationId: 'd', delaySeconds: 5 }),
        'InvalidParameterValue',
        /DelaySeconds.*FIFO/,
      );
      await expectSluiceError(
        q().send('jobs.fifo', { body: 'x', messageGroupId: 'g'.repeat(129), messageDeduplicationId: 'd' }),
        'InvalidParameterValue',
        /MessageGroupId/,
      );
      await q().create('plain');
      await expectSluiceError(q().send('plain', { body: 'x', messageDeduplicationId: 'd' }), 'InvalidParameterValue', /only valid for FIFO/);
    });

    it('returns FIFO system attributes on receive', async () => {
      await q().create('jobs.fifo');
      const sent = await send('grp', 'body', 'dedup');
      const [message] = await q().receive('jobs.fifo');
      expect(message!.attributes).toMatchObject({
        MessageGroupId: 'grp',
        MessageDeduplicationId: 'dedup',
        SequenceNumber: sent.sequenceNumber,
      });
    });

    it('applies the queue delay to FIFO messages', async () => {
      await q().create('jobs.fifo', { DelaySeconds: 5 });
      await send('g', 'x');
      expect(await q().receive('jobs.fifo')).toEqual([]);
      await t.clock.advance(5000);
      expect(await q().receive('jobs.fifo')).toHaveLength(1);
    });

    it('keeps a group blocked while a later received message is in flight, even if the head is made visible', async () => {
      await q().create('jobs.fifo', { VisibilityTimeout: 30 });
      await send('g', 'a');
      await send('g', 'b');
      await send('g', 'c');
      const [a] = await q().receive('jobs.fifo', { maxNumberOfMessages: 2 });
      await q().changeMessageVisibility('jobs.fifo', a!.receiptHandle, 0);
      expect(await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).toEqual([]);
      await t.clock.advance(30_000);
      expect((await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['a', 'b', 'c']);
    });

    it('lets a visibility change to zero release the group at once', async () => {
      await q().create('jobs.fifo');
      await send('g', 'a');
      await send('g', 'b');
      const [a] = await q().receive('jobs.fifo');
      await q().changeMessageVisibility('jobs.fifo', a!.receiptHandle, 0);
      expect((await q().receive('jobs.fifo', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual(['a', 'b']);
    });
  });
}
