/**
 * KeyConditionExpression: parsed with the condition grammar, then reduced to the structure a store can
 * turn into SQL: an equality on the partition key and at most one condition on the sort key.
 *
 * Accepted: `pk = :v`, optionally `AND` one of `sk = | < | <= | > | >= :v`, `sk BETWEEN :a AND :b`,
 * `begins_with(sk, :p)`, in either order, parenthesised or not, with the value on either side of a
 * comparator. Everything else is rejected with DynamoDB's messages.
 */
import type { Comparator, Condition, Operand } from './condition.js';
import { parseCondition } from './condition-parser.js';
import type { ExpressionAttributeNames, ExpressionAttributeValues } from './parser.js';
import { Substitutions, validationError } from './parser.js';
import type { AttributeValue, Item } from './values.js';
import { beginsWith, compareOrdered, hasOwn, valuesEqual } from './values.js';
import { isDynamoNumber, type DynamoNumber } from './numbers.js';

export type KeyValue = string | DynamoNumber | Uint8Array;

export type SortKeyOperator = '=' | '<' | '<=' | '>' | '>=' | 'between' | 'begins_with';

export interface KeyCondition {
  readonly partition: { readonly name: string; readonly value: KeyValue };
  readonly sort?: {
    readonly op: SortKeyOperator;
    readonly name: string;
    readonly values: readonly KeyValue[];
  };
}

export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string | undefined;
}

/** Structural problems carry no "Invalid KeyConditionExpression:" prefix in DynamoDB's messages. */
const keyError = (message: string): Error => validationError(message, 'KeyConditionExpression');

interface KeyTerm {
  readonly name: string;
  readonly op: SortKeyOperator;
  readonly values: readonly AttributeValue[];
}

const flipped: Readonly<Record<Comparator, SortKeyOperator>> = {
  '=': '=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
  '<>': '=',
};

/** The key attribute a key condition names; a size() or nested path is rejected. */
function keyName(operand: Operand): string | undefined {
  if (operand.kind === 'size') throw keyError('KeyConditionExpressions cannot contain nested operations');
  if (operand.kind === 'value') return undefined;
  if (operand.path.length > 1)
    throw keyError('KeyConditionExpressions cannot have conditions on nested attributes');
  return operand.path[0] as string;
}

function literal(operand: Operand): AttributeValue {
  if (operand.kind !== 'value')
    throw keyError(
      'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
    );
  return operand.value;
}

function keyTerm(condition: Condition): KeyTerm {
  switch (condition.kind) {
    case 'comparison': {
      if (condition.comparator === '<>')
        throw keyError('Invalid operator used in KeyConditionExpression: <>');
      const left = keyName(condition.left);
      const right = keyName(condition.right);
      if (left !== undefined && right !== undefined) {
        throw keyError(
          'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
        );
      }
      if (left !== undefined)
        return { name: left, op: condition.comparator, values: [literal(condition.right)] };
      if (right !== undefined)
        return { name: right, op: flipped[condition.comparator], values: [literal(condition.left)] };
      throw keyError('Invalid condition in KeyConditionExpression: No key attribute specified');
    }
    case 'between': {
      const name = keyName(condition.operand);
      if (name === undefined) {
        throw keyError(
          'Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand',
        );
      }
      return { name, op: 'between', values: [literal(condition.lower), literal(condition.upper)] };
    }
    case 'begins_with': {
      const name = keyName(condition.operand);
      if (name === undefined) {
        throw keyError(
          'Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand',
        );
      }
      return { name, op: 'begins_with', values: [literal(condition.prefix)] };
    }
    case 'or':
    case 'not':
    case 'in':
      throw keyError(`Invalid operator used in KeyConditionExpression: ${condition.kind.toUpperCase()}`);
    default:
      throw keyError(`Invalid operator used in KeyConditionExpression: ${condition.kind}`);
  }
}

function collectTerms(condition: Condition, terms: KeyTerm[]): void {
  if (condition.kind === 'and') {
    collectTerms(condition.left, terms);
    collectTerms(condition.right, terms);
    return;
  }
  const term = keyTerm(condition);
  if (terms.some((other) => other.name === term.name)) {
    throw keyError('KeyConditionExpressions must only contain one condition per key');
  }
  terms.push(term);
}

function keyValues(values: readonly AttributeValue[]): KeyValue[] {
  return values.map((value) => {
    if (typeof value === 'string' || isDynamoNumber(value) || value instanceof Uint8Array) return value;
    throw keyError(
      'One or more parameter values were invalid: Condition parameter type does not match schema type',
    );
  });
}

export function keyConditionFromAst(condition: Condition, schema: KeySchema): KeyCondition {
  const terms: KeyTerm[] = [];
  collectTerms(condition, terms);
  for (const term of terms) {
    if (term.name !== schema.partitionKey && term.name !== schema.sortKey)
      throw keyError('Query key condition not supported');
  }
  const partition = terms.find((term) => term.name === schema.partitionKey);
  if (partition === undefined)
    throw keyError(`Query condition missed key schema element: ${schema.partitionKey}`);
  if (partition.op !== '=') throw keyError('Query key condition not supported');
  const [partitionValue] = keyValues(partition.values) as [KeyValue];
  const sort = terms.find((term) => term.name !== schema.partitionKey);
  if (sort === undefined) return { partition: { name: partition.name, value: partitionValue } };
  return {
    partition: { name: partition.name, value: partitionValue },
    sort: { op: sort.op, name: sort.name, values: keyValues(sort.values) },
  };
}

export function keyConditionFromScope(
  expression: string,
  scope: Substitutions,
  schema: KeySchema,
): KeyCondition {
  return keyConditionFromAst(parseCondition('KeyConditionExpression', expression, scope), schema);
}

/** Parses and validates a KeyConditionExpression against the table's (or index's) key schema. */
export function compileKeyCondition(
  expression: string,
  names: ExpressionAttributeNames | undefined,
  values: ExpressionAttributeValues | undefined,
  schema: KeySchema,
): KeyCondition {
  const scope = new Substitutions(names, values);
  const keyCondition = keyConditionFromScope(expression, scope, schema);
  scope.assertAllUsed();
  return keyCondition;
}

/** Whether an item lies in the key range; for stores that filter in memory, and for tests. */
export function matchesKeyCondition(keyCondition: KeyCondition, item: Item): boolean {
  const { partition, sort } = keyCondition;
  if (!hasOwn(item, partition.name) || !valuesEqual(item[partition.name], partition.value)) return false;
  if (sort === undefined) return true;
  const value = hasOwn(item, sort.name) ? item[sort.name] : undefined;
  const [first, second] = sort.values;
  const order = compareOrdered(value, first);
  switch (sort.op) {
    case '=':
      return order === 0;
    case '<':
      return order !== undefined && order < 0;
    case '<=':
      return order !== undefined && order <= 0;
    case '>':
      return order !== undefined && order > 0;
    case '>=':
      return order !== undefined && order >= 0;
    case 'between': {
      const upper = compareOrdered(value, second);
      return order !== undefined && order >= 0 && upper !== undefined && upper <= 0;
    }
    case 'begins_with':
      return beginsWith(value, first);
  }
}
