import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareOrdered } from './expressions/index.js';
import { encodeKeyValue, prefixUpperBound } from './keys.js';

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
