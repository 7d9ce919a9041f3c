import { describe, expect, it } from 'vitest';
import type { ExpressionAttributeNames, ExpressionAttributeValues, Item } from './index.js';
import { compileCondition, compileExpressions, compileUpdate, evaluateCondition } from './index.js';

function holds(
  expression: string,
  item: Item | undefined,
  values?: ExpressionAttributeValues,
  names?: ExpressionAttributeNames,
): boolean {
  return compileCondition(expression, names, values).evaluate(item);
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('comparators', () => {
  it('= is true for equal numbers and false for different ones', () => {
    expect(holds('a = :v', { a: 3 }, { ':v': 3 })).toBe(true);
    expect(holds('a = :v', { a: 3 }, { ':v': 4 })).toBe(false);
  });

  it('= never equates values of different types', () => {
    expect(holds('a = :v', { a: 1 }, { ':v': '1' })).toBe(false);
    expect(holds('a = :v', { a: true }, { ':v': 1 })).toBe(false);
    expect(holds('a = :v', { a: null }, { ':v': false })).toBe(false);
  });

  it('= compares lists in order, maps and sets regardless of order', () => {
    expect(holds('a = :v', { a: [1, 'x'] }, { ':v': [1, 'x'] })).toBe(true);
    expect(holds('a = :v', { a: [1, 'x'] }, { ':v': ['x', 1] })).toBe(false);
    expect(holds('a = :v', { a: { x: 1, y: [2] } }, { ':v': { y: [2], x: 1 } })).toBe(true);
    expect(holds('a = :v', { a: new Set(['p', 'q']) }, { ':v': new Set(['q', 'p']) })).toBe(true);
    expect(holds('a = :v', { a: bytes(1, 2) }, { ':v': bytes(1, 2) })).toBe(true);
  });

  it('= is false when the attribute is missing, even against another missing attribute', () => {
    expect(holds('a = :v', {}, { ':v': 1 })).toBe(false);
    expect(holds('a = b', {})).toBe(false);
  });

  it('<> is true for unequal values, different types and missing attributes', () => {
    expect(holds('a <> :v', { a: 1 }, { ':v': 2 })).toBe(true);
    expect(holds('a <> :v', { a: 1 }, { ':v': 1 })).toBe(false);
    expect(holds('a <> :v', { a: 1 }, { ':v': '1' })).toBe(true);
    expect(holds('a <> :v', {}, { ':v': 1 })).toBe(true);
    expect(holds('a <> b', {})).toBe(true);
  });

  it('< <= > >= order numbers numerically', () => {
    const item = { n: 10 };
    expect(holds('n < :v', item, { ':v': 9.5 })).toBe(false);
    expect(holds('n < :v', item, { ':v': 11 })).toBe(true);
    expect(holds('n <= :v', item, { ':v': 10 })).toBe(true);
    expect(holds('n > :v', item, { ':v': 9 })).toBe(true);
    expect(holds('n > :v', item, { ':v': 10 })).toBe(false);
    expect(holds('n >= :v', item, { ':v': 10 })).toBe(true);
  });

  it('< orders strings by UTF-8 bytes, so a supplementary character sorts after U+FFFD', () => {
    expect(holds('s < :v', { s: 'B' }, { ':v': 'a' })).toBe(true);
    expect(holds('s < :v', { s: 'abc' }, { ':v': 'abd' })).toBe(true);
    expect(holds('s < :v', { s: 'ab' }, { ':v': 'abc' })).toBe(true);
    // UTF-16 code-unit order would put U+1F600 (surrogates 0xD83D...) before U+FFFD.
    expect(holds('s > :v', { s: '\u{1F600}' }, { ':v': '\uFFFD' })).toBe(true);
  });

  it('< orders binary values by unsigned bytes', () => {
    expect(holds('b < :v', { b: bytes(0x7f) }, { ':v': bytes(0x80) })).toBe(true);
    expect(holds('b < :v', { b: bytes(1, 2) }, { ':v': bytes(1) })).toBe(false);
  });

  it('an ordering comparison between different types is false, not an error', () => {
    expect(holds('a < :v', { a: 1 }, { ':v': '2' })).toBe(false);
    expect(holds('a >= :v', { a: '1' }, { ':v': 0 })).toBe(false);
    expect(holds('a < :v', { a: [1] }, { ':v': 2 })).toBe(false);
  });

  it('an ordering comparison on a missing attribute is false', () => {
    for (const op of ['<', '<=', '>', '>=']) expect(holds(`a ${op} :v`, {}, { ':v': 1 })).toBe(false);
  });

  it('a value may stand on the left of a comparator', () => {
    expect(holds(':v < a', { a: 5 }, { ':v': 1 })).toBe(true);
  });

  it('two attributes of the item can be compared', () => {
    expect(holds('a < b', { a: 1, b: 2 })).toBe(true);
  });
});

describe('BETWEEN and IN', () => {
  it('BETWEEN includes both bounds', () => {
    const values = { ':lo': 1, ':hi': 3 };
    expect(holds('n BETWEEN :lo AND :hi', { n: 1 }, values)).toBe(true);
    expect(holds('n BETWEEN :lo AND :hi', { n: 3 }, values)).toBe(true);
    expect(holds('n BETWEEN :lo AND :hi', { n: 4 }, values)).toBe(false);
  });

  it('BETWEEN is false for a missing attribute or one of another type', () => {
    const values = { ':lo': 'a', ':hi': 'c' };
    expect(holds('s between :lo and :hi', {}, values)).toBe(false);
    expect(holds('s between :lo and :hi', { s: 2 }, values)).toBe(false);
    expect(holds('s between :lo and :hi', { s: 'b' }, values)).toBe(true);
  });

  it('IN is true when the attribute equals any listed value', () => {
    const values = { ':a': 'x', ':b': 'y', ':c': 3 };
    expect(holds('s IN (:a, :b, :c)', { s: 'y' }, values)).toBe(true);
    expect(holds('s IN (:a, :b, :c)', { s: 3 }, values)).toBe(true);
    expect(holds('s IN (:a, :b, :c)', { s: '3' }, values)).toBe(false);
    expect(holds('s IN (:a, :b, :c)', {}, values)).toBe(false);
  });

  it('IN compares documents and attributes deeply', () => {
    expect(holds('s in (:l, t)', { s: [1, 2] }, { ':l': [1, 2] })).toBe(true);
    expect(holds('s in (:l, t)', { s: 'q', t: 'q' }, { ':l': [1, 2] })).toBe(true);
  });
});

describe('functions', () => {
  it('attribute_exists and attribute_not_exists test presence, not value; null exists', () => {
    expect(holds('attribute_exists(a)', { a: null })).toBe(true);
    expect(holds('attribute_exists(a)', {})).toBe(false);
    expect(holds('attribute_not_exists(a)', {})).toBe(true);
    expect(holds('attribute_not_exists(a)', { a: 0 })).toBe(false);
  });

  it('attribute_type maps plain JSON onto DynamoDB type names', () => {
    const item = {
      s: 'x',
      n: 1,
      b: bytes(1),
      t: true,
      z: null,
      l: [],
      m: {},
      ss: new Set(['a']),
      ns: new Set([1]),
      bs: new Set([bytes(1)]),
    };
    const cases: [string, string][] = [
      ['s', 'S'],
      ['n', 'N'],
      ['b', 'B'],
      ['t', 'BOOL'],
      ['z', 'NULL'],
      ['l', 'L'],
      ['m', 'M'],
      ['ss', 'SS'],
      ['ns', 'NS'],
      ['bs', 'BS'],
    ];
    for (const [attribute, type] of cases) {
      expect(holds(`attribute_type(${attribute}, :t)`, item, { ':t': type })).toBe(true);
      expect(holds(`attribute_type(${attribute}, :t)`, item, { ':t': type === 'S' ? 'N' : 'S' })).toBe(false);
    }
  });

  it('begins_with matches string and binary prefixes only', () => {
    expect(holds('begins_with(s, :p)', { s: 'order#42' }, { ':p': 'order#' })).toBe(true);
    expect(holds('begins_with(s, :p)', { s: 'order#42' }, { ':p': 'item#' })).toBe(false);
    expect(holds('begins_with(b, :p)', { b: bytes(1, 2, 3) }, { ':p': bytes(1, 2) })).toBe(true);
    expect(holds('begins_with(n, :p)', { n: 12 }, { ':p': '1' })).toBe(false);
    expect(holds('begins_with(s, :p)', {}, { ':p': 'a' })).toBe(false);
  });

  it('contains finds substrings, set members and list elements', () => {
    expect(holds('contains(s, :v)', { s: 'hello' }, { ':v': 'ell' })).toBe(true);
    expect(holds('contains(s, :v)', { s: 'hello' }, { ':v': 'xyz' })).toBe(false);
    expect(holds('contains(ss, :v)', { ss: new Set(['red', 'blue']) }, { ':v': 'red' })).toBe(true);
    expect(holds('contains(ns, :v)', { ns: new Set([2, 4]) }, { ':v': 4 })).toBe(true);
    expect(holds('contains(l, :v)', { l: [1, { x: 1 }] }, { ':v': { x: 1 } })).toBe(true);
    expect(holds('contains(b, :v)', { b: bytes(1, 2, 3) }, { ':v': bytes(2, 3) })).toBe(true);
    expect(holds('contains(s, :v)', {}, { ':v': 'a' })).toBe(false);
  });

  it('size measures strings in UTF-16 units, binary in bytes, and collections by element count', () => {
    const item = {
      s: 'hello',
      e: 'é\u{1D11E}',
      b: bytes(1, 2, 3),
      l: [1, 2],
      m: { x: 1 },
      ss: new Set(['a', 'b', 'c']),
    };
    expect(holds('size(s) = :v', item, { ':v': 5 })).toBe(true);
    expect(holds('size(e) = :v', item, { ':v': 3 })).toBe(true);
    expect(holds('size(b) = :v', item, { ':v': 3 })).toBe(true);
    expect(holds('size(l) = :v', item, { ':v': 2 })).toBe(true);
    expect(holds('size(m) = :v', item, { ':v': 1 })).toBe(true);
    expect(holds('size(ss) > :v', item, { ':v': 2 })).toBe(true);
  });

  it('size of a number, boolean, null or missing attribute makes the comparison false', () => {
    expect(holds('size(n) = :v', { n: 5 }, { ':v': 1 })).toBe(false);
    expect(holds('size(t) >= :v', { t: true }, { ':v': 0 })).toBe(false);
    expect(holds('size(z) >= :v', {}, { ':v': 0 })).toBe(false);
  });

  it('a parenthesised size() can be compared', () => {
    expect(holds('(size(s)) > :v', { s: 'abc' }, { ':v': 2 })).toBe(true);
  });
});

describe('precedence and grouping', () => {
  const values = { ':t': true };
  const item = { a: true, b: true, c: false };

  it('AND binds tighter than OR: a OR b AND c is true when a and b are true and c is false', () => {
    expect(holds('a = :t OR b = :t AND c = :t', item, values)).toBe(true);
  });

  it('parentheses override precedence: (a OR b) AND c is false', () => {
    expect(holds('(a = :t OR b = :t) AND c = :t', item, values)).toBe(false);
  });

  it('NOT binds tighter than AND: NOT c AND a is (NOT c) AND a', () => {
    expect(holds('NOT c = :t AND a = :t', item, values)).toBe(true);
    expect(holds('NOT (c = :t AND a = :t)', item, values)).toBe(true);
    expect(holds('NOT a = :t AND c = :t', item, values)).toBe(false);
  });

  it('NOT binds tighter than OR: NOT a OR c is (NOT a) OR c', () => {
    expect(holds('NOT a = :t OR c = :t', item, values)).toBe(false);
  });

  it('NOT can be repeated', () => {
    expect(holds('NOT NOT a = :t', item, values)).toBe(true);
  });

  it('keywords are case-insensitive and whitespace is free', () => {
    expect(holds('a=:t and(b=:t)or not c=:t', item, values)).toBe(true);
  });

  it('AND and OR short-circuit left to right', () => {
    expect(holds('attribute_exists(x) AND x.y = :t', { x: 'not a map' }, values)).toBe(false);
    expect(holds('attribute_not_exists(x) OR x = :t', {}, values)).toBe(true);
  });
});

describe('document paths', () => {
  const item = {
    order: {
      entries: [
        { sku: 'A', qty: 2 },
        { sku: 'B', qty: 0 },
      ],
      'ship.to': 'x',
    },
    tags: ['p', 'q'],
  };
  const names = { '#o': 'order', '#dot': 'ship.to' };

  it('nested map attributes and list indexes resolve', () => {
    expect(holds('#o.entries[1].sku = :v', item, { ':v': 'B' }, { '#o': 'order' })).toBe(true);
    expect(holds('tags[0] = :v', item, { ':v': 'p' })).toBe(true);
  });

  it('an index past the end of a list, or into a non-list, is a missing attribute', () => {
    expect(holds('attribute_exists(tags[2])', item)).toBe(false);
    expect(holds('attribute_exists(#o[0])', item, undefined, { '#o': 'order' })).toBe(false);
  });

  it('a dot inside a substituted name is part of the name, not a path separator', () => {
    expect(holds('#o.#dot = :v', item, { ':v': 'x' }, names)).toBe(true);
  });

  it('inherited object properties are not attributes', () => {
    expect(holds('attribute_exists(hasOwnProperty)', {})).toBe(false);
    expect(holds('attribute_exists(#p)', {}, undefined, { '#p': '__proto__' })).toBe(false);
  });
});

describe('compile once, evaluate many', () => {
  it('a compiled condition evaluates many items and exposes its syntax tree', () => {
    const condition = compileCondition('qty > :min', undefined, { ':min': 1 });
    expect([1, 2, 3].map((qty) => condition.evaluate({ qty }))).toEqual([false, true, true]);
    expect(condition.ast).toMatchObject({ kind: 'comparison', comparator: '>' });
    expect(evaluateCondition(condition.ast, { qty: 9 })).toBe(true);
  });

  it('a FilterExpression compiles like a ConditionExpression and names itself in errors', () => {
    expect(() => compileCondition('a = ', undefined, undefined, 'FilterExpression')).toThrow(
      /^Invalid FilterExpression: /,
    );
  });
});

describe('token table: conditional heartbeat upsert', () => {
  const request = {
    updateExpression: 'SET heartbeat = :now',
    conditionExpression: 'attribute_exists(pk) AND loopId = :loop',
    expressionAttributeValues: { ':now': 1_700_000_000, ':loop': 'loop-1' },
  };

  it('the heartbeat condition fails when the token row is gone', () => {
    const { condition } = compileExpressions(request);
    expect(condition?.evaluate(undefined)).toBe(false);
  });

  it('the heartbeat condition fails when another loop owns the token', () => {
    const { condition } = compileExpressions(request);
    expect(condition?.evaluate({ pk: 'token', loopId: 'loop-2' })).toBe(false);
  });

  it('the heartbeat is written when the token row exists and belongs to the loop', () => {
    const { condition, update } = compileExpressions(request);
    const row = { pk: 'token', loopId: 'loop-1', heartbeat: 1 };
    expect(condition?.evaluate(row)).toBe(true);
    expect(update?.apply(row)).toEqual({ pk: 'token', loopId: 'loop-1', heartbeat: 1_700_000_000 });
  });

  it('the same update compiled alone rejects the condition placeholder it does not use', () => {
    expect(() =>
      compileUpdate(request.updateExpression, undefined, request.expressionAttributeValues),
    ).toThrow('Value provided in ExpressionAttributeValues unused in expressions: keys: {:loop}');
  });
});
