/**
 * Secondary indexes (DynamoDB's global and local secondary indexes), read at query time.
 *
 * The store keeps no index structure yet: a query or scan on an index reads the table's items (a local
 * index: the one partition, through the table's own key order; a global index: the whole table) and
 * keeps those that carry the index's key attributes, ordered by the index's sort key and then the table's
 * key. The answers are DynamoDB's (projection, paging with the index keys in LastEvaluatedKey, limits);
 * the cost is O(partition) for a local index and O(table) for a global one, so this serves small tables.
 * An index maintained in the write transaction is the next step (docs/design/tables-and-streams.md).
 */
import { SluiceError } from '../model/errors.js';
import type { ItemRow, TableStore } from '../store/table-store.js';
import type { IndexDefinition, KeyAttribute, KeyType, TableDefinition } from '../store/table-definition.js';
import { tableLimits } from './definition.js';
import type { CompiledExpressions, Item, KeyValue } from './expressions/index.js';
import { decodeItem } from './item-codec.js';
import { encodeKeyValue, keyOfItem } from './keys.js';
import { queryBounds, type QueryBounds } from './reads.js';
import type { PageOutput } from './types.js';

const invalid = (message: string, field: string) =>
  new SluiceError('ValidationException', `One or more parameter values were invalid: ${message}`, { field });

function typeOfKey(value: unknown): KeyType | undefined {
  if (typeof value === 'string') return 'S';
  if (typeof value === 'number') return 'N';
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

interface IndexedRow {
  item: Item;
  row: ItemRow;
  isk: Buffer;
}

function compareRows(a: IndexedRow, b: IndexedRow): number {
  return (
    Buffer.compare(a.isk, b.isk) || Buffer.compare(a.row.pk, b.row.pk) || Buffer.compare(a.row.sk, b.row.sk)
  );
}

function withinBounds(isk: Buffer, bounds: QueryBounds): boolean {
  if (bounds.lower) {
    const c = Buffer.compare(isk, bounds.lower.sk);
    if (c < 0 || (c === 0 && !bounds.lower.inclusive)) return false;
  }
  if (bounds.upper) {
    const c = Buffer.compare(isk, bounds.upper.sk);
    if (c > 0 || (c === 0 && !bounds.upper.inclusive)) return false;
  }
  return true;
}

/** Every row of the table, or of one partition, through the store's pages. */
async function readRows(
  store: Pick<TableStore, 'itemScan' | 'itemQuery'>,
  tableId: number,
  partition: Buffer | null,
): Promise<ItemRow[]> {
  const rows: ItemRow[] = [];
  let cursor: ItemRow | undefined;
  for (;;) {
    const page = partition
      ? await store.itemQuery({
          tableId,
          pk: partition,
          lower: null,
          upper: null,
          startAfter: cursor?.sk ?? null,
          forward: true,
          limit: 1000,
          maxBytes: tableLimits.maxPageBytes,
        })
      : await store.itemScan({
          tableId,
          startAfter: cursor ? { pk: cursor.pk, sk: cursor.sk } : null,
          limit: 1000,
          maxBytes: tableLimits.maxPageBytes,
        });
    rows.push(...page.rows);
    cursor = page.rows[page.rows.length - 1];
    if (!page.truncated || !cursor) return rows;
  }
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
  /** A scan orders entries by the index's whole key (partition, then sort). */
  scan?: boolean;
  /** Whole items, not the index's projection (a local index with Select ALL_ATTRIBUTES). */
  allAttributes?: boolean;
}

function entryOrder(read: Pick<IndexRead, 'scan'>, key: { pk: Buffer; sk: Buffer }): Buffer {
  return read.scan ? Buffer.concat([key.pk, Buffer.from([0]), key.sk]) : key.sk;
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

function startPosition(read: IndexRead): IndexedRow | undefined {
  const start = read.exclusiveStartKey;
  if (!start) return undefined;
  const key = indexKeyOf(read.index, start);
  let base: Item;
  try {
    base = keyOfItem(read.definition, start, 'ExclusiveStartKey');
  } catch {
    throw new SluiceError(
      'ValidationException',
      "The provided starting key is invalid: it must hold the table's and the index's key attributes",
      { field: 'ExclusiveStartKey' },
    );
  }
  if (!key)
    throw new SluiceError(
      'ValidationException',
      "The provided starting key is invalid: it must hold the table's and the index's key attributes",
      { field: 'ExclusiveStartKey' },
    );
  const pk = encodeKeyValue(base[read.definition.partitionKey.name] as KeyValue);
  const sk = read.definition.sortKey
    ? encodeKeyValue(base[read.definition.sortKey.name] as KeyValue)
    : Buffer.alloc(0);
  return { item: start, row: { pk, sk, item: '', size: 0 }, isk: entryOrder(read, key) };
}

function shape(read: IndexRead, entries: IndexedRow[]): PageOutput {
  const start = startPosition(read);
  const forward = read.forward ?? true;
  const after = start
    ? entries.filter((entry) => (forward ? compareRows(entry, start) > 0 : compareRows(entry, start) < 0))
    : entries;
  const page: IndexedRow[] = [];
  let bytes = 0;
  for (const entry of after) {
    page.push(entry);
    bytes += entry.row.size;
    if (page.length >= read.limit || bytes >= tableLimits.maxPageBytes) break;
  }
  const items: Item[] = [];
  for (const entry of page) {
    const projected = read.allAttributes
      ? entry.item
      : projectForIndex(read.definition, read.index, entry.item);
    if (read.compiled.filter && !read.compiled.filter.evaluate(projected)) continue;
    items.push(read.compiled.projection ? read.compiled.projection.project(projected) : projected);
  }
  const output: PageOutput = { items, count: items.length, scannedCount: page.length };
  const last = page[page.length - 1];
  if (last && page.length < after.length) output.lastEvaluatedKey = entryKey(read, last.item);
  return output;
}

/** Query on an index: the key condition names the index's keys. */
export async function queryIndex(
  store: Pick<TableStore, 'itemScan' | 'itemQuery'>,
  read: IndexRead,
): Promise<PageOutput> {
  const bounds = queryBounds(keyDefinition(read.index), read.compiled.keyCondition!);
  // A local index shares the table's partition key: read only that partition.
  const rows = await readRows(store, read.tableId, read.index.kind === 'local' ? bounds.pk : null);
  const entries: IndexedRow[] = [];
  for (const row of rows) {
    const item = decodeItem(row.item);
    const key = indexKeyOf(read.index, item);
    if (key && key.pk.equals(bounds.pk) && withinBounds(key.sk, bounds))
      entries.push({ item, row, isk: key.sk });
  }
  entries.sort(compareRows);
  if (read.forward === false) entries.reverse();
  return shape(read, entries);
}

/** Scan of an index: the items that carry its keys, in index key order. */
export async function scanIndex(
  store: Pick<TableStore, 'itemScan' | 'itemQuery'>,
  read: IndexRead,
): Promise<PageOutput> {
  const entries: IndexedRow[] = [];
  for (const row of await readRows(store, read.tableId, null)) {
    const item = decodeItem(row.item);
    const key = indexKeyOf(read.index, item);
    if (key) entries.push({ item, row, isk: entryOrder(read, key) });
  }
  entries.sort(compareRows);
  return shape(read, entries);
}
