import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestEngine, type TestEngine } from '../testkit/engine.js';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine();
  await t.sluice.queues.create('orders');
  await t.sluice.queues.create('orders.fifo', { FifoQueue: true });
  await t.sluice.functions.create({ name: 'work', handler: async () => null });
});
afterEach(async () => {
  await t.close();
});

describe('trigger definitions', () => {
  it("applies Lambda's defaults", async () => {
    const view = await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    expect(view).toMatchObject({
      eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:orders',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:work',
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      scalingConfig: {},
      filterCriteria: null,
      functionResponseTypes: [],
      state: 'Enabled',
      lastProcessingResult: 'No records processed',
    });
    expect(view.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts the queue by ARN and 10,000 messages with a window', async () => {
    const view = await t.sluice.triggers.create({
      queue: t.sluice.queues.arnOf('orders'),
      functionName: 'work',
      batchSize: 10_000,
      maximumBatchingWindowInSeconds: 1,
      scalingConfig: { maximumConcurrency: 2 },
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(view).toMatchObject({
      queue: 'orders',
      batchSize: 10_000,
      scalingConfig: { maximumConcurrency: 2 },
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it.each([
    [{ batchSize: 0 }, 'BatchSize'],
    [{ batchSize: 10_001, maximumBatchingWindowInSeconds: 1 }, 'BatchSize'],
    [{ batchSize: 11 }, 'MaximumBatchingWindowInSeconds'],
    [{ maximumBatchingWindowInSeconds: 301 }, 'MaximumBatchingWindowInSeconds'],
    [{ scalingConfig: { maximumConcurrency: 1 } }, 'ScalingConfig.MaximumConcurrency'],
    [{ scalingConfig: { maximumConcurrency: 1001 } }, 'ScalingConfig.MaximumConcurrency'],
    [{ functionResponseTypes: ['Everything'] }, 'FunctionResponseTypes'],
    [{ filterCriteria: { Filters: [{ Pattern: 'not json' }] } }, 'FilterCriteria.Filters[0].Pattern'],
    [{ enabled: 'yes' }, 'Enabled'],
  ])('refuses %j, naming %s', async (change, field) => {
    await expect(
      t.sluice.triggers.create({ queue: 'orders', functionName: 'work', ...(change as object) }),
    ).rejects.toMatchObject({
      code: 'InvalidParameterValue',
      field,
    });
  });

  it('limits FIFO queues to batches of 10 without a window', async () => {
    await expect(
      t.sluice.triggers.create({
        queue: 'orders.fifo',
        functionName: 'work',
        batchSize: 11,
        maximumBatchingWindowInSeconds: 1,
      }),
    ).rejects.toMatchObject({
      field: 'BatchSize',
    });
    await expect(
      t.sluice.triggers.create({
        queue: 'orders.fifo',
        functionName: 'work',
        maximumBatchingWindowInSeconds: 1,
      }),
    ).rejects.toMatchObject({
      field: 'MaximumBatchingWindowInSeconds',
    });
  });

  it("refuses a queue whose visibility timeout is shorter than the function's timeout", async () => {
    await t.sluice.functions.create({ name: 'long', timeout: 60, handler: async () => null });
    await expect(t.sluice.triggers.create({ queue: 'orders', functionName: 'long' })).rejects.toThrow(
      'Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds',
    );
  });

  it('refuses unknown queues and functions, and a second trigger for the same pair', async () => {
    await expect(t.sluice.triggers.create({ queue: 'nope', functionName: 'work' })).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
    });
    await expect(t.sluice.triggers.create({ queue: 'orders', functionName: 'nope' })).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
    });
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work' });
    await expect(t.sluice.triggers.create({ queue: 'orders', functionName: 'work' })).rejects.toMatchObject({
      code: 'ResourceConflictException',
    });
  });

  it('validates an update against the current settings', async () => {
    const { uuid } = await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      batchSize: 100,
      maximumBatchingWindowInSeconds: 5,
    });
    await expect(t.sluice.triggers.update(uuid, { maximumBatchingWindowInSeconds: 0 })).rejects.toMatchObject(
      { field: 'MaximumBatchingWindowInSeconds' },
    );
    const updated = await t.sluice.triggers.update(uuid, {
      batchSize: 5,
      maximumBatchingWindowInSeconds: 0,
      enabled: false,
    });
    expect(updated).toMatchObject({ batchSize: 5, maximumBatchingWindowInSeconds: 0, state: 'Disabled' });
    expect(t.sluice.triggers.list({ queue: 'orders' }).map((v) => v.uuid)).toEqual([uuid]);
    expect(t.sluice.triggers.list({ functionName: 'other' })).toEqual([]);
  });
});
