/**
 * Backfilling a global secondary index added to a table that already holds items: the table is read in
 * key order, in batches, and each item's entry written. Writes that run meanwhile keep the index
 * themselves (the index is in their definition from the moment it is added), and the store makes a
 * batch and a concurrent write of the same item meet in one order (see TableStore.indexBackfill), so
 * the index ends complete. It stays `backfilling` (reads refused) until then. The backfill is
 * idempotent and resumable: started again after the last committed batch, it still ends complete
 * (backfill-leases.ts runs it under a lease and resumes it there when its node is gone).
 */
import type { StoredTable, TableStore } from '../store/table-store.js';
import type { EncodedKey, TableDefinition } from '../store/table-definition.js';
import { decodeItem } from './item-codec.js';
import { indexEntryOf } from './indexes.js';

/** Items per backfill transaction: each holds its items' row locks for its duration. */
const BATCH = 500;

export type BackfillStore = Pick<TableStore, 'indexBackfill' | 'tableGetById' | 'tableUpdate'>;

/**
 * Writes the entries of every item of the table after `from` in the index; `progress` hears the last key
 * of each committed batch. True when it reached the end (or the index or table went away), false when
 * `stopped` ended it first.
 */
export async function fillIndex(
  store: BackfillStore,
  table: StoredTable,
  indexName: string,
  options: { from?: EncodedKey | null; progress?: (after: EncodedKey) => void; stopped?: () => boolean } = {},
): Promise<boolean> {
  const index = table.definition.indexes?.find((candidate) => candidate.name === indexName);
  if (!index) return true;
  const entriesOf = (text: string) => {
    const entry = indexEntryOf(table.definition, index, decodeItem(text));
    return entry ? [entry] : [];
  };
  let after = options.from ?? null;
  for (;;) {
    after = await store.indexBackfill({ tableId: table.id, index: indexName, after, limit: BATCH, entriesOf });
    if (!after) return true;
    options.progress?.(after);
    if (options.stopped?.()) return false;
  }
}

/** The definition with the index marked as complete. */
function withIndexReady(definition: TableDefinition, indexName: string): TableDefinition {
  if (!definition.indexes) return definition;
  return {
    ...definition,
    indexes: definition.indexes.map((index) => {
      if (index.name !== indexName) return index;
      const { backfilling: _backfilling, ...ready } = index;
      return ready;
    }),
  };
}

/**
 * Marks a filled index ready; returns the table as stored after that, or undefined when the table went
 * away. A compare-and-set on the definition it was read from: an UpdateTable that commits in between (a
 * stream or TTL change) is kept, and the mark is computed again from the definition that update stored.
 */
export async function markIndexReady(
  store: BackfillStore,
  tableId: number,
  indexName: string,
  now: () => number,
): Promise<StoredTable | undefined> {
  for (;;) {
    const current = await store.tableGetById({ id: tableId });
    if (!current?.definition.indexes?.some((index) => index.name === indexName && index.backfilling)) return current;
    const marked = await store.tableUpdate({
      name: current.name,
      definition: withIndexReady(current.definition, indexName),
      now: now(),
      expected: current.definition,
    });
    if (marked) return marked;
  }
}
