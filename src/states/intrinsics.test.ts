import { describe, expect, it } from 'vitest';
import { StatesError } from './errors.js';
import { evaluateIntrinsic } from './intrinsics.js';
import type { Json } from './json.js';

// The examples of AWS's "Intrinsic functions for JSONPath states" page, with their documented results.
const cases: [string, Json, Json][] = [
  ["States.Format('Hello, my name is {}.', $.name)", { name: 'Arnav' }, 'Hello, my name is Arnav.'],
  ["States.Format('Today is {}', $$.Execution.Input.date)", {}, 'Today is 2026-12-03'],
  ["States.Format('braces \\{\\} and {}', 'x')", {}, 'braces {} and x'],
  ['States.StringToJson($.escapedJsonString)', { escapedJsonString: '{"foo": "bar"}' }, { foo: 'bar' }],
  ['States.JsonToString($.unescapedJson)', { unescapedJson: { foo: 'bar' } }, '{"foo":"bar"}'],
  ["States.Array('Foo', 2020, $.someJson, null)", { someJson: { random: 'abcdefg' } }, ['Foo', 2020, { random: 'abcdefg' }, null]],
  ['States.ArrayPartition($.inputArray,4)', { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]],
  ['States.ArrayContains($.inputArray, $.lookingFor)', { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9], lookingFor: 5 }, true],
  ['States.ArrayRange(1, 9, 2)', {}, [1, 3, 5, 7, 9]],
  ['States.ArrayGetItem($.inputArray, $.index)', { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9], index: 5 }, 6],
  ['States.ArrayLength($.inputArray)', { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 9],
  ['States.ArrayUnique($.inputArray)', { inputArray: [1, 2, 3, 3, 3, 3, 3, 3, 4] }, [1, 2, 3, 4]],
  ['States.Base64Encode($.input)', { input: 'Data to encode' }, 'RGF0YSB0byBlbmNvZGU='],
  ['States.Base64Decode($.base64)', { base64: 'RGF0YSB0byBlbmNvZGU=' }, 'Data to encode'],
  ['States.Hash($.Data, $.Algorithm)', { Data: 'input data', Algorithm: 'SHA-1' }, 'aaff4a450a104cd177d28d18d74485e8cae074b7'],
  [
    'States.JsonMerge($.json1, $.json2, false)',
    { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } },
    { a: { a3: 1, a4: 2 }, b: 2, c: 3 },
  ],
  ['States.MathAdd($.value1, $.step)', { value1: 111, step: -1 }, 110],
  ['States.StringSplit($.inputString, $.splitter)', { inputString: '1,2,3,4,5', splitter: ',' }, ['1', '2', '3', '4', '5']],
  ['States.StringSplit($.inputString, $.splitter)', { inputString: 'This.is+a,test=string', splitter: '.+,=' }, ['This', 'is', 'a', 'test', 'string']],
  ['States.UUID()', {}, '00000000-0000-4000-8000-000000000000'],
  ['States.ArrayLength(States.Array(1, 2, 3))', {}, 3],
];

describe('intrinsic functions', () => {
  it.each(cases)('%s', (expression, input, expected) => {
    const context = { Execution: { Input: { date: '2026-12-03' } } };
    expect(evaluateIntrinsic(expression, { input, context, uuid: () => '00000000-0000-4000-8000-000000000000' })).toEqual(expected);
  });

  it('States.MathRandom returns an integer from start (inclusive) to end (exclusive), the same for a seed', () => {
    for (let i = 0; i < 50; i++) {
      const value = evaluateIntrinsic('States.MathRandom(1, 999)', { input: {}, context: null }) as number;
      expect(Number.isInteger(value) && value >= 1 && value < 999).toBe(true);
    }
    const a = evaluateIntrinsic('States.MathRandom(1, 999, 7)', { input: {}, context: null });
    expect(evaluateIntrinsic('States.MathRandom(1, 999, 7)', { input: {}, context: null })).toBe(a);
  });

  it.each([
    ["States.Format('{} and {}', 'one')"],
    ["States.ArrayGetItem(States.Array(1), 3)"],
    ["States.StringToJson('not json')"],
    ['States.JsonMerge($.a, $.b, true)'],
    ['States.Nope(1)'],
  ])('%s fails with States.IntrinsicFailure', (expression) => {
    try {
      evaluateIntrinsic(expression, { input: { a: {}, b: {} }, context: null });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StatesError);
      expect((error as StatesError).error).toBe('States.IntrinsicFailure');
    }
  });

  it('a path that selects nothing fails with States.Runtime', () => {
    expect(() => evaluateIntrinsic('States.ArrayLength($.missing)', { input: {}, context: null })).toThrow(/could not be found/);
  });
});
