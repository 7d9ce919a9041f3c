import { describe, expect, it } from 'vitest';
import { parseJsonObject } from './validation.js';

const parse = (text: string) => parseJsonObject(Buffer.from(text, 'utf8'), { allowEmpty: true });

describe('parseJsonObject', () => {
  it('refuses a __proto__ member however the text spells it, naming where it is', () => {
    expect(() => parse('{"a":{"b":[{"__proto__":{"x":1}}]}}')).toThrow(/a\.b\[0\]\.__proto__/);
    // JSON escapes decode to the same name; the cheap text check must not let them through.
    expect(() => parse('{"a":{"\\u005f_proto__":1}}')).toThrow(/a\.__proto__/);
    expect(() => parse('{"\\u005F\\u005Fpr\\u006fto\\u005f\\u005f":1}')).toThrow(/'__proto__' is reserved/);
  });

  it('takes members that only look like it', () => {
    expect(parse('{"proto":"__proto__","_proto_":1,"x":"\\u0041"}')).toEqual({ proto: '__proto__', _proto_: 1, x: 'A' });
  });
});
