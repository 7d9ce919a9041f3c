/**
 * Batches on PostgreSQL: the rules of batch-store.ts. Every transition that can make the last change
 * (chunk acks, seal, cancel) locks the batch row, applies its change and runs the completion
 * compare-and-set (`finalized_at IS NULL`, sealed, every item counted) on the locked row; when it
 * matches, the finalizer's outbox entry, built in TypeScript from the finalized row (store/rules/batch-finalizer.ts),
 * is inserted before the same transaction commits. Two nodes acking a batch's last chunks at once are
 * serialised by the row lock: the second sees `finalized_at` set and writes nothing more.
 *
 * Chunk acks, the hot path, are one statement (lock, record, count, compare-and-set) inside a
 * transaction that commits without waiting for the WAL flush: a lost ack in a server crash is undone
 * together with the later deletes of its messages (the worker deletes only after the ack committed,
 * and WAL order keeps that order), so the chunks are redelivered and acked again. A finalizing
 * transaction switches back to a durable commit, since its finalizer may be delivered at once.
 */
import type pg from 'pg';
import { finalizerEntry } from '../rules/batch-finalizer.js';
import type { ScheduleTarget } from '../targets.js';
import { batchCatalogChannel, batchChannel, type BatchStore, type ChunkAck, type StoredBatch } from '../batch-store.js';
import type { Notifier } from '../notifier.js';
import { outboxChannel } from '../outbox-store.js';
import { NOT_DURABLE, query, run, transaction } from './connection.js';
import { insertOutboxEntries } from './outbox.js';

interface BatchRow {
  id: string;
  processor: string;
  queue_name: string;
  finalizer: string | null;
  items_per_message: number;
  max_attempts: number;
  metadata: string | null;
  status: StoredBatch['status'];
  total: number;
  chunks: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  created_at: number;
  sealed_at: number | null;
  cancelled_at: number | null;
  finalized_at: number | null;
}

const COLUMNS =
  'id, processor, queue_name, finalizer, items_per_message, max_attempts, metadata, status, total, chunks, succeeded, failed, cancelled, created_at, sealed_at, cancelled_at, finalized_at';
const columnsOf = (alias: string) =>
  COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/** The completion condition, on a row `b` whose counters move by `ds` and `df`. */
const complete = (ds: string, df: string) =>
  `b.finalized_at IS NULL AND b.sealed_at IS NOT NULL AND b.succeeded + ${ds} + b.failed + ${df} + b.cancelled >= b.total`;

const sql = {
  insert: {
    text: `INSERT INTO batches (id, processor, queue_name, finalizer, items_per_message, max_attempts, metadata, status, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'CREATING', $8) ON CONFLICT (id) DO NOTHING`,
  },
  get: { name: 'sluice_batch_get', text: `SELECT ${COLUMNS} FROM batches WHERE id = $1` },
  list: {
    text: `SELECT ${COLUMNS} FROM batches
           WHERE ($1::text IS NULL OR processor = $1) AND (NOT $2::boolean OR finalized_at IS NULL) AND created_at < $3
           ORDER BY created_at DESC, id DESC LIMIT $4`,
  },
  enqueued: {
    text: `WITH counted AS (
             UPDATE batches SET total = total + $2, chunks = chunks + $3
             WHERE id = $1 AND cancelled_at IS NULL AND sealed_at IS NULL RETURNING 1
           )
           SELECT EXISTS (SELECT 1 FROM counted) AS counted, EXISTS (SELECT 1 FROM batches WHERE id = $1) AS found`,
  },
  lock: { text: 'SELECT id FROM batches WHERE id = $1 FOR UPDATE' },
  seal: {
    text: `UPDATE batches SET total = $2, chunks = $3, sealed_at = $4, status = 'RUNNING'
           WHERE id = $1 AND sealed_at IS NULL AND cancelled_at IS NULL RETURNING id`,
  },
  cancel: {
    text: `UPDATE batches SET cancelled_at = $2, sealed_at = COALESCE(sealed_at, $2), status = 'CANCELLED',
             cancelled = GREATEST(0, total - succeeded - failed)
           WHERE id = $1 AND finalized_at IS NULL RETURNING id`,
  },
  // The completion compare-and-set (rule 2 of batch-store.ts) on a row this transaction has locked.
  finalize: {
    text: `UPDATE batches b SET finalized_at = $2, status = CASE WHEN b.cancelled_at IS NULL THEN 'COMPLETED' ELSE 'CANCELLED' END
           WHERE b.id = $1 AND ${complete('0', '0')} RETURNING ${columnsOf('b')}`,
  },
  chunksDone: {
    name: 'sluice_batch_chunks_done',
    text: 'SELECT chunk FROM batch_chunks WHERE batch_id = $1 AND chunk = ANY($2::integer[])',
  },
  /**
   * Every ack of a call in one statement. $1-$5 one entry per ack; $6-$10 the failures of first-run
   * chunks; $11-$14 the items of retry chunks, with the error when they failed again (null: recovered);
   * $15 now; $16 whether it may finalize. The batch rows are locked first, in id order; `locked` holds
   * their values under the lock, so `finalized_now` tells the rows this statement finalized. Counting and
   * the compare-and-set are one UPDATE, since a statement may change a row once.
   *
   * Run on its own ($16 false), the statement writes nothing when some batch might complete (`gate`), and
   * the caller runs it again in a transaction that can also insert the finalizer. The guess is an upper
   * bound: `fresh` counts the chunks absent from this statement's snapshot, a superset of those it will
   * record (a chunk row never disappears), and only first-run chunks add to the completed count.
   */
  ack: {
    name: 'sluice_batch_ack',
    text: `WITH a AS (
             SELECT * FROM unnest($1::text[], $2::integer[], $3::integer[], $4::integer[], $5::boolean[])
               AS a(batch_id, chunk, items, failed, retry)
           ),
           locked AS (
             SELECT id, cancelled_at, finalized_at, sealed_at, total, succeeded, failed, cancelled
             FROM batches WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE
           ),
           fresh AS (
             SELECT a.batch_id, sum(a.items) AS items FROM a
             WHERE NOT a.retry AND NOT EXISTS (SELECT 1 FROM batch_chunks c WHERE c.batch_id = a.batch_id AND c.chunk = a.chunk)
             GROUP BY a.batch_id
           ),
           gate AS (
             SELECT $16::boolean OR NOT EXISTS (
               SELECT 1 FROM locked l LEFT JOIN fresh n ON n.batch_id = l.id
               WHERE l.cancelled_at IS NULL AND l.finalized_at IS NULL AND l.sealed_at IS NOT NULL
                 AND l.succeeded + l.failed + l.cancelled + coalesce(n.items, 0) >= l.total
             ) AS go
           ),
           recorded AS (
             INSERT INTO batch_chunks (batch_id, chunk, items, failed, done_at)
             SELECT a.batch_id, a.chunk, a.items, a.failed, $15 FROM a JOIN locked l ON l.id = a.batch_id AND l.cancelled_at IS NULL
             WHERE (SELECT go FROM gate)
             ON CONFLICT DO NOTHING RETURNING batch_id, chunk
           ),
           f AS (
             SELECT f.* FROM unnest($6::text[], $7::integer[], $8::bigint[], $9::text[], $10::text[]) AS f(batch_id, chunk, item_index, item, error)
             JOIN recorded r ON r.batch_id = f.batch_id AND r.chunk = f.chunk
           ),
           failed_now AS (
             INSERT INTO batch_failed_items (batch_id, item_index, item, error, attempts, failed_at)
             SELECT batch_id, item_index, item, error, 1, $15 FROM f
             ON CONFLICT (batch_id, item_index) DO UPDATE
               SET error = excluded.error, attempts = batch_failed_items.attempts + 1, failed_at = excluded.failed_at
           ),
           rt AS (
             SELECT rt.* FROM unnest($11::text[], $12::integer[], $13::bigint[], $14::text[]) AS rt(batch_id, chunk, item_index, error)
             JOIN recorded r ON r.batch_id = rt.batch_id AND r.chunk = rt.chunk
           ),
           failed_again AS (
             UPDATE batch_failed_items x SET error = rt.error, attempts = x.attempts + 1, failed_at = $15 FROM rt
             WHERE rt.error IS NOT NULL AND x.batch_id = rt.batch_id AND x.item_index = rt.item_index
           ),
           recovered AS (
             DELETE FROM batch_failed_items x USING rt
             WHERE rt.error IS NULL AND x.batch_id = rt.batch_id AND x.item_index = rt.item_index
             RETURNING x.batch_id
           ),
           delta AS (
             SELECT batch_id, sum(s) AS s, sum(f) AS f FROM (
               SELECT a.batch_id, a.items - a.failed AS s, a.failed AS f
               FROM a JOIN recorded r ON r.batch_id = a.batch_id AND r.chunk = a.chunk WHERE NOT a.retry
               UNION ALL SELECT batch_id, 1, -1 FROM recovered
             ) AS d GROUP BY batch_id
           ),
           counted AS (
             UPDATE batches b SET
               succeeded = b.succeeded + coalesce(d.s, 0),
               failed = b.failed + coalesce(d.f, 0),
               finalized_at = CASE WHEN ${complete('coalesce(d.s, 0)', 'coalesce(d.f, 0)')} THEN $15 ELSE b.finalized_at END,
               status = CASE WHEN ${complete('coalesce(d.s, 0)', 'coalesce(d.f, 0)')}
                 THEN CASE WHEN b.cancelled_at IS NULL THEN 'COMPLETED' ELSE 'CANCELLED' END ELSE b.status END
             FROM locked l LEFT JOIN delta d ON d.batch_id = l.id
             WHERE b.id = l.id AND l.cancelled_at IS NULL AND (SELECT go FROM gate)
             RETURNING ${columnsOf('b')}, l.finalized_at IS NULL AND b.finalized_at IS NOT NULL AS finalized_now
           )
           SELECT (SELECT go FROM gate) AS applied,
                  (SELECT json_agg(id) FROM locked WHERE cancelled_at IS NULL) AS live,
                  (SELECT count(*) FROM recorded) AS recorded,
                  (SELECT json_agg(c) FROM counted c WHERE c.finalized_now) AS finalized,
                  (SELECT ${NOT_DURABLE}) AS not_durable`,
  },
  reserveRetry: {
    text: 'UPDATE batches SET retry_chunks = retry_chunks + $2 WHERE id = $1 RETURNING retry_chunks - $2 AS before',
  },
  failedList: {
    text: `SELECT item_index, item, error, attempts, failed_at FROM batch_failed_items
           WHERE batch_id = $1 AND item_index > $2 ORDER BY item_index LIMIT $3`,
  },
  durable: { text: `SELECT set_config('synchronous_commit', 'on', true)` },
};

function toBatch(row: BatchRow): StoredBatch {
  return {
    id: row.id,
    processor: row.processor,
    queueName: row.queue_name,
    finalizer: row.finalizer === null ? null : (JSON.parse(row.finalizer) as ScheduleTarget),
    itemsPerMessage: row.items_per_message,
    maxAttempts: row.max_attempts,
    metadata: row.metadata,
    status: row.status,
    total: row.total,
    chunks: row.chunks,
    succeeded: row.succeeded,
    failed: row.failed,
    cancelled: row.cancelled,
    createdAt: row.created_at,
    sealedAt: row.sealed_at,
    cancelledAt: row.cancelled_at,
    finalizedAt: row.finalized_at,
  };
}

/** The ack statement's values; a chunk acked twice in one call is sent once (the rest are duplicates). */
function ackValues(acks: ChunkAck[], now: number): unknown[] {
  const seen = new Set<string>();
  const unique = acks.filter((ack) => {
    const key = `${ack.batchId}\u0000${ack.chunk}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const failures = unique
    .filter((ack) => !ack.retriedIndexes)
    .flatMap((ack) => ack.failures.map((f) => ({ ack, f })));
  const retried = unique.flatMap((ack) => {
    const failed = new Map(ack.failures.map((f) => [f.index, f.error]));
    return (ack.retriedIndexes ?? []).map((index) => ({ ack, index, error: failed.get(index) ?? null }));
  });
  return [
    unique.map((a) => a.batchId),
    unique.map((a) => a.chunk),
    unique.map((a) => a.items),
    unique.map((a) => a.failures.length),
    unique.map((a) => a.retriedIndexes !== undefined),
    failures.map((x) => x.ack.batchId),
    failures.map((x) => x.ack.chunk),
    failures.map((x) => x.f.index),
    failures.map((x) => x.f.item),
    failures.map((x) => x.f.error),
    retried.map((x) => x.ack.batchId),
    retried.map((x) => x.ack.chunk),
    retried.map((x) => x.index),
    retried.map((x) => x.error),
    now,
  ];
}

export function createPostgresBatchStore(pool: pg.Pool, notifier: Notifier): BatchStore {
  /** Runs the CAS on a locked row; on success inserts the finalizer's outbox entry, durably. */
  async function finalize(client: pg.PoolClient, id: string, now: number): Promise<boolean> {
    const [row] = await query<BatchRow>(client, sql.finalize, [id, now]);
    if (!row) return false;
    await insertOutboxEntries(client, [finalizerEntry(toBatch(row), now)], now);
    return true;
  }

  /** Wakes whoever awaits these batches' completion, and the outbox relays. Progress alone publishes nothing. */
  function announceFinalized(ids: string[]): void {
    for (const id of ids) notifier.publish(batchChannel(id));
    if (ids.length > 0) notifier.publish(outboxChannel);
  }

  return {
    async batchCreate({ batch: b }) {
      const result = await pool.query(sql.insert.text, [
        b.id,
        b.processor,
        b.queueName,
        b.finalizer === null ? null : JSON.stringify(b.finalizer),
        b.itemsPerMessage,
        b.maxAttempts,
        b.metadata,
        b.createdAt,
      ]);
      if (result.rowCount !== 1) return 'exists';
      notifier.publish(batchCatalogChannel);
      return 'created';
    },
    async batchGet({ id }) {
      const [row] = await run<BatchRow>(pool, sql.get, [id]);
      return row ? toBatch(row) : undefined;
    },
    async batchList(p) {
      const rows = await run<BatchRow>(pool, sql.list, [
        p.processor ?? null,
        p.unfinished ?? false,
        p.createdBefore ?? Number.MAX_SAFE_INTEGER,
        p.limit,
      ]);
      return rows.map(toBatch);
    },
    async batchEnqueued(p) {
      const [row] = await run<{ counted: boolean; found: boolean }>(pool, sql.enqueued, [
        p.id,
        p.items,
        p.chunks,
      ]);
      if (row?.counted) return 'ok';
      return row?.found ? 'cancelled' : 'missing';
    },
    async batchSeal(p) {
      const result = await transaction(pool, async (client) => {
        const [sealed] = await query(client, sql.seal, [p.id, p.total, p.chunks, p.now]);
        if (!sealed) {
          const [found] = await query(client, sql.get, [p.id]);
          return { outcome: found ? ('cancelled' as const) : ('missing' as const), finalized: false };
        }
        return { outcome: 'sealed' as const, finalized: await finalize(client, p.id, p.now) };
      });
      if (result.finalized) announceFinalized([p.id]);
      return result;
    },
    async batchChunksDone({ batchId, chunks }) {
      if (chunks.length === 0) return [];
      const done = new Set(
        (await run<{ chunk: number }>(pool, sql.chunksDone, [batchId, chunks])).map((row) => row.chunk),
      );
      return chunks.filter((chunk) => done.has(chunk));
    },
    async batchAckChunks(p) {
      if (p.acks.length === 0) return { recorded: 0, duplicates: 0, ignored: 0, finalized: [] };
      const values = ackValues(p.acks, p.now);
      type AckRow = {
        applied: boolean;
        live: string[] | null;
        recorded: number;
        finalized: BatchRow[] | null;
      };
      // Usually one statement; when a batch may complete, a transaction that can insert its finalizer.
      let [row] = await run<AckRow>(pool, sql.ack, [...values, false]);
      let finalized: string[] = [];
      if (!row?.applied) {
        [row, finalized] = await transaction(
          pool,
          async (client) => {
            const [again] = await query<AckRow>(client, sql.ack, [...values, true]);
            const batches = (again?.finalized ?? []).map(toBatch);
            if (batches.length > 0) {
              await query(client, sql.durable, []);
              await insertOutboxEntries(
                client,
                batches.map((batch) => finalizerEntry(batch, p.now)),
                p.now,
              );
            }
            return [again, batches.map((b) => b.id)] as const;
          },
          { durable: false },
        );
      }
      // Acks of live batches that recorded nothing were duplicates (also a chunk repeated in the call).
      const liveIds = new Set(row?.live ?? []);
      const live = p.acks.filter((ack) => liveIds.has(ack.batchId)).length;
      const recorded = row?.recorded ?? 0;
      const result = { recorded, duplicates: live - recorded, ignored: p.acks.length - live, finalized };
      announceFinalized(result.finalized);
      return result;
    },
    async batchCancel(p) {
      const result = await transaction(pool, async (client) => {
        const [cancelled] = await query(client, sql.cancel, [p.id, p.now]);
        if (!cancelled) {
          const [found] = await query(client, sql.get, [p.id]);
          return { outcome: found ? ('finished' as const) : ('missing' as const), finalized: false };
        }
        return { outcome: 'cancelled' as const, finalized: await finalize(client, p.id, p.now) };
      });
      if (result.finalized) announceFinalized([p.id]);
      return result;
    },
    async batchFailedItems(p) {
      const rows = await run<{
        item_index: number;
        item: string;
        error: string;
        attempts: number;
        failed_at: number;
      }>(pool, sql.failedList, [p.id, p.afterIndex, p.limit]);
      return rows.map((row) => ({
        index: row.item_index,
        item: row.item,
        error: row.error,
        attempts: row.attempts,
        failedAt: row.failed_at,
      }));
    },
    async batchReserveRetryChunks(p) {
      const [row] = await run<{ before: number }>(pool, sql.reserveRetry, [p.id, p.count]);
      return row ? -(row.before + 1) : undefined;
    },
  };
}
