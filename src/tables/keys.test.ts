import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareOrdered } from './expressions/index.js';
import { encodeKeyValue, prefixUpperBound } from './keys.js';
import { parseNumber } from './expressions/numbers.js';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('key encoding', () => {
  it('orders encoded numbers as the numbers order', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (a, b) => {
          expect(sign(Buffer.compare(encodeKeyValue(a), encodeKeyValue(b)))).toBe(
            sign(compareOrdered(a, b)!),
          );
        },
      ),
    );
  });

  it('orders exact decimals (doubles and NumberValues mixed) as the decimals order', () => {
    // Decimals of up to 38 digits, many of them crowded around one double, plus doubles themselves.
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 38 });
    const decimal = fc.oneof(
      fc.tuple(fc.boolean(), digits, fc.integer({ min: -60, max: 60 })).map(([negative, d, e]) => `${negative ? '-' : ''}${d}e${e}`),
      fc.tuple(fc.boolean(), fc.constantFrom('9007199254740992', '0.1', '1', '123.456'), digits.map((d) => d.slice(0, 20))).map(
        ([negative, base, tail]) => `${negative ? '-' : ''}${base}${base.includes('.') ? '' : '.'}${tail}`,
      ),
      fc
        .double({ noNaN: true, noDefaultInfinity: true, min: -1e100, max: 1e100 })
        .filter((x) => x === 0 || Math.abs(x) > 1e-100)
        .map(String),
    );
    fc.assert(
      fc.property(decimal, decimal, (x, y) => {
        const a = parseNumber(x)!;
        const b = parseNumber(y)!;
        expect(sign(Buffer.compare(encodeKeyValue(a), encodeKeyValue(b))), `${x} vs ${y}`).toBe(sign(compareOrdered(a, b)!));
      }),
      { numRuns: 5000 },
    );
  });

  it('orders encoded strings as DynamoDB orders strings (UTF-8 bytes)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(sign(Buffer.compare(encodeKeyValue(a), encodeKeyValue(b)))).toBe(sign(compareOrdered(a, b)!));
      }),
    );
  });

  it('treats -0 and 0 as the same key', () => {
    expect(encodeKeyValue(-0).equals(encodeKeyValue(0))).toBe(true);
  });

  it('bounds a prefix range just above every key with the prefix', () => {
    expect(prefixUpperBound(Buffer.from([0x61, 0x62]))).toEqual(Buffer.from([0x61, 0x63]));
    expect(prefixUpperBound(Buffer.from([0x61, 0xff, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixUpperBound(Buffer.from([0xff]))).toBeUndefined();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 6 }),
        fc.uint8Array({ maxLength: 6 }),
        (prefix, rest) => {
          const bound = prefixUpperBound(Buffer.from(prefix));
          const key = Buffer.concat([prefix, rest]);
          if (bound) expect(Buffer.compare(key, bound)).toBeLessThan(0);
        },
      ),
    );
  });
});
