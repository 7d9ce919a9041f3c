import { describe, expect, it } from 'vitest';
import { decodeReceiptHandle, encodeReceiptHandle, newReceiptToken } from './receipt-handle.js';

describe('receipt tokens and handles', () => {
  it('hands out distinct 96-bit tokens, across refills of the random pool', () => {
    const tokens = Array.from({ length: 5_000 }, () => newReceiptToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('round-trips a handle and refuses one of another queue', () => {
    const handle = { queueId: 3, seq: 42, token: newReceiptToken() };
    const text = encodeReceiptHandle(handle);
    expect(decodeReceiptHandle(text, 3)).toEqual(handle);
    expect(() => decodeReceiptHandle(text, 4)).toThrow(/another queue/);
    expect(() => decodeReceiptHandle('bm9wZQ', 3)).toThrow(/ReceiptHandle/);
  });
});
