import { describe, expect, it } from 'vitest';
import { judgeBatchResponse } from './batch-response.js';

const batch = new Set(['a', 'b', 'c']);
const judge = (response: unknown) => judgeBatchResponse(response, (id) => batch.has(id));

describe("Lambda's partial batch response rules", () => {
  it.each([
    ['no response', undefined],
    ['a null response', null],
    ['an empty response', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
    ['other fields only', { statusCode: 200 }],
  ])('treats %s as complete success', (_name, response) => {
    expect(judge(response)).toEqual({ kind: 'success' });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a misspelled key', { batchItemFailures: [{ itemIdentifer: 'a' }] }],
    ['an identifier not in the batch', { batchItemFailures: [{ itemIdentifier: 'zzz' }] }],
    ['a non-object item', { batchItemFailures: ['a'] }],
    ['a list that is not a list', { batchItemFailures: 'a' }],
    ['a response that is not an object', 'done'],
    ['an array response', [{ itemIdentifier: 'a' }]],
  ])('fails the whole batch for %s', (_name, response) => {
    expect(judge(response).kind).toBe('failure');
  });

  it('returns only the listed messages, once each', () => {
    expect(
      judge({
        batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'b' }, { itemIdentifier: 'c' }],
      }),
    ).toEqual({
      kind: 'partial',
      failed: new Set(['b', 'c']),
    });
  });

  it('fails the whole batch when one of several identifiers is unknown', () => {
    expect(judge({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'nope' }] }).kind).toBe(
      'failure',
    );
  });
});
