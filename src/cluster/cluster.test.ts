/**
 * Several engines on one PostgreSQL schema, in one process, stand for the nodes of a cluster: being in
 * one process, a handler can count the executions of every node at once, which is the cluster-wide
 * concurrency the limits must hold. Timings are short (heartbeat 100 ms, lease 400 ms).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { isSluiceError } from '../model/errors.js';
import type { LeaseFence } from '../store/cluster-store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../testkit/postgres.js';
import type { LeaseHolder } from './leases.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const timing = { heartbeatMs: 100, leaseMs: 400, slotLingerMs: 100 };

/**
 * Retries a synchronous invoke the cluster throttles: once a node found a scope exhausted, it refuses at
 * once until a grant with room arrives (a slot given back elsewhere reaches it within a heartbeat).
 */
async function invokeEventually(sluice: Sluice, name: string): Promise<void> {
  await until(async () => {
    try {
      await sluice.functions.invoke(name);
      return true;
    } catch (error) {
      if (isSluiceError(error, 'TooManyRequestsException')) return false;
      throw error;
    }
  });
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(20);
  }
}

/** A lease holder that records what it was given and lost. */
function recordingHolder() {
  const held = new Map<string, LeaseFence>();
  const lost: string[] = [];
  const holder: LeaseHolder = {
    acquired: (fence) => held.set(fence.resource, fence),
    release: async (resource) => {
      held.delete(resource);
    },
    lost: (resource) => {
      held.delete(resource);
      lost.push(resource);
    },
  };
  return { holder, held, lost };
}

describePostgres('a cluster of engines on one PostgreSQL schema', () => {
  let schema: string;
  let nodes: Sluice[];

  async function node(id: string): Promise<Sluice> {
    const sluice = await Sluice.open({
      store: await openTestStore({ schema }),
      cluster: { nodeId: id, ...timing },
    });
    nodes.push(sluice);
    return sluice;
  }

  beforeEach(() => {
    schema = freshSchemaName();
    nodes = [];
  });

  afterEach(async () => {
    await Promise.all(nodes.map((sluice) => sluice.close({ graceMs: 1000 })));
    await dropSchema(schema);
  });

  it('registers every node; each heartbeat lists the live ones', async () => {
    const [a, b, c] = [await node('a'), await node('b'), await node('c')];
    await until(() => [a, b, c].every((n) => n.cluster!.membership.nodes.length === 3));
    expect(a.cluster!.membership.nodes).toEqual(['a', 'b', 'c']);
  });

  it('holds a function reserved concurrency across nodes while every node serves the trigger', async () => {
    let running = 0;
    let peak = 0;
    let handled = 0;
    const perNode = new Map<string, number>();
    const engines = [await node('a'), await node('b'), await node('c')];
    await engines[0]!.queues.create('work', { VisibilityTimeout: 60 });
    for (const engine of engines) {
      const id = engine.cluster!.nodeId;
      await engine.functions.create({
        name: 'worker',
        reservedConcurrency: 3,
        handler: async (event: { Records: unknown[] }) => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
          handled += event.Records.length;
          perNode.set(id, (perNode.get(id) ?? 0) + 1);
        },
      });
      await engine.triggers.create({ queue: 'work', functionName: 'worker', batchSize: 1 });
    }
    for (let i = 0; i < 60; i++)
      await engines[i % 3]!.queues.sendBatch(
        'work',
        Array.from({ length: 5 }, (_, j) => ({ id: `m${j}`, body: `${i}:${j}` })),
      );
    await until(() => handled === 300, 30_000);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect(perNode.size).toBeGreaterThan(1); // not one node doing everything
  });

  it("holds a trigger's maximum concurrency across nodes", async () => {
    let running = 0;
    let peak = 0;
    let handled = 0;
    const engines = [await node('a'), await node('b'), await node('c')];
    await engines[0]!.queues.create('work', { VisibilityTimeout: 60 });
    for (const engine of engines) {
      await engine.functions.create({
        name: 'worker',
        handler: async (event: { Records: unknown[] }) => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
          handled += event.Records.length;
        },
      });
      await engine.triggers.create({
        queue: 'work',
        functionName: 'worker',
        batchSize: 1,
        scalingConfig: { maximumConcurrency: 2 },
      });
    }
    for (let i = 0; i < 20; i++)
      await engines[i % 3]!.queues.sendBatch(
        'work',
        Array.from({ length: 10 }, (_, j) => ({ id: `m${j}`, body: `${i}:${j}` })),
      );
    await until(() => handled === 200, 30_000);
    expect(peak).toBe(2);
  });

  it('throttles a synchronous invoke while another node holds the only slot, and serves it once the slot is back', async () => {
    const [a, b] = [await node('a'), await node('b')];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    for (const engine of [a, b]) {
      await engine.functions.create({ name: 'single', reservedConcurrency: 1, handler: async () => gate });
    }
    await until(async () =>
      (await a.store.slotList({ scope: 'function:single' })).some((row) => row.granted === 1),
    );
    const holder = (await a.store.slotList({ scope: 'function:single' })).find(
      (row) => row.granted === 1,
    )!.nodeId;
    const [first, second] = holder === 'a' ? [a, b] : [b, a];
    const running = first.functions.invoke('single');
    const refused = await second.functions.invoke('single').catch((error: unknown) => error);
    expect(isSluiceError(refused, 'TooManyRequestsException')).toBe(true);
    release();
    await running;
    // The slot goes to the node that asked for it once the holder's call ended.
    await invokeEventually(second, 'single');
  });

  // A node paused (SIGSTOP) past its lease wakes with its invocations running: their slots go to other
  // nodes only once those invocations' deadline (the function's timeout, the node's hold) has passed.
  it("frees a dead node's slots once its invocations' deadline has passed", async () => {
    const [a, b] = [await node('a'), await node('b')];
    let releaseA!: () => void;
    const blocked = new Promise<void>((resolve) => (releaseA = resolve));
    let running = 0;
    let peakOnB = 0;
    await a.functions.create({ name: 'f', reservedConcurrency: 2, timeout: 1, handler: async () => blocked });
    await b.functions.create({
      name: 'f',
      reservedConcurrency: 2,
      timeout: 1,
      handler: async () => {
        peakOnB = Math.max(peakOnB, ++running);
        await sleep(150);
        running--;
      },
    });
    await until(async () =>
      (await a.store.slotList({ scope: 'function:f' })).some((row) => row.nodeId === 'a' && row.granted > 0),
    );
    const call = a.functions.invoke('f').catch((error: unknown) => error);
    await sleep(50);
    // a falls silent mid-call, as a paused process would (its heartbeat stops, its call runs on).
    await a.cluster!.membership.stop();
    await a.cluster!.slots.stop();
    const silentAt = Date.now();
    const twoAtOnce = async () => {
      const calls = await Promise.allSettled([b.functions.invoke('f'), b.functions.invoke('f')]);
      return calls.every((c) => c.status === 'fulfilled') && peakOnB === 2;
    };
    await until(async () => (await b.store.nodeList()).find((n) => n.id === 'a')?.status === 'dead', 2_000);
    expect((await b.store.slotList({ scope: 'function:f' })).some((row) => row.nodeId === 'a')).toBe(true);
    await until(twoAtOnce, 5_000);
    // Lease 400 ms plus the 1 s hold after a's last heartbeat (at most one heartbeat before it fell silent).
    expect(Date.now() - silentAt).toBeGreaterThanOrEqual(400 + 1_000 - timing.heartbeatMs - 50);
    expect((await b.store.slotList({ scope: 'function:f' })).map((row) => row.nodeId)).toEqual(['b']);
    releaseA();
    await call;
  });

  it('spreads leases to fair shares, rebalances as nodes come and go, and fences a stale owner', async () => {
    const resources = Array.from({ length: 8 }, (_, i) => `g#${i}`);
    const a = await node('a');
    const ra = recordingHolder();
    await a.cluster!.serve('g', resources, ra.holder);
    await until(() => ra.held.size === 8);

    const b = await node('b');
    const rb = recordingHolder();
    await b.cluster!.serve('g', resources, rb.holder);
    const c = await node('c');
    const rc = recordingHolder();
    await c.cluster!.serve('g', resources, rc.holder);
    await until(
      () =>
        ra.held.size + rb.held.size + rc.held.size === 8 &&
        Math.max(ra.held.size, rb.held.size, rc.held.size) === 3,
    );
    expect([ra.held.size, rb.held.size, rc.held.size].sort()).toEqual([2, 3, 3]);

    // A graceful exit frees c's leases at once.
    const stale = [...rc.held.values()][0]!;
    const leftAt = Date.now();
    await c.close();
    await until(() => ra.held.size + rb.held.size === 8 && ra.held.size === 4);
    expect(Date.now() - leftAt).toBeLessThan(timing.leaseMs);
    // c's fence is stale: the lease moved on with a higher token (a fenced write with it affects nothing).
    const current = async (resource: string) =>
      (await a.store.leaseList({ group: 'g' })).find((l) => l.resource === resource)!;
    expect((await current(stale.resource)).token).toBeGreaterThan(stale.token);

    // A silent node's leases are taken over within two lease timeouts.
    await b.cluster!.membership.stop();
    const silentAt = Date.now();
    await until(() => ra.held.size === 8, 5_000);
    expect(Date.now() - silentAt).toBeLessThan(2 * timing.leaseMs);
    const mine = [...ra.held.values()][0]!;
    expect(await current(mine.resource)).toMatchObject({ owner: 'a', token: mine.token });
  });

  it('serves every lease of a group that no other live node serves, once they were free for a lease timeout', async () => {
    const a = await node('a');
    await node('b'); // alive, but does not serve the group
    await until(() => a.cluster!.membership.nodes.length === 2);
    const r = recordingHolder();
    await a.cluster!.serve('lonely', ['l#0', 'l#1', 'l#2', 'l#3'], r.holder);
    await until(() => r.held.size === 2); // its fair share first
    await until(() => r.held.size === 4, 3 * timing.leaseMs + 1_000); // then the rest nobody wanted
  });

  it('gives back leases and slots when the engine closes', async () => {
    const a = await node('a');
    const b = await node('b');
    await a.functions.create({ name: 'f', reservedConcurrency: 2, handler: async () => undefined });
    await invokeEventually(a, 'f');
    const r = recordingHolder();
    await a.cluster!.serve('g', ['g#0', 'g#1'], r.holder);
    await until(() => r.held.size >= 1); // its share, and the other lease too once nobody else took it for a timeout
    await a.close();
    expect(await b.store.slotList({ scope: 'function:f' })).toEqual([]);
    expect((await b.store.leaseList({ group: 'g' })).every((lease) => lease.owner === null)).toBe(true);
    expect((await b.store.nodeList()).find((n) => n.id === 'a')?.status).toBe('stopped');
  });
});
