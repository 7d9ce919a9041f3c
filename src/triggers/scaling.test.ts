import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { gate, openTestEngine, sleep, type TestEngine } from '../testkit/engine.js';

let t: TestEngine;
afterEach(async () => {
  await t.close();
});

/** A function whose every invocation takes `ms` of engine time; tracks how many run at once. */
async function slowFunction(params: { ms: number; reservedConcurrency?: number; name?: string }) {
  const state = { now: 0, peak: 0, records: 0 };
  await t.sluice.functions.create({
    name: params.name ?? 'work',
    reservedConcurrency: params.reservedConcurrency ?? null,
    handler: async (event: SQSEvent) => {
      state.now++;
      state.peak = Math.max(state.peak, state.now);
      await sleep(t.clock, params.ms);
      state.records += event.Records.length;
      state.now--;
    },
  });
  return state;
}

async function sendMany(queue: string, count: number, group?: (i: number) => string) {
  for (let i = 0; i < count; i += 10) {
    const entries = Array.from({ length: Math.min(10, count - i) }, (_, k) => ({
      id: `e${k}`,
      body: String(i + k),
      ...(group ? { messageGroupId: group(i + k), messageDeduplicationId: `d${i + k}` } : {}),
    }));
    await t.sluice.queues.sendBatch(queue, entries);
  }
}

describe('scaling with the backlog', () => {
  it('grows to the maximum concurrency while messages wait and falls back to no poller when drained', async () => {
    t = await openTestEngine();
    await t.sluice.queues.create('orders');
    const fn = await slowFunction({ ms: 1_000 });
    await sendMany('orders', 100);
    const trigger = await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      batchSize: 1,
      scalingConfig: { maximumConcurrency: 8 },
    });
    await t.clock.advance(0);
    expect(fn.now).toBe(8);
    expect(t.sluice.triggers.metrics(trigger.uuid).pollers).toBe(8);
    await t.until(() => fn.records === 100);
    expect(fn.peak).toBe(8);
    expect(t.clock.now() - Date.UTC(2026, 0, 1)).toBe(13_000); // ceil(100 / 8) rounds of 1 s
    await t.clock.advance(0);
    expect(t.sluice.triggers.metrics(trigger.uuid)).toMatchObject({
      pollers: 0,
      activeBatches: 0,
      peakActiveBatches: 8,
      batches: 100,
    });
    expect(t.sluice.functions.metrics('work')).toMatchObject({
      concurrentExecutions: 0,
      peakConcurrentExecutions: 8,
    });
  });

  it("is held to the function's reserved concurrency when it is lower", async () => {
    t = await openTestEngine();
    await t.sluice.queues.create('orders');
    const fn = await slowFunction({ ms: 500, reservedConcurrency: 3 });
    await sendMany('orders', 30);
    await t.sluice.triggers.create({
      queue: 'orders',
      functionName: 'work',
      batchSize: 1,
      scalingConfig: { maximumConcurrency: 50 },
    });
    await t.until(() => fn.records === 30);
    expect(fn.peak).toBe(3);
  });

  it("shares the account's concurrency with other work, waiting (not polling) for a free slot", async () => {
    t = await openTestEngine({ accountConcurrency: 4 });
    await t.sluice.queues.create('orders');
    const fn = await slowFunction({ ms: 1_000 });
    const hold = gate();
    await t.sluice.functions.create({ name: 'other', handler: () => hold.promise });
    const busy = [
      t.sluice.functions.invoke('other'),
      t.sluice.functions.invoke('other'),
      t.sluice.functions.invoke('other'),
    ];
    await sendMany('orders', 10);
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work', batchSize: 1 });
    await t.clock.advance(0);
    expect(fn.now).toBe(1); // one slot left in the account
    hold.open();
    await Promise.all(busy);
    await t.clock.advance(0);
    await t.until(() => fn.now === 4 || fn.records === 10);
    expect(fn.peak).toBe(4);
    await t.until(() => fn.records === 10);
  });

  it('does nothing for a function with reserved concurrency 0, and resumes when it is raised', async () => {
    t = await openTestEngine();
    await t.sluice.queues.create('orders');
    const fn = await slowFunction({ ms: 10, reservedConcurrency: 0 });
    await sendMany('orders', 5);
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work', batchSize: 1 });
    t.counting.reset();
    await t.clock.advance(600_000);
    expect(fn.records).toBe(0);
    expect(t.counting.total()).toBe(0);
    await t.sluice.functions.update('work', { reservedConcurrency: 2 });
    await t.until(() => fn.records === 5);
    expect(fn.peak).toBe(2);
  });
});

describe('idle cost', () => {
  it('issues no store query while idle, wakes on a send, and goes back to none', async () => {
    t = await openTestEngine();
    const names = Array.from({ length: 50 }, (_, i) => `q${i}`);
    let handled = 0;
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => void (handled += event.Records.length),
    });
    for (const name of names) {
      await t.sluice.queues.create(name);
      await t.sluice.triggers.create({ queue: name, functionName: 'work' });
    }
    await t.clock.advance(0);
    const timersBefore = t.clock.pendingTimers;
    t.counting.reset();
    await t.clock.advance(3_600_000);
    expect(t.counting.total()).toBe(0);
    expect(t.clock.pendingTimers).toBe(timersBefore);

    await t.sluice.queues.send('q7', { body: 'wake up' });
    await t.until(() => handled === 1);
    await t.clock.advance(0);
    expect(t.counting.calls.get('messageReceive')).toBeLessThanOrEqual(3);
    t.counting.reset();
    await t.clock.advance(3_600_000);
    expect(t.counting.total()).toBe(0);
  });

  it('sleeps until a delayed or returning message is due, not before', async () => {
    t = await openTestEngine();
    await t.sluice.queues.create('later', { VisibilityTimeout: 30 });
    let attempts = 0;
    await t.sluice.functions.create({
      name: 'work',
      handler: async () => {
        attempts++;
        if (attempts === 1) throw new Error('once');
      },
    });
    await t.sluice.triggers.create({ queue: 'later', functionName: 'work' });
    await t.sluice.queues.send('later', { body: 'x', delaySeconds: 60 });
    await t.clock.advance(0); // the send's wake-up: one claim finds nothing visible and learns when to look
    t.counting.reset();
    await t.clock.advance(59_999);
    expect(t.counting.total()).toBe(0);
    await t.clock.advance(1);
    expect(attempts).toBe(1);
    t.counting.reset();
    await t.clock.advance(29_999);
    expect(t.counting.total()).toBe(0);
    await t.clock.advance(1);
    expect(attempts).toBe(2);
  });
});

describe('FIFO queues', () => {
  it('keeps order within each group while groups run in parallel', async () => {
    t = await openTestEngine();
    await t.sluice.queues.create('steps.fifo', { FifoQueue: true, VisibilityTimeout: 30 });
    const seen = new Map<string, number[]>();
    let now = 0;
    let peak = 0;
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => {
        now++;
        peak = Math.max(peak, now);
        await sleep(t.clock, 100 + (Number(event.Records[0]!.body) % 7) * 50);
        for (const record of event.Records) {
          const group = record.attributes.MessageGroupId!;
          seen.set(group, [...(seen.get(group) ?? []), Number(record.body)]);
        }
        now--;
      },
    });
    const groupOf = (i: number) => `g${i % 5}`;
    await sendMany('steps.fifo', 100, groupOf);
    await t.sluice.triggers.create({
      queue: 'steps.fifo',
      functionName: 'work',
      batchSize: 3,
      scalingConfig: { maximumConcurrency: 10 },
    });
    await t.until(() => [...seen.values()].reduce((n, list) => n + list.length, 0) === 100);
    for (let g = 0; g < 5; g++) {
      const expected = Array.from({ length: 100 }, (_, i) => i).filter((i) => groupOf(i) === `g${g}`);
      expect(seen.get(`g${g}`)).toEqual(expected);
    }
    expect(peak).toBe(5); // one batch per group at a time, all groups at once
  });

  it('holds a group behind a failed batch until it succeeds', async () => {
    t = await openTestEngine();
    await t.sluice.queues.create('steps.fifo', { FifoQueue: true, VisibilityTimeout: 5 });
    const order: string[] = [];
    let failed = false;
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => {
        const body = event.Records[0]!.body;
        if (body === 'a1' && !failed) {
          failed = true;
          throw new Error('first try of a1');
        }
        order.push(body);
      },
    });
    await t.sluice.queues.send('steps.fifo', {
      body: 'a1',
      messageGroupId: 'a',
      messageDeduplicationId: '1',
    });
    await t.sluice.queues.send('steps.fifo', {
      body: 'a2',
      messageGroupId: 'a',
      messageDeduplicationId: '2',
    });
    await t.sluice.queues.send('steps.fifo', {
      body: 'b1',
      messageGroupId: 'b',
      messageDeduplicationId: '3',
    });
    await t.sluice.triggers.create({ queue: 'steps.fifo', functionName: 'work', batchSize: 1 });
    await t.until(() => order.length === 3);
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });
});
