/**
 * The group-limit property, on every backend: random groups, limits, arrivals, handler durations and
 * failures, run through a trigger with `groupBy` on simulated time. Whatever happens:
 * - a group never has more handlers running than its concurrency limit;
 * - in any window of W ms, a group's invocation starts are at most burst + limit * W / interval;
 * - no group starves: every message is handled successfully in the end.
 *
 * Time moves one timer at a time and waits for the store to go quiet after each (`SteppedClock`), so a
 * backend that answers over the network (PostgreSQL) sees the same instants as an in-process one: an
 * invocation starts at the instant of the claim that admitted it.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { expect } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import type { Clock } from '../../model/clock.js';
import type { GroupLimitInput } from '../../limits/types.js';
import type { Store } from '../../store/store.js';

/** A manual clock whose `advance` lets the engine (and its store) go quiet after every timer it fires. */
export class SteppedClock implements Clock {
  private current = Date.UTC(2026, 0, 1);
  private order = 0;
  private readonly timers = new Set<{ dueAt: number; order: number; callback: () => void }>();

  constructor(private readonly quiesce: () => Promise<void>) {}

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer = { dueAt: this.current + Math.max(0, delayMs), order: this.order++, callback };
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    // Work the caller set off (a send's wake-up and the claim it leads to) finishes at the current
    // instant before time moves: an operation's promise may settle a turn after its effects are visible.
    await this.quiesce();
    for (;;) {
      let next: { dueAt: number; order: number; callback: () => void } | undefined;
      for (const timer of this.timers) {
        if (!next || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.order < next.order))
          next = timer;
      }
      if (!next || next.dueAt > target) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      await this.quiesce();
    }
    this.current = target;
    await this.quiesce();
  }
}

/** Wraps a store so a test can wait until no operation is under way, and count the operations made. */
export function quietStore(inner: Store): {
  store: Store;
  quiesce: () => Promise<void>;
  calls: () => number;
} {
  const pending = new Set<Promise<unknown>>();
  let calls = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls++;
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          pending.add(result);
          const forget = () => pending.delete(result);
          result.then(forget, forget);
        }
        return result;
      };
    },
  });
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  async function quiesce(): Promise<void> {
    for (let calm = 0; calm < 3;) {
      if (pending.size > 0) {
        calm = 0;
        await Promise.allSettled([...pending]);
      } else calm++;
      await turn();
    }
  }
  return { store, quiesce, calls: () => calls };
}

let barrierCount = 0;

/**
 * Waits until every wake-up one node has published has reached every other node. Nodes hear each
 * other through the database (LISTEN/NOTIFY), which no store call tracks: without this, a node could
 * be woken after the test moved time on, and start a handler "late" in simulated time. PostgreSQL
 * delivers notifications in commit order and each notifier sends its NOTIFYs in order, so once a
 * node hears another's barrier it has heard everything that node sent before it.
 */
export async function notificationBarrier(stores: Store[]): Promise<void> {
  if (stores.length < 2) return;
  const channel = `test-barrier:${++barrierCount}`;
  const heard = stores.map(
    (store) =>
      new Promise<void>((resolve) => {
        // Its own barrier arrives locally at once, the others' through the database.
        let missing = stores.length;
        const unsubscribe = store.notifier.subscribe(channel, () => {
          if (--missing > 0) return;
          unsubscribe();
          resolve();
        });
      }),
  );
  for (const store of stores) store.notifier.publish(channel);
  await Promise.all(heard);
}

const limitArbitrary: fc.Arbitrary<GroupLimitInput> = fc
  .record({
    maxConcurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    rate: fc.option(
      fc.record({
        limit: fc.integer({ min: 1, max: 3 }),
        intervalSeconds: fc.constantFrom(0.5, 1, 2),
        burst: fc.integer({ min: 1, max: 3 }),
      }),
      { nil: undefined },
    ),
  })
  .map((limit) => ({
    ...(limit.maxConcurrency !== undefined ? { maxConcurrency: limit.maxConcurrency } : {}),
    ...(limit.rate !== undefined ? { rate: limit.rate } : {}),
  }));

/**
 * Scenarios whose handlers take between `durationMs.min` and `durationMs.max`. Fast ones (batches under
 * 50 ms on average) make a trigger claim ahead (triggers/sqs/claim-coalescer.ts): held messages start
 * later than the claim that admitted them, which the rate property must survive.
 */
export function groupScenarioWith(durationMs: { min: number; max: number }) {
  return fc
    .record({
      groups: fc.array(fc.option(limitArbitrary, { nil: undefined }), { minLength: 1, maxLength: 6 }),
      defaultLimit: fc.option(limitArbitrary, { nil: undefined }),
      batchSize: fc.integer({ min: 1, max: 5 }),
      reserved: fc.integer({ min: 1, max: 5 }),
      messages: fc.array(
        fc.record({
          group: fc.nat(),
          arrivalMs: fc.integer({ min: 0, max: 6_000 }),
          durationMs: fc.integer(durationMs),
          failFirst: fc.boolean(),
        }),
        { minLength: 1, maxLength: 40 },
      ),
    })
    .map((s) => ({
      ...s,
      messages: s.messages.map((m) => ({
        ...m,
        group: m.group % s.groups.length,
        failFirst: m.failFirst && m.group % 5 === 0,
      })),
    }));
}

export const groupScenario = groupScenarioWith({ min: 20, max: 2_500 });

export type GroupScenario = ReturnType<typeof groupScenarioWith> extends fc.Arbitrary<infer T> ? T : never;

interface Start {
  group: number;
  at: number;
  endAt: number;
  /** Which node ran it, the message and its receive count: printed when a property fails. */
  node: number;
  messageId: string;
  receiveCount: string;
  firstReceivedAt: string;
}

/**
 * Runs one scenario and checks the three properties. `open` gives one store per node: several nodes
 * share one database (PostgreSQL), each with its own engine, function and trigger, and the limits must
 * hold across them.
 */
export async function runGroupScenario(open: Array<() => Promise<Store>>, s: GroupScenario): Promise<void> {
  const stores = await Promise.all(open.map(async (openNode) => quietStore(await openNode())));
  const countCalls = () => stores.reduce((sum, node) => sum + node.calls(), 0);
  const clock = new SteppedClock(async () => {
    // Settle each node, let every cross-node wake-up arrive, and repeat until a round makes no store call.
    for (let before = -1; before !== countCalls();) {
      before = countCalls();
      for (const node of stores) await node.quiesce();
      await notificationBarrier(stores.map((node) => node.store));
      for (const node of stores) await node.quiesce();
    }
  });
  const engines: Sluice[] = [];
  try {
    for (const { store } of stores) {
      engines.push(
        await Sluice.open({
          store,
          clock,
          onBackgroundError: (error) => {
            throw error;
          },
        }),
      );
    }
    const first = engines[0]!;
    await first.queues.create('work', { VisibilityTimeout: 3 });
    for (const [index, limit] of s.groups.entries())
      if (limit) await first.groupLimits.set('work', `g${index}`, limit);
    if (s.defaultLimit) await first.groupLimits.setDefault('work', s.defaultLimit);
    const starts: Start[] = [];
    const done = new Set<number>();
    for (const [node, sluice] of engines.entries()) {
      await sluice.functions.create({
        name: 'fn',
        timeout: 3,
        reservedConcurrency: s.reserved,
        handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
          const at = clock.now();
          const plans = event.Records.map((record) => {
            const index = Number((JSON.parse(record.body) as { i: number }).i);
            return { record, index, plan: s.messages[index]! };
          });
          const duration = Math.max(...plans.map((p) => p.plan.durationMs));
          await new Promise<void>((resolve) => clock.setTimer(duration, resolve));
          const failed = plans.filter(
            (p) => p.plan.failFirst && p.record.attributes.ApproximateReceiveCount === '1',
          );
          for (const p of plans) {
            starts.push({
              group: p.plan.group,
              at,
              endAt: at + duration,
              node,
              messageId: p.record.messageId,
              receiveCount: p.record.attributes.ApproximateReceiveCount,
              firstReceivedAt: p.record.attributes.ApproximateFirstReceiveTimestamp,
            });
            if (!failed.includes(p)) done.add(p.index);
          }
          return { batchItemFailures: failed.map((p) => ({ itemIdentifier: p.record.messageId })) };
        },
      });
      await sluice.triggers.create({
        queue: 'work',
        functionName: 'fn',
        batchSize: s.batchSize,
        groupBy: 'body:g',
        functionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    const arrivals = s.messages.map((m, i) => ({ ...m, i })).sort((a, b) => a.arrivalMs - b.arrivalMs);
    const start = clock.now();
    for (const m of arrivals) {
      await clock.advance(Math.max(0, start + m.arrivalMs - clock.now()));
      await engines[m.i % engines.length]!.queues.send('work', {
        body: JSON.stringify({ g: `g${m.group}`, i: m.i }),
      });
    }
    for (let waited = 0; done.size < s.messages.length; waited += 1_000) {
      if (waited > 900_000)
        throw new Error(`starved: ${s.messages.length - done.size} messages never succeeded`);
      await clock.advance(1_000);
    }
    checkLimits(s, starts);
  } finally {
    for (const sluice of engines) await sluice.close({ graceMs: 100 });
  }
}

function checkLimits(s: GroupScenario, starts: Start[]): void {
  s.groups.forEach((own, group) => {
    const limit = own ?? s.defaultLimit ?? {};
    const mine = starts.filter((x) => x.group === group).sort((a, b) => a.at - b.at);
    if (limit.maxConcurrency) {
      for (const x of mine) {
        const running = mine.filter((y) => y.at <= x.at && y.endAt > x.at).length;
        expect(
          running,
          `group g${group} ran ${running} at once, limit ${limit.maxConcurrency}: ${JSON.stringify(mine)}`,
        ).toBeLessThanOrEqual(limit.maxConcurrency);
      }
    }
    if (limit.rate) {
      const intervalMs = Math.round((limit.rate.intervalSeconds ?? 1) * 1000);
      const burst = limit.rate.burst ?? limit.rate.limit;
      for (let i = 0; i < mine.length; i++) {
        for (let j = i; j < mine.length; j++) {
          const windowMs = mine[j]!.at - mine[i]!.at;
          // starts in [t_i, t_j] <= burst + limit * W / interval, in integers.
          expect(
            (j - i + 1) * intervalMs,
            `group g${group}: ${j - i + 1} starts in ${windowMs} ms: ${JSON.stringify(mine)}`,
          ).toBeLessThanOrEqual(burst * intervalMs + limit.rate.limit * windowMs);
        }
      }
    }
  });
}

export function groupPropertyRuns(backend: string): number {
  return backend === 'sqlite' ? 40 : 8;
}
