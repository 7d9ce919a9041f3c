import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareOrdered, typeOf, valuesEqual } from './index.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('attribute values', () => {
  it('strings order exactly as their UTF-8 bytes do', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(sign(compareOrdered(a, b) as number)).toBe(
          sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('equality is symmetric and a value equals a deep copy of itself', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(json, json, (a, b) => {
        const x = a as never;
        const y = b as never;
        expect(valuesEqual(x, y)).toBe(valuesEqual(y, x));
        expect(valuesEqual(x, structuredClone(x))).toBe(true);
      }),
    );
  });

  it('a value of one type never orders against a value of another', () => {
    expect(compareOrdered(1, '1')).toBeUndefined();
    expect(compareOrdered('a', Uint8Array.of(97))).toBeUndefined();
    expect(compareOrdered(true, true)).toBeUndefined();
  });

  it('an empty set or a value outside the data model has no type', () => {
    expect(typeOf(new Set<string>())).toBeUndefined();
    expect(typeOf(undefined)).toBeUndefined();
    expect(typeOf(Buffer.from('x'))).toBe('B');
  });
});
