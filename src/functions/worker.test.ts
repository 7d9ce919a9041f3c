/**
 * Module-path functions in worker threads, on the real clock: these start real threads (and tsx), so
 * they are few and use the shortest timeouts Lambda allows.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { threadId } from 'node:worker_threads';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
let sluice: Sluice;

beforeAll(async () => {
  sluice = await Sluice.open({ store: 'sqlite::memory:' });
});
afterAll(async () => {
  await sluice.close();
});

describe('worker-thread functions', () => {
  it('loads a TypeScript module in a worker thread, with the function environment and context', async () => {
    await sluice.functions.create({
      name: 'echo',
      handler: './handlers.ts#echo',
      baseDir: fixtures,
      environment: { GREETING: 'hello' },
      memorySize: 256,
    });
    const response = await sluice.functions.invoke('echo', { id: 7 });
    const payload = response.payload as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a handler's free-form result
    expect(response.functionError).toBeUndefined();
    expect(payload.event).toEqual({ id: 7 });
    expect(payload.env).toEqual({ GREETING: 'hello', AWS_LAMBDA_FUNCTION_NAME: 'echo' });
    expect(payload.context).toMatchObject({
      functionName: 'echo',
      functionVersion: '$LATEST',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/echo',
    });
    expect(payload.context.remaining).toBeGreaterThan(2_000);
    expect(payload.context.fencingToken).toBeUndefined();
    // A lease-backed caller (a stream trigger in a cluster) passes its token through to the thread.
    const fenced = await sluice.functions.execute('echo', {}, undefined, { origin: { via: 'invoke' }, fencingToken: 7 });
    expect(fenced).toMatchObject({ ok: true, result: { context: { fencingToken: 7 } } });
    expect(payload.threadId).not.toBe(threadId);
    // The handler's environment does not leak into the engine's.
    expect(process.env.GREETING).toBeUndefined();
  });

  it('stops a CPU-bound handler at its timeout without blocking the engine', async () => {
    await sluice.functions.create({
      name: 'spin',
      handler: './handlers.ts#spin',
      baseDir: fixtures,
      timeout: 1,
    });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 50);
    const started = Date.now();
    const response = await sluice.functions.invoke('spin');
    clearInterval(ticker);
    expect(response.functionError).toBe('Unhandled');
    expect(response.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect((response.payload as { errorMessage: string }).errorMessage).toContain(
      'Task timed out after 1.00 seconds',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(ticks).toBeGreaterThanOrEqual(10); // the engine's event loop kept running meanwhile
    expect(sluice.functions.metrics('spin')).toMatchObject({ timeouts: 1, concurrentExecutions: 0 });
  });

  it('runs callback-style handlers and JavaScript modules', async () => {
    await sluice.functions.create({ name: 'cb', handler: './handlers.ts#callback', baseDir: fixtures });
    await sluice.functions.create({ name: 'js', handler: './handlers.mjs', baseDir: fixtures });
    expect((await sluice.functions.invoke('cb', {})).payload).toEqual({ style: 'callback' });
    expect((await sluice.functions.invoke('cb', { fail: true })).payload).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'called back with an error',
    });
    expect((await sluice.functions.invoke('js', 1)).payload).toEqual({ js: true, event: 1 });
  });

  it('reports a sandbox that dies under the handler, and replaces it', async () => {
    await sluice.functions.create({ name: 'crash', handler: './handlers.ts#crash', baseDir: fixtures });
    const response = await sluice.functions.invoke('crash');
    expect(response.payload).toMatchObject({ errorType: 'Error', errorMessage: 'uncaught in the sandbox' });
    // A new sandbox serves the next invocation (the dead one would never answer).
    expect((await sluice.functions.invoke('crash')).payload).toMatchObject({
      errorMessage: 'uncaught in the sandbox',
    });
    await sluice.functions.update('crash', { handler: './handlers.ts#echo', baseDir: fixtures });
    expect((await sluice.functions.invoke('crash', 'again')).functionError).toBeUndefined();
  });

  it("reports Lambda's init errors for a missing export", async () => {
    await sluice.functions.create({
      name: 'missing',
      handler: './handlers.ts#notAFunction',
      baseDir: fixtures,
    });
    expect((await sluice.functions.invoke('missing')).payload).toEqual({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: './handlers.ts#notAFunction is undefined or not exported',
      trace: [],
    });
  });

  it('runs a module in-process when asked to, where a timeout cannot stop it but still ends the invocation', async () => {
    await sluice.functions.create({
      name: 'inline',
      handler: './handlers.ts#echo',
      baseDir: fixtures,
      execution: 'in-process',
    });
    const payload = (await sluice.functions.invoke('inline', 'x')).payload as { threadId: number };
    expect(payload.threadId).toBe(threadId);
  });

  it('serves a trigger, each concurrent batch in its own worker, with partial batch responses', async () => {
    await sluice.queues.create('jobs', { VisibilityTimeout: 60 });
    await sluice.functions.create({
      name: 'jobs',
      handler: './handlers.ts#sqsPartial',
      baseDir: fixtures,
      reservedConcurrency: 3,
    });
    const entries = Array.from({ length: 10 }, (_, i) => ({
      id: `e${i}`,
      body: i === 4 ? 'fail-4' : `ok-${i}`,
    }));
    await sluice.queues.sendBatch('jobs', entries);
    await sluice.queues.sendBatch(
      'jobs',
      entries.map((e) => ({ ...e, body: e.body.replace('fail', 'ok') })),
    );
    const trigger = await sluice.triggers.create({
      queue: 'jobs',
      functionName: 'jobs',
      batchSize: 2,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
    for (let i = 0; i < 900 && sluice.triggers.metrics(trigger.uuid).records < 20; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    // Metrics count a batch when its handler returns; its acknowledgement follows: wait for the deletes.
    for (let i = 0; i < 200 && (await sluice.queues.counts('jobs')).inFlight > 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(sluice.triggers.metrics(trigger.uuid)).toMatchObject({
      records: 20,
      failedRecords: 1,
      failedBatches: 0,
    });
    expect(sluice.functions.metrics('jobs').peakConcurrentExecutions).toBe(3);
    expect(await sluice.queues.counts('jobs')).toMatchObject({ visible: 0, inFlight: 1 });
  });
});
