import { describe, expect, it } from 'vitest';
import type { StoredBatch } from '../batch-store.js';
import { batchSummary, finalizerEntry, type FinalizerDelivery } from './batch-finalizer.js';

const batch: StoredBatch = {
  id: 'b1',
  processor: 'resize',
  queueName: 'sluice-batch-b1',
  finalizer: { kind: 'queue', queue: 'done' },
  itemsPerMessage: 10,
  maxAttempts: 3,
  metadata: '{"owner":"ops"}',
  status: 'RUNNING',
  total: 5,
  chunks: 1,
  succeeded: 4,
  failed: 1,
  cancelled: 0,
  createdAt: Date.UTC(2026, 0, 1),
  sealedAt: Date.UTC(2026, 0, 1),
  cancelledAt: null,
  finalizedAt: null,
};

describe('batch finalizer rule', () => {
  it('summarises a batch as COMPLETED with its counts, instants and parsed metadata', () => {
    expect(batchSummary(batch, Date.UTC(2026, 0, 2))).toEqual({
      batchId: 'b1',
      status: 'COMPLETED',
      processor: 'resize',
      total: 5,
      succeeded: 4,
      failed: 1,
      cancelled: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      finalizedAt: '2026-01-02T00:00:00.000Z',
      metadata: { owner: 'ops' },
    });
  });

  it('summarises a cancelled batch as CANCELLED', () => {
    expect(batchSummary({ ...batch, cancelledAt: 1, metadata: null }, 2)).toMatchObject({
      status: 'CANCELLED',
    });
    expect(batchSummary({ ...batch, metadata: null }, 2)).not.toHaveProperty('metadata');
  });

  it('writes one outbox entry per batch, keyed by the batch, with a null target when there is no finalizer', () => {
    const entry = finalizerEntry(batch, 2);
    expect(entry).toMatchObject({ key: 'batch:b1', topic: 'batch-finalizer' });
    expect((JSON.parse(entry.payload) as FinalizerDelivery).target).toEqual({ kind: 'queue', queue: 'done' });
    const none = finalizerEntry({ ...batch, finalizer: null }, 2);
    expect((JSON.parse(none.payload) as FinalizerDelivery).target).toBeNull();
  });
});
