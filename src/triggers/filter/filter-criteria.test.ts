import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSluiceError, type SluiceError } from '../../model/errors.js';
import {
  compileFilterCriteria,
  filterCriteriaLimits,
  parseFilterCriteria,
  sqsBodyView,
  type FilterSource,
} from './filter-criteria.js';

function criteriaOf(...patterns: unknown[]): unknown {
  return { Filters: patterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) };
}

function matcherOf(patterns: unknown[], source: FilterSource = 'generic'): (record: object) => boolean {
  return compileFilterCriteria(parseFilterCriteria(criteriaOf(...patterns), { source }), { source });
}

function matches(pattern: unknown, record: object, source: FilterSource = 'generic'): boolean {
  return matcherOf([pattern], source)(record);
}

function rejection(
  input: unknown,
  options: { source?: FilterSource; maxFilters?: number } = {},
): SluiceError {
  try {
    parseFilterCriteria(input, options);
  } catch (error) {
    if (isSluiceError(error)) return error;
    throw error;
  }
  throw new Error('expected parseFilterCriteria to reject the input');
}

function patternRejection(pattern: unknown, source: FilterSource = 'generic'): SluiceError {
  return rejection(criteriaOf(pattern), { source });
}

describe('parseFilterCriteria', () => {
  it('returns a frozen copy of valid criteria', () => {
    const criteria = parseFilterCriteria(criteriaOf({ a: ['x'] }));
    expect(criteria).toEqual({ Filters: [{ Pattern: '{"a":["x"]}' }] });
    expect(Object.isFrozen(criteria.Filters)).toBe(true);
  });

  it('treats undefined, null, {} and an empty Filters list as no filtering', () => {
    for (const input of [undefined, null, {}, { Filters: [] }]) {
      expect(parseFilterCriteria(input).Filters).toEqual([]);
    }
  });

  it('accepts five filters, the default quota', () => {
    const five = criteriaOf(...[1, 2, 3, 4, 5].map((n) => ({ a: [n] })));
    expect(parseFilterCriteria(five).Filters).toHaveLength(filterCriteriaLimits.defaultMaxFilters);
  });

  it('rejects a sixth filter, naming FilterCriteria.Filters and the limit', () => {
    const error = rejection(criteriaOf(...[1, 2, 3, 4, 5, 6].map((n) => ({ a: [n] }))));
    expect(error.code).toBe('InvalidParameterValue');
    expect(error.field).toBe('FilterCriteria.Filters');
    expect(error.message).toMatch(/6 filters; the limit is 5/);
  });

  it('accepts more filters when maxFilters raises the quota', () => {
    const ten = criteriaOf(...Array.from({ length: 10 }, (_, n) => ({ a: [n] })));
    expect(parseFilterCriteria(ten, { maxFilters: 10 }).Filters).toHaveLength(10);
  });

  it('rejects a maxFilters option that is not a positive integer', () => {
    expect(rejection(criteriaOf({ a: [1] }), { maxFilters: 0 }).field).toBe('maxFilters');
  });

  it('rejects FilterCriteria that is not an object', () => {
    expect(rejection('{"Filters": []}').field).toBe('FilterCriteria');
    expect(rejection([]).field).toBe('FilterCriteria');
  });

  it('rejects an unknown key beside Filters', () => {
    expect(rejection({ Filters: [], Filter: [] }).field).toBe('FilterCriteria.Filter');
  });

  it('rejects Filters that is not an array', () => {
    expect(rejection({ Filters: { Pattern: '{}' } }).field).toBe('FilterCriteria.Filters');
  });

  it('rejects a filter that is not an object', () => {
    expect(rejection({ Filters: ['{"a": [1]}'] }).field).toBe('FilterCriteria.Filters[0]');
  });

  it('rejects an unknown key beside Pattern', () => {
    expect(rejection({ Filters: [{ Pattern: '{"a":[1]}', pattern: 'x' }] }).field).toBe(
      'FilterCriteria.Filters[0].pattern',
    );
  });

  it('rejects a missing Pattern, naming the filter by index', () => {
    const error = rejection({ Filters: [{ Pattern: '{"a":[1]}' }, {}] });
    expect(error.field).toBe('FilterCriteria.Filters[1].Pattern');
    expect(error.message).toMatch(/required/);
  });

  it('rejects a Pattern that is not a string', () => {
    expect(rejection({ Filters: [{ Pattern: { a: [1] } }] }).field).toBe('FilterCriteria.Filters[0].Pattern');
  });

  it('accepts a Pattern of exactly 4096 characters', () => {
    const pattern = `{"a":["${'x'.repeat(4096 - 10)}"]}`;
    expect(pattern).toHaveLength(filterCriteriaLimits.maxPatternLength);
    expect(parseFilterCriteria({ Filters: [{ Pattern: pattern }] }).Filters).toHaveLength(1);
  });

  it('rejects a Pattern longer than 4096 characters', () => {
    const pattern = `{"a":["${'x'.repeat(4096 - 9)}"]}`;
    const error = rejection({ Filters: [{ Pattern: pattern }] });
    expect(error.field).toBe('FilterCriteria.Filters[0].Pattern');
    expect(error.message).toMatch(/4097 characters; the limit is 4096/);
  });

  it('rejects a Pattern that is not valid JSON', () => {
    const error = rejection({ Filters: [{ Pattern: '{"a": [1]}' }, { Pattern: '{"a": [1' }] });
    expect(error.field).toBe('FilterCriteria.Filters[1].Pattern');
    expect(error.message).toMatch(/not valid JSON/);
  });

  it('rejects a Pattern whose JSON is not an object', () => {
    expect(patternRejection(['a']).message).toMatch(/must be a JSON object, got an array/);
    expect(patternRejection('a').message).toMatch(/must be a JSON object/);
  });

  it('rejects a field whose value is neither an array nor an object', () => {
    expect(patternRejection({ body: { status: 'done' } }).message).toMatch(
      /must be an object or an array.*at body\.status/,
    );
  });

  it('rejects an empty array of match values', () => {
    expect(patternRejection({ a: [] }).message).toMatch(/empty arrays are not allowed \(at a\)/);
  });

  it('rejects empty objects at the root and nested', () => {
    expect(patternRejection({}).message).toMatch(/empty objects are not allowed/);
    expect(patternRejection({ a: {} }).message).toMatch(/empty objects are not allowed \(at a\)/);
  });

  it('rejects an array used as a match value', () => {
    expect(patternRejection({ a: [['x']] }).message).toMatch(
      /match value must be .* got an array \(at a\[0\]\)/,
    );
  });

  it('rejects an unknown operator, naming its path', () => {
    const error = patternRejection({ body: { status: [{ regex: 'a.*' }] } });
    expect(error.field).toBe('FilterCriteria.Filters[0].Pattern');
    expect(error.message).toMatch(/unknown operator "regex".*at body\.status\[0\]\.regex/);
  });

  it('rejects wildcard and cidr as operators Lambda does not support', () => {
    expect(patternRejection({ a: [{ wildcard: '*.png' }] }).message).toMatch(
      /"wildcard" is an EventBridge operator/,
    );
    expect(patternRejection({ a: [{ cidr: '10.0.0.0/8' }] }).message).toMatch(
      /"cidr" is an EventBridge operator/,
    );
  });

  it('rejects an operator object with no operator or with two', () => {
    expect(patternRejection({ a: [{}] }).message).toMatch(/needs one operator/);
    expect(patternRejection({ a: [{ prefix: 'a', suffix: 'b' }] }).message).toMatch(/exactly one operator/);
  });

  it('rejects prefix, suffix and equals-ignore-case operands that are not strings', () => {
    expect(patternRejection({ a: [{ prefix: 1 }] }).message).toMatch(/prefix takes a string/);
    expect(patternRejection({ a: [{ suffix: null }] }).message).toMatch(/suffix takes a string/);
    expect(patternRejection({ a: [{ 'equals-ignore-case': ['x'] }] }).message).toMatch(
      /equals-ignore-case takes a string/,
    );
    expect(patternRejection({ a: [{ prefix: { 'equals-ignore-case': 1 } }] }).message).toMatch(
      /takes a string/,
    );
    expect(patternRejection({ a: [{ prefix: { other: 'x' } }] }).message).toMatch(/prefix takes a string or/);
  });

  it('rejects exists with anything but a boolean', () => {
    expect(patternRejection({ a: [{ exists: 'true' }] }).message).toMatch(/exists takes true or false/);
  });

  it('rejects malformed numeric expressions', () => {
    const cases: [unknown, RegExp][] = [
      [5, /numeric takes a non-empty array/],
      [[], /numeric takes a non-empty array/],
      [['!=', 5], /unknown numeric operator "!="/],
      [['>', '5'], /must be followed by a finite number/],
      [['>'], /must be followed by a finite number/],
      [['=', 5, '<', 9], /only > or >= may start a range/],
      [['<', 5, '>', 1], /only > or >= may start a range/],
      [['>', 0, '>', 9], /must continue with < or <=/],
      [['>', 0, '<', 9, 1], /has 4 terms, got 5/],
      [['>', 9, '<', 9], /bottom of a numeric range \(9\) must be below its top \(9\)/],
    ];
    for (const [operand, message] of cases) {
      expect(patternRejection({ a: [{ numeric: operand }] }).message).toMatch(message);
    }
  });

  it('rejects malformed anything-but expressions', () => {
    const cases: [unknown, RegExp][] = [
      [['a', 1], /all strings or all numbers/],
      [[], /needs at least one value/],
      [[true], /takes strings or finite numbers, got boolean/],
      [null, /takes strings or finite numbers, got null/],
      [{ prefix: '' }, /empty prefix or suffix is not allowed/],
      [{ prefix: 1 }, /takes a string/],
      [{ 'equals-ignore-case': [1] }, /takes strings only/],
      [{ wildcard: '*x' }, /"wildcard" is an EventBridge operator/],
      [{ numeric: ['>', 1] }, /anything-but does not take "numeric"/],
      [{ prefix: 'a', suffix: 'b' }, /anything-but takes one of/],
    ];
    for (const [operand, message] of cases) {
      expect(patternRejection({ a: [{ 'anything-but': operand }] }).message).toMatch(message);
    }
  });

  it('rejects $or that is not an array of at least two objects', () => {
    expect(patternRejection({ $or: { a: [1] } }).message).toMatch(/\$or must be an array of objects/);
    expect(patternRejection({ $or: [{ a: [1] }] }).message).toMatch(/\$or needs at least 2 objects, got 1/);
    expect(patternRejection({ $or: [{ a: [1] }, ['b']] }).message).toMatch(
      /\$or takes only objects.*at \$or\[1\]/,
    );
  });

  it('rejects an operator name used as a field name inside $or', () => {
    expect(patternRejection({ $or: [{ numeric: [1] }, { prefix: ['a'] }] }).message).toMatch(
      /"numeric" is an operator name/,
    );
  });

  it('rejects a rule list directly on the dynamodb key of a DynamoDB pattern', () => {
    const error = patternRejection({ dynamodb: [{ exists: true }] }, 'dynamodb');
    expect(error.message).toMatch(/must be a JSON object pattern \(at dynamodb\)/);
  });

  it('throws only InvalidParameterValue errors on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          parseFilterCriteria(input);
        } catch (error) {
          return isSluiceError(error, 'InvalidParameterValue');
        }
        return true;
      }),
    );
  });

  it('throws only InvalidParameterValue errors on arbitrary JSON patterns', () => {
    fc.assert(
      fc.property(
        fc.json(),
        fc.constantFrom<FilterSource>('sqs', 'dynamodb', 'generic'),
        (pattern, source) => {
          try {
            parseFilterCriteria({ Filters: [{ Pattern: pattern }] }, { source });
          } catch (error) {
            return isSluiceError(error, 'InvalidParameterValue');
          }
          return true;
        },
      ),
    );
  });
});

describe('compileFilterCriteria', () => {
  it('matches every record when there are no filters', () => {
    const matcher = compileFilterCriteria(parseFilterCriteria(undefined));
    expect(matcher({ anything: 1 })).toBe(true);
  });

  it('matches a record when any one of several filters matches', () => {
    const matcher = matcherOf([{ a: ['x'] }, { b: ['y'] }]);
    expect(matcher({ a: 'no', b: 'y' })).toBe(true);
    expect(matcher({ a: 'no', b: 'no' })).toBe(false);
  });

  it('re-validates criteria it is given directly', () => {
    expect(() => compileFilterCriteria({ Filters: [{ Pattern: '{"a": "x"}' }] })).toThrow(
      /FilterCriteria\.Filters\[0\]\.Pattern/,
    );
  });

  it('never throws on arbitrary records', () => {
    const matcher = matcherOf(
      [
        { a: { b: [{ prefix: 'x' }, { numeric: ['>', 1] }, { 'anything-but': 'z' }] } },
        { $or: [{ a: [{ exists: false }] }, { c: [null, true] }] },
      ],
      'sqs',
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'body'), fc.anything()), (record) => {
        expect(typeof matcher(record)).toBe('boolean');
      }),
    );
  });
});

describe('exact values', () => {
  it('matches a string exactly and case-sensitively', () => {
    expect(matches({ name: ['Alice'] }, { name: 'Alice' })).toBe(true);
    expect(matches({ name: ['Alice'] }, { name: 'alice' })).toBe(false);
  });

  it('matches an empty string only against an empty string', () => {
    expect(matches({ name: [''] }, { name: '' })).toBe(true);
    expect(matches({ name: [''] }, {})).toBe(false);
  });

  it('matches a number only against a number, not its string form', () => {
    expect(matches({ price: [100] }, { price: 100 })).toBe(true);
    expect(matches({ price: [100] }, { price: '100' })).toBe(false);
    expect(matches({ price: ['100'] }, { price: 100 })).toBe(false);
  });

  it('matches booleans only against booleans', () => {
    expect(matches({ ok: [true] }, { ok: true })).toBe(true);
    expect(matches({ ok: [true] }, { ok: 'true' })).toBe(false);
    expect(matches({ ok: [false] }, { ok: true })).toBe(false);
  });

  it('matches null against a null value but not against a missing field', () => {
    expect(matches({ userId: [null] }, { userId: null })).toBe(true);
    expect(matches({ userId: [null] }, {})).toBe(false);
  });

  it('matches when the value is any one of the listed values', () => {
    expect(matches({ payment: ['Credit', 'Debit'] }, { payment: 'Debit' })).toBe(true);
    expect(matches({ payment: ['Credit', 'Debit'] }, { payment: 'Cash' })).toBe(false);
  });

  it('requires every field of the pattern to match', () => {
    const pattern = { location: ['New York'], day: ['Monday'] };
    expect(matches(pattern, { location: 'New York', day: 'Monday' })).toBe(true);
    expect(matches(pattern, { location: 'New York', day: 'Friday' })).toBe(false);
  });

  it('does not match when a field named in the pattern is missing', () => {
    expect(matches({ a: ['x'], b: ['y'] }, { a: 'x' })).toBe(false);
  });

  it('ignores record fields the pattern does not name', () => {
    expect(matches({ a: ['x'] }, { a: 'x', other: { deep: [1, 2] } })).toBe(true);
  });

  it('matches nested objects field by field', () => {
    const pattern = { detail: { state: ['running'], owner: { team: ['core'] } } };
    expect(matches(pattern, { detail: { state: 'running', owner: { team: 'core' } } })).toBe(true);
    expect(matches(pattern, { detail: { state: 'running', owner: { team: 'web' } } })).toBe(false);
    expect(matches(pattern, { detail: 'running' })).toBe(false);
  });

  it('does not see inherited properties as fields', () => {
    expect(matches({ constructor: [{ exists: true }] }, {})).toBe(false);
    expect(matches({ toString: [{ exists: false }] }, {})).toBe(true);
  });

  it('keeps only the last of duplicate keys in a pattern', () => {
    const criteria = { Filters: [{ Pattern: '{"a": ["hello"], "a": ["world"]}' }] };
    const matcher = compileFilterCriteria(parseFilterCriteria(criteria));
    expect(matcher({ a: 'world' })).toBe(true);
    expect(matcher({ a: 'hello' })).toBe(false);
  });
});

describe('string operators', () => {
  it('prefix matches strings that begin with the operand', () => {
    expect(matches({ region: [{ prefix: 'us-' }] }, { region: 'us-east-1' })).toBe(true);
    expect(matches({ region: [{ prefix: 'us-' }] }, { region: 'eu-west-1' })).toBe(false);
  });

  it('prefix does not match numbers', () => {
    expect(matches({ code: [{ prefix: '4' }] }, { code: 404 })).toBe(false);
  });

  it('prefix with equals-ignore-case ignores case', () => {
    expect(
      matches({ service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, { service: 'EventBridge' }),
    ).toBe(true);
  });

  it('suffix matches strings that end with the operand', () => {
    expect(matches({ file: [{ suffix: '.png' }] }, { file: 'cat.png' })).toBe(true);
    expect(matches({ file: [{ suffix: '.png' }] }, { file: 'cat.PNG' })).toBe(false);
  });

  it('suffix with equals-ignore-case ignores case', () => {
    expect(matches({ file: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { file: 'cat.PNG' })).toBe(true);
  });

  it('equals-ignore-case matches the whole string in any case', () => {
    expect(matches({ name: [{ 'equals-ignore-case': 'alice' }] }, { name: 'ALICE' })).toBe(true);
    expect(matches({ name: [{ 'equals-ignore-case': 'alice' }] }, { name: 'alicia' })).toBe(false);
  });
});

describe('anything-but', () => {
  it('matches any value outside the list', () => {
    const pattern = { weather: [{ 'anything-but': ['Raining', 'Snowing'] }] };
    expect(matches(pattern, { weather: 'Sunny' })).toBe(true);
    expect(matches(pattern, { weather: 'Raining' })).toBe(false);
  });

  it('accepts a single value instead of a list', () => {
    expect(matches({ state: [{ 'anything-but': 'initializing' }] }, { state: 'initializing' })).toBe(false);
    expect(matches({ state: [{ 'anything-but': 'initializing' }] }, { state: 'running' })).toBe(true);
  });

  it('excludes numbers by value', () => {
    const pattern = { limit: [{ 'anything-but': [100, 200] }] };
    expect(matches(pattern, { limit: 200 })).toBe(false);
    expect(matches(pattern, { limit: 300 })).toBe(true);
  });

  it('matches null and values of other types', () => {
    const pattern = { command: [{ 'anything-but': ['no-message'] }] };
    expect(matches(pattern, { command: null })).toBe(true);
    expect(matches(pattern, { command: 7 })).toBe(true);
  });

  it('does not match a missing field', () => {
    expect(matches({ command: [{ 'anything-but': ['x'] }] }, {})).toBe(false);
  });

  it('with prefix excludes strings that begin with it', () => {
    const pattern = { region: [{ 'anything-but': { prefix: 'us-' } }] };
    expect(matches(pattern, { region: 'us-east-1' })).toBe(false);
    expect(matches(pattern, { region: 'eu-west-1' })).toBe(true);
  });

  it('with suffix excludes strings that end with it', () => {
    const pattern = { file: [{ 'anything-but': { suffix: '.png' } }] };
    expect(matches(pattern, { file: 'a.png' })).toBe(false);
    expect(matches(pattern, { file: 'a.jpg' })).toBe(true);
  });

  it('with equals-ignore-case excludes strings in any case', () => {
    const pattern = { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] };
    expect(matches(pattern, { state: 'STOPPED' })).toBe(false);
    expect(matches(pattern, { state: 'running' })).toBe(true);
  });

  it('is the complement of an exact match on present string fields', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (excluded, value) => {
        const exact = matches({ a: [excluded] }, { a: value });
        const anythingBut = matches({ a: [{ 'anything-but': [excluded] }] }, { a: value });
        return exact !== anythingBut;
      }),
    );
  });
});

describe('numeric', () => {
  it('matches equality', () => {
    expect(matches({ price: [{ numeric: ['=', 100] }] }, { price: 100 })).toBe(true);
    expect(matches({ price: [{ numeric: ['=', 100] }] }, { price: 101 })).toBe(false);
  });

  it('matches each single comparison', () => {
    expect(matches({ n: [{ numeric: ['>', 5] }] }, { n: 5 })).toBe(false);
    expect(matches({ n: [{ numeric: ['>=', 5] }] }, { n: 5 })).toBe(true);
    expect(matches({ n: [{ numeric: ['<', 5] }] }, { n: 5 })).toBe(false);
    expect(matches({ n: [{ numeric: ['<=', 5] }] }, { n: 5 })).toBe(true);
    expect(matches({ n: [{ numeric: ['<', 5] }] }, { n: -1.5 })).toBe(true);
  });

  it('honours open and closed bounds of a range', () => {
    const pattern = { n: [{ numeric: ['>', 0, '<=', 5] }] };
    expect([0, 0.001, 5, 5.001].map((n) => matches(pattern, { n }))).toEqual([false, true, true, false]);
    const closedOpen = { n: [{ numeric: ['>=', 0, '<', 5] }] };
    expect([0, 5].map((n) => matches(closedOpen, { n }))).toEqual([true, false]);
  });

  it('agrees with plain comparison on any number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.integer(), fc.integer(), (n, x, y) => {
        const low = Math.min(x, y);
        const high = Math.max(x, y) + 1;
        const pattern = { n: [{ numeric: ['>=', low, '<', high] }] };
        return matches(pattern, { n }) === (n >= low && n < high);
      }),
    );
  });

  it('matches only JSON numbers, not numeric strings', () => {
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: '10' })).toBe(false);
  });
});

describe('exists', () => {
  it('exists true matches any present leaf value, null included', () => {
    expect(matches({ name: [{ exists: true }] }, { name: 'x' })).toBe(true);
    expect(matches({ name: [{ exists: true }] }, { name: null })).toBe(true);
    expect(matches({ name: [{ exists: true }] }, {})).toBe(false);
  });

  it('exists true does not match an object, which is not a leaf', () => {
    expect(matches({ detail: [{ exists: true }] }, { detail: { a: 1 } })).toBe(false);
  });

  it('exists false matches a missing field', () => {
    expect(matches({ name: [{ exists: false }] }, {})).toBe(true);
    expect(matches({ name: [{ exists: false }] }, { name: 'x' })).toBe(false);
    expect(matches({ name: [{ exists: false }] }, { name: null })).toBe(false);
  });

  it('exists false matches an object, an empty array and a missing parent', () => {
    const pattern = { detail: { count: [{ exists: false }] } };
    expect(matches(pattern, { detail: { count: { c1: 100 } } })).toBe(true);
    expect(matches(pattern, { detail: { count: [] } })).toBe(true);
    expect(matches(pattern, {})).toBe(true);
    expect(matches(pattern, { detail: 'scalar' })).toBe(true);
  });

  it('combines with other rules of the same field as an alternative', () => {
    const pattern = { a: ['x', { exists: false }] };
    expect([{ a: 'x' }, {}, { a: 'y' }].map((record) => matches(pattern, record))).toEqual([
      true,
      true,
      false,
    ]);
  });
});

describe('arrays in records', () => {
  it('matches when any element of an array matches', () => {
    expect(matches({ tags: ['b'] }, { tags: ['a', 'b', 'c'] })).toBe(true);
    expect(matches({ tags: ['z'] }, { tags: ['a', 'b', 'c'] })).toBe(false);
  });

  it('crushes nested arrays', () => {
    expect(matches({ tags: [{ prefix: 'de' }] }, { tags: [['abc'], [['def']]] })).toBe(true);
  });

  it('treats an empty array as holding no value', () => {
    expect(matches({ tags: ['a'] }, { tags: [] })).toBe(false);
    expect(matches({ tags: [{ exists: true }] }, { tags: [] })).toBe(false);
    expect(matches({ tags: [{ exists: false }] }, { tags: [] })).toBe(true);
  });

  it('matches a nested pattern against objects inside an array', () => {
    const record = {
      employees: [
        { first: 'John', last: 'Doe' },
        { first: 'Anna', last: 'Smith' },
      ],
    };
    expect(matches({ employees: { first: ['Anna'] } }, record)).toBe(true);
  });

  it('does not combine fields from different elements of one array', () => {
    const record = {
      employees: [
        { first: 'Anna', last: 'Smith' },
        { first: 'Peter', last: 'Jones' },
      ],
    };
    expect(matches({ employees: { first: ['Anna'], last: ['Jones'] } }, record)).toBe(false);
    expect(matches({ employees: { first: ['Anna'], last: ['Smith'] } }, record)).toBe(true);
  });

  it('matches objects inside nested arrays', () => {
    const record = { employees: [[{ first: 'John' }], [{ first: 'Peter' }]] };
    expect(matches({ employees: { first: ['Peter'] } }, record)).toBe(true);
  });
});

describe('$or', () => {
  it('matches when any branch matches at the root', () => {
    const pattern = { $or: [{ location: ['New York'] }, { day: ['Monday'] }] };
    expect(matches(pattern, { location: 'Paris', day: 'Monday' })).toBe(true);
    expect(matches(pattern, { location: 'Paris', day: 'Friday' })).toBe(false);
  });

  it('is and-ed with the fields beside it', () => {
    const pattern = { source: ['aws.cloudwatch'], $or: [{ metric: ['CPU'] }, { namespace: ['AWS/EC2'] }] };
    expect(matches(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' })).toBe(true);
    expect(matches(pattern, { source: 'other', namespace: 'AWS/EC2' })).toBe(false);
  });

  it('works inside a nested object', () => {
    const pattern = { detail: { $or: [{ a: [1] }, { b: [2] }] } };
    expect(matches(pattern, { detail: { b: 2 } })).toBe(true);
    expect(matches(pattern, { detail: { a: 2 } })).toBe(false);
  });

  it('nests, with and-ed fields inside a branch', () => {
    const pattern = {
      $or: [{ name: ['CPU'] }, { type: ['Metric'], $or: [{ id: [1] }, { space: [2] }] }],
    };
    expect(matches(pattern, { type: 'Metric', space: 2 })).toBe(true);
    expect(matches(pattern, { type: 'Metric', space: 3 })).toBe(false);
  });

  it('evaluates each branch against the same array element', () => {
    const pattern = { items: { kind: ['a'], $or: [{ size: [1] }, { colour: ['red'] }] } };
    expect(
      matches(pattern, {
        items: [
          { kind: 'a', size: 2 },
          { kind: 'b', colour: 'red' },
        ],
      }),
    ).toBe(false);
    expect(matches(pattern, { items: [{ kind: 'b' }, { kind: 'a', colour: 'red' }] })).toBe(true);
  });
});

function sqsRecord(body: string, overrides: Partial<SQSRecord> = {}): SQSRecord {
  return {
    messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
    receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1545082649183',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1545082649185',
    },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-west-2:123456789012:my-queue',
    awsRegion: 'us-west-2',
    ...overrides,
  };
}

describe('SQS records', () => {
  const jsonBody = JSON.stringify({ RecordNumber: 1234, RequestCode: 'AAAA' });

  it('matches an object pattern on body against the parsed JSON body', () => {
    expect(matches({ body: { RequestCode: ['AAAA'] } }, sqsRecord(jsonBody), 'sqs')).toBe(true);
    expect(matches({ body: { RequestCode: ['BBBB'] } }, sqsRecord(jsonBody), 'sqs')).toBe(false);
    expect(matches({ body: { RecordNumber: [{ numeric: ['>', 999] }] } }, sqsRecord(jsonBody), 'sqs')).toBe(
      true,
    );
  });

  it('drops a plain-text body when the body pattern is an object', () => {
    expect(matches({ body: { RequestCode: [{ exists: false }] } }, sqsRecord('hello'), 'sqs')).toBe(false);
  });

  it('matches a rule list on body against a plain-text body', () => {
    expect(matches({ body: [{ prefix: 'Result: ' }] }, sqsRecord('Result: ok'), 'sqs')).toBe(true);
    expect(matches({ body: [{ prefix: 'Result: ' }] }, sqsRecord('Error: no'), 'sqs')).toBe(false);
  });

  it('drops a JSON body when the body pattern is a rule list', () => {
    expect(matches({ body: [jsonBody] }, sqsRecord(jsonBody), 'sqs')).toBe(false);
    expect(matches({ body: [{ exists: true }] }, sqsRecord(jsonBody), 'sqs')).toBe(false);
  });

  it('skips the body check when the pattern does not name body', () => {
    const pattern = { attributes: { ApproximateReceiveCount: ['1'] } };
    expect(matches(pattern, sqsRecord('plain text'), 'sqs')).toBe(true);
    expect(matches(pattern, sqsRecord(jsonBody), 'sqs')).toBe(true);
  });

  it('matches message attributes as plain record fields', () => {
    const record = sqsRecord('x', {
      messageAttributes: {
        kind: { stringValue: 'order', dataType: 'String', stringListValues: [], binaryListValues: [] },
      },
    });
    expect(matches({ messageAttributes: { kind: { stringValue: ['order'] } } }, record, 'sqs')).toBe(true);
  });

  it('treats a JSON scalar body as plain text', () => {
    expect(matches({ body: ['42'] }, sqsRecord('42'), 'sqs')).toBe(true);
    expect(sqsBodyView('"quoted"')).toEqual({ json: false, value: '"quoted"' });
  });

  it('treats a body that only looks like JSON as plain text', () => {
    expect(matches({ body: [{ prefix: '{' }] }, sqsRecord('{not json'), 'sqs')).toBe(true);
  });

  it('matches a JSON array body element by element', () => {
    const body = JSON.stringify([{ id: 1 }, { id: 2 }]);
    expect(matches({ body: { id: [2] } }, sqsRecord(body), 'sqs')).toBe(true);
  });

  it('applies the body rule per branch of a root $or', () => {
    const pattern = { $or: [{ body: { RequestCode: ['AAAA'] } }, { body: [{ prefix: 'Result' }] }] };
    const matcher = matcherOf([pattern], 'sqs');
    expect(matcher(sqsRecord(jsonBody))).toBe(true);
    expect(matcher(sqsRecord('Result: ok'))).toBe(true);
    expect(matcher(sqsRecord('Other'))).toBe(false);
  });

  it('parses the body only under the sqs source', () => {
    expect(matches({ body: { RequestCode: ['AAAA'] } }, sqsRecord(jsonBody), 'generic')).toBe(false);
  });

  it('uses one parse of the body for several filters', () => {
    const matcher = matcherOf(
      [{ body: { RequestCode: ['BBBB'] } }, { body: { RecordNumber: [1234] } }],
      'sqs',
    );
    expect(matcher(sqsRecord(jsonBody))).toBe(true);
  });
});

function streamRecord(overrides: Partial<DynamoDBRecord> = {}): DynamoDBRecord {
  return {
    eventID: '1',
    eventName: 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1700000000,
      Keys: { Id: { N: '101' } },
      NewImage: { Id: { N: '101' }, status: { S: 'done' }, active: { BOOL: true } },
      OldImage: { Id: { N: '101' }, status: { S: 'pending' }, active: { BOOL: true } },
      SequenceNumber: '111',
      SizeBytes: 26,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...overrides,
  };
}

describe('DynamoDB stream records', () => {
  it('matches a NewImage attribute through its AttributeValue type key', () => {
    expect(matches({ dynamodb: { NewImage: { status: { S: ['done'] } } } }, streamRecord(), 'dynamodb')).toBe(
      true,
    );
    expect(matches({ dynamodb: { NewImage: { status: { S: ['open'] } } } }, streamRecord(), 'dynamodb')).toBe(
      false,
    );
  });

  it('matches eventName with a key whose number is a string', () => {
    const pattern = { eventName: ['MODIFY'], dynamodb: { Keys: { Id: { N: ['101'] } } } };
    expect(matches(pattern, streamRecord(), 'dynamodb')).toBe(true);
  });

  it('does not apply numeric operators to N values, which are strings', () => {
    expect(
      matches({ dynamodb: { Keys: { Id: { N: [{ numeric: ['>', 100] }] } } } }, streamRecord(), 'dynamodb'),
    ).toBe(false);
  });

  it('matches BOOL values as booleans', () => {
    expect(
      matches({ dynamodb: { NewImage: { active: { BOOL: [true] } } } }, streamRecord(), 'dynamodb'),
    ).toBe(true);
  });

  it('selects a change of status with anything-but on the old image', () => {
    const pattern = {
      eventName: ['MODIFY'],
      dynamodb: {
        NewImage: { status: { S: ['done'] } },
        OldImage: { status: { S: [{ 'anything-but': ['done'] }] } },
      },
    };
    expect(matches(pattern, streamRecord(), 'dynamodb')).toBe(true);
  });

  it('recognises an insert by the absent old image', () => {
    const pattern = { dynamodb: { OldImage: { Id: { N: [{ exists: false }] } } } };
    const insert = streamRecord({
      eventName: 'INSERT',
      dynamodb: {
        Keys: { Id: { N: '7' } },
        NewImage: { Id: { N: '7' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(matches(pattern, insert, 'dynamodb')).toBe(true);
    expect(matches(pattern, streamRecord(), 'dynamodb')).toBe(false);
  });
});
