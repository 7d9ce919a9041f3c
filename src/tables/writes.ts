/**
 * The decision at the heart of every item write, made inside the store's transaction: given the item
 * as stored, does the condition hold, what is the new item, is it small enough, when does it expire,
 * and which stream record describes the change. Put, update, delete, condition checks and TTL
 * deletions are all a `PlannedWrite`: a condition and a change from the current item to the next.
 */
import { checkIndexKeys, indexChanges, indexEntryOf } from './indexes.js';
import type { ItemDecision, ItemWrite, StoredTable } from '../store/table-store.js';
import { draftRecord } from '../streams/record.js';
import { shardOf } from '../streams/shards.js';
import { SluiceError } from '../model/errors.js';
import { tableLimits } from './definition.js';
import { valuesEqual, type CompiledCondition, type Item } from './expressions/index.js';
import { decodeItem, encodeItem } from './item-codec.js';
import { itemSize } from './item-size.js';
import { keyOfItem } from './keys.js';
import { approximate, isDynamoNumber } from './expressions/numbers.js';
import { type EncodedKey } from '../store/table-definition.js';

/** What the change returns: the next item, null to delete, undefined to leave the item as it is. */
export type ItemChange = (current: Item | undefined) => Item | null | undefined;

export interface PlannedWrite {
  table: StoredTable;
  key: EncodedKey;
  condition: CompiledCondition | undefined;
  change: ItemChange;
  /** A TTL deletion, whose REMOVE record names DynamoDB as the deleter. */
  byService?: boolean;
}

/** What the decision saw and did, for ReturnValues and for error reports; set by `decide`. */
export interface WriteResult {
  old: Item | undefined;
  new: Item | undefined;
  failed: boolean;
}

/** DynamoDB ignores TTL values more than five years in the past, so they never delete anything. */
const ttlHorizonMs = 5 * 365 * 24 * 60 * 60 * 1000;

export function expiresAtOf(table: StoredTable, item: Item, now: number): number | null {
  const attribute = table.definition.ttlAttribute;
  if (attribute === null) return null;
  const value = item[attribute];
  if (!isDynamoNumber(value)) return null;
  const expiresAt = Math.round(approximate(value) * 1000);
  if (!Number.isFinite(expiresAt)) return null;
  return expiresAt < now - ttlHorizonMs ? null : expiresAt;
}

function tooLarge(size: number): SluiceError {
  return new SluiceError(
    'ValidationException',
    `Item size has exceeded the maximum allowed size: ${size} bytes; the limit is ${tableLimits.maxItemBytes} bytes (400 KB)`,
    { field: 'Item' },
  );
}

export function checkItemSize(item: Item): number {
  const size = itemSize(item);
  if (size > tableLimits.maxItemBytes) throw tooLarge(size);
  return size;
}

/**
 * DynamoDB's item collection limit: the items of one partition key plus their entries in the table's
 * local secondary indexes, in a table that has any, hold at most 10 GB.
 */
export const ITEM_COLLECTION_LIMIT_BYTES = 10 * 1024 * 1024 * 1024;

const hasLocalIndexes = (table: StoredTable) => table.definition.indexes?.some((index) => index.kind === 'local') ?? false;

/** What an item counts in its item collection: its size and the sizes of its local index entries. */
function collectionBytes(table: StoredTable, item: Item | undefined): number {
  if (!item) return 0;
  let bytes = itemSize(item);
  for (const index of table.definition.indexes ?? []) {
    if (index.kind === 'local') bytes += indexEntryOf(table.definition, index, item)?.size ?? 0;
  }
  return bytes;
}

/** The write's change to its item collection, as a `collectionDelta` field, for tables with local indexes. */
function withCollectionDelta(plan: PlannedWrite, before: Item | undefined, after: Item | undefined) {
  if (!hasLocalIndexes(plan.table)) return {};
  return { collectionDelta: collectionBytes(plan.table, after) - collectionBytes(plan.table, before) };
}

function decide(
  plan: PlannedWrite,
  result: WriteResult,
  stored: string | undefined,
  now: number,
): ItemDecision {
  const current = stored === undefined ? undefined : decodeItem(stored);
  result.old = current;
  result.new = current;
  result.failed = false;
  if (plan.condition && !plan.condition.evaluate(current)) {
    result.failed = true;
    return { kind: 'fail', reason: 'ConditionalCheckFailed' };
  }
  const next = plan.change(current);
  if (next === undefined) return { kind: 'none' };
  const stream = plan.table.definition.stream;
  if (next === null) {
    result.new = undefined;
    if (current === undefined) return { kind: 'none' };
    const record = stream
      ? draftRecord({
          viewType: stream.viewType,
          eventName: 'REMOVE',
          keys: keyOfItem(plan.table.definition, current),
          oldItem: current,
          newItem: undefined,
          now,
          byService: plan.byService ?? false,
        })
      : null;
    return { kind: 'delete', record, ...withIndexChanges(plan, current, undefined), ...withCollectionDelta(plan, current, undefined) };
  }
  result.new = next;
  // DynamoDB writes no stream record for a write that changes nothing; neither does Sluice.
  if (current !== undefined && valuesEqual(current, next)) return { kind: 'none' };
  const size = checkItemSize(next);
  checkIndexKeys(plan.table.definition, next);
  const record = stream
    ? draftRecord({
        viewType: stream.viewType,
        eventName: current === undefined ? 'INSERT' : 'MODIFY',
        keys: keyOfItem(plan.table.definition, next),
        oldItem: current,
        newItem: next,
        now,
        byService: false,
      })
    : null;
  return {
    kind: 'put',
    item: encodeItem(next),
    size,
    expiresAt: expiresAtOf(plan.table, next, now),
    record,
    ...withIndexChanges(plan, current, next),
    ...withCollectionDelta(plan, current, next),
  };
}

/** The write's index entry changes, as an `index` field when there are any. */
function withIndexChanges(plan: PlannedWrite, before: Item | undefined, after: Item | undefined) {
  const index = indexChanges(plan.table.definition, before, after);
  return index ? { index } : {};
}

/**
 * The store's form of a planned write; `result` is filled in when the store decides. A write to a table
 * with local secondary indexes carries the item collection limit (`collectionLimit`, DynamoDB's 10 GB
 * unless given: tests set a small one).
 */
export function toItemWrite(
  plan: PlannedWrite,
  now: number,
  collectionLimit = ITEM_COLLECTION_LIMIT_BYTES,
): { write: ItemWrite; result: WriteResult } {
  const key = plan.key;
  const result: WriteResult = { old: undefined, new: undefined, failed: false };
  const write: ItemWrite = {
    tableId: plan.table.id,
    indexVersion: plan.table.indexVersion,
    key,
    shard: plan.table.definition.stream ? shardOf(key.pk, plan.table.definition.shardCount) : null,
    decide: (stored) => decide(plan, result, stored, now),
    ...(hasLocalIndexes(plan.table) ? { collectionLimit } : {}),
  };
  return { write, result };
}
