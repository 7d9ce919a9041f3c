import { describe, expect, it } from 'vitest';
import { definedDeep, definedMembers } from './defined.js';

describe('definedMembers', () => {
  it('drops undefined members of one level only, keeping null, false and 0', () => {
    const value = definedMembers({ a: 1, b: undefined, c: null, d: false, e: 0, f: { g: undefined } });
    expect(value).toEqual({ a: 1, c: null, d: false, e: 0, f: { g: undefined } });
    expect(Object.keys(value)).toEqual(['a', 'c', 'd', 'e', 'f']);
    expect(Object.keys(value.f)).toEqual(['g']);
  });
});

describe('definedDeep', () => {
  it('drops undefined members at every depth of objects and arrays', () => {
    const value = definedDeep({
      finalizer: { queue: 'q', messageGroupId: undefined },
      items: [{ a: 1, b: undefined }, 2, null],
      rate: undefined,
    });
    expect(value).toEqual({ finalizer: { queue: 'q' }, items: [{ a: 1 }, 2, null] });
    expect(Object.keys(value.finalizer)).toEqual(['queue']);
    expect('rate' in value).toBe(false);
  });

  it('keeps objects that are not plain data as they are', () => {
    const bytes = Buffer.from([1, 2]);
    const at = new Date(0);
    const value = definedDeep({ bytes, at });
    expect(value.bytes).toBe(bytes);
    expect(value.at).toBe(at);
  });
});
