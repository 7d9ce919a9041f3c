/**
 * Each write request, validated and compiled into a `PlannedWrite` (a condition and a change), and the
 * attributes its ReturnValues asks for once the store has decided. Pure: no store, no clock.
 */
import { SluiceError } from '../model/errors.js';
import type { StoredTable } from '../store/table-store.js';
import {
  assertKeyAttributesUnchanged,
  compileExpressions,
  type CompiledUpdate,
  type Item,
} from './expressions/index.js';
import { findValueProblem } from './expressions/values.js';
import { encodeKey, keyOfItem, validateKey } from './keys.js';
import type {
  ConditionCheckInput,
  ConditionInput,
  DeleteItemInput,
  PutItemInput,
  UpdateItemInput,
} from './types.js';
import type { PlannedWrite, WriteResult } from './writes.js';

export interface PlannedRequest {
  plan: PlannedWrite;
  /** The attributes to return once the write succeeded. */
  returned: (result: WriteResult) => Item | undefined;
  /** Whether a failed condition reports the item as it was. */
  returnOldOnFailure: boolean;
}

function validationError(field: string, message: string): SluiceError {
  return new SluiceError('ValidationException', `${field}: ${message}`, { field });
}

export function validateItem(item: unknown, field = 'Item'): Item {
  if (
    typeof item !== 'object' ||
    item === null ||
    Array.isArray(item) ||
    item instanceof Uint8Array ||
    item instanceof Set
  ) {
    throw validationError(field, 'must be a map of attribute names to values');
  }
  const problem = findValueProblem(item);
  if (problem !== undefined) throw validationError(field, problem);
  return item as Item;
}

function conditionOf(input: ConditionInput, extra: { updateExpression?: string } = {}) {
  return compileExpressions({
    conditionExpression: input.conditionExpression,
    updateExpression: extra.updateExpression,
    expressionAttributeNames: input.expressionAttributeNames,
    expressionAttributeValues: input.expressionAttributeValues,
  });
}

function keyNames(table: StoredTable): string[] {
  const { partitionKey, sortKey } = table.definition;
  return sortKey ? [partitionKey.name, sortKey.name] : [partitionKey.name];
}

function pick(item: Item | undefined, names: readonly string[]): Item | undefined {
  if (!item) return undefined;
  const picked: Record<string, Item[string]> = {};
  for (const name of names)
    if (Object.prototype.hasOwnProperty.call(item, name)) picked[name] = item[name] as Item[string];
  return Object.keys(picked).length > 0 ? picked : undefined;
}

const onFailure = (input: ConditionInput) => input.returnValuesOnConditionCheckFailure === 'ALL_OLD';

export function planPut(table: StoredTable, input: PutItemInput): PlannedRequest {
  const item = validateItem(input.item);
  const key = keyOfItem(table.definition, item);
  const compiled = conditionOf(input);
  return {
    plan: { table, key: encodeKey(table.definition, key), condition: compiled.condition, change: () => item },
    returned: (result) => (input.returnValues === 'ALL_OLD' ? result.old : undefined),
    returnOldOnFailure: onFailure(input),
  };
}

export function planDelete(table: StoredTable, input: DeleteItemInput): PlannedRequest {
  const key = validateKey(table.definition, input.key);
  const compiled = conditionOf(input);
  return {
    plan: { table, key: encodeKey(table.definition, key), condition: compiled.condition, change: () => null },
    returned: (result) => (input.returnValues === 'ALL_OLD' ? result.old : undefined),
    returnOldOnFailure: onFailure(input),
  };
}

export function planUpdate(table: StoredTable, input: UpdateItemInput): PlannedRequest {
  const key = validateKey(table.definition, input.key);
  if (input.updateExpression !== undefined && typeof input.updateExpression !== 'string')
    throw validationError('UpdateExpression', 'must be a string');
  const compiled = conditionOf(input, input.updateExpression === undefined ? {} : { updateExpression: input.updateExpression });
  const update = compiled.update as CompiledUpdate | undefined;
  if (update) assertKeyAttributesUnchanged(update, keyNames(table));
  // An update of a missing item creates it from its key, as DynamoDB does; without an update
  // expression that is all it does.
  const change = (current: Item | undefined): Item =>
    update ? (current ? update.apply(current) : { ...key, ...update.apply(undefined) }) : (current ?? { ...key });
  const touched = update?.updatedAttributes ?? [];
  return {
    plan: { table, key: encodeKey(table.definition, key), condition: compiled.condition, change },
    returned: (result) => {
      switch (input.returnValues) {
        case 'ALL_OLD':
          return result.old;
        case 'ALL_NEW':
          return result.new;
        case 'UPDATED_OLD':
          return pick(result.old, touched);
        case 'UPDATED_NEW':
          return pick(result.new, touched);
        default:
          return undefined;
      }
    },
    returnOldOnFailure: onFailure(input),
  };
}

export function planConditionCheck(table: StoredTable, input: ConditionCheckInput): PlannedRequest {
  const key = validateKey(table.definition, input.key);
  if (typeof input.conditionExpression !== 'string')
    throw validationError('ConditionExpression', 'is required in a ConditionCheck');
  const compiled = conditionOf(input);
  return {
    plan: {
      table,
      key: encodeKey(table.definition, key),
      condition: compiled.condition,
      change: () => undefined,
    },
    returned: () => undefined,
    returnOldOnFailure: onFailure(input),
  };
}
