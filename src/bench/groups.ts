/**
 * Group-limit benchmarks (issue 7):
 * - throughput through a grouped trigger with 1,000 active groups, each limited to 1 in flight, and a
 *   no-op handler;
 * - claim latency (claim by group of up to 10, then delete) with 10 versus 100,000 defined groups: each
 *   group has a limit, and in the large case 100,000 more groups hold a message in flight (blocked at
 *   their limit), so their rows exist but are not ready;
 * - Jain's fairness index of what 100 equally loaded groups got while all still had backlog, and the
 *   share a noisy group (20x the backlog) got beside 99 others.
 */
import type { SQSEvent } from 'aws-lambda';
import type { Sluice } from '../engine/sluice.js';
import { newReceiptToken } from '../queues/receipt-handle.js';
import {
  elapsedSeconds,
  freshEngine,
  nowMs,
  type BenchOptions,
  type Figure,
  type Scenario,
} from './harness.js';
import { percentile, round } from './stats.js';

const body = JSON.stringify({ task: 'fetch', url: 'https://example.com/a' });

async function sendToGroups(
  sluice: Sluice,
  queue: string,
  groups: string[],
  perGroup: number,
): Promise<void> {
  const entries: Array<{ id: string; body: string; messageGroupId: string }> = [];
  for (let round = 0; round < perGroup; round++)
    for (const group of groups) entries.push({ id: '', body, messageGroupId: group });
  for (let i = 0; i < entries.length; i += 10) {
    await sluice.queues.sendBatch(
      queue,
      entries.slice(i, i + 10).map((entry, k) => ({ ...entry, id: `e${k}` })),
    );
  }
}

/** Sets the same limit for many groups, a few at a time (one store call each). */
async function defineGroups(
  sluice: Sluice,
  queue: string,
  groups: string[],
  limit: { maxConcurrency: number },
): Promise<void> {
  const parallel = 16;
  for (let i = 0; i < groups.length; i += parallel) {
    await Promise.all(
      groups.slice(i, i + parallel).map((group) => sluice.groupLimits.set(queue, group, limit)),
    );
  }
}

function jain(values: number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

const throughput: Scenario = {
  name: 'groups throughput',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      const groups = Array.from({ length: 1000 }, (_, i) => `g${i}`);
      const perGroup = options.quick ? 10 : 50;
      const total = groups.length * perGroup;
      await sluice.queues.create('work', { VisibilityTimeout: 30, SluiceGroupKey: 'MessageGroupId' });
      await sluice.groupLimits.setDefault('work', { maxConcurrency: 1 });
      await sendToGroups(sluice, 'work', groups, perGroup);
      let handled = 0;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      await sluice.functions.create({
        name: 'noop',
        handler: async (event: SQSEvent) => {
          handled += event.Records.length;
          if (handled >= total) done();
        },
      });
      const start = process.hrtime.bigint();
      await sluice.triggers.create({
        queue: 'work',
        functionName: 'noop',
        batchSize: 1000,
        groupBy: 'MessageGroupId',
      });
      await finished;
      const rate = total / elapsedSeconds(start);
      return [
        {
          name: `trigger, ${groups.length} groups at concurrency 1, no-op handler`,
          value: round(rate, 0),
          unit: 'msg/s',
          aim: '>= 10,000',
        },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

/** p50 and p99 of claim-by-group of up to 10 messages (each claim's messages deleted after it). */
async function claimLatency(options: BenchOptions, defined: number): Promise<{ p50: number; p99: number }> {
  const engine = await freshEngine(options);
  try {
    const { sluice } = engine;
    const store = sluice.store;
    await sluice.queues.create('work', { VisibilityTimeout: 600, SluiceGroupKey: 'MessageGroupId' });
    const queue = await sluice.queues.definition('work');
    const active = Array.from({ length: 10 }, (_, i) => `active-${i}`);
    const idle = Array.from({ length: defined }, (_, i) => `tenant-${i}`);
    await defineGroups(sluice, 'work', [...active, ...idle], { maxConcurrency: 1 });
    if (defined > active.length) {
      // Every defined group holds one message in flight: blocked at its limit, its row waits.
      await sendToGroups(sluice, 'work', idle, 1);
      for (;;) {
        const now = Date.now();
        const claimed = await store.messageClaimByGroup({
          queueId: queue.id,
          queueName: 'work',
          fifo: false,
          maxMessages: 10_000,
          now,
          visibleAt: now + 3_600_000,
          expiredBefore: 0,
          receiptToken: newReceiptToken(),
          deadLetter: null,
        });
        if (claimed.messages.length === 0) break;
      }
    }
    if (store.kind === 'postgres') {
      // Steady state, the same for both runs: the setup's claims left a dead row version per group row
      // and the tables have no statistics yet; autovacuum (scale factor 0.02 here) would fix both soon.
      const { pool } = store as unknown as { pool: { query(text: string): Promise<unknown> } };
      await pool.query('VACUUM ANALYZE queue_groups');
      await pool.query('VACUUM ANALYZE messages');
    }
    const claims = options.quick ? 500 : 3_000;
    await sendToGroups(sluice, 'work', active, Math.ceil(claims / 1) + 10);
    const samples: number[] = [];
    for (let i = 0; i < claims; i++) {
      const started = nowMs();
      const now = Date.now();
      const token = newReceiptToken();
      const { messages } = await store.messageClaimByGroup({
        queueId: queue.id,
        queueName: 'work',
        fifo: false,
        maxMessages: 10,
        now,
        visibleAt: now + 600_000,
        expiredBefore: 0,
        receiptToken: token,
        deadLetter: null,
      });
      samples.push(nowMs() - started);
      await store.messageDelete({
        queueId: queue.id,
        fifo: false,
        grouped: true,
        now: Date.now(),
        receipts: messages.map((m) => ({ seq: m.seq, token })),
      });
    }
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    await engine.dispose();
  }
}

const latency: Scenario = {
  name: 'groups claim latency',
  async run(options) {
    const large = options.quick ? 10_000 : 100_000;
    const few = await claimLatency(options, 0);
    const many = await claimLatency(options, large);
    return [
      {
        name: 'claim of 10 (10 active groups), 10 defined groups, p50',
        value: round(few.p50, 3),
        unit: 'ms',
      },
      {
        name: `claim of 10 (10 active groups), ${large.toLocaleString('en')} more defined and blocked groups, p50`,
        value: round(many.p50, 3),
        unit: 'ms',
      },
      {
        name: 'claim latency ratio, many / few groups (p50)',
        value: round(many.p50 / few.p50, 2),
        unit: 'x',
        aim: '<= 1.5',
      },
      {
        name: 'claim p99, few / many groups',
        value: round(few.p99, 2),
        unit: `ms / ${round(many.p99, 2)} ms`,
      },
    ];
  },
};

/** Runs a grouped trigger until half the messages are handled; returns what each group got. */
async function shares(
  options: BenchOptions,
  backlog: (group: number) => number,
  groups: number,
): Promise<number[]> {
  const engine = await freshEngine(options);
  try {
    const { sluice } = engine;
    await sluice.queues.create('work', { VisibilityTimeout: 60, SluiceGroupKey: 'MessageGroupId' });
    await sluice.groupLimits.setDefault('work', { maxConcurrency: 5 });
    const names = Array.from({ length: groups }, (_, i) => `g${i}`);
    const deepest = Math.max(...names.map((_, i) => backlog(i)));
    for (let round = 0; round < deepest; round++) {
      const due = names.filter((_, i) => backlog(i) > round);
      await sendToGroups(sluice, 'work', due, 1);
    }
    const total = names.reduce((sum, _, i) => sum + backlog(i), 0);
    // Count while every group still has backlog: until the shallowest groups could have drained.
    const window = Math.min(...names.map((_, i) => backlog(i))) * groups * 0.5;
    const counts = new Map<string, number>();
    let handled = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await sluice.functions.create({
      name: 'noop',
      reservedConcurrency: 4,
      handler: async (event: SQSEvent) => {
        for (const record of event.Records) {
          if (handled < window)
            counts.set(
              record.attributes.MessageGroupId!,
              (counts.get(record.attributes.MessageGroupId!) ?? 0) + 1,
            );
          handled++;
        }
        if (handled >= total) done();
      },
    });
    await sluice.triggers.create({
      queue: 'work',
      functionName: 'noop',
      batchSize: 10,
      groupBy: 'MessageGroupId',
    });
    await finished;
    return names.map((name) => counts.get(name) ?? 0);
  } finally {
    await engine.dispose();
  }
}

const fairness: Scenario = {
  name: 'groups fairness',
  async run(options): Promise<Figure[]> {
    const per = options.quick ? 40 : 200;
    const equal = await shares(options, () => per, 100);
    const noisy = await shares(options, (i) => (i === 0 ? per * 20 : per), 100);
    const others = noisy.slice(1);
    const fairShare = noisy.reduce((a, b) => a + b, 0) / noisy.length;
    return [
      {
        name: "Jain's index, 100 equally loaded groups",
        value: round(jain(equal), 4),
        unit: '',
        aim: '>= 0.95',
      },
      {
        name: "Jain's index, 99 groups beside a noisy one (20x backlog)",
        value: round(jain(others), 4),
        unit: '',
      },
      { name: 'noisy group share / fair share', value: round(noisy[0]! / fairShare, 2), unit: 'x' },
    ];
  },
};

export const groupScenarios: Scenario[] = [throughput, latency, fairness];
