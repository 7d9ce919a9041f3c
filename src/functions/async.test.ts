import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gate, openTestEngine, type TestEngine } from '../testkit/engine.js';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine();
  await t.sluice.queues.create('succeeded');
  await t.sluice.queues.create('failed');
});
afterEach(async () => {
  await t.close();
});

const queueArn = (name: string) => t.sluice.queues.arnOf(name);

async function destinationRecords(queue: string): Promise<Array<Record<string, unknown>>> {
  const messages = await t.sluice.queues.receive(queue, { maxNumberOfMessages: 10 });
  return messages.map((m) => JSON.parse(m.body) as Record<string, unknown>);
}

describe('asynchronous invocation', () => {
  it('accepts the event at once and sends the result to the OnSuccess destination', async () => {
    await t.sluice.functions.create({
      name: 'greet',
      handler: async (event: { who: string }) => `hello ${event.who}`,
      async: { onSuccess: { destination: queueArn('succeeded') } },
    });
    const accepted = await t.sluice.functions.invokeAsync('greet', { who: 'ada' });
    expect(accepted.statusCode).toBe(202);
    await t.until(async () => (await t.sluice.queues.counts('succeeded')).visible === 1);
    const [record] = await destinationRecords('succeeded');
    expect(record).toEqual({
      version: '1.0',
      timestamp: new Date(t.clock.now()).toISOString(),
      requestContext: {
        requestId: accepted.requestId,
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:greet:$LATEST',
        condition: 'Success',
        approximateInvokeCount: 1,
      },
      requestPayload: { who: 'ada' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: 'hello ada',
    });
  });

  it('retries a failure twice, one then two minutes later, then sends it to OnFailure', async () => {
    const attempts: number[] = [];
    const started = t.clock.now();
    await t.sluice.functions.create({
      name: 'flaky',
      handler: async () => {
        attempts.push(t.clock.now() - started);
        throw new Error('downstream is down');
      },
      async: { onFailure: { destination: queueArn('failed') } },
    });
    await t.sluice.functions.invokeAsync('flaky', { order: 1 });
    await t.until(async () => (await t.sluice.queues.counts('failed')).visible === 1, { stepMs: 1_000 });
    expect(attempts).toEqual([0, 60_000, 180_000]);
    const [record] = await destinationRecords('failed');
    expect(record).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { order: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'downstream is down' },
    });
    expect(t.sluice.functions.metrics('flaky')).toMatchObject({ invocations: 3, errors: 3 });
  });

  it('stops after the first attempt when MaximumRetryAttempts is 0, and succeeds on a retry', async () => {
    let calls = 0;
    await t.sluice.functions.create({
      name: 'once',
      handler: async () => {
        calls++;
        throw new Error('no');
      },
      async: { maximumRetryAttempts: 0 },
    });
    await t.sluice.functions.invokeAsync('once');
    await t.clock.advance(600_000);
    expect(calls).toBe(1);

    await t.sluice.functions.create({
      name: 'second-time-lucky',
      handler: async () => {
        calls++;
        if (calls === 2) throw new Error('first try fails');
        return 'ok';
      },
      async: { onSuccess: { destination: queueArn('succeeded') } },
    });
    await t.sluice.functions.invokeAsync('second-time-lucky');
    await t.until(async () => (await t.sluice.queues.counts('succeeded')).visible === 1, { stepMs: 1_000 });
    expect((await destinationRecords('succeeded'))[0]).toMatchObject({
      requestContext: { condition: 'Success', approximateInvokeCount: 2 },
    });
  });

  it('counts a timeout as a failure to retry', async () => {
    await t.sluice.functions.create({
      name: 'hangs',
      timeout: 1,
      handler: () => new Promise(() => undefined),
      async: { maximumRetryAttempts: 1, onFailure: { destination: queueArn('failed') } },
    });
    await t.sluice.functions.invokeAsync('hangs');
    await t.until(async () => (await t.sluice.queues.counts('failed')).visible === 1, { stepMs: 1_000 });
    expect((await destinationRecords('failed'))[0]).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 2 },
      responsePayload: { errorType: 'Sandbox.Timedout' },
    });
    expect(t.sluice.functions.metrics('hangs').timeouts).toBe(2);
  });

  it('holds a throttled event until a slot frees, in arrival order', async () => {
    const release = gate();
    const order: string[] = [];
    await t.sluice.functions.create({
      name: 'single',
      reservedConcurrency: 1,
      handler: async (event: string) => {
        order.push(event);
        if (event === 'first') await release.promise;
      },
    });
    await t.sluice.functions.invokeAsync('single', 'first');
    await t.sluice.functions.invokeAsync('single', 'second');
    await t.sluice.functions.invokeAsync('single', 'third');
    await t.clock.advance(1_000);
    expect(order).toEqual(['first']);
    expect(t.sluice.functions.metrics('single').throttles).toBe(2);
    release.open();
    await t.until(() => order.length === 3);
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('drops an event older than MaximumEventAgeInSeconds and reports EventAgeExceeded', async () => {
    await t.sluice.functions.create({
      name: 'disabled',
      reservedConcurrency: 0,
      handler: async () => 'never runs',
      async: { maximumEventAgeInSeconds: 60, onFailure: { destination: queueArn('failed') } },
    });
    await t.sluice.functions.invokeAsync('disabled', { late: true });
    await t.clock.advance(59_000);
    expect((await t.sluice.queues.counts('failed')).visible).toBe(0);
    await t.clock.advance(2_000);
    const [record] = await destinationRecords('failed');
    expect(record).toMatchObject({
      requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 },
      requestPayload: { late: true },
    });
    expect(record).not.toHaveProperty('responsePayload');
  });

  it('drops an event that ages out between retries', async () => {
    await t.sluice.functions.create({
      name: 'ages',
      handler: async () => {
        throw new Error('fails');
      },
      async: { maximumEventAgeInSeconds: 90, onFailure: { destination: queueArn('failed') } },
    });
    await t.sluice.functions.invokeAsync('ages');
    await t.until(async () => (await t.sluice.queues.counts('failed')).visible === 1, { stepMs: 1_000 });
    // Attempt at 0 s and 60 s; the retry due at 180 s is past the 90 s age.
    expect((await destinationRecords('failed'))[0]).toMatchObject({
      requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 2 },
    });
    expect(t.clock.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1) + 180_000);
  });

  it('sends a destination record to a function destination', async () => {
    const received: unknown[] = [];
    await t.sluice.functions.create({
      name: 'audit',
      handler: async (record: unknown) => void received.push(record),
    });
    await t.sluice.functions.create({
      name: 'source',
      handler: async () => 42,
      async: { onSuccess: { destination: t.sluice.functions.arnOf('audit') } },
    });
    await t.sluice.functions.invokeAsync('source', 'payload');
    await t.until(() => received.length === 1);
    expect(received[0]).toMatchObject({
      requestContext: { condition: 'Success' },
      requestPayload: 'payload',
      responsePayload: 42,
    });
  });
});
