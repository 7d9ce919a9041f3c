/**
 * Requests and responses of the table API. Names follow DynamoDB's operations in camelCase, so code
 * written against the DocumentClient reads the same; items and values are plain JSON (plus Uint8Array
 * and Set, see expressions/values.ts), never AttributeValue wrappers.
 */
import type { ExpressionAttributeNames, ExpressionAttributeValues, Item } from './expressions/index.js';
import type { IndexDefinition, KeyAttribute, StreamViewType, TableCapacity } from '../store/table-definition.js';

export interface ExpressionInput {
  expressionAttributeNames?: ExpressionAttributeNames;
  expressionAttributeValues?: ExpressionAttributeValues;
}

export interface ConditionInput extends ExpressionInput {
  conditionExpression?: string;
  /** 'ALL_OLD': a ConditionalCheckFailed error carries the item as it was. */
  returnValuesOnConditionCheckFailure?: 'NONE' | 'ALL_OLD';
}

/** 'SIZE': a write to a table with local secondary indexes reports its item collection's size. */
export interface CollectionMetricsInput {
  returnItemCollectionMetrics?: 'NONE' | 'SIZE';
}

export interface PutItemInput extends ConditionInput, CollectionMetricsInput {
  tableName: string;
  item: Item;
  returnValues?: 'NONE' | 'ALL_OLD';
}

export interface GetItemInput {
  tableName: string;
  key: Item;
  projectionExpression?: string;
  expressionAttributeNames?: ExpressionAttributeNames;
}

export interface DeleteItemInput extends ConditionInput, CollectionMetricsInput {
  tableName: string;
  key: Item;
  returnValues?: 'NONE' | 'ALL_OLD';
}

export interface UpdateItemInput extends ConditionInput, CollectionMetricsInput {
  tableName: string;
  key: Item;
  /** Absent: the item is created from its key when missing, and left as it is otherwise. */
  updateExpression?: string;
  /** UPDATED_OLD and UPDATED_NEW return the top-level attributes the update names. */
  returnValues?: 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
}

export interface ConditionCheckInput extends ConditionInput {
  tableName: string;
  key: Item;
  conditionExpression: string;
}

export interface ItemOutput {
  /** The item before or after the write, as `returnValues` asked; absent for NONE or no item. */
  attributes?: Item;
  /**
   * With returnItemCollectionMetrics 'SIZE', on a table with local secondary indexes: the collection's
   * partition key and its size as DynamoDB reports it, a range in GB around the kept size.
   */
  itemCollectionMetrics?: ItemCollectionMetrics;
}

/** DynamoDB's ItemCollectionMetrics: a collection's partition key and its size, a range in GB around the kept size. */
export interface ItemCollectionMetrics {
  itemCollectionKey: Item;
  sizeEstimateRangeGB: [number, number];
}

/**
 * The collections a BatchWriteItem or TransactWriteItems call wrote, with returnItemCollectionMetrics
 * 'SIZE': one entry per collection of a table with local secondary indexes, under the table's name as the
 * call named it. Absent when nothing qualifies.
 */
export type CollectionMetricsByTable = Record<string, ItemCollectionMetrics[]>;

export interface QueryInput extends ExpressionInput {
  tableName: string;
  /** A secondary index to query instead of the table (its keys in the key condition). */
  indexName?: string;
  /** With a local index: whole items rather than the index's projection (DynamoDB's Select ALL_ATTRIBUTES). */
  allAttributes?: boolean;
  keyConditionExpression: string;
  filterExpression?: string;
  projectionExpression?: string;
  /** false: descending sort-key order. Default true. */
  scanIndexForward?: boolean;
  /** Items read (before the filter) per page; a page also stops at 1 MB. */
  limit?: number;
  exclusiveStartKey?: Item;
}

export interface ScanInput extends ExpressionInput {
  tableName: string;
  /** A secondary index to scan instead of the table. */
  indexName?: string;
  filterExpression?: string;
  projectionExpression?: string;
  limit?: number;
  exclusiveStartKey?: Item;
  /**
   * A parallel scan's part: items are dealt into `totalSegments` (1-1,000,000) disjoint segments by a
   * hash of their partition key; this scan reads segment `segment` (0-based). Both or neither.
   */
  segment?: number;
  totalSegments?: number;
}

export interface BatchGetRequest {
  tableName: string;
  keys: Item[];
  projectionExpression?: string;
  expressionAttributeNames?: ExpressionAttributeNames;
}

export interface BatchGetOutput {
  /** Items found, per table; keys with no item are absent. */
  responses: Record<string, Item[]>;
  /** Keys left unread because the response reached 16 MB: ask for them again. */
  unprocessedKeys: BatchGetRequest[];
}

export interface PageOutput {
  items: Item[];
  /** Items returned (after the filter). */
  count: number;
  /** Items read (before the filter). */
  scannedCount: number;
  /** Present when more items may follow: pass it as exclusiveStartKey. */
  lastEvaluatedKey?: Item;
}

export type BatchWriteRequest = { tableName: string; put: Item } | { tableName: string; delete: Item };

export interface BatchWriteOutput {
  /** Always empty: an embedded store has no throughput to exceed. Kept for DynamoDB's shape. */
  unprocessedItems: BatchWriteRequest[];
  itemCollectionMetrics?: CollectionMetricsByTable;
}

export interface TransactWriteOutput {
  itemCollectionMetrics?: CollectionMetricsByTable;
}

export type TransactWriteAction =
  | { put: PutItemInput }
  | { update: UpdateItemInput }
  | { delete: DeleteItemInput }
  | { conditionCheck: ConditionCheckInput };

export interface TableDescription {
  tableName: string;
  tableArn: string;
  tableId: number;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  ttlAttribute?: string;
  stream?: { viewType: StreamViewType; streamArn: string; streamLabel: string; shardCount: number };
  createdAt: number;
  /** DynamoDB's capacity settings, kept and reported; Sluice enforces no capacity. */
  capacity?: TableCapacity;
  tags?: Record<string, string>;
  indexes?: IndexDefinition[];
  /** describeTable with `counts`: the items it holds now and their total size in bytes (DynamoDB's size rules). */
  itemCount?: number;
  sizeBytes?: number;
  /** describeTable with `counts`: per index, its entries now and their total size (the projected items). */
  indexCounts?: Record<string, { itemCount: number; sizeBytes: number }>;
}
