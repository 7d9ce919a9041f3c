import { describe, expect, it } from 'vitest';
import type { StatesError } from './errors.js';
import { applyResultPath, effectiveInput, stateOutput } from './io.js';
import type { Json } from './json.js';
import { evaluatePath } from './jsonpath.js';

const env = { context: { Execution: { Name: 'run-1' }, State: { Name: 'S' } } };

describe('input and output processing (examples of AWS’s input-output pages)', () => {
  it('Parameters select with .$ fields and keep static values', () => {
    const input = {
      comment: 'Example for Parameters.',
      product: { details: { color: 'blue', size: 'small', material: 'cotton' }, availability: 'in stock', sku: '2317', cost: '$23' },
    };
    const Parameters = { comment: 'Selecting what I care about.', MyDetails: { 'size.$': '$.product.details.size', 'exists.$': '$.product.availability', StaticValue: 'foo' } };
    expect(effectiveInput({ Parameters }, input, env)).toEqual({
      comment: 'Selecting what I care about.',
      MyDetails: { size: 'small', exists: 'in stock', StaticValue: 'foo' },
    });
  });

  it('ResultPath $.taskresult adds the result to the input', () => {
    const input = { comment: 'This is a test of the input and output of a Task state.', details: 'Default example', who: 'AWS Step Functions' };
    expect(applyResultPath('$.taskresult', input, 'Hello, AWS Step Functions!')).toEqual({ ...input, taskresult: 'Hello, AWS Step Functions!' });
  });

  it('ResultPath $ replaces the input, null discards the result', () => {
    expect(applyResultPath('$', { a: 1 }, 'r')).toBe('r');
    expect(applyResultPath(undefined, { a: 1 }, 'r')).toBe('r');
    expect(applyResultPath(null, { a: 1 }, 'r')).toEqual({ a: 1 });
  });

  it('ResultPath into a nested field creates the objects on the way', () => {
    expect(applyResultPath('$.a.b.c', { a: { x: 1 } }, 2)).toEqual({ a: { x: 1, b: { c: 2 } } });
  });

  it('ResultPath through a string fails with States.ResultPathMatchFailure', () => {
    try {
      applyResultPath('$.a.b', { a: 'text' }, 1);
      expect.unreachable();
    } catch (error) {
      expect((error as StatesError).error).toBe('States.ResultPathMatchFailure');
    }
  });

  it('InputPath, ResultSelector, ResultPath and OutputPath apply in order', () => {
    const state = { InputPath: '$.lambda', ResultSelector: { 'ClusterId.$': '$.output.ClusterId', 'ResourceType.$': '$.resourceType' }, ResultPath: '$.EMROutput', OutputPath: '$.EMROutput' };
    const raw = { lambda: { who: 'x' } };
    expect(effectiveInput(state, raw, env)).toEqual({ who: 'x' });
    const result = { resource: 'arn', resourceType: 'elasticmapreduce', output: { SdkHttpMetadata: {}, ClusterId: 'AKIAIOSFODNN7EXAMPLE' } };
    expect(stateOutput(state, raw, result, env)).toEqual({ ClusterId: 'AKIAIOSFODNN7EXAMPLE', ResourceType: 'elasticmapreduce' });
  });

  it('the context object is read with $$ and intrinsics run in Parameters', () => {
    const Parameters = { 'name.$': '$$.Execution.Name', 'greeting.$': "States.Format('hi {}', $.who)" };
    expect(effectiveInput({ Parameters }, { who: 'Ann' }, env)).toEqual({ name: 'run-1', greeting: 'hi Ann' });
  });

  it('a Parameters path that selects nothing fails with States.Runtime', () => {
    try {
      effectiveInput({ Parameters: { 'x.$': '$.missing' } }, {}, env);
      expect.unreachable();
    } catch (error) {
      expect((error as StatesError).error).toBe('States.Runtime');
    }
  });

  it('InputPath null gives {}', () => {
    expect(effectiveInput({ InputPath: null }, { a: 1 }, env)).toEqual({});
  });
});

describe('JSONPath', () => {
  const store: Json = {
    store: {
      book: [
        { category: 'reference', author: 'Nigel Rees', title: 'Sayings of the Century', price: 8.95 },
        { category: 'fiction', author: 'Evelyn Waugh', title: 'Sword of Honour', price: 12.99 },
        { category: 'fiction', author: 'J. R. R. Tolkien', title: 'The Lord of the Rings', isbn: '0-395-19395-8', price: 22.99 },
      ],
    },
  };
  it.each([
    ['$.store.book[0].author', 'Nigel Rees'],
    ["$['store']['book'][1]['price']", 12.99],
    ['$.store.book[*].author', ['Nigel Rees', 'Evelyn Waugh', 'J. R. R. Tolkien']],
    ['$..price', [8.95, 12.99, 22.99]],
    ['$.store.book[-1:].title', ['The Lord of the Rings']],
    ['$.store.book[0,2].price', [8.95, 22.99]],
    ['$.store.book[?(@.price < 10)].title', ['Sayings of the Century']],
    ['$.store.book[?(@.isbn)].author', ['J. R. R. Tolkien']],
    ["$.store.book[?(@.category == 'fiction' && @.price > 20)].price", [22.99]],
    ['$.store.book.length()', 3],
    ['$.missing', undefined],
  ])('%s', (path, expected) => {
    expect(evaluatePath(path, store)).toEqual(expected);
  });
});
