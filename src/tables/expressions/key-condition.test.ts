import { describe, expect, it } from 'vitest';
import type {
  ExpressionAttributeNames,
  ExpressionAttributeValues,
  KeyCondition,
  KeySchema,
} from './index.js';
import { compileKeyCondition, matchesKeyCondition } from './index.js';

const schema: KeySchema = { partitionKey: 'pk', sortKey: 'sk' };

function keyCondition(
  expression: string,
  values: ExpressionAttributeValues,
  names?: ExpressionAttributeNames,
  keySchema: KeySchema = schema,
): KeyCondition {
  return compileKeyCondition(expression, names, values, keySchema);
}

describe('key conditions', () => {
  it('a partition key equality alone selects the whole partition', () => {
    expect(keyCondition('pk = :p', { ':p': 'user#1' })).toEqual({
      partition: { name: 'pk', value: 'user#1' },
    });
  });

  it('each sort key comparator becomes a sort condition with one value', () => {
    for (const op of ['=', '<', '<=', '>', '>='] as const) {
      expect(keyCondition(`pk = :p AND sk ${op} :s`, { ':p': 'a', ':s': 5 })).toEqual({
        partition: { name: 'pk', value: 'a' },
        sort: { op, name: 'sk', values: [5] },
      });
    }
  });

  it('BETWEEN on the sort key carries both bounds in order', () => {
    expect(
      keyCondition('pk = :p AND sk BETWEEN :lo AND :hi', { ':p': 'a', ':lo': 'b', ':hi': 'c' }).sort,
    ).toEqual({
      op: 'between',
      name: 'sk',
      values: ['b', 'c'],
    });
  });

  it('begins_with on the sort key carries the prefix', () => {
    expect(
      keyCondition('pk = :p AND begins_with(sk, :prefix)', { ':p': 'a', ':prefix': 'order#' }).sort,
    ).toEqual({
      op: 'begins_with',
      name: 'sk',
      values: ['order#'],
    });
  });

  it('the conditions may come in either order, parenthesised, with names substituted', () => {
    expect(
      keyCondition('(#s >= :s) AND (#p = :p)', { ':p': 'a', ':s': 1 }, { '#p': 'pk', '#s': 'sk' }),
    ).toEqual({
      partition: { name: 'pk', value: 'a' },
      sort: { op: '>=', name: 'sk', values: [1] },
    });
  });

  it('a value on the left of a comparator flips the operator', () => {
    expect(keyCondition('pk = :p AND :s < sk', { ':p': 'a', ':s': 1 }).sort).toEqual({
      op: '>',
      name: 'sk',
      values: [1],
    });
  });

  it('binary key values are kept as bytes', () => {
    const value = Uint8Array.of(1, 2);
    expect(keyCondition('pk = :p', { ':p': value }).partition.value).toBe(value);
  });

  it('matchesKeyCondition evaluates a key condition against an item', () => {
    const condition = keyCondition('pk = :p AND sk BETWEEN :lo AND :hi', { ':p': 'a', ':lo': 2, ':hi': 4 });
    expect(matchesKeyCondition(condition, { pk: 'a', sk: 3 })).toBe(true);
    expect(matchesKeyCondition(condition, { pk: 'a', sk: 5 })).toBe(false);
    expect(matchesKeyCondition(condition, { pk: 'b', sk: 3 })).toBe(false);
    const prefix = keyCondition('pk = :p AND begins_with(sk, :s)', { ':p': 'a', ':s': 'x#' });
    expect(matchesKeyCondition(prefix, { pk: 'a', sk: 'x#1' })).toBe(true);
  });
});

describe('key condition errors', () => {
  const error = (
    expression: string,
    values: ExpressionAttributeValues,
    keySchema: KeySchema = schema,
  ): string => {
    try {
      keyCondition(expression, values, undefined, keySchema);
    } catch (caught) {
      return (caught as Error).message;
    }
    throw new Error('expected an error');
  };

  it('OR, NOT, IN and <> are invalid operators in a key condition', () => {
    expect(error('pk = :p OR sk = :s', { ':p': 'a', ':s': 'b' })).toBe(
      'Invalid operator used in KeyConditionExpression: OR',
    );
    expect(error('NOT pk = :p', { ':p': 'a' })).toBe('Invalid operator used in KeyConditionExpression: NOT');
    expect(error('pk IN (:p)', { ':p': 'a' })).toBe('Invalid operator used in KeyConditionExpression: IN');
    expect(error('pk <> :p', { ':p': 'a' })).toBe('Invalid operator used in KeyConditionExpression: <>');
  });

  it('filter-only functions are invalid operators in a key condition', () => {
    expect(error('pk = :p AND contains(sk, :s)', { ':p': 'a', ':s': 'b' })).toBe(
      'Invalid operator used in KeyConditionExpression: contains',
    );
    expect(error('attribute_exists(pk)', {})).toBe(
      'Invalid operator used in KeyConditionExpression: attribute_exists',
    );
  });

  it('the partition key must be compared with =', () => {
    expect(error('pk > :p', { ':p': 'a' })).toBe('Query key condition not supported');
  });

  it('the partition key condition is required', () => {
    expect(error('sk = :s', { ':s': 'a' })).toBe('Query condition missed key schema element: pk');
  });

  it('a condition on a non-key attribute is not supported', () => {
    expect(error('pk = :p AND color = :s', { ':p': 'a', ':s': 'x' })).toBe(
      'Query key condition not supported',
    );
    expect(error('pk = :p AND sk = :s', { ':p': 'a', ':s': 'x' }, { partitionKey: 'pk' })).toBe(
      'Query key condition not supported',
    );
  });

  it('a key may be constrained only once', () => {
    expect(error('pk = :p AND sk > :a AND sk < :b', { ':p': 'a', ':a': 1, ':b': 2 })).toBe(
      'KeyConditionExpressions must only contain one condition per key',
    );
  });

  it('nested attributes, size() and comparisons between attributes are rejected', () => {
    expect(error('pk.x = :p', { ':p': 'a' })).toBe(
      'KeyConditionExpressions cannot have conditions on nested attributes',
    );
    expect(error('pk = :p AND size(sk) > :n', { ':p': 'a', ':n': 1 })).toBe(
      'KeyConditionExpressions cannot contain nested operations',
    );
    expect(error('pk = sk', {})).toBe(
      'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
    );
    expect(error(':a = :b', { ':a': 1, ':b': 1 })).toBe(
      'Invalid condition in KeyConditionExpression: No key attribute specified',
    );
  });

  it('key values must be strings, numbers or binary', () => {
    expect(error('pk = :p', { ':p': true })).toBe(
      'One or more parameter values were invalid: Condition parameter type does not match schema type',
    );
  });

  it('syntax errors name the KeyConditionExpression', () => {
    expect(error('pk = ', {})).toBe(
      'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "="',
    );
  });
});
