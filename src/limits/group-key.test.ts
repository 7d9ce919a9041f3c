import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../model/errors.js';
import { groupKeyOf, parseGroupKeyRule } from './group-key.js';
import { parseGroupLimit } from './service.js';

const message = (
  over: Partial<{ groupId: string | null; messageAttributes: string | null; body: string }> = {},
) => ({
  groupId: null,
  messageAttributes: null,
  body: '{}',
  ...over,
});

describe('grouping rules', () => {
  it('reads MessageGroupId, a message attribute or a body path', () => {
    expect(groupKeyOf('MessageGroupId', message({ groupId: 'acme' }))).toBe('acme');
    const attributes = JSON.stringify({
      tenant: { dataType: 'String', stringValue: 'globex' },
      n: { dataType: 'Number', stringValue: '7' },
    });
    expect(groupKeyOf('attribute:tenant', message({ messageAttributes: attributes }))).toBe('globex');
    expect(groupKeyOf('attribute:n', message({ messageAttributes: attributes }))).toBe('7');
    expect(groupKeyOf('body:tenant.id', message({ body: '{"tenant":{"id":42}}' }))).toBe('42');
  });

  it("puts a message without the key in the default group ''", () => {
    expect(groupKeyOf('MessageGroupId', message())).toBe('');
    expect(groupKeyOf('attribute:tenant', message())).toBe('');
    expect(groupKeyOf('body:tenant.id', message({ body: 'not json' }))).toBe('');
    expect(groupKeyOf('body:tenant.id', message({ body: '{"tenant":{"id":{"deep":1}}}' }))).toBe('');
    expect(groupKeyOf('body:toString', message({ body: '{}' }))).toBe('');
    expect(groupKeyOf('body:k', message({ body: JSON.stringify({ k: 'x'.repeat(257) }) }))).toBe('');
  });

  it('rejects malformed rules, naming the field', () => {
    for (const bad of ['', 'groupId', 'attribute:', 'attribute:a b', 'body:', 'body:a..b', 42]) {
      let error: unknown;
      try {
        parseGroupKeyRule(bad, 'GroupBy');
      } catch (e) {
        error = e;
      }
      expect(isSluiceError(error, 'InvalidParameterValue') && error.field).toBe('GroupBy');
    }
  });
});

describe('group limit input', () => {
  it('takes a concurrency and a rate in seconds, burst defaulting to the limit', () => {
    expect(parseGroupLimit({ maxConcurrency: 2, rate: { limit: 5, intervalSeconds: 0.5 } })).toEqual({
      maxConcurrency: 2,
      rate: { limit: 5, intervalMs: 500, burst: 5 },
    });
    expect(parseGroupLimit({})).toEqual({ maxConcurrency: null, rate: null });
  });

  it('rejects values out of range, naming the setting', () => {
    expect(() => parseGroupLimit({ maxConcurrency: 0 })).toThrow(/limit\.maxConcurrency: 0 is invalid/);
    expect(() => parseGroupLimit({ rate: { limit: 1, intervalSeconds: 100_000 } })).toThrow(
      /intervalSeconds/,
    );
    expect(() => parseGroupLimit({ rate: { limit: 1, burst: 1.5 } })).toThrow(/burst/);
    expect(() => parseGroupLimit({ concurrency: 1 } as never)).toThrow(/unknown setting/);
  });
});
