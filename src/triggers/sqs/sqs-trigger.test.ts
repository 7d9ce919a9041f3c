import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gate, openTestEngine, sleep, type TestEngine } from '../../testkit/engine.js';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine();
  await t.sluice.queues.create('orders-dlq');
  await t.sluice.queues.create('orders', {
    VisibilityTimeout: 10,
    RedrivePolicy: {
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:orders-dlq',
      maxReceiveCount: 3,
    },
  });
});
afterEach(async () => {
  await t.close();
});

const q = () => t.sluice.queues;

/** A function that records every event it gets and answers with `respond`. */
async function recordingFunction(respond: (event: SQSEvent) => unknown | Promise<unknown> = () => undefined) {
  const events: SQSEvent[] = [];
  await t.sluice.functions.create({
    name: 'work',
    timeout: 5,
    handler: async (event: SQSEvent) => {
      events.push(event);
      return respond(event);
    },
  });
  return events;
}

const settleTurns = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};
const bodies = (events: SQSEvent[]) => events.flatMap((e) => e.Records.map((r) => r.body));
const drained = async (queue = 'orders') => {
  const counts = await q().counts(queue);
  return counts.visible + counts.inFlight + counts.delayed === 0;
};

describe('the SQS event', () => {
  it('hands the function exactly the SQSEvent Lambda would', async () => {
    const events = await recordingFunction();
    const sent = await q().send('orders', {
      body: '{"orderId":7}',
      messageAttributes: {
        tenant: { dataType: 'String', stringValue: 'acme' },
        blob: { dataType: 'Binary', binaryValue: 'AQID' },
      },
    });
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await t.until(() => events.length === 1);
    const record = events[0]!.Records[0]!;
    const expected: SQSRecord = {
      messageId: sent.messageId,
      receiptHandle: record.receiptHandle,
      body: '{"orderId":7}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.UTC(2026, 0, 1)),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: String(Date.UTC(2026, 0, 1)),
      },
      messageAttributes: {
        tenant: { stringValue: 'acme', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: sent.md5OfMessageBody,
      md5OfMessageAttributes: sent.md5OfMessageAttributes!,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:orders',
      awsRegion: 'us-east-1',
    };
    expect(events[0]).toEqual({ Records: [expected] });
    expect(typeof record.receiptHandle).toBe('string');
  });

  it('gives FIFO records their group, deduplication id and sequence number', async () => {
    await q().create('steps.fifo', { FifoQueue: true });
    const events = await recordingFunction();
    const sent = await q().send('steps.fifo', {
      body: 'one',
      messageGroupId: 'g',
      messageDeduplicationId: 'd1',
    });
    await t.sluice.triggers.create({ queue: 'steps.fifo', functionName: 'work' });
    await t.until(() => events.length === 1);
    expect(events[0]!.Records[0]!.attributes).toMatchObject({
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd1',
      SequenceNumber: sent.sequenceNumber,
    });
  });
});

describe('success and failure', () => {
  it('deletes the messages of a successful batch', async () => {
    const events = await recordingFunction();
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    for (let i = 0; i < 25; i++) await q().send('orders', { body: `m${i}` });
    await t.until(drained);
    expect(bodies(events).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`).sort());
    expect(events.every((e) => e.Records.length <= 10)).toBe(true);
  });

  it('leaves a failed batch to come back after the visibility timeout, then moves it to the DLQ', async () => {
    const receiveTimes: number[] = [];
    const start = t.clock.now();
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => {
        receiveTimes.push(t.clock.now() - start);
        expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe(String(receiveTimes.length));
        throw new Error('poison');
      },
    });
    const trigger = await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await q().send('orders', { body: 'poison' });
    await t.until(async () => (await q().counts('orders-dlq')).visible === 1, { stepMs: 500 });
    expect(receiveTimes).toEqual([0, 10_000, 20_000]);
    expect(await drained()).toBe(true);
    const [dead] = await q().receive('orders-dlq');
    expect(dead!.body).toBe('poison');
    expect(dead!.attributes.ApproximateReceiveCount).toBe('4');
    expect(t.sluice.triggers.metrics(trigger.uuid)).toMatchObject({
      batches: 3,
      failedBatches: 3,
      failedRecords: 3,
    });
    expect(t.sluice.triggers.get(trigger.uuid).lastProcessingResult).toBe('PROBLEM: Function call failed');
  });

  it('fails the batch when the function times out', async () => {
    await t.sluice.functions.create({
      name: 'work',
      timeout: 2,
      handler: () => new Promise(() => undefined),
    });
    const trigger = await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await q().send('orders', { body: 'slow' });
    await t.clock.advance(0);
    await t.clock.advance(2_000);
    expect(t.sluice.triggers.metrics(trigger.uuid)).toMatchObject({ failedBatches: 1 });
    expect((await q().counts('orders')).inFlight).toBe(1);
    expect(t.sluice.functions.metrics('work').timeouts).toBe(1);
  });
});

describe('ReportBatchItemFailures', () => {
  async function batchOfFive(respond: (event: SQSEvent) => unknown, reportBatchItemFailures = true) {
    const events = await recordingFunction(respond);
    for (let i = 0; i < 5; i++) await q().send('orders', { body: `m${i}` });
    await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      functionResponseTypes: reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    });
    await t.until(() => events.length === 1);
    await t.clock.advance(0);
    return events;
  }

  it('returns only the reported messages to the queue', async () => {
    const events = await batchOfFive((event): SQSBatchResponse => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'm1' || r.body === 'm3').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    }));
    expect((await q().counts('orders')).inFlight).toBe(2);
    await t.until(() => events.length === 2, { stepMs: 1_000 });
    expect(events[1]!.Records.map((r) => r.body).sort()).toEqual(['m1', 'm3']);
  });

  it('treats an empty list as complete success', async () => {
    await batchOfFive(() => ({ batchItemFailures: [] }));
    expect(await drained()).toBe(true);
  });

  it('fails the whole batch for an identifier that is not in it', async () => {
    await batchOfFive(() => ({ batchItemFailures: [{ itemIdentifier: 'not-a-message-of-this-batch' }] }));
    expect((await q().counts('orders')).inFlight).toBe(5);
  });

  it('fails the whole batch when the handler throws', async () => {
    await batchOfFive(() => {
      throw new Error('boom');
    });
    expect((await q().counts('orders')).inFlight).toBe(5);
  });

  it('ignores a batch response when the trigger does not ask for one', async () => {
    await batchOfFive(
      (event) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] }),
      false,
    );
    expect(await drained()).toBe(true);
  });
});

describe('filters', () => {
  it('invokes with matching messages and deletes the others', async () => {
    const events = await recordingFunction();
    const trigger = await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      filterCriteria: {
        Filters: [
          { Pattern: JSON.stringify({ body: { type: ['order'], amount: [{ numeric: ['>', 100] }] } }) },
        ],
      },
    });
    await q().send('orders', { body: JSON.stringify({ type: 'order', amount: 150 }) });
    await q().send('orders', { body: JSON.stringify({ type: 'order', amount: 50 }) });
    await q().send('orders', { body: JSON.stringify({ type: 'refund', amount: 500 }) });
    await q().send('orders', { body: 'not json' });
    await t.until(drained);
    expect(bodies(events)).toEqual([JSON.stringify({ type: 'order', amount: 150 })]);
    expect(t.sluice.triggers.metrics(trigger.uuid)).toMatchObject({ records: 1, filteredRecords: 3 });
  });

  it('deletes a batch that matches nothing without invoking', async () => {
    const events = await recordingFunction();
    await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      filterCriteria: { Filters: [{ Pattern: '{"body":{"never":["x"]}}' }] },
    });
    await q().send('orders', { body: '{"other":1}' });
    await t.until(drained);
    expect(events).toHaveLength(0);
  });
});

describe('batching', () => {
  it('gathers messages for up to the batching window before invoking', async () => {
    const events = await recordingFunction();
    await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      batchSize: 100,
      maximumBatchingWindowInSeconds: 5,
    });
    await q().send('orders', { body: 'first' });
    await t.clock.advance(0); // the window opens with the first message
    await t.clock.advance(2_000);
    await q().send('orders', { body: 'second' });
    await t.clock.advance(2_999);
    expect(events).toHaveLength(0);
    await t.clock.advance(1);
    expect(events.map((e) => e.Records.map((r) => r.body))).toEqual([['first', 'second']]);
  });

  it('invokes as soon as the batch is full, taking more than 10 messages in one claim', async () => {
    const events = await recordingFunction();
    const sends = Array.from({ length: 300 }, (_, i) => ({ id: `e${i % 10}`, body: `m${i}` }));
    for (let i = 0; i < sends.length; i += 10) await q().sendBatch('orders', sends.slice(i, i + 10));
    t.counting.reset();
    await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      batchSize: 250,
      maximumBatchingWindowInSeconds: 60,
    });
    await t.until(() => events.length >= 1);
    expect(events[0]!.Records).toHaveLength(250);
    expect(t.clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(t.counting.calls.get('messageReceive')).toBeLessThanOrEqual(3);
    await t.until(drained, { stepMs: 1_000 });
    expect(bodies(events)).toHaveLength(300);
  });
});

describe('run-time changes', () => {
  it('stops invoking while disabled and resumes when enabled', async () => {
    const events = await recordingFunction();
    const { uuid } = await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      enabled: false,
    });
    await q().send('orders', { body: 'waits' });
    await t.clock.advance(60_000);
    expect(events).toHaveLength(0);
    expect((await q().counts('orders')).visible).toBe(1);
    await t.sluice.triggers.update(uuid, { enabled: true });
    await t.until(() => events.length === 1);
    await t.sluice.triggers.update(uuid, { enabled: false });
    await q().send('orders', { body: 'waits again' });
    await t.clock.advance(60_000);
    expect(bodies(events)).toEqual(['waits']);
    expect(t.sluice.triggers.get(uuid).state).toBe('Disabled');
  });

  it('hands the messages it claimed ahead back to the queue when disabled, and loses none', async () => {
    const release = gate();
    const seen: string[] = [];
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => {
        seen.push(...event.Records.map((r) => r.body));
        if (seen.length > 20) await release.promise; // the pollers stop here, holding what they claimed ahead
      },
    });
    for (let i = 0; i < 10; i++)
      await q().sendBatch('orders', Array.from({ length: 10 }, (_, j) => ({ id: `e${j}`, body: `m${i * 10 + j}` })));
    const { uuid } = await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      batchSize: 1,
      scalingConfig: { maximumConcurrency: 4 },
    });
    await t.until(() => seen.length >= 24);
    const whileRunning = await q().counts('orders');
    expect(whileRunning.inFlight).toBeGreaterThan(4); // batches are fast: more than the 4 running were claimed
    await t.sluice.triggers.update(uuid, { enabled: false });
    await settleTurns();
    expect((await q().counts('orders')).inFlight).toBe(4); // only the batches under way
    release.open();
    await t.until(async () => (await q().counts('orders')).inFlight === 0);
    await t.sluice.triggers.update(uuid, { enabled: true });
    await t.until(drained);
    expect(new Set(seen).size).toBe(100);
  });

  it('lets a batch under way finish when its trigger is disabled', async () => {
    const release = gate();
    let finished = 0;
    await t.sluice.functions.create({
      name: 'work',
      handler: async () => {
        await release.promise;
        finished++;
      },
    });
    const { uuid } = await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await q().send('orders', { body: 'in hand' });
    await t.clock.advance(0);
    await t.sluice.triggers.update(uuid, { enabled: false });
    release.open();
    await t.until(() => finished === 1);
    await t.until(drained);
  });

  it('applies a new batch size and a new function to the next batches', async () => {
    const first = await recordingFunction();
    const second: SQSEvent[] = [];
    await t.sluice.functions.create({
      name: 'other',
      handler: async (event: SQSEvent) => void second.push(event),
    });
    for (let i = 0; i < 4; i++) await q().send('orders', { body: `a${i}` });
    const { uuid } = await t.sluice.triggers.create({ queue: 'orders', functionName: 'work', batchSize: 2 });
    await t.until(drained);
    expect(first.map((e) => e.Records.length)).toEqual([2, 2]);
    await t.sluice.triggers.update(uuid, { enabled: false });
    for (let i = 0; i < 3; i++) await q().send('orders', { body: `b${i}` });
    await t.sluice.triggers.update(uuid, { functionName: 'other', batchSize: 3, enabled: true });
    await t.until(drained);
    expect(second.map((e) => e.Records.length)).toEqual([3]);
    expect(bodies(second).sort()).toEqual(['b0', 'b1', 'b2']);
    expect(first).toHaveLength(2);
  });

  it('stops all work when deleted', async () => {
    const events = await recordingFunction(async () => {
      await sleep(t.clock, 1_000);
    });
    const { uuid } = await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await q().send('orders', { body: 'before' });
    await t.clock.advance(0);
    const deleted = t.sluice.triggers.delete(uuid);
    await t.clock.advance(1_000);
    await deleted;
    await q().send('orders', { body: 'after' });
    await t.clock.advance(60_000);
    expect(bodies(events)).toEqual(['before']);
    expect((await q().counts('orders')).visible).toBe(1);
    expect(() => t.sluice.triggers.get(uuid)).toThrow(/no trigger/);
  });

  it('waits for a deleted function to come back, then resumes', async () => {
    const events = await recordingFunction();
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await t.sluice.functions.delete('work');
    await q().send('orders', { body: 'orphan' });
    await t.clock.advance(60_000);
    expect((await q().counts('orders')).visible).toBe(1);
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => void events.push(event),
    });
    await t.until(drained);
    expect(bodies(events)).toEqual(['orphan']);
  });
});
