/**
 * The item collection size limit of tables with local secondary indexes, as both backends apply it
 * inside an item write's transaction: each collection a call changes gets its net change in bytes (the
 * decisions' `collectionDelta`, summed per table and partition key), the store adds it to the kept size
 * and refuses the call when a collection that grew ends above its limit. A collection that shrinks or
 * stays the same is never refused, even above the limit (DynamoDB lets writes that shrink it through).
 */
import type { ItemDecision, ItemWrite } from '../table-store.js';

export interface CollectionChange {
  tableId: number;
  pk: Buffer;
  delta: number;
  limit: number;
  /** The first write of the call that grows this collection: the one a refusal names. */
  index: number;
}

/** The net change of each item collection the call touches, for writes that carry a limit. */
export function collectionChanges(writes: ItemWrite[], decisions: ItemDecision[]): CollectionChange[] {
  const byCollection = new Map<string, CollectionChange>();
  writes.forEach((write, index) => {
    const decision = decisions[index];
    if (write.collectionLimit === undefined || !decision || (decision.kind !== 'put' && decision.kind !== 'delete')) return;
    const delta = decision.collectionDelta ?? 0;
    if (delta === 0) return;
    const key = `${write.tableId}:${write.key.pk.toString('hex')}`;
    const change = byCollection.get(key);
    if (change) {
      change.delta += delta;
      if (delta > 0 && change.index < 0) change.index = index;
    } else {
      byCollection.set(key, { tableId: write.tableId, pk: write.key.pk, delta, limit: write.collectionLimit, index: delta > 0 ? index : -1 });
    }
  });
  // Locked in one order by every writer, so two calls touching the same collections never deadlock.
  return [...byCollection.values()].sort((a, b) => a.tableId - b.tableId || Buffer.compare(a.pk, b.pk));
}

/** Whether the collection's size after the change refuses the call. */
export function exceedsLimit(change: CollectionChange, bytesAfter: number): boolean {
  return change.delta > 0 && bytesAfter > change.limit;
}
