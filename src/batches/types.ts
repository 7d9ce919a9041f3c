/**
 * Batches: many items processed by a function through a queue, whose completion fires a finalizer
 * exactly once (the pattern of AWS's "batch processing with SQS, Lambda and DynamoDB item state").
 */
import type { Readable } from 'node:stream';
import type { BatchStatus } from '../store/batch-store.js';
import type { FunctionTarget, QueueTarget } from '../store/targets.js';
import type { BatchSummary } from '../store/rules/batch-finalizer.js';

/** An array, any (async) iterable, or a Node stream: object mode yields items, a byte stream is NDJSON. */
export type BatchItems = Iterable<unknown> | AsyncIterable<unknown> | Readable;

export interface BatchInput {
  /** Default: a random UUID. 1-128 letters, digits, `-`, `_`, `.`, `:`. */
  id?: string;
  /** The function that processes the items (it must exist). */
  processor: string;
  items: BatchItems;
  /** Items packed into one queue message: the tuning knob of seed 004. 1-10,000, default 100. */
  itemsPerMessage?: number;
  /** Receives of a chunk whose processing failed before its items count as failed. 1-100, default 3. */
  maxAttempts?: number;
  /** Fired once, with the summary, when every item is done: `{ function: 'f' }` or `{ queue: 'q' }`. */
  finalizer?:
    { function: string } | { queue: string; messageGroupId?: string } | FunctionTarget | QueueTarget;
  /** JSON kept with the batch and passed to the finalizer. */
  metadata?: unknown;
}

export interface BatchView {
  id: string;
  status: BatchStatus;
  processor: string;
  queue: string;
  /** Items enqueued so far (final once status is past CREATING). */
  total: number;
  succeeded: number;
  failed: number;
  /** Items dropped by a cancel. */
  cancelled: number;
  /** Items enqueued and not yet done (queued or being processed). */
  inFlight: number;
  itemsPerMessage: number;
  createdAt: string;
  finalizedAt: string | null;
  finalizer: {
    target: FunctionTarget | QueueTarget | null;
    deliveredAt: string | null;
    lastError: string | null;
  };
}

/** The body of one queue message of a batch, as the processor sees it in each SQS record. */
export interface BatchChunk<T = unknown> {
  batchId: string;
  chunk: number;
  /** The index (in the batch) of `items[0]`; the next items follow in order. */
  firstIndex: number;
  /** Retry chunks only: the index of each item, when they are not consecutive. */
  indexes?: number[];
  items: T[];
}

/** An item the processor failed: it is counted failed, listed by `failedItems`, and may be retried. */
export interface BatchItemFailure {
  batchId: string;
  index: number;
  error?: string;
  /** The error's stack, for the node's log and console (not stored with the item). */
  stack?: string;
}

/**
 * What a processor may return: Lambda's partial batch response (`batchItemFailures` lists whole
 * messages to retry) plus `itemFailures` for single items, which Lambda itself ignores.
 */
export interface BatchProcessorResponse {
  batchItemFailures?: Array<{ itemIdentifier: string }>;
  itemFailures?: BatchItemFailure[];
}

export interface FailedItemView {
  index: number;
  item: unknown;
  error: string;
  attempts: number;
  failedAt: string;
}

export type { BatchSummary };

export const batchLimits = {
  defaultItemsPerMessage: 100,
  maxItemsPerMessage: 10_000,
  defaultMaxAttempts: 3,
  maxMaxAttempts: 100,
  /** A chunk's body stays under the queue's 1 MiB message limit, with room for the envelope. */
  maxChunkBytes: 1_000_000,
} as const;
