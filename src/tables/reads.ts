/**
 * Query and scan pages: a key condition becomes byte bounds on the encoded sort key, the store returns
 * a page of rows in key order (at most `limit` items and about 1 MB, as DynamoDB reads), then the filter
 * and the projection apply here, and the last row read becomes LastEvaluatedKey.
 */
import { SluiceError } from '../model/errors.js';
import type { ItemPage, ItemRow, KeyBound, TableStore } from '../store/table-store.js';
import type { EncodedKey, KeyType, TableDefinition } from '../store/table-definition.js';
import { shardOf } from '../streams/shards.js';
import { tableLimits } from './definition.js';
import {
  compareOrdered,
  type CompiledExpressions,
  type Item,
  type KeyCondition,
  type KeyValue,
} from './expressions/index.js';
import { decodeItem } from './item-codec.js';
import { encodeKeyValue, keyOfItem, prefixUpperBound } from './keys.js';
import type { PageOutput } from './types.js';

/** Stands for "no Limit": a page then ends only at 1 MB. */
export const unlimited = 1_000_000_000;

export interface QueryBounds {
  pk: Buffer;
  lower: KeyBound | null;
  upper: KeyBound | null;
}

const keyError = (message: string) =>
  new SluiceError('ValidationException', message, { field: 'KeyConditionExpression' });

function checkType(value: KeyValue, type: KeyType): void {
  const actual = typeof value === 'string' ? 'S' : value instanceof Uint8Array ? 'B' : 'N';
  if (actual !== type)
    throw keyError(
      'One or more parameter values were invalid: Condition parameter type does not match schema type',
    );
}

export function queryBounds(definition: TableDefinition, condition: KeyCondition): QueryBounds {
  checkType(condition.partition.value, definition.partitionKey.type);
  const pk = encodeKeyValue(condition.partition.value);
  const sort = condition.sort;
  if (!sort || !definition.sortKey) return { pk, lower: null, upper: null };
  for (const value of sort.values) checkType(value, definition.sortKey.type);
  const [first, second] = sort.values as [KeyValue, KeyValue | undefined];
  const bound = (value: KeyValue, inclusive: boolean): KeyBound => ({ sk: encodeKeyValue(value), inclusive });
  switch (sort.op) {
    case '=':
      return { pk, lower: bound(first, true), upper: bound(first, true) };
    case '<':
      return { pk, lower: null, upper: bound(first, false) };
    case '<=':
      return { pk, lower: null, upper: bound(first, true) };
    case '>':
      return { pk, lower: bound(first, false), upper: null };
    case '>=':
      return { pk, lower: bound(first, true), upper: null };
    case 'between': {
      if ((compareOrdered(first, second) ?? 0) > 0) {
        throw keyError(
          'Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound',
        );
      }
      return { pk, lower: bound(first, true), upper: bound(second as KeyValue, true) };
    }
    case 'begins_with': {
      if (definition.sortKey.type === 'N') {
        throw keyError(
          'Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
        );
      }
      const prefix = encodeKeyValue(first);
      const upper = prefixUpperBound(prefix);
      return {
        pk,
        lower: { sk: prefix, inclusive: true },
        upper: upper ? { sk: upper, inclusive: false } : null,
      };
    }
  }
}

export function validateLimit(limit: number | undefined): number {
  if (limit === undefined) return unlimited;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new SluiceError(
      'ValidationException',
      `limit: ${JSON.stringify(limit)} is invalid; must be an integer of at least 1`,
      {
        field: 'Limit',
      },
    );
  }
  return limit;
}

/** Applies the filter and projection to a page read from the store. */
export function shapePage(
  definition: TableDefinition,
  page: ItemPage,
  expressions: CompiledExpressions,
): PageOutput {
  const items: Item[] = [];
  let last: Item | undefined;
  for (const row of page.rows) {
    const item = decodeItem(row.item);
    last = item;
    if (expressions.filter && !expressions.filter.evaluate(item)) continue;
    items.push(expressions.projection ? expressions.projection.project(item) : item);
  }
  const output: PageOutput = { items, count: items.length, scannedCount: page.rows.length };
  if (page.truncated && last) output.lastEvaluatedKey = keyOfItem(definition, last);
  return output;
}

/** Checks Segment and TotalSegments (both or neither); undefined for a whole-table scan. */
export function validateSegments(
  segment: number | undefined,
  totalSegments: number | undefined,
): { segment: number; totalSegments: number } | undefined {
  if (segment === undefined && totalSegments === undefined) return undefined;
  if (totalSegments === undefined) {
    throw new SluiceError('ValidationException', 'The TotalSegments parameter is required but was not present in the request when Segment parameter is present', { field: 'TotalSegments' });
  }
  if (segment === undefined) {
    throw new SluiceError('ValidationException', 'The Segment parameter is required but was not present in the request when parameter TotalSegments is present', { field: 'Segment' });
  }
  if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > tableLimits.maxTotalSegments) {
    throw new SluiceError('ValidationException', `TotalSegments: ${JSON.stringify(totalSegments)} is invalid; must be an integer from 1 to ${tableLimits.maxTotalSegments}`, { field: 'TotalSegments' });
  }
  if (!Number.isInteger(segment) || segment < 0 || segment >= totalSegments) {
    throw new SluiceError('ValidationException', `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${JSON.stringify(segment)} is not less than TotalSegments: ${totalSegments}`, { field: 'Segment' });
  }
  return { segment, totalSegments };
}

/** The segment of a partition key in a parallel scan: a hash of its encoded bytes. */
export function segmentOf(pk: Buffer, totalSegments: number): number {
  return shardOf(pk, totalSegments);
}

/**
 * One page of a segment's items: store pages are read in key order and only the segment's rows kept,
 * until `limit` of them, 1 MB of them, or the end of the table; the page ends at the last row kept.
 */
export async function scanSegment(
  store: Pick<TableStore, 'itemScan'>,
  p: { tableId: number; startAfter: EncodedKey | null; limit: number; segment: number; totalSegments: number },
): Promise<ItemPage> {
  const rows: ItemRow[] = [];
  let bytes = 0;
  let cursor = p.startAfter;
  for (;;) {
    const page = await store.itemScan({ tableId: p.tableId, startAfter: cursor, limit: 1000, maxBytes: tableLimits.maxPageBytes });
    for (const row of page.rows) {
      if (segmentOf(row.pk, p.totalSegments) !== p.segment) continue;
      rows.push(row);
      bytes += row.size;
      if (rows.length >= p.limit || bytes >= tableLimits.maxPageBytes) return { rows, truncated: true };
    }
    const last = page.rows[page.rows.length - 1];
    if (!page.truncated || !last) return { rows, truncated: false };
    cursor = { pk: last.pk, sk: last.sk };
  }
}
