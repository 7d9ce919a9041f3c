/**
 * Query and scan pages: a key condition becomes byte bounds on the encoded sort key, the store returns
 * a page of rows in key order (at most `limit` items and about 1 MB, as DynamoDB reads), then the filter
 * and the projection apply here, and the last row read becomes LastEvaluatedKey.
 */
import { SluiceError } from '../model/errors.js';
import type { ItemPage, KeyBound } from '../store/table-store.js';
import type { KeyType, TableDefinition } from '../store/table-definition.js';
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
  const actual = typeof value === 'string' ? 'S' : typeof value === 'number' ? 'N' : 'B';
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
