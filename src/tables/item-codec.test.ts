import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item } from './expressions/index.js';
import { decodeItem, encodeItem } from './item-codec.js';
import { itemSize } from './item-size.js';

const key = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('$B', '$SS', '$NS', '$BS', '$M', '$x', '__proto__'),
);
const value: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 4 }),
    fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 3 }).map((a) => new Set(a)),
    fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 3 }).map((a) => new Set(a)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3 }),
  ),
})).value;

describe('item storage encoding', () => {
  it('decodes every encoded item to an equal item, tags and look-alike maps included', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), (item) => {
        expect(decodeItem(encodeItem(item as Item))).toEqual(item);
      }),
    );
  });

  it('stores a plain JSON item as plain JSON', () => {
    expect(encodeItem({ a: 1, b: ['x', { c: null }] })).toBe('{"a":1,"b":["x",{"c":null}]}');
  });
});

describe('item size', () => {
  it('counts names and UTF-8 string bytes, numbers by significant digits', () => {
    expect(itemSize({ ab: 'héllo' })).toBe(2 + 6);
    expect(itemSize({ n: 12345 })).toBe(1 + 4);
    expect(itemSize({ l: [true, null] })).toBe(1 + 3 + 2 * 2);
  });
});
