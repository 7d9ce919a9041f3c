import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../model/errors.js';
import type { ExpressionAttributeNames, ExpressionAttributeValues, Item } from './index.js';
import { applyUpdate, assertKeyAttributesUnchanged, compileUpdate, updatedAttributes } from './index.js';

function update(
  expression: string,
  item: Item | undefined,
  values?: ExpressionAttributeValues,
  names?: ExpressionAttributeNames,
): Item {
  return compileUpdate(expression, names, values).apply(item);
}

function updateError(expression: string, item: Item | undefined, values?: ExpressionAttributeValues): string {
  try {
    update(expression, item, values);
  } catch (error) {
    if (isSluiceError(error, 'ValidationException')) return error.message;
    throw error;
  }
  throw new Error('expected a ValidationException');
}

const missingAttribute = 'The provided expression refers to an attribute that does not exist in the item';
const incorrectType = 'An operand in the update expression has an incorrect data type';
const invalidPath = 'The document path provided in the update expression is invalid for update';

describe('SET', () => {
  it('SET writes new attributes and overwrites existing ones, keeping the rest', () => {
    expect(update('SET a = :a, b = :b', { a: 1, c: 3 }, { ':a': 'x', ':b': [1] })).toEqual({
      a: 'x',
      b: [1],
      c: 3,
    });
  });

  it('SET on a missing item creates the attributes', () => {
    expect(update('SET a = :a', undefined, { ':a': 1 })).toEqual({ a: 1 });
  });

  it('SET a = b + :n adds numerically and a = b - :n subtracts', () => {
    expect(update('SET a = b + :n', { b: 2 }, { ':n': 3 })).toEqual({ a: 5, b: 2 });
    expect(update('SET a = a - :n', { a: 2 }, { ':n': 3 })).toEqual({ a: -1 });
    expect(update('SET a = :n + a', { a: 2 }, { ':n': 0.5 })).toEqual({ a: 2.5 });
  });

  it('b + :n with b missing is a ValidationException naming the missing attribute', () => {
    expect(updateError('SET a = b + :n', { a: 1 }, { ':n': 1 })).toBe(missingAttribute);
    expect(updateError('SET a = b + :n', undefined, { ':n': 1 })).toBe(missingAttribute);
  });

  it('arithmetic on a non-number attribute is an incorrect data type', () => {
    expect(updateError('SET a = b + :n', { b: '2' }, { ':n': 1 })).toBe(incorrectType);
  });

  it('arithmetic that overflows a double is rejected like a number overflow', () => {
    expect(updateError('SET a = b + :n', { b: Number.MAX_VALUE }, { ':n': Number.MAX_VALUE })).toMatch(
      /^Number overflow/,
    );
  });

  it('copying a missing attribute is a ValidationException', () => {
    expect(updateError('SET c = z', { a: 1 })).toBe(missingAttribute);
  });

  it('every right-hand side reads the item as it was before the update, so SET a = b, b = a swaps', () => {
    expect(update('SET a = b, b = a', { a: 1, b: 2 })).toEqual({ a: 2, b: 1 });
    expect(updateError('SET x = :v, y = x', {}, { ':v': 4 })).toBe(missingAttribute);
  });

  it('REMOVE a SET b = a moves a value', () => {
    expect(update('REMOVE a SET b = a', { a: 'hello' })).toEqual({ b: 'hello' });
  });
});

describe('list_append and if_not_exists', () => {
  it('list_append appends the second list to the first, either way round', () => {
    expect(update('SET l = list_append(l, :v)', { l: [1, 2] }, { ':v': [3] })).toEqual({ l: [1, 2, 3] });
    expect(update('SET l = list_append(:v, l)', { l: [1, 2] }, { ':v': [0] })).toEqual({ l: [0, 1, 2] });
  });

  it('list_append of a missing attribute is a ValidationException', () => {
    expect(updateError('SET l = list_append(l, :v)', {}, { ':v': [3] })).toBe(missingAttribute);
  });

  it('list_append of a non-list attribute is an incorrect data type', () => {
    expect(updateError('SET l = list_append(l, :v)', { l: 'x' }, { ':v': [3] })).toBe(incorrectType);
  });

  it('if_not_exists keeps an existing value and otherwise takes the fallback', () => {
    expect(update('SET a = if_not_exists(a, :v)', { a: 2 }, { ':v': 9 })).toEqual({ a: 2 });
    expect(update('SET a = if_not_exists(a, :v)', {}, { ':v': 9 })).toEqual({ a: 9 });
    expect(update('SET b = if_not_exists(a, :v)', { a: 2 }, { ':v': 9 })).toEqual({ a: 2, b: 2 });
  });

  it('if_not_exists nests inside list_append and under arithmetic, for counters and appends from nothing', () => {
    const values = { ':empty': [], ':v': ['x'], ':zero': 0, ':one': 1 };
    expect(
      update(
        'SET l = list_append(if_not_exists(l, :empty), :v), n = if_not_exists(n, :zero) + :one',
        {},
        values,
      ),
    ).toEqual({
      l: ['x'],
      n: 1,
    });
  });
});

describe('nested paths', () => {
  it('SET writes into nested maps and list elements', () => {
    const item = { a: { b: 3, c: ['hi', { x: { y: [3, 5, 7] } }] } };
    expect(update('SET a.c[1].#n.y[1] = :v', item, { ':v': 9 }, { '#n': 'x' })).toEqual({
      a: { b: 3, c: ['hi', { x: { y: [3, 9, 7] } }] },
    });
  });

  it('SET past the end of a list appends, several in ascending index order', () => {
    const values = { ':a1': 'a1', ':a2': 'a2', ':a3': 'a3', ':a4': 'a4' };
    expect(update('SET l[84] = :a1, l[37] = :a2, l[17] = :a3, l[50] = :a4', { l: ['one'] }, values)).toEqual({
      l: ['one', 'a3', 'a2', 'a4', 'a1'],
    });
  });

  it('SET below a missing or non-map parent is an invalid document path', () => {
    expect(updateError('SET a.c = :v', { a: 'hello' }, { ':v': 7 })).toBe(invalidPath);
    expect(updateError('SET c.c = :v', {}, { ':v': 7 })).toBe(invalidPath);
    expect(updateError('SET a[0] = :v', { a: { x: 1 } }, { ':v': 7 })).toBe(invalidPath);
    expect(updateError('SET c.c = :v', undefined, { ':v': 7 })).toBe(invalidPath);
  });

  it('the input item and the compiled values are never modified', () => {
    const item = { a: { b: [1, 2] }, keep: { same: true } };
    const snapshot = structuredClone(item);
    const compiled = compileUpdate('SET a.b[0] = :v, d = :doc REMOVE a.b[1]', undefined, {
      ':v': 9,
      ':doc': { x: [1] },
    });
    const result = compiled.apply(item) as { a: { b: number[] }; d: { x: number[] }; keep: object };
    expect(item).toEqual(snapshot);
    expect(result).toEqual({ a: { b: [9] }, d: { x: [1] }, keep: { same: true } });
    expect(result.keep).toBe(item.keep);
    result.d.x.push(2);
    expect(compiled.apply(item)).toMatchObject({ d: { x: [1] } });
  });

  it('a name substituting __proto__ is stored as an ordinary attribute', () => {
    const result = update('SET #p = :v', {}, { ':v': 1 }, { '#p': '__proto__' });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
  });
});

describe('REMOVE', () => {
  it('REMOVE deletes attributes and ignores missing ones', () => {
    expect(update('REMOVE a, b, z', { a: 1, b: 2, c: 3 })).toEqual({ c: 3 });
  });

  it('REMOVE of list elements refers to their positions before the update and closes the gap', () => {
    const item = { l: ['Chisel', 'Hammer', 'Nails', 'Screwdriver', 'Hacksaw'] };
    expect(update('REMOVE l[1], l[2]', item)).toEqual({ l: ['Chisel', 'Screwdriver', 'Hacksaw'] });
  });

  it('REMOVE and SET on one list both use the original indexes, in either order', () => {
    const item = { a: [2, 3, 4, 5, 6, 7] };
    expect(update('REMOVE a[1] SET a[3] = :v', item, { ':v': 17 })).toEqual({ a: [2, 4, 17, 6, 7] });
    expect(update('SET a[3] = :v REMOVE a[1]', item, { ':v': 17 })).toEqual({ a: [2, 4, 17, 6, 7] });
  });

  it('REMOVE past the end of a list, or of a missing map key, does nothing', () => {
    expect(update('REMOVE l[7], m.y', { l: [1], m: { x: 1 } })).toEqual({ l: [1], m: { x: 1 } });
  });

  it('REMOVE of the last element leaves an empty list or map', () => {
    expect(update('REMOVE l[0], m.x', { l: [1], m: { x: 1 } })).toEqual({ l: [], m: {} });
  });

  it('REMOVE below a missing parent is an invalid document path when the item exists, and nothing when it does not', () => {
    expect(updateError('REMOVE c.c', { a: 1 })).toBe(invalidPath);
    expect(updateError('REMOVE a[0]', { a: 'x' })).toBe(invalidPath);
    expect(update('REMOVE x.y', undefined)).toEqual({});
  });
});

describe('ADD and DELETE', () => {
  it('ADD adds to a number, and creates it from zero when missing', () => {
    expect(update('ADD n :v', { n: 3 }, { ':v': 4 })).toEqual({ n: 7 });
    expect(update('ADD n :v', {}, { ':v': -2 })).toEqual({ n: -2 });
  });

  it('ADD to a non-number attribute is an incorrect data type', () => {
    expect(updateError('ADD s :v', { s: 'hi' }, { ':v': 1 })).toBe(incorrectType);
  });

  it('ADD unions a set of the same type and creates it when missing', () => {
    expect(update('ADD s :v', { s: new Set(['a', 'b']) }, { ':v': new Set(['b', 'c']) })).toEqual({
      s: new Set(['a', 'b', 'c']),
    });
    expect(update('ADD s :v', {}, { ':v': new Set([1]) })).toEqual({ s: new Set([1]) });
  });

  it('ADD of a set to a set of another type, or to a list, is an incorrect data type', () => {
    expect(updateError('ADD s :v', { s: new Set([1]) }, { ':v': new Set(['x']) })).toBe(incorrectType);
    expect(updateError('ADD s :v', { s: [1] }, { ':v': new Set([1]) })).toBe(incorrectType);
  });

  it('DELETE removes elements from a set and the attribute when the set empties', () => {
    const item = { s: new Set(['dog', 'cat', 'mouse']), b: 'hi' };
    expect(update('DELETE s :v', item, { ':v': new Set(['cat', 'mouse', 'pig']) })).toEqual({
      s: new Set(['dog']),
      b: 'hi',
    });
    expect(update('DELETE s :v', { s: new Set(['dog']) }, { ':v': new Set(['dog']) })).toEqual({});
  });

  it('DELETE from a missing attribute does nothing', () => {
    expect(update('DELETE s :v', { b: 1 }, { ':v': new Set(['x']) })).toEqual({ b: 1 });
  });

  it('DELETE from a binary set matches elements by their bytes', () => {
    const item = { s: new Set([Uint8Array.of(1), Uint8Array.of(2)]) };
    expect(update('DELETE s :v', item, { ':v': new Set([Uint8Array.of(1)]) })).toEqual({
      s: new Set([Uint8Array.of(2)]),
    });
  });
});

describe('clauses and key attributes', () => {
  it('clauses may come in any order and in any case', () => {
    expect(update('remove a add n :one set b = :b', { a: 1, n: 1 }, { ':one': 1, ':b': 'x' })).toEqual({
      n: 2,
      b: 'x',
    });
  });

  it('updatedAttributes lists the distinct top-level attributes an update touches', () => {
    const compiled = compileUpdate('SET a.b = :v, c = d REMOVE e[0] ADD f :n DELETE g :s', undefined, {
      ':v': 1,
      ':n': 1,
      ':s': new Set(['x']),
    });
    expect(compiled.updatedAttributes).toEqual(['a', 'c', 'e', 'f', 'g']);
    expect(updatedAttributes(compiled.ast)).toEqual(['a', 'c', 'e', 'f', 'g']);
  });

  it('assertKeyAttributesUnchanged rejects an update of a key attribute as DynamoDB does', () => {
    const compiled = compileUpdate('SET pk = :v, note = :v', undefined, { ':v': 1 });
    expect(() => assertKeyAttributesUnchanged(compiled, ['pk', 'sk'])).toThrow(
      'One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key',
    );
    expect(() => assertKeyAttributesUnchanged(compiled.ast, ['sk'])).not.toThrow();
  });

  it('applyUpdate applies a syntax tree directly', () => {
    const { ast } = compileUpdate('SET a = :v', undefined, { ':v': 1 });
    expect(applyUpdate(ast, { b: 2 })).toEqual({ a: 1, b: 2 });
  });
});
