/** Triggers with `groupBy`: they group their queue and run it within its group limits. */
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSluiceError } from '../model/errors.js';
import { openTestEngine, sleep, type TestEngine } from '../testkit/engine.js';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine();
  await t.sluice.queues.create('tasks', { VisibilityTimeout: 10 });
  await t.sluice.queues.create('tasks.fifo', { FifoQueue: true, VisibilityTimeout: 10 });
  await t.sluice.functions.create({ name: 'work', timeout: 5, handler: async () => null });
  await t.sluice.functions.create({ name: 'audit', timeout: 5, handler: async () => null });
});
afterEach(async () => {
  await t.close();
});

const rejected = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('triggers with groupBy', () => {
  it("sets the queue's grouping rule and reports it", async () => {
    const view = await t.sluice.triggers.create({
      queue: 'tasks',
      functionName: 'work',
      groupBy: 'attribute:tenant',
    });
    expect(view.groupBy).toBe('attribute:tenant');
    expect((await t.sluice.queues.definition('tasks')).settings.SluiceGroupKey).toBe('attribute:tenant');
  });

  it('refuses a second trigger that would group the same queue another way', async () => {
    await t.sluice.triggers.create({ queue: 'tasks', functionName: 'work', groupBy: 'MessageGroupId' });
    const error = await rejected(
      t.sluice.triggers.create({ queue: 'tasks', functionName: 'audit', groupBy: 'body:tenant' }),
    );
    expect(isSluiceError(error, 'ResourceConflictException') && error.message).toMatch(
      /grouped by 'MessageGroupId'/,
    );
    await t.sluice.triggers.create({ queue: 'tasks', functionName: 'audit', groupBy: 'MessageGroupId' });
  });

  it('refuses FIFO queues, batching windows and malformed rules; allows big batches without a window', async () => {
    expect(
      await rejected(
        t.sluice.triggers.create({ queue: 'tasks.fifo', functionName: 'work', groupBy: 'MessageGroupId' }),
      ),
    ).toMatchObject({
      code: 'InvalidParameterValue',
      field: 'GroupBy',
    });
    expect(
      await rejected(
        t.sluice.triggers.create({
          queue: 'tasks',
          functionName: 'work',
          groupBy: 'MessageGroupId',
          maximumBatchingWindowInSeconds: 1,
        }),
      ),
    ).toMatchObject({ field: 'MaximumBatchingWindowInSeconds' });
    expect(
      await rejected(t.sluice.triggers.create({ queue: 'tasks', functionName: 'work', groupBy: 'tenant' })),
    ).toMatchObject({ field: 'GroupBy' });
    const view = await t.sluice.triggers.create({
      queue: 'tasks',
      functionName: 'work',
      groupBy: 'MessageGroupId',
      batchSize: 5000,
    });
    expect(view.batchSize).toBe(5000);
  });

  it("refuses a queue whose visibility timeout is shorter than the function's timeout, as Lambda does", async () => {
    await t.sluice.queues.create('short', { VisibilityTimeout: 2 });
    expect(
      await rejected(
        t.sluice.triggers.create({ queue: 'short', functionName: 'work', groupBy: 'MessageGroupId' }),
      ),
    ).toMatchObject({
      code: 'InvalidParameterValue',
    });
  });

  it("keeps a failed batch's group slot until its messages' visibility timeout ends", async () => {
    const starts: number[] = [];
    await t.sluice.functions.update('work', {
      handler: async (event: SQSEvent) => {
        starts.push(t.clock.now());
        await sleep(t.clock, 100);
        if (event.Records[0]!.attributes.ApproximateReceiveCount === '1') throw new Error('first try fails');
      },
    });
    await t.sluice.groupLimits.set('tasks', 'acme', { maxConcurrency: 1 });
    await t.sluice.queues.send('tasks', { body: 'one', messageGroupId: 'acme' });
    await t.sluice.queues.send('tasks', { body: 'two', messageGroupId: 'acme' });
    const began = t.clock.now();
    await t.sluice.triggers.create({
      queue: 'tasks',
      functionName: 'work',
      groupBy: 'MessageGroupId',
      batchSize: 1,
    });
    await t.until(() => starts.length >= 2, { stepMs: 100 });
    // The failed message holds acme's only slot for the queue's 10 s visibility timeout.
    expect(starts[1]! - began).toBeGreaterThanOrEqual(10_000);
  });

  it('queries nothing once a grouped queue is drained, rate-limited groups included', async () => {
    const handled: string[] = [];
    await t.sluice.functions.update('work', {
      handler: async (event: SQSEvent) => void handled.push(...event.Records.map((r) => r.body)),
    });
    await t.sluice.groupLimits.setDefault('tasks', {
      maxConcurrency: 1,
      rate: { limit: 1, intervalSeconds: 5 },
    });
    for (const group of ['a', 'b', 'c'])
      for (let i = 0; i < 2; i++) await t.sluice.queues.send('tasks', { body: group, messageGroupId: group });
    await t.sluice.triggers.create({ queue: 'tasks', functionName: 'work', groupBy: 'MessageGroupId' });
    await t.until(() => handled.length === 6, { stepMs: 100 });
    await t.clock.advance(1_000);
    t.counting.reset();
    await t.clock.advance(60_000);
    expect(t.counting.total()).toBe(0);
  });
});
