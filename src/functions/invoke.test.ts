import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSluiceError } from '../model/errors.js';
import { gate, openTestEngine, sleep, type TestEngine } from '../testkit/engine.js';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine({ accountConcurrency: 10 });
});
afterEach(async () => {
  await t.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('synchronous invocation', () => {
  it('returns the result of an async handler, which gets a context with Lambda fields', async () => {
    let seen: Context | undefined;
    await t.sluice.functions.create({
      name: 'orders',
      timeout: 30,
      memorySize: 256,
      handler: async (event: { n: number }, context) => {
        seen = context;
        return { doubled: event.n * 2, remaining: context.getRemainingTimeInMillis() };
      },
    });
    const response = await t.sluice.functions.invoke('orders', { n: 21 });
    expect(response).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      payload: { doubled: 42, remaining: 30_000 },
    });
    expect(seen).toMatchObject({
      functionName: 'orders',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:orders',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/orders',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(seen!.awsRequestId).toMatch(UUID);
    expect(seen!.logStreamName).toMatch(/^2026\/01\/01\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('counts the remaining time down on the engine clock', async () => {
    const readings: number[] = [];
    await t.sluice.functions.create({
      name: 'slow',
      timeout: 10,
      handler: async (_event: unknown, context) => {
        readings.push(context.getRemainingTimeInMillis());
        await sleep(t.clock, 4_000);
        readings.push(context.getRemainingTimeInMillis());
      },
    });
    const invocation = t.sluice.functions.invoke('slow');
    await t.clock.advance(4_000);
    await invocation;
    expect(readings).toEqual([10_000, 6_000]);
  });

  it('supports callback-style handlers, both outcomes', async () => {
    await t.sluice.functions.create({
      name: 'cb',
      handler: (event: { fail: boolean }, _context, callback) => {
        setImmediate(() => (event.fail ? callback(new Error('nope')) : callback(null, 'fine')));
      },
    });
    expect((await t.sluice.functions.invoke('cb', { fail: false })).payload).toBe('fine');
    const failed = await t.sluice.functions.invoke('cb', { fail: true });
    expect(failed.functionError).toBe('Unhandled');
    expect(failed.payload).toMatchObject({ errorType: 'Error', errorMessage: 'nope' });
  });

  it('honours context.succeed and context.fail', async () => {
    await t.sluice.functions.create({
      name: 'old',
      handler: (_event: unknown, context, _callback) => context.succeed({ old: true }),
    });
    expect((await t.sluice.functions.invoke('old')).payload).toEqual({ old: true });
  });

  it("returns Lambda's error payload when the handler throws", async () => {
    await t.sluice.functions.create({
      name: 'broken',
      handler: async () => {
        throw new TypeError('cannot read the order');
      },
    });
    const response = await t.sluice.functions.invoke('broken');
    expect(response.functionError).toBe('Unhandled');
    const payload = response.payload as { errorType: string; errorMessage: string; trace: string[] };
    expect(payload.errorType).toBe('TypeError');
    expect(payload.errorMessage).toBe('cannot read the order');
    expect(payload.trace[0]).toBe('TypeError: cannot read the order');
  });

  it('reports a thrown non-Error by its type', async () => {
    await t.sluice.functions.create({
      name: 'strings',
      handler: async () => {
        throw 'plain text';
      },
    });
    expect((await t.sluice.functions.invoke('strings')).payload).toEqual({
      errorType: 'string',
      errorMessage: 'plain text',
      trace: [],
    });
  });

  it('ends an in-process invocation at its timeout with "Task timed out after N.NN seconds"', async () => {
    await t.sluice.functions.create({
      name: 'stuck',
      timeout: 2,
      handler: () => new Promise(() => undefined),
    });
    const invocation = t.sluice.functions.invoke('stuck');
    await t.clock.advance(1_999);
    let done = false;
    void invocation.then(() => (done = true));
    await t.clock.advance(0);
    expect(done).toBe(false);
    await t.clock.advance(1);
    const response = await invocation;
    expect(response.functionError).toBe('Unhandled');
    expect((response.payload as { errorType: string }).errorType).toBe('Sandbox.Timedout');
    expect((response.payload as { errorMessage: string }).errorMessage).toMatch(
      /^RequestId: [0-9a-f-]{36} Error: Task timed out after 2\.00 seconds$/,
    );
    expect(t.sluice.functions.metrics('stuck')).toMatchObject({
      invocations: 1,
      errors: 1,
      timeouts: 1,
      concurrentExecutions: 0,
    });
  });
});

describe('concurrency and throttling', () => {
  it('throttles a synchronous invoke beyond the reserved concurrency with TooManyRequestsException', async () => {
    const release = gate();
    await t.sluice.functions.create({ name: 'one', reservedConcurrency: 1, handler: () => release.promise });
    const first = t.sluice.functions.invoke('one');
    const second = await t.sluice.functions.invoke('one').catch((error: unknown) => error);
    expect(isSluiceError(second, 'TooManyRequestsException')).toBe(true);
    expect((second as Error).message).toContain('ReservedFunctionConcurrentInvocationLimitExceeded');
    release.open();
    await first;
    await expect(t.sluice.functions.invoke('one')).resolves.toMatchObject({ statusCode: 200 });
    expect(t.sluice.functions.metrics('one')).toMatchObject({
      invocations: 2,
      throttles: 1,
      peakConcurrentExecutions: 1,
    });
  });

  it('disables a function whose reserved concurrency is 0', async () => {
    await t.sluice.functions.create({ name: 'off', reservedConcurrency: 0, handler: async () => 'never' });
    await expect(t.sluice.functions.invoke('off')).rejects.toMatchObject({
      code: 'TooManyRequestsException',
    });
  });

  it('shares the account concurrency among functions without a reservation', async () => {
    const release = gate();
    await t.sluice.functions.create({
      name: 'reserved',
      reservedConcurrency: 6,
      handler: () => release.promise,
    });
    await t.sluice.functions.create({ name: 'shared', handler: () => release.promise });
    // 10 for the account, 6 reserved: 4 left for everyone else.
    const running = Array.from({ length: 4 }, () => t.sluice.functions.invoke('shared'));
    await expect(t.sluice.functions.invoke('shared')).rejects.toMatchObject({
      code: 'TooManyRequestsException',
    });
    const reserved = Array.from({ length: 6 }, () => t.sluice.functions.invoke('reserved'));
    release.open();
    await Promise.all([...running, ...reserved]);
    expect(t.sluice.functions.metrics('reserved').peakConcurrentExecutions).toBe(6);
  });

  it('refuses reservations beyond the account concurrency', async () => {
    await t.sluice.functions.create({ name: 'big', reservedConcurrency: 8, handler: async () => null });
    await expect(
      t.sluice.functions.create({ name: 'bigger', reservedConcurrency: 3, handler: async () => null }),
    ).rejects.toMatchObject({
      code: 'InvalidParameterValue',
      field: 'ReservedConcurrentExecutions',
    });
    expect(t.sluice.functions.exists('bigger')).toBe(false);
  });
});

describe('definitions', () => {
  it.each([
    [{ timeout: 0 }, 'Timeout'],
    [{ timeout: 901 }, 'Timeout'],
    [{ memorySize: 64 }, 'MemorySize'],
    [{ reservedConcurrency: -1 }, 'ReservedConcurrentExecutions'],
    [{ name: 'has space' }, 'FunctionName'],
    [{ handler: './no/such/module.ts#handler' }, 'Handler'],
    [{ execution: 'worker' as const }, 'Execution'],
    [{ async: { maximumRetryAttempts: 3 } }, 'MaximumRetryAttempts'],
    [{ async: { maximumEventAgeInSeconds: 59 } }, 'MaximumEventAgeInSeconds'],
    [
      { async: { onFailure: { destination: 'arn:aws:s3:::bucket' } } },
      'DestinationConfig.OnFailure.destination',
    ],
  ])('refuses %j, naming %s', async (change, field) => {
    await expect(
      t.sluice.functions.create({ name: 'f', handler: async () => null, ...change }),
    ).rejects.toMatchObject({ field });
  });

  it('applies Lambda defaults: 3 s timeout, 128 MB, 2 async retries, 6 h event age', async () => {
    const view = await t.sluice.functions.create({ name: 'defaults', handler: async () => null });
    expect(view).toMatchObject({
      timeout: 3,
      memorySize: 128,
      reservedConcurrency: null,
      execution: 'in-process',
      async: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600, onSuccess: null, onFailure: null },
    });
  });

  it('refuses a second function of the same name, and updates and deletes', async () => {
    await t.sluice.functions.create({ name: 'f', handler: async () => 1 });
    await expect(t.sluice.functions.create({ name: 'f', handler: async () => 2 })).rejects.toMatchObject({
      code: 'ResourceConflictException',
    });
    await t.sluice.functions.update('f', { handler: async () => 3, timeout: 10 });
    expect((await t.sluice.functions.invoke('f')).payload).toBe(3);
    expect(t.sluice.functions.get('f').timeout).toBe(10);
    await t.sluice.functions.delete('f');
    await expect(t.sluice.functions.invoke('f')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('reports durations and peak concurrency', async () => {
    const release = gate();
    await t.sluice.functions.create({ name: 'm', handler: () => release.promise });
    const calls = [
      t.sluice.functions.invoke('m'),
      t.sluice.functions.invoke('m'),
      t.sluice.functions.invoke('m'),
    ];
    expect(t.sluice.functions.metrics('m').concurrentExecutions).toBe(3);
    release.open();
    await Promise.all(calls);
    const metrics = t.sluice.functions.metrics('m');
    expect(metrics).toMatchObject({
      invocations: 3,
      errors: 0,
      concurrentExecutions: 0,
      peakConcurrentExecutions: 3,
    });
    expect(metrics.durationP99Ms).toBeGreaterThanOrEqual(metrics.durationP50Ms);
    expect(metrics.durationP50Ms).toBeGreaterThan(0);
  });
});
