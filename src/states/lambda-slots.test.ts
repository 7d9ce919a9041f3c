/**
 * A state machine's Lambda task and its function's concurrency slots. In a cluster a node takes slots
 * within the grants the store gave it (cluster/slots.ts); a task whose node has not been granted a slot
 * yet waits for the grant instead of failing with Lambda.TooManyRequestsException, while a limit that
 * is genuinely in use still throttles the task as Lambda throttles it. Several engines on one PostgreSQL
 * schema stand for the nodes (heartbeat 100 ms); the single-node throttle runs on SQLite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { gate, openTestEngine, type TestEngine } from '../testkit/engine.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../testkit/postgres.js';

const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const timing = { heartbeatMs: 100, leaseMs: 400, slotLingerMs: 100 };
const oneTask = (name: string) => ({ StartAt: 'T', States: { T: { Type: 'Task', Resource: fn(name), End: true } } });

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(20);
  }
}

async function finished(sluice: Sluice, arn: string) {
  await until(async () => (await sluice.stateMachines.describeExecution(arn)).status !== 'RUNNING');
  return sluice.stateMachines.describeExecution(arn);
}

describePostgres('Lambda tasks on the nodes of a cluster', () => {
  let schema: string;
  let nodes: Sluice[];

  async function node(id: string, settings: typeof timing = timing): Promise<Sluice> {
    const sluice = await Sluice.open({ store: await openTestStore({ schema }), cluster: { nodeId: id, ...settings } });
    nodes.push(sluice);
    return sluice;
  }

  /** Declares `single` (reserved concurrency 1) on every node; returns the node granted its standing slot first. */
  async function singleSlot(engines: Sluice[], handler: () => Promise<unknown>): Promise<{ holder: Sluice; other: Sluice }> {
    for (const engine of engines) await engine.functions.create({ name: 'single', reservedConcurrency: 1, handler });
    await until(async () => (await engines[0]!.store.slotList({ scope: 'function:single' })).some((row) => row.granted === 1));
    const holderId = (await engines[0]!.store.slotList({ scope: 'function:single' })).find((row) => row.granted === 1)!.nodeId;
    const holder = engines.find((e) => e.cluster!.nodeId === holderId)!;
    return { holder, other: engines.find((e) => e !== holder)! };
  }

  beforeEach(() => {
    schema = freshSchemaName();
    nodes = [];
  });
  afterEach(async () => {
    await Promise.all(nodes.map((sluice) => sluice.close({ graceMs: 1000 })));
    await dropSchema(schema);
  });

  it("waits for the slots its node has not been granted yet: a fresh node's Map of 12 tasks succeeds", async () => {
    const a = await node('a');
    await a.functions.create({ name: 'work', handler: async () => sleep(20) });
    await a.stateMachines.create({
      name: 'fan',
      definition: { StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: oneTask('work'), End: true } } },
    });
    const { executionArn } = await a.stateMachines.startExecution('fan', { input: Array.from({ length: 12 }, (_, i) => i) });
    const done = await finished(a, executionArn);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
  });

  it('takes the slot another node holds spare and gives back', async () => {
    const { other } = await singleSlot([await node('a'), await node('b')], async () => 'done');
    await other.stateMachines.create({ name: 'one', definition: oneTask('single') });
    const { executionArn } = await other.stateMachines.startExecution('one');
    const done = await finished(other, executionArn);
    expect({ status: done.status, error: done.error, output: done.output }).toEqual({ status: 'SUCCEEDED', error: undefined, output: '"done"' });
  });

  it('is throttled with Lambda.TooManyRequestsException while another node runs the only slot', async () => {
    const running = gate();
    const { holder, other } = await singleSlot([await node('a'), await node('b')], () => running.promise);
    const invocation = holder.functions.invoke('single');
    await other.stateMachines.create({ name: 'one', definition: oneTask('single') });
    const started = Date.now();
    const { executionArn } = await other.stateMachines.startExecution('one');
    const done = await finished(other, executionArn);
    const tookMs = Date.now() - started;
    console.log(`[lambda-slots] throttle after ${tookMs} ms`);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
    // Refused once the holder answered the wait and the store called the refusal final: not held for long.
    expect(tookMs).toBeLessThan(2_000);
    running.open();
    await invocation;
  });

  // With the default heartbeat (3 s) a refusal used to count as a throttle only once it had stood for a
  // whole heartbeat. Now the store says when it is final: the other node answered the wait with its slot
  // in use. The spare slot and the fresh node still wait, and get their slot.
  describe('with the default 3 s heartbeat', () => {
    const slow = { heartbeatMs: 3_000, leaseMs: 10_000, slotLingerMs: 1_000 };

    it('is throttled well within a heartbeat while another node runs the only slot', async () => {
      const running = gate();
      const { holder, other } = await singleSlot([await node('a', slow), await node('b', slow)], () => running.promise);
      const invocation = holder.functions.invoke('single');
      await other.stateMachines.create({ name: 'one', definition: oneTask('single') });
      const started = Date.now();
      const { executionArn } = await other.stateMachines.startExecution('one');
      const done = await finished(other, executionArn);
      const tookMs = Date.now() - started;
      console.log(`[lambda-slots] throttle after ${tookMs} ms with a 3 s heartbeat`);
      expect({ status: done.status, error: done.error }).toEqual({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
      expect(tookMs).toBeLessThan(1_000);
      running.open();
      await invocation;
    });

    it('still takes the slot another node holds spare', async () => {
      const { other } = await singleSlot([await node('a', slow), await node('b', slow)], async () => 'done');
      await other.stateMachines.create({ name: 'one', definition: oneTask('single') });
      const started = Date.now();
      const { executionArn } = await other.stateMachines.startExecution('one');
      const done = await finished(other, executionArn);
      console.log(`[lambda-slots] spare slot taken after ${Date.now() - started} ms with a 3 s heartbeat`);
      expect({ status: done.status, error: done.error, output: done.output }).toEqual({ status: 'SUCCEEDED', error: undefined, output: '"done"' });
    });

    it("still waits for a fresh node's grants: a Map of 12 tasks succeeds", async () => {
      const a = await node('a', slow);
      await node('b', slow);
      await a.functions.create({ name: 'work', handler: async () => sleep(20) });
      await a.stateMachines.create({
        name: 'fan',
        definition: { StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: oneTask('work'), End: true } } },
      });
      const { executionArn } = await a.stateMachines.startExecution('fan', { input: Array.from({ length: 12 }, (_, i) => i) });
      const done = await finished(a, executionArn);
      expect({ status: done.status, error: done.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    });
  });

  it('is throttled at once by a reserved concurrency of 0', async () => {
    const a = await node('a');
    await a.functions.create({ name: 'off', reservedConcurrency: 0, handler: async () => 'never' });
    await a.stateMachines.create({ name: 'one', definition: oneTask('off') });
    const { executionArn } = await a.stateMachines.startExecution('one');
    const done = await finished(a, executionArn);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
  });
});

describe('a Lambda task on a single node', () => {
  let t: TestEngine;
  beforeEach(async () => {
    t = await openTestEngine();
  });
  afterEach(async () => {
    await t.close();
  });

  it('is throttled at once when its reserved concurrency is in use', async () => {
    const running = gate();
    await t.sluice.functions.create({ name: 'single', reservedConcurrency: 1, handler: () => running.promise });
    const invocation = t.sluice.functions.invoke('single');
    await t.sluice.stateMachines.create({ name: 'one', definition: oneTask('single') });
    const { executionArn } = await t.sluice.stateMachines.startExecution('one');
    // No engine time passes: the refusal needs no wait.
    await until(async () => (await t.sluice.stateMachines.describeExecution(executionArn)).status !== 'RUNNING');
    expect(await t.sluice.stateMachines.describeExecution(executionArn)).toMatchObject({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
    running.open();
    await invocation;
  });
});
