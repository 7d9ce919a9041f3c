/**
 * What a batch's finalizer receives, built from the batch row at the instant it finalized (inside the
 * finalizing transaction, by every backend), and the outbox entry that carries it.
 */
import type { StoredBatch } from '../batch-store.js';
import type { NewOutboxEntry } from '../outbox-store.js';
import type { FunctionTarget, QueueTarget } from '../targets.js';

export interface BatchSummary {
  batchId: string;
  /** COMPLETED: every item was processed (some may have failed); CANCELLED: cancelled first. */
  status: 'COMPLETED' | 'CANCELLED';
  processor: string;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  createdAt: string;
  finalizedAt: string;
  /** The metadata given at creation, parsed. */
  metadata?: unknown;
}

export interface FinalizerDelivery {
  target: FunctionTarget | QueueTarget | null;
  summary: BatchSummary;
}

export function batchSummary(batch: StoredBatch, finalizedAt: number): BatchSummary {
  const summary: BatchSummary = {
    batchId: batch.id,
    status: batch.cancelledAt !== null ? 'CANCELLED' : 'COMPLETED',
    processor: batch.processor,
    total: batch.total,
    succeeded: batch.succeeded,
    failed: batch.failed,
    cancelled: batch.cancelled,
    createdAt: new Date(batch.createdAt).toISOString(),
    finalizedAt: new Date(finalizedAt).toISOString(),
  };
  if (batch.metadata !== null) summary.metadata = JSON.parse(batch.metadata);
  return summary;
}

/**
 * The finalizer's outbox entry. A batch without a finalizer still gets one (with a null target): it
 * records the summary, and keeps a single path for every batch.
 */
export function finalizerEntry(batch: StoredBatch, finalizedAt: number): NewOutboxEntry {
  const target = batch.finalizer && batch.finalizer.kind !== 'batch' ? batch.finalizer : null;
  const payload: FinalizerDelivery = { target, summary: batchSummary(batch, finalizedAt) };
  return { key: `batch:${batch.id}`, topic: 'batch-finalizer', payload: JSON.stringify(payload) };
}
