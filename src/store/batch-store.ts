/**
 * The batch half of the store: a batch row with its counters, one row per chunk (queue message of
 * items) that is done, and one row per failed item. The rules that make completion exactly once live
 * in the transactions here, and every backend must keep them:
 *
 * 1. Counters move only in the transaction that inserts a chunk's done row, whose key is
 *    (batch, chunk); a chunk delivered and acknowledged twice (at-least-once queues) counts once.
 * 2. The same transaction then tries the completion compare-and-set: `finalized_at IS NULL`, sealed
 *    (every item enqueued), and succeeded + failed + cancelled = total. The transaction that makes the
 *    last change is the one whose CAS matches; every other one sees `finalized_at` set.
 * 3. The CAS inserts the finalizer's delivery into the outbox in that same transaction (unique key
 *    `batch:<id>`), so a crash after the commit still delivers it, and nothing can deliver it twice
 *    except a crash between a delivery and its acknowledgement (see outbox-store.ts).
 * Sealing and cancelling run the same CAS, since either can be the last change.
 */
import type { ScheduleTarget } from './targets.js';

export type BatchStatus = 'CREATING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED';

export interface StoredBatch {
  id: string;
  /** The function that processes the items. */
  processor: string;
  /** The queue the chunks travel through. */
  queueName: string;
  finalizer: ScheduleTarget | null;
  itemsPerMessage: number;
  /** Receives of a chunk before its items are counted as failed. */
  maxAttempts: number;
  /** JSON the creator attached; passed to the finalizer in the summary. */
  metadata: string | null;
  status: BatchStatus;
  /** Items enqueued (final once sealed). */
  total: number;
  /** Chunks enqueued by the creator, numbered 0 to chunks - 1 (retry chunks are numbered below 0). */
  chunks: number;
  succeeded: number;
  failed: number;
  /** Items that were not processed because the batch was cancelled. */
  cancelled: number;
  createdAt: number;
  sealedAt: number | null;
  cancelledAt: number | null;
  finalizedAt: number | null;
}

export interface NewBatch {
  id: string;
  processor: string;
  queueName: string;
  finalizer: ScheduleTarget | null;
  itemsPerMessage: number;
  maxAttempts: number;
  metadata: string | null;
  createdAt: number;
}

export interface ItemFailure {
  /** The item's index in the batch (its position in the source). */
  index: number;
  /** The item, as JSON text, kept so it can be retried. */
  item: string;
  error: string;
}

/** The outcome of one chunk: `items` items, of which `failures` failed. */
export interface ChunkAck {
  batchId: string;
  chunk: number;
  items: number;
  failures: ItemFailure[];
  /** A retry chunk: its items were failed before; those that succeed now move from failed to succeeded. */
  retriedIndexes?: number[];
}

export interface FailedItem extends ItemFailure {
  attempts: number;
  failedAt: number;
}

/** Whether a transition finalized the batch (its finalizer is now in the outbox). */
export interface Finalization {
  finalized: boolean;
}

export interface BatchStore {
  batchCreate(p: { batch: NewBatch }): Promise<'created' | 'exists'>;
  batchGet(p: { id: string }): Promise<StoredBatch | undefined>;
  /** Newest first; `unfinished` keeps CREATING and RUNNING batches. */
  batchList(p: {
    processor?: string;
    unfinished?: boolean;
    limit: number;
    createdBefore?: number;
  }): Promise<StoredBatch[]>;
  /** Counts items and chunks the creator enqueued. `cancelled`: the batch was cancelled, stop creating. */
  batchEnqueued(p: { id: string; items: number; chunks: number }): Promise<'ok' | 'cancelled' | 'missing'>;
  /**
   * Every item is enqueued: `total` and `chunks` (the creator's own count, authoritative even if a
   * `batchEnqueued` call was lost) become final; runs the completion CAS.
   */
  batchSeal(p: {
    id: string;
    total: number;
    chunks: number;
    now: number;
  }): Promise<Finalization & { outcome: 'sealed' | 'cancelled' | 'missing' }>;
  /** Which of these chunks of a batch are already done (a redelivered message need not run again). */
  batchChunksDone(p: { batchId: string; chunks: number[] }): Promise<number[]>;
  /**
   * Records chunk outcomes, each counted once (rule 1), and runs the completion CAS of every batch
   * touched. Acks of cancelled or missing batches are ignored. Returns the batches it finalized.
   */
  batchAckChunks(p: {
    acks: ChunkAck[];
    now: number;
  }): Promise<{ recorded: number; duplicates: number; ignored: number; finalized: string[] }>;
  /** Cancels an unfinished batch: the items not done count as cancelled, and it finalizes. */
  batchCancel(p: {
    id: string;
    now: number;
  }): Promise<Finalization & { outcome: 'cancelled' | 'finished' | 'missing' }>;
  /** Failed items in index order after `afterIndex`. */
  batchFailedItems(p: { id: string; afterIndex: number; limit: number }): Promise<FailedItem[]>;
  /**
   * Reserves `count` chunk numbers for a retry and returns the highest; they count down from there
   * (retry chunks are numbered -1, -2, ...). The items stay failed until their retry chunk succeeds, so
   * a retry never changes whether or when the batch completes.
   */
  batchReserveRetryChunks(p: { id: string; count: number }): Promise<number | undefined>;
}

export const batchChannel = (id: string): string => `batch:${id}`;
/**
 * Published when a batch is created: a process that declares the processor but has not built its
 * worker (it had no unfinished batch when the processor was declared) builds it then.
 */
export const batchCatalogChannel = 'batches';
