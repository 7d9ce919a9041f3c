/**
 * A claim reads O(rows claimed), and so does a claim that moves messages to the dead-letter queue; an
 * acknowledgement or a visibility change reads O(receipts); however deep the queue and whether or not PostgreSQL ever analyzed the
 * tables: a backlog bulk-loaded into a fresh database (a batch job's start, a migration) is claimed by
 * ordered index scans that stop after the rows they take. The planner guesses a handful of matching rows
 * for an unanalyzed table and then prefers a bitmap scan of every visible row plus a sort (measured:
 * 215 ms and 200,000 rows per claim); this test fails if any claim kind reads anywhere near the backlog.
 *
 * FIFO and grouped backlogs spread over 10,000 groups. (With about a thousand groups or fewer, the
 * planner, believing a never-analyzed queue_groups holds a handful of rows per queue, may read all of a
 * queue's group rows to update the few a claim served: bounded by that small table, not by the backlog;
 * docs/design/claim-path.md.)
 *
 * Rows read are PostgreSQL's own counters (live rows read by sequential, index and bitmap scans of the
 * tables a claim touches), which a backend reports when its connection closes: the backlog is loaded
 * by one store, counted, claimed by a second store, counted again. Autovacuum is off for the schema's
 * tables so nothing analyzes them meanwhile.
 */
import { afterEach, expect, it } from 'vitest';
import type pg from 'pg';
import type { GroupLimit } from '../group-limit.js';
import type { DeadLetterTarget, NewMessage } from '../queue-store.js';
import { quoteIdentifier } from './connection.js';
import type { PostgresStore } from './store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, withAdminClient } from '../../testkit/postgres.js';

const BACKLOG = 100_000;
const CLAIMS = 20;
const PER_CLAIM = 10;
/** Generous for O(rows claimed) (locks, skipped rows, group rows), far below the backlog. */
const MAX_ROWS_READ_PER_CLAIM = 40 * PER_CLAIM;
const MAX_ROWS_READ_PER_RECEIPT = 20;
/** Messages received once and then moved to the dead-letter queue by claims of PER_CLAIM. */
const MOVED = 100;
const TABLES = ['messages', 'fifo_groups', 'queue_groups'];

let schema: string | undefined;
afterEach(async () => {
  if (schema) await dropSchema(schema);
  schema = undefined;
});

/**
 * Live rows read from the schema's queue tables (by sequential scans, and fetched through indexes, bitmap
 * scans included), as the statistics report them. Dead row versions that index scans step over are not
 * counted: how many there are depends on vacuum and on other sessions' snapshots, not on the plan.
 */
async function rowsRead(client: pg.Client, name: string): Promise<number> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ total: string }>(
    `SELECT COALESCE(sum(COALESCE(t.seq_tup_read, 0) + COALESCE(t.idx_tup_fetch, 0)), 0) AS total
     FROM pg_stat_user_tables t WHERE t.schemaname = $1 AND t.relname = ANY($2)`,
    [name, TABLES],
  );
  return Number(rows[0]!.total);
}

/** Waits until the closed stores' backends have reported (the counters stop moving). */
async function settledRowsRead(client: pg.Client, name: string): Promise<number> {
  let last = await rowsRead(client, name);
  for (let stable = 0; stable < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await rowsRead(client, name);
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

async function neverAnalyzed(client: pg.Client, name: string): Promise<void> {
  for (const table of TABLES)
    await client.query(`ALTER TABLE ${quoteIdentifier(name)}.${table} SET (autovacuum_enabled = false)`);
}

function messages(count: number, start: number, now: number, group: (i: number) => Partial<NewMessage>): NewMessage[] {
  return Array.from({ length: count }, (_, k) => ({
    messageId: `m${start + k}`,
    body: `{"n":${start + k}}`,
    messageAttributes: null,
    groupId: null,
    deduplicationId: null,
    visibleAt: now,
    ...group(start + k),
  }));
}

type Kind = 'standard' | 'fifo' | 'grouped';

interface Costs {
  perClaim: number;
  claimed: number;
  /** Rows read per message acknowledged (deleted by its receipt), stale receipts included. */
  perDelete: number;
  /** Rows read per claim that moves messages to the dead-letter queue (preparing claims included). */
  perDeadLetterClaim: number;
  /** Messages moved to the dead-letter queue. */
  deadLettered: number;
  /** Rows read per visibility change. */
  perVisibilityChange: number;
}

async function measureClaims(kind: Kind): Promise<Costs> {
  schema = freshSchemaName();
  const now = Date.now();
  const loader: PostgresStore = await openTestStore({ schema, dropSchemaOnClose: false });
  const fifo = kind === 'fifo';
  const created = await loader.queueCreate({
    name: fifo ? 'backlog.fifo' : 'backlog',
    fifo,
    settings: {
      VisibilityTimeout: 600,
      MessageRetentionPeriod: 345_600,
      ...(kind === 'grouped' ? { SluiceGroupKey: 'attribute:tenant' } : {}),
    } as never,
    tags: {},
    now,
    nameReuseDelayMs: 0,
  });
  if (created.outcome === 'deletedRecently') throw new Error('unexpected');
  const queue = created.queue;
  const dlqCreated = await loader.queueCreate({
    name: fifo ? 'dead.fifo' : 'dead',
    fifo,
    settings: { VisibilityTimeout: 600, MessageRetentionPeriod: 345_600 } as never,
    tags: {},
    now,
    nameReuseDelayMs: 0,
  });
  if (dlqCreated.outcome === 'deletedRecently') throw new Error('unexpected');
  const deadLetterQueue = dlqCreated.queue;
  await withAdminClient((client) => neverAnalyzed(client, schema!));
  if (kind === 'grouped') {
    const limit: GroupLimit = { maxConcurrency: 1, rate: null };
    await loader.groupLimitPut({ queueName: queue.name, groupKey: null, limit, now });
  }
  const group = (i: number): Partial<NewMessage> =>
    kind === 'fifo'
      ? { groupId: `g${i % 10_000}`, deduplicationId: `d${i}` }
      : kind === 'grouped'
        ? { groupKey: `t${i % 10_000}` }
        : {};
  for (let start = 0; start < BACKLOG; start += 1000) {
    await loader.messageSend({
      queueId: queue.id,
      fifo,
      deduplicationByGroup: false,
      messages: messages(1000, start, now, group),
      now,
      deduplicationWindowMs: 0,
    });
  }
  await loader.close();
  const before = await withAdminClient((client) => settledRowsRead(client, schema!));
  if (process.env.CLAIM_COST_DEBUG) await debugCounters(kind, 'before');

  const claimer = await openTestStore({ schema, dropSchemaOnClose: false });
  let claimed = 0;
  const receipts: Array<{ seq: number; token: string }> = [];
  for (let i = 0; i < CLAIMS; i++) {
    const at = now + 1 + i;
    const params = {
      queueId: queue.id,
      fifo,
      maxMessages: PER_CLAIM,
      now: at,
      visibleAt: at + 600_000,
      expiredBefore: 0,
      receiptToken: `r${i}`,
      deadLetter: null,
    };
    const outcome =
      kind === 'grouped'
        ? await claimer.messageClaimByGroup({ ...params, queueName: queue.name })
        : await claimer.messageReceive(params);
    claimed += outcome.messages.length;
    for (const message of outcome.messages) receipts.push({ seq: message.seq, token: params.receiptToken });
  }
  await claimer.close();
  const after = await withAdminClient((client) => settledRowsRead(client, schema!));

  // Half the receipts change visibility; then every receipt is acknowledged, with one stale receipt in
  // ten (its message is then told apart from a gone one): both O(receipts), not the backlog.
  const acknowledger = await openTestStore({ schema, dropSchemaOnClose: false });
  const changed = receipts.slice(0, receipts.length / 2);
  await acknowledger.messageChangeVisibility({
    queueId: queue.id,
    fifo,
    grouped: kind === 'grouped',
    now: now + 100,
    changes: changed.map((receipt) => ({ ...receipt, visibleAt: now + 900_000 })),
    maxInvisibleMs: 43_200_000,
  });
  await acknowledger.close();
  const afterChanges = await withAdminClient((client) => settledRowsRead(client, schema!));
  const deleter = await openTestStore({ schema, dropSchemaOnClose: false });
  const acknowledged = receipts.map((receipt, i) => (i % 10 === 0 ? { ...receipt, token: 'stale' } : receipt));
  const outcomes = await deleter.messageDelete({
    queueId: queue.id,
    fifo,
    receipts: acknowledged,
    ...(kind === 'grouped' ? { grouped: true, now: now + 200 } : {}),
  });
  expect(outcomes.filter((outcome) => outcome === 'staleReceipt')).toHaveLength(receipts.length / 10);
  await deleter.close();
  const afterDeletes = await withAdminClient((client) => settledRowsRead(client, schema!));

  // Dead-letter moves (standard and FIFO queues): one claim takes 100 messages and leaves them visible at
  // once (visibleAt 0, so they come first); ten claims then find them received once, at maxReceiveCount
  // 1, and move them. A grouped queue serves its groups round robin, so the groups claimed once go to
  // the back of a line of 10,000 and no claim of this size would reach them again; its moves are the
  // same primary-key probes (seq = ANY) as its claims, measured above.
  let deadLettered = 0;
  if (kind !== 'grouped') {
    const mover = await openTestStore({ schema, dropSchemaOnClose: false });
    const claimOnce = (i: number, visibleAt: number, deadLetter: DeadLetterTarget | null, maxMessages = PER_CLAIM) => {
      const at = now + 300 + i;
      const params = {
        queueId: queue.id,
        fifo,
        maxMessages,
        now: at,
        visibleAt,
        expiredBefore: 0,
        receiptToken: `d${i}`,
        deadLetter,
      };
      return mover.messageReceive(params);
    };
    const target: DeadLetterTarget = {
      queueId: deadLetterQueue.id,
      fifo,
      maxReceiveCount: 1,
      sourceArn: `arn:aws:sqs:us-east-1:000000000000:${queue.name}`,
    };
    const prepared = (await claimOnce(0, 0, null, MOVED)).messages.length;
    for (let i = 1; i <= MOVED / PER_CLAIM; i++) deadLettered += (await claimOnce(i, now + 900_000, target)).deadLettered;
    expect(deadLettered).toBe(prepared);
    await mover.close();
  }
  const afterMoves = await withAdminClient((client) => settledRowsRead(client, schema!));
  const analyzed = await withAdminClient(async (client) => {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)`,
      [schema],
    );
    return rows[0].n as number;
  });
  expect(analyzed).toBe(0);
  if (process.env.CLAIM_COST_DEBUG) await debugCounters(kind, 'after');
  return {
    perClaim: (after - before) / CLAIMS,
    claimed,
    perVisibilityChange: (afterChanges - after) / changed.length,
    perDelete: (afterDeletes - afterChanges) / receipts.length,
    perDeadLetterClaim: (afterMoves - afterDeletes) / (1 + MOVED / PER_CLAIM),
    deadLettered,
  };
}

async function debugCounters(kind: string, when: string): Promise<void> {
    await withAdminClient(async (client) => {
      const t = await client.query(`SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2)`, [schema, TABLES]);
      const i = await client.query(`SELECT relname, indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes WHERE schemaname = $1 AND relname = ANY($2)`, [schema, TABLES]);
      console.log(kind, when, JSON.stringify(t.rows.filter((r) => r.relname !== 'fifo_groups')), JSON.stringify(i.rows.filter((r) => Number(r.idx_tup_read) > 0)));
    });
}

describePostgres('claim cost on a never-analyzed 100,000-message backlog', () => {
  for (const kind of ['standard', 'fifo', 'grouped'] as const) {
    it(`a ${kind} claim, its visibility changes, its acknowledgements${kind === 'grouped' ? '' : ' and its dead-letter moves'} read a bounded number of rows, not the backlog`, async () => {
      const costs = await measureClaims(kind);
      const { perClaim, claimed, perDelete, perVisibilityChange, perDeadLetterClaim, deadLettered } = costs;
      if (process.env.CLAIM_COST_DEBUG) console.log(kind, costs);
      expect(claimed).toBe(CLAIMS * PER_CLAIM);
      expect(perClaim).toBeLessThanOrEqual(MAX_ROWS_READ_PER_CLAIM);
      // A receipt reads its message (and a grouped one its group row) a few times, never the queue.
      expect(perVisibilityChange).toBeLessThanOrEqual(MAX_ROWS_READ_PER_RECEIPT);
      expect(perDelete).toBeLessThanOrEqual(MAX_ROWS_READ_PER_RECEIPT);
      // A claim that moves what it finds to the dead-letter queue: bounded like any claim.
      if (kind !== 'grouped') expect(deadLettered).toBe(MOVED);
      expect(perDeadLetterClaim).toBeLessThanOrEqual(MAX_ROWS_READ_PER_CLAIM);
    }, 120_000);
  }
});
