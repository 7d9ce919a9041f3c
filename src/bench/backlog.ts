/**
 * Claim cost against the depth of the backlog (issue 12): a backlog bulk-loaded into a fresh store, with
 * no ANALYZE on PostgreSQL (a batch job's start: the tables have never been analyzed), then 100 claims
 * of 10, each followed by the delete of what it claimed. The cost of a claim must not grow with the
 * backlog: the aim is claim p50 at 1,000,000 queued within 1.2x of the p50 at 1,000. The first 50 claims
 * are reported (right after the load: on PostgreSQL the front of a table larger than shared_buffers is
 * read back from the OS, and its first reader sets the rows' hint bits), and the next 50 apart (the
 * steady state of a drain).
 */
import { openStore } from '../store/open.js';
import type { NewMessage, StoredQueue } from '../store/queue-store.js';
import type { Store } from '../store/store.js';
import { freshStoreUrl, nowMs, type BenchOptions, type Figure, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

/** The smallest backlog: every claim finds a full page. The first half are the "right after the load" sample. */
const CLAIMS = 100;
const PER_CLAIM = 10;

async function load(store: Store, queue: StoredQueue, backlog: number, groups: number | null): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < backlog; start += 1000) {
    const messages: NewMessage[] = Array.from({ length: Math.min(1000, backlog - start) }, (_, k) => ({
      messageId: `m${start + k}`,
      body: '{"task":"noop"}',
      messageAttributes: null,
      groupId: groups === null ? null : `g${(start + k) % groups}`,
      deduplicationId: groups === null ? null : `d${start + k}`,
      visibleAt: now,
    }));
    await store.messageSend({
      queueId: queue.id,
      fifo: groups !== null,
      deduplicationByGroup: false,
      messages,
      now,
      deduplicationWindowMs: 0,
    });
  }
}

interface ClaimCost {
  /** The first half of the claims, right after the load. */
  p50: number;
  p99: number;
  /** The second half. */
  steadyP50: number;
  steadyP99: number;
}

/** Claim p50 and p99 in ms with `backlog` messages queued (FIFO over `groups` groups when given). */
async function claimCost(options: BenchOptions, backlog: number, groups: number | null): Promise<ClaimCost> {
  const { url, dispose } = freshStoreUrl(options);
  const store = await openStore(url);
  try {
    const fifo = groups !== null;
    const created = await store.queueCreate({
      name: fifo ? 'backlog.fifo' : 'backlog',
      fifo,
      settings: { VisibilityTimeout: 600, MessageRetentionPeriod: 345_600 } as StoredQueue['settings'],
      tags: {},
      now: Date.now(),
      nameReuseDelayMs: 0,
    });
    if (created.outcome === 'deletedRecently') throw new Error('backlog: queue name reused too soon');
    await load(store, created.queue, backlog, groups);
    const samples: number[] = [];
    for (let i = 0; i < CLAIMS; i++) {
      const now = Date.now();
      const receiptToken = `r${i}`;
      const start = nowMs();
      const outcome = await store.messageReceive({
        queueId: created.queue.id,
        fifo,
        maxMessages: PER_CLAIM,
        now,
        visibleAt: now + 600_000,
        expiredBefore: 0,
        receiptToken,
        deadLetter: null,
      });
      samples.push(nowMs() - start);
      await store.messageDelete({
        queueId: created.queue.id,
        fifo,
        receipts: outcome.messages.map((m) => ({ seq: m.seq, token: receiptToken })),
      });
    }
    const first = samples.slice(0, CLAIMS / 2);
    const steady = samples.slice(CLAIMS / 2);
    return {
      p50: percentile(first, 50),
      p99: percentile(first, 99),
      steadyP50: percentile(steady, 50),
      steadyP99: percentile(steady, 99),
    };
  } finally {
    await store.close();
    await dispose();
  }
}

const backlogCost: Scenario = {
  name: 'backlog claim cost',
  async run(options) {
    const depths = options.quick ? [1000, 100_000] : [1000, 100_000, 1_000_000];
    const figures: Figure[] = [];
    const costs: ClaimCost[] = [];
    for (const depth of depths) {
      const cost = await claimCost(options, depth, null);
      costs.push(cost);
      const label = depth.toLocaleString('en');
      figures.push({ name: `claim of 10, ${label} queued, first 50, p50`, value: round(cost.p50, 3), unit: 'ms' });
      figures.push({ name: `claim of 10, ${label} queued, first 50, p99`, value: round(cost.p99, 3), unit: 'ms' });
      figures.push({ name: `claim of 10, ${label} queued, next 50, p50`, value: round(cost.steadyP50, 3), unit: 'ms' });
      figures.push({ name: `claim of 10, ${label} queued, next 50, p99`, value: round(cost.steadyP99, 3), unit: 'ms' });
    }
    const deepest = depths.at(-1)!.toLocaleString('en');
    figures.push({
      name: `claim p50, ${deepest} / 1,000 queued, first 50`,
      value: round(costs.at(-1)!.p50 / costs[0]!.p50, 2),
      unit: 'x',
      aim: '<= 1.2',
    });
    figures.push({
      name: `claim p50, ${deepest} / 1,000 queued, next 50`,
      value: round(costs.at(-1)!.steadyP50 / costs[0]!.steadyP50, 2),
      unit: 'x',
      aim: '<= 1.2',
    });
    const fifo = await claimCost(options, options.quick ? 20_000 : 100_000, 10_000);
    figures.push({ name: 'FIFO claim of 10, 10,000 groups queued, p50', value: round(fifo.p50, 3), unit: 'ms' });
    figures.push({ name: 'FIFO claim of 10, 10,000 groups queued, p99', value: round(fifo.p99, 3), unit: 'ms' });
    return figures;
  },
};

export const backlogScenarios: Scenario[] = [backlogCost];
