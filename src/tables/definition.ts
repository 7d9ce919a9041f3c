/**
 * A table's definition: its key schema (partition key and optional sort key, each S, N or B), its
 * stream (a view type, or none) and its TTL attribute. Validated here once; the store keeps it as data.
 */
import { SluiceError } from '../model/errors.js';
import type {
  IndexDefinition,
  KeyAttribute,
  KeyType,
  StreamViewType,
  TableCapacity,
  TableDefinition,
} from '../store/table-definition.js';

export interface CreateTableInput {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** The change stream's view type; no stream when absent. */
  stream?: { viewType: StreamViewType };
  /** An attribute holding an epoch-seconds expiry; items past it are deleted in the background. */
  ttlAttribute?: string;
  /**
   * Shards of the change stream (1-64, default 4). A partition key always maps to the same shard
   * (FNV-1a of its encoded bytes mod the count), so its records stay in order; more shards give a
   * stream trigger more independent lanes. Fixed for the table's life: changing it would move keys.
   */
  streamShardCount?: number;
  /** Kept and reported as DynamoDB would (DescribeTable); nothing is enforced. Default PAY_PER_REQUEST. */
  capacity?: TableCapacity;
  /** Up to 50 tags (key 1-128 characters, value 0-256). */
  tags?: Record<string, string>;
  /** Up to 20 global and 5 local secondary indexes (tables/indexes.ts). */
  indexes?: IndexDefinition[];
}

export interface UpdateTableInput {
  /** A view type enables the stream (with a new label), null disables it. */
  stream?: { viewType: StreamViewType } | null;
  ttlAttribute?: string | null;
  capacity?: TableCapacity;
  /** Replaces every tag. */
  tags?: Record<string, string>;
  /**
   * Adds a global secondary index; updateTable returns at once with the index CREATING and the table's
   * items are indexed (backfilled) in the background (or before it returns, with `waitForIndex`).
   */
  createIndex?: IndexDefinition;
  /** Removes a global secondary index. */
  deleteIndex?: string;
}

export const tableLimits = {
  defaultShardCount: 4,
  maxShardCount: 64,
  maxItemBytes: 400 * 1024,
  maxPartitionKeyBytes: 2048,
  maxSortKeyBytes: 1024,
  maxBatchWrite: 25,
  maxTransactItems: 100,
  maxPageBytes: 1024 * 1024,
  maxBatchGet: 100,
  maxBatchGetBytes: 16 * 1024 * 1024,
  maxTotalSegments: 1_000_000,
  maxTags: 50,
  maxGlobalIndexes: 20,
  maxLocalIndexes: 5,
  maxProjectedAttributes: 100,
  streamRetentionMs: 24 * 60 * 60 * 1000,
} as const;

const keyTypes: readonly string[] = ['S', 'N', 'B'];
const viewTypes: readonly string[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

const invalid = (field: string, message: string) =>
  new SluiceError('ValidationException', `${field}: ${message}`, { field });

export function validateTableName(name: unknown, field = 'TableName'): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(name)) {
    throw invalid(
      field,
      `${JSON.stringify(name)} is invalid; must be 3 to 255 characters of A-Z, a-z, 0-9, '_', '-' and '.'`,
    );
  }
  return name;
}

function validateKeyAttribute(field: string, key: unknown): KeyAttribute {
  const candidate = key as Partial<KeyAttribute> | undefined;
  if (
    typeof candidate?.name !== 'string' ||
    candidate.name.length === 0 ||
    Buffer.byteLength(candidate.name) > 255
  ) {
    throw invalid(`${field}.name`, 'must be a non-empty attribute name of at most 255 bytes');
  }
  if (typeof candidate.type !== 'string' || !keyTypes.includes(candidate.type)) {
    throw invalid(`${field}.type`, `${JSON.stringify(candidate.type)} is invalid; must be S, N or B`);
  }
  return { name: candidate.name, type: candidate.type as KeyType };
}

export function validateViewType(field: string, viewType: unknown): StreamViewType {
  if (typeof viewType !== 'string' || !viewTypes.includes(viewType)) {
    throw invalid(
      field,
      `${JSON.stringify(viewType)} is invalid; must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES`,
    );
  }
  return viewType as StreamViewType;
}

function validateTtlAttribute(ttl: unknown): string {
  if (typeof ttl !== 'string' || ttl.length === 0 || Buffer.byteLength(ttl) > 255) {
    throw invalid('ttlAttribute', 'must be a non-empty attribute name of at most 255 bytes');
  }
  return ttl;
}

function validateCapacity(capacity: unknown): TableCapacity {
  const candidate = capacity as Partial<TableCapacity> | undefined;
  if (candidate?.billingMode === 'PAY_PER_REQUEST') return { billingMode: 'PAY_PER_REQUEST' };
  if (candidate?.billingMode !== 'PROVISIONED') {
    throw invalid('capacity.billingMode', `${JSON.stringify(candidate?.billingMode)} is invalid; must be PAY_PER_REQUEST or PROVISIONED`);
  }
  for (const member of ['readCapacityUnits', 'writeCapacityUnits'] as const) {
    const units = candidate[member];
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
      throw invalid(`capacity.${member}`, `${JSON.stringify(units)} is invalid; must be an integer of at least 1 when billingMode is PROVISIONED`);
    }
  }
  return {
    billingMode: 'PROVISIONED',
    readCapacityUnits: candidate.readCapacityUnits as number,
    writeCapacityUnits: candidate.writeCapacityUnits as number,
  };
}

export function validateTags(tags: unknown): Record<string, string> {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw invalid('tags', 'must be a map of tag keys to values');
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > tableLimits.maxTags) throw invalid('tags', `${entries.length} tags; a table holds at most ${tableLimits.maxTags}`);
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 128) throw invalid('tags', `the tag key '${key.slice(0, 140)}' must be 1 to 128 characters`);
    if (typeof value !== 'string' || value.length > 256) throw invalid(`tags.${key}`, 'must be a string of at most 256 characters');
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function validateIndex(
  index: IndexDefinition,
  table: { partitionKey: KeyAttribute; sortKey: KeyAttribute | null },
  field: string,
): IndexDefinition {
  validateTableName(index.name, `${field}.name`);
  if (index.kind !== 'global' && index.kind !== 'local') throw invalid(`${field}.kind`, 'must be global or local');
  const partitionKey = validateKeyAttribute(`${field}.partitionKey`, index.partitionKey);
  const sortKey = index.sortKey ? validateKeyAttribute(`${field}.sortKey`, index.sortKey) : null;
  if (index.kind === 'local') {
    if (!table.sortKey) throw invalid(field, 'a local secondary index needs a table with a sort key');
    if (partitionKey.name !== table.partitionKey.name || partitionKey.type !== table.partitionKey.type) {
      throw invalid(field, `Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex: the index's partition key must be the table's (${table.partitionKey.name})`);
    }
    if (!sortKey) throw invalid(field, 'a local secondary index needs a sort key');
  }
  for (const key of [partitionKey, sortKey]) {
    const clash = key && [table.partitionKey, table.sortKey].find((k) => k && k.name === key.name && k.type !== key.type);
    if (clash) throw invalid(field, `attribute ${key.name} is declared with two types (${clash.type} and ${key.type})`);
  }
  const type = index.projection?.type;
  if (type !== 'ALL' && type !== 'KEYS_ONLY' && type !== 'INCLUDE') throw invalid(`${field}.projection.type`, 'must be ALL, KEYS_ONLY or INCLUDE');
  const nonKey = index.projection.nonKeyAttributes;
  if (type === 'INCLUDE') {
    if (!Array.isArray(nonKey) || nonKey.length === 0 || nonKey.length > tableLimits.maxProjectedAttributes || !nonKey.every((n) => typeof n === 'string' && n.length > 0)) {
      throw invalid(`${field}.projection.nonKeyAttributes`, `INCLUDE needs 1 to ${tableLimits.maxProjectedAttributes} attribute names`);
    }
  } else if (nonKey !== undefined && nonKey.length > 0) {
    throw invalid(`${field}.projection.nonKeyAttributes`, `only an INCLUDE projection lists attributes`);
  }
  return { name: index.name, kind: index.kind, partitionKey, sortKey, projection: type === 'INCLUDE' ? { type, nonKeyAttributes: [...nonKey!] } : { type } };
}

function validateIndexes(indexes: IndexDefinition[], table: { partitionKey: KeyAttribute; sortKey: KeyAttribute | null }): IndexDefinition[] {
  const valid = indexes.map((index, i) => validateIndex(index, table, `indexes[${i}]`));
  const names = new Set<string>();
  for (const index of valid) {
    if (names.has(index.name)) throw invalid('indexes', `Duplicate index name: ${index.name}`);
    names.add(index.name);
  }
  if (valid.filter((i) => i.kind === 'global').length > tableLimits.maxGlobalIndexes)
    throw invalid('indexes', `a table has at most ${tableLimits.maxGlobalIndexes} global secondary indexes`);
  if (valid.filter((i) => i.kind === 'local').length > tableLimits.maxLocalIndexes)
    throw invalid('indexes', `a table has at most ${tableLimits.maxLocalIndexes} local secondary indexes`);
  return valid;
}

/** The stream label DynamoDB would give a stream enabled at `now` (`2026-01-01T00:00:00.000`). */
export function streamLabel(now: number): string {
  return new Date(now).toISOString().replace(/Z$/, '');
}

export function buildTableDefinition(input: CreateTableInput, now: number): TableDefinition {
  validateTableName(input.name, 'name');
  const partitionKey = validateKeyAttribute('partitionKey', input.partitionKey);
  const sortKey = input.sortKey === undefined ? null : validateKeyAttribute('sortKey', input.sortKey);
  if (sortKey && sortKey.name === partitionKey.name) {
    throw invalid('sortKey.name', `must differ from the partition key '${partitionKey.name}'`);
  }
  const shardCount = input.streamShardCount ?? tableLimits.defaultShardCount;
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > tableLimits.maxShardCount) {
    throw invalid(
      'streamShardCount',
      `${JSON.stringify(shardCount)} is invalid; must be an integer from 1 to ${tableLimits.maxShardCount}`,
    );
  }
  return {
    partitionKey,
    sortKey,
    stream: input.stream
      ? { viewType: validateViewType('stream.viewType', input.stream.viewType), label: streamLabel(now) }
      : null,
    ttlAttribute: input.ttlAttribute === undefined ? null : validateTtlAttribute(input.ttlAttribute),
    shardCount,
    ...(input.capacity !== undefined ? { capacity: validateCapacity(input.capacity) } : {}),
    ...(input.tags !== undefined && Object.keys(input.tags).length > 0 ? { tags: validateTags(input.tags) } : {}),
    ...(input.indexes !== undefined && input.indexes.length > 0 ? { indexes: validateIndexes(input.indexes, { partitionKey, sortKey }) } : {}),
  };
}

export function applyTableUpdate(
  current: TableDefinition,
  update: UpdateTableInput,
  now: number,
): TableDefinition {
  const next = { ...current };
  if (update.stream !== undefined) {
    if (update.stream === null) next.stream = null;
    else {
      const viewType = validateViewType('stream.viewType', update.stream.viewType);
      // Re-enabling, or changing the view type, starts a new stream as DynamoDB does.
      if (!current.stream || current.stream.viewType !== viewType)
        next.stream = { viewType, label: streamLabel(now) };
    }
  }
  if (update.ttlAttribute !== undefined) {
    next.ttlAttribute = update.ttlAttribute === null ? null : validateTtlAttribute(update.ttlAttribute);
  }
  if (update.capacity !== undefined) next.capacity = validateCapacity(update.capacity);
  const creating = current.indexes?.find((index) => index.backfilling);
  // Deleting the index being created, while it backfills, is allowed (GlobalSecondaryIndexDescription:
  // "You can delete an index that is being created during the Backfilling phase"); Sluice's CREATING is
  // all backfilling, so it always is.
  const cancelsCreation = creating !== undefined && update.createIndex === undefined && update.deleteIndex === creating.name;
  if ((update.createIndex !== undefined || update.deleteIndex !== undefined) && creating && !cancelsCreation) {
    // DynamoDB builds one online index per table at a time, and answers any other index change with this.
    throw new SluiceError(
      'LimitExceededException',
      'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table',
      { field: update.createIndex !== undefined ? 'createIndex' : 'deleteIndex' },
    );
  }
  if (update.createIndex !== undefined) {
    if (update.createIndex.kind !== 'global') throw invalid('createIndex.kind', 'only global secondary indexes can be added to an existing table');
    const validated = validateIndexes([...(current.indexes ?? []), update.createIndex], current);
    // Existing indexes keep their state; the new one holds none of the table's items yet.
    next.indexes = [...(current.indexes ?? []), { ...validated[validated.length - 1]!, backfilling: true }];
  }
  if (update.deleteIndex !== undefined) {
    const found = current.indexes?.find((index) => index.name === update.deleteIndex);
    if (!found || found.kind !== 'global') {
      throw new SluiceError('ResourceNotFoundException', `Requested resource not found: Index: ${update.deleteIndex} not found`, { field: 'deleteIndex' });
    }
    const rest = (next.indexes ?? current.indexes ?? []).filter((index) => index.name !== update.deleteIndex);
    if (rest.length > 0) next.indexes = rest;
    else delete next.indexes;
  }
  if (update.tags !== undefined) {
    const tags = validateTags(update.tags);
    if (Object.keys(tags).length > 0) next.tags = tags;
    else delete next.tags;
  }
  return next;
}

/** Whether two definitions declare the same table (the stream label, a creation detail, is ignored). */
export function sameDefinition(a: TableDefinition, b: TableDefinition): boolean {
  const declared = (d: TableDefinition) =>
    JSON.stringify([
      d.partitionKey,
      d.sortKey,
      d.stream?.viewType ?? null,
      d.ttlAttribute,
      d.shardCount,
      (d.indexes ?? []).map(({ backfilling: _backfilling, ...index }) => index),
    ]);
  return declared(a) === declared(b);
}

/** Whether an update adds or removes a secondary index (item writes must then recompute entries). */
export function changesIndexes(update: UpdateTableInput): boolean {
  return update.createIndex !== undefined || update.deleteIndex !== undefined;
}
