/**
 * Batches on SQLite: the rules of batch-store.ts, each operation one synchronous transaction. The
 * completion compare-and-set is `finalize`, run at the end of every transaction that can make the last
 * change (chunk acks, seal, cancel).
 */
import { finalizerEntry } from '../rules/batch-finalizer.js';
import type { ScheduleTarget } from '../targets.js';
import {
  batchCatalogChannel,
  batchChannel,
  type BatchStore,
  type ChunkAck,
  type FailedItem,
  type StoredBatch,
} from '../batch-store.js';
import type { Notifier } from '../notifier.js';
import { outboxChannel } from '../outbox-store.js';
import type { SqliteDatabase } from './database.js';
import { outboxInserter } from './outbox.js';

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

interface FailedRow {
  item_index: number;
  item: string;
  error: string;
  attempts: number;
  failed_at: number;
}

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

export function createSqliteBatchStore(db: SqliteDatabase, notifier: Notifier): BatchStore {
  const insertOutbox = outboxInserter(db);
  const sql = {
    insert: db.prepare(
      `INSERT INTO batches (id, processor, queue_name, finalizer, items_per_message, max_attempts, metadata, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'CREATING', ?) ON CONFLICT (id) DO NOTHING`,
    ),
    get: db.prepare<[string], BatchRow>('SELECT * FROM batches WHERE id = ?'),
    list: db.prepare<
      [{ processor: string | null; unfinished: number; before: number; limit: number }],
      BatchRow
    >(
      `SELECT * FROM batches WHERE (:processor IS NULL OR processor = :processor) AND (:unfinished = 0 OR finalized_at IS NULL)
         AND created_at < :before ORDER BY created_at DESC, id DESC LIMIT :limit`,
    ),
    enqueued: db.prepare(
      'UPDATE batches SET total = total + ?, chunks = chunks + ? WHERE id = ? AND cancelled_at IS NULL AND sealed_at IS NULL',
    ),
    seal: db.prepare(
      `UPDATE batches SET total = ?, chunks = ?, sealed_at = ?, status = 'RUNNING'
       WHERE id = ? AND sealed_at IS NULL AND cancelled_at IS NULL`,
    ),
    cancel: db.prepare(
      `UPDATE batches SET cancelled_at = ?, sealed_at = COALESCE(sealed_at, ?), status = 'CANCELLED',
         cancelled = MAX(0, total - succeeded - failed)
       WHERE id = ? AND finalized_at IS NULL`,
    ),
    // The completion compare-and-set (rule 2 of batch-store.ts).
    finalize: db.prepare(
      `UPDATE batches SET finalized_at = ?, status = CASE WHEN cancelled_at IS NULL THEN 'COMPLETED' ELSE 'CANCELLED' END
       WHERE id = ? AND finalized_at IS NULL AND sealed_at IS NOT NULL AND succeeded + failed + cancelled >= total`,
    ),
    count: db.prepare('UPDATE batches SET succeeded = succeeded + ?, failed = failed + ? WHERE id = ?'),
    chunkInsert: db.prepare(
      'INSERT INTO batch_chunks (batch_id, chunk, items, failed, done_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    chunkDone: db.prepare<[string, number], { chunk: number }>(
      'SELECT chunk FROM batch_chunks WHERE batch_id = ? AND chunk = ?',
    ),
    failedUpsert: db.prepare(
      `INSERT INTO batch_failed_items (batch_id, item_index, item, error, attempts, failed_at) VALUES (?, ?, ?, ?, 1, ?)
       ON CONFLICT (batch_id, item_index) DO UPDATE SET error = excluded.error, attempts = attempts + 1, failed_at = excluded.failed_at`,
    ),
    failedRefail: db.prepare(
      'UPDATE batch_failed_items SET error = ?, attempts = attempts + 1, failed_at = ? WHERE batch_id = ? AND item_index = ?',
    ),
    failedDelete: db.prepare('DELETE FROM batch_failed_items WHERE batch_id = ? AND item_index = ?'),
    failedList: db.prepare<[string, number, number], FailedRow>(
      'SELECT item_index, item, error, attempts, failed_at FROM batch_failed_items WHERE batch_id = ? AND item_index > ? ORDER BY item_index LIMIT ?',
    ),
    reserveRetry: db.prepare('UPDATE batches SET retry_chunks = retry_chunks + ? WHERE id = ?'),
    retryChunks: db.prepare<[string], { retry_chunks: number }>(
      'SELECT retry_chunks FROM batches WHERE id = ?',
    ),
  };

  /** Runs the CAS; on success writes the finalizer's outbox entry in the same transaction. */
  function finalize(id: string, now: number): boolean {
    if (sql.finalize.run(now, id).changes !== 1) return false;
    insertOutbox(finalizerEntry(toBatch(sql.get.get(id)!), now), now);
    return true;
  }

  function applyAck(ack: ChunkAck, now: number): void {
    if (!ack.retriedIndexes) {
      for (const f of ack.failures) sql.failedUpsert.run(ack.batchId, f.index, f.item, f.error, now);
      sql.count.run(ack.items - ack.failures.length, ack.failures.length, ack.batchId);
      return;
    }
    // A retry chunk: an item that fails again stays failed; one that succeeds moves to succeeded, once.
    const failures = new Map(ack.failures.map((f) => [f.index, f]));
    let recovered = 0;
    for (const index of ack.retriedIndexes) {
      const failure = failures.get(index);
      if (failure) sql.failedRefail.run(failure.error, now, ack.batchId, index);
      else recovered += sql.failedDelete.run(ack.batchId, index).changes;
    }
    if (recovered > 0) sql.count.run(recovered, -recovered, ack.batchId);
  }

  const ackChunks = db.transaction((p: Parameters<BatchStore['batchAckChunks']>[0]) => {
    const result = { recorded: 0, duplicates: 0, ignored: 0, finalized: [] as string[] };
    const live = new Map<string, boolean>();
    for (const ack of p.acks) {
      let isLive = live.get(ack.batchId);
      if (isLive === undefined) {
        const row = sql.get.get(ack.batchId);
        isLive = row !== undefined && row.cancelled_at === null;
        live.set(ack.batchId, isLive);
      }
      if (!isLive) {
        result.ignored++;
        continue;
      }
      if (sql.chunkInsert.run(ack.batchId, ack.chunk, ack.items, ack.failures.length, p.now).changes === 0) {
        result.duplicates++;
        continue;
      }
      applyAck(ack, p.now);
      result.recorded++;
    }
    for (const [id, isLive] of live) if (isLive && finalize(id, p.now)) result.finalized.push(id);
    return result;
  });

  const seal = db.transaction((p: Parameters<BatchStore['batchSeal']>[0]) => {
    if (sql.seal.run(p.total, p.chunks, p.now, p.id).changes === 0) {
      const row = sql.get.get(p.id);
      return { outcome: row ? ('cancelled' as const) : ('missing' as const), finalized: false };
    }
    return { outcome: 'sealed' as const, finalized: finalize(p.id, p.now) };
  });

  const cancel = db.transaction((p: { id: string; now: number }) => {
    if (sql.cancel.run(p.now, p.now, p.id).changes === 0) {
      return { outcome: sql.get.get(p.id) ? ('finished' as const) : ('missing' as const), finalized: false };
    }
    return { outcome: 'cancelled' as const, finalized: finalize(p.id, p.now) };
  });

  const reserveRetry = db.transaction((p: { id: string; count: number }) => {
    const row = sql.retryChunks.get(p.id);
    if (!row) return undefined;
    sql.reserveRetry.run(p.count, p.id);
    return -(row.retry_chunks + 1);
  });

  /** Wakes whoever awaits these batches' completion, and the outbox relays. Progress alone publishes nothing. */
  function announceFinalized(ids: Iterable<string>): void {
    let any = false;
    for (const id of ids) {
      notifier.publish(batchChannel(id));
      any = true;
    }
    if (any) notifier.publish(outboxChannel);
  }

  return {
    async batchCreate({ batch: b }) {
      const changes = sql.insert.run(
        b.id,
        b.processor,
        b.queueName,
        b.finalizer === null ? null : JSON.stringify(b.finalizer),
        b.itemsPerMessage,
        b.maxAttempts,
        b.metadata,
        b.createdAt,
      ).changes;
      if (changes !== 1) return 'exists';
      notifier.publish(batchCatalogChannel);
      return 'created';
    },
    async batchGet({ id }) {
      const row = sql.get.get(id);
      return row ? toBatch(row) : undefined;
    },
    async batchList(p) {
      return sql.list
        .all({
          processor: p.processor ?? null,
          unfinished: p.unfinished ? 1 : 0,
          before: p.createdBefore ?? Number.MAX_SAFE_INTEGER,
          limit: p.limit,
        })
        .map(toBatch);
    },
    async batchEnqueued(p) {
      if (sql.enqueued.run(p.items, p.chunks, p.id).changes === 1) return 'ok';
      return sql.get.get(p.id) ? 'cancelled' : 'missing';
    },
    async batchSeal(p) {
      const result = seal(p);
      if (result.finalized) announceFinalized([p.id]);
      return result;
    },
    async batchChunksDone({ batchId, chunks }) {
      return chunks.filter((chunk) => sql.chunkDone.get(batchId, chunk) !== undefined);
    },
    async batchAckChunks(p) {
      const result = ackChunks(p);
      announceFinalized(result.finalized);
      return result;
    },
    async batchCancel(p) {
      const result = cancel(p);
      if (result.finalized) announceFinalized([p.id]);
      return result;
    },
    async batchFailedItems(p) {
      return sql.failedList
        .all(p.id, p.afterIndex, p.limit)
        .map((row): FailedItem => ({
          index: row.item_index,
          item: row.item,
          error: row.error,
          attempts: row.attempts,
          failedAt: row.failed_at,
        }));
    },
    async batchReserveRetryChunks(p) {
      return reserveRetry(p);
    },
  };
}
