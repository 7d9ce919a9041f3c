/**
 * Secondary indexes (DynamoDB's global and local secondary indexes), kept as index entries.
 *
 * Every item write computes, from the item before and after, which entries of the table's indexes it
 * removes and which it writes (`indexChanges`); the store applies them in the item's own transaction.
 * An item lacking an index's key attributes has no entry (sparse indexes). An entry holds the projected
 * item (KEYS_ONLY, INCLUDE, ALL) under the index key, so a query on an index reads the entries it
 * returns and nothing else: O(result), whatever the table's size. A local index with Select
 * ALL_ATTRIBUTES fetches the page's whole items from the table by key. A global index added to a
 * table is backfilled (tables/index-backfill.ts) and refuses reads until that is done, as DynamoDB does.
 */
import { SluiceError } from '../model/errors.js';
import type {
  IndexChanges,
  IndexEntry,
  IndexEntryKey,
  IndexPosition,
  IndexRow,
  TableStore,
} from '../store/table-store.js';
import type { IndexDefinition, KeyAttribute, KeyType, TableDefinition } from '../store/table-definition.js';
import { tableLimits } from './definition.js';
import type { CompiledExpressions, Item, KeyValue } from './expressions/index.js';
import { decodeItem, encodeItem } from './item-codec.js';
import { itemSize } from './item-size.js';
import { isDynamoNumber } from './expressions/numbers.js';
import { encodeKey, encodeKeyValue, keyOfItem } from './keys.js';
import { queryBounds } from './reads.js';
import type { PageOutput } from './types.js';

const invalid = (message: string, field: string) =>
  new SluiceError('ValidationException', `One or more parameter values were invalid: ${message}`, { field });

function typeOfKey(value: unknown): KeyType | undefined {
  if (typeof value === 'string') return 'S';
  if (isDynamoNumber(value)) return 'N';
  if (value instanceof Uint8Array) return 'B';
  return undefined;
}

/** The index's key attributes an item carries, or undefined when it is not in the index. */
function indexKeyOf(index: IndexDefinition, item: Item): { pk: Buffer; sk: Buffer } | undefined {
  const pk = item[index.partitionKey.name];
  if (pk === undefined || typeOfKey(pk) !== index.partitionKey.type) return undefined;
  if (!index.sortKey) return { pk: encodeKeyValue(pk as KeyValue), sk: Buffer.alloc(0) };
  const sk = item[index.sortKey.name];
  if (sk === undefined || typeOfKey(sk) !== index.sortKey.type) return undefined;
  return { pk: encodeKeyValue(pk as KeyValue), sk: encodeKeyValue(sk as KeyValue) };
}

/**
 * A written item's index key attributes must have the index's types and not be empty, as DynamoDB
 * checks on every write (an item without them is simply not in the index).
 */
export function checkIndexKeys(definition: TableDefinition, item: Item): void {
  for (const index of definition.indexes ?? []) {
    for (const key of [index.partitionKey, index.sortKey]) {
      if (!key) continue;
      const value = item[key.name];
      if (value === undefined) continue;
      const type = typeOfKey(value);
      if (type !== key.type) {
        throw invalid(
          `Type mismatch for Index Key ${key.name} Expected: ${key.type} Actual: ${type ?? 'other'} IndexName: ${index.name}`,
          'Item',
        );
      }
      if ((typeof value === 'string' || value instanceof Uint8Array) && value.length === 0) {
        throw invalid(
          `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: ${index.name}, IndexKey: ${key.name}`,
          'Item',
        );
      }
    }
  }
}

/**
 * Select ALL_ATTRIBUTES on an index: a local index fetches whole items from the table; a global one can
 * only when it projects every attribute.
 */
export function checkAllAttributes(index: IndexDefinition): void {
  if (index.kind === 'global' && index.projection.type !== 'ALL') {
    throw new SluiceError(
      'ValidationException',
      `One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index ${index.name} because its projection type is not ALL`,
      { field: 'Select' },
    );
  }
}

/** The index entry key of an item, or undefined when the item lacks the index's key attributes. */
function entryKeyOf(index: IndexDefinition, item: Item): IndexEntryKey | undefined {
  const key = indexKeyOf(index, item);
  return key ? { index: index.name, ipk: key.pk, isk: key.sk } : undefined;
}

/** The entry an item has in an index (its projection under the index key), or undefined: none. */
export function indexEntryOf(definition: TableDefinition, index: IndexDefinition, item: Item): IndexEntry | undefined {
  const key = entryKeyOf(index, item);
  if (!key) return undefined;
  const projected = projectForIndex(definition, index, item);
  return { ...key, item: encodeItem(projected), size: projected === item ? itemSize(item) : itemSize(projected) };
}

const sameEntryKey = (a: IndexEntryKey, b: IndexEntryKey) => a.ipk.equals(b.ipk) && a.isk.equals(b.isk);

/**
 * The index entries a write removes and writes, from the item before and after (undefined: none).
 * An entry whose key and projection are unchanged is neither removed nor written again; an entry whose
 * key is unchanged is written over, never removed, so the two lists never share a key.
 */
export function indexChanges(
  definition: TableDefinition,
  before: Item | undefined,
  after: Item | undefined,
): IndexChanges | undefined {
  const indexes = definition.indexes;
  if (!indexes || indexes.length === 0) return undefined;
  const changes: IndexChanges = { remove: [], put: [] };
  for (const index of indexes) {
    const old = before ? entryKeyOf(index, before) : undefined;
    const next = after ? indexEntryOf(definition, index, after) : undefined;
    if (old && (!next || !sameEntryKey(old, next))) changes.remove.push(old);
    if (!next) continue;
    if (old && sameEntryKey(old, next) && before && index.projection.type !== 'ALL') {
      // Same key: unchanged unless a projected attribute changed.
      if (encodeItem(projectForIndex(definition, index, before)) === next.item) continue;
    }
    changes.put.push(next);
  }
  return changes.remove.length > 0 || changes.put.length > 0 ? changes : undefined;
}

export function findIndex(definition: TableDefinition, name: string): IndexDefinition {
  const index = definition.indexes?.find((candidate) => candidate.name === name);
  if (!index) {
    throw new SluiceError(
      'ValidationException',
      `The table does not have the specified index: ${name.slice(0, 255)}`,
      { field: 'IndexName' },
    );
  }
  return index;
}

/** An index to read: found, and not being backfilled (DynamoDB refuses reads until it is ACTIVE). */
export function readableIndex(definition: TableDefinition, name: string): IndexDefinition {
  const index = findIndex(definition, name);
  if (index.backfilling) {
    throw new SluiceError('ValidationException', 'Cannot read from backfilling global secondary index', {
      field: 'IndexName',
    });
  }
  return index;
}

/** The attributes an index holds of an item: the table's and the index's keys, plus its projection. */
export function projectForIndex(definition: TableDefinition, index: IndexDefinition, item: Item): Item {
  if (index.projection.type === 'ALL') return item;
  const names = new Set<string>([definition.partitionKey.name, index.partitionKey.name]);
  if (definition.sortKey) names.add(definition.sortKey.name);
  if (index.sortKey) names.add(index.sortKey.name);
  for (const name of index.projection.nonKeyAttributes ?? []) names.add(name);
  const out: Record<string, Item[string]> = {};
  for (const name of names) if (Object.hasOwn(item, name)) out[name] = item[name] as Item[string];
  return out;
}

export interface IndexRead {
  definition: TableDefinition;
  tableId: number;
  index: IndexDefinition;
  compiled: CompiledExpressions;
  limit: number;
  exclusiveStartKey: Item | undefined;
  /** Query only: ascending unless false. */
  forward?: boolean;
  /** Whole items, not the index's projection (a local index with Select ALL_ATTRIBUTES). */
  allAttributes?: boolean;
}

function keyDefinition(index: IndexDefinition): TableDefinition {
  return {
    partitionKey: index.partitionKey,
    sortKey: index.sortKey,
    stream: null,
    ttlAttribute: null,
    shardCount: 1,
  };
}

/** The key of an index entry as LastEvaluatedKey carries it: the table's key and the index's. */
function entryKey(read: IndexRead, item: Item): Item {
  const key: Record<string, Item[string]> = { ...keyOfItem(read.definition, item) };
  for (const attribute of [read.index.partitionKey, read.index.sortKey] as Array<KeyAttribute | null>) {
    if (attribute) key[attribute.name] = item[attribute.name] as Item[string];
  }
  return key;
}

const invalidStart = () =>
  new SluiceError(
    'ValidationException',
    "The provided starting key is invalid: it must hold the table's and the index's key attributes",
    { field: 'ExclusiveStartKey' },
  );

/** ExclusiveStartKey as a position in the index. */
function startPosition(read: IndexRead): IndexPosition | null {
  const start = read.exclusiveStartKey;
  if (!start) return null;
  const key = indexKeyOf(read.index, start);
  if (!key) throw invalidStart();
  let base: Item;
  try {
    base = keyOfItem(read.definition, start, 'ExclusiveStartKey');
  } catch {
    throw invalidStart();
  }
  const primary = encodeKey(read.definition, base);
  return { ipk: key.pk, isk: key.sk, pk: primary.pk, sk: primary.sk };
}

/** A page of entries as DynamoDB answers it: whole items when asked, the filter, the projection. */
async function shape(
  store: Pick<TableStore, 'itemGetMany'>,
  read: IndexRead,
  page: { rows: IndexRow[]; truncated: boolean },
): Promise<PageOutput> {
  let entries = page.rows.map((row) => decodeItem(row.item));
  if (read.allAttributes && read.index.projection.type !== 'ALL') {
    const whole = await store.itemGetMany({
      keys: page.rows.map((row) => ({ tableId: read.tableId, key: { pk: row.pk, sk: row.sk } })),
    });
    // An item deleted since the entry was read is skipped, as a later read would not find it either.
    entries = whole.flatMap((row) => (row ? [decodeItem(row.item)] : []));
  }
  const items: Item[] = [];
  for (const entry of entries) {
    if (read.compiled.filter && !read.compiled.filter.evaluate(entry)) continue;
    items.push(read.compiled.projection ? read.compiled.projection.project(entry) : entry);
  }
  const output: PageOutput = { items, count: items.length, scannedCount: page.rows.length };
  const last = page.rows[page.rows.length - 1];
  if (last && page.truncated) output.lastEvaluatedKey = entryKey(read, decodeItem(last.item));
  return output;
}

/** Query on an index: the key condition names the index's keys; reads only the entries returned. */
export async function queryIndex(
  store: Pick<TableStore, 'indexQuery' | 'itemGetMany'>,
  read: IndexRead,
): Promise<PageOutput> {
  const bounds = queryBounds(keyDefinition(read.index), read.compiled.keyCondition!);
  const page = await store.indexQuery({
    tableId: read.tableId,
    index: read.index.name,
    ipk: bounds.pk,
    lower: bounds.lower,
    upper: bounds.upper,
    startAfter: startPosition(read),
    forward: read.forward ?? true,
    limit: read.limit,
    maxBytes: tableLimits.maxPageBytes,
  });
  return shape(store, read, page);
}

/** Scan of an index: its entries in index key order (partition, then sort, then the table's key). */
export async function scanIndex(
  store: Pick<TableStore, 'indexScan' | 'itemGetMany'>,
  read: IndexRead,
): Promise<PageOutput> {
  const page = await store.indexScan({
    tableId: read.tableId,
    index: read.index.name,
    startAfter: startPosition(read),
    limit: read.limit,
    maxBytes: tableLimits.maxPageBytes,
  });
  return shape(store, read, page);
}
