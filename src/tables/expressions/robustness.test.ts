/**
 * Properties over arbitrary input: compiling any string as any expression kind either succeeds or
 * throws a SluiceError ValidationException, and whatever compiles evaluates or applies without throwing
 * anything else. Inputs mix random text with shuffled grammar tokens, so most runs get past the lexer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../model/errors.js';
import { conditionFromScope } from './condition.js';
import type { Item } from './index.js';
import { keyConditionFromScope, matchesKeyCondition } from './key-condition.js';
import { Substitutions } from './parser.js';
import { projectionFromScope } from './projection.js';
import { updateFromScope } from './update.js';

const names = { '#a': 'a', '#b': 'status', '#p': '__proto__' };
const values = {
  ':v': 1,
  ':s': 'x',
  ':l': [1, 'x'],
  ':m': { a: 1 },
  ':set': new Set(['x']),
  ':ns': new Set([1]),
  ':z': null,
  ':t': 'S',
};

const items: (Item | undefined)[] = [
  undefined,
  {},
  {
    a: 1,
    b: 'x',
    c: [1, { a: 2 }],
    d: { a: [1, 2], b: 'y' },
    e: new Set(['x', 'y']),
    f: new Set([1, 2]),
    g: null,
    h: true,
  },
  { a: 'x', b: [1], c: { a: 'x' }, d: [[1]], s: Uint8Array.of(1, 2) },
];

const grammar = [
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  'g',
  'h',
  's',
  'status',
  '#a',
  '#b',
  '#p',
  '#nope',
  ':v',
  ':s',
  ':l',
  ':m',
  ':set',
  ':ns',
  ':z',
  ':nope',
  'AND',
  'OR',
  'NOT',
  'BETWEEN',
  'IN',
  'SET',
  'REMOVE',
  'ADD',
  'DELETE',
  'and',
  'set',
  '(',
  ')',
  '[',
  ']',
  '0',
  '1',
  '7',
  ',',
  '.',
  '=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
  'if_not_exists',
  'list_append',
  'f',
  '_',
  '$',
  '"',
  '#',
  ':',
  '\u00e9',
  '\u{1F600}',
];

const soup = fc
  .tuple(fc.array(fc.constantFrom(...grammar), { maxLength: 24 }), fc.constantFrom(' ', ''))
  .map(([tokens, separator]) => tokens.join(separator));

const anyText = fc.oneof(
  soup,
  soup,
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** Well-formed expressions over arbitrary paths and values, so evaluation itself gets exercised. */
const pathText = fc
  .tuple(
    fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 's', '#a', '#p'),
    fc.array(
      fc.oneof(
        fc.constantFrom('.a', '.b'),
        fc.integer({ min: 0, max: 3 }).map((i) => `[${i}]`),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([head, tail]) => head + tail.join(''));
const valueText = fc.constantFrom(':v', ':s', ':l', ':m', ':set', ':ns', ':z');
const operandText = fc.oneof(
  pathText,
  valueText,
  pathText.map((path) => `size(${path})`),
);

const { condition: conditionText } = fc.letrec<{ condition: string; leaf: string }>((tie) => ({
  leaf: fc.oneof(
    fc
      .tuple(operandText, fc.constantFrom('=', '<>', '<', '<=', '>', '>='), operandText)
      .map((parts) => parts.join(' ')),
    fc.tuple(operandText, operandText, operandText).map(([x, lo, hi]) => `${x} BETWEEN ${lo} AND ${hi}`),
    fc
      .tuple(operandText, fc.array(operandText, { minLength: 1, maxLength: 3 }))
      .map(([x, list]) => `${x} IN (${list.join(', ')})`),
    fc
      .tuple(fc.constantFrom('attribute_exists', 'attribute_not_exists'), pathText)
      .map(([fn, path]) => `${fn}(${path})`),
    fc
      .tuple(fc.constantFrom('begins_with', 'contains'), pathText, operandText)
      .map(([fn, path, x]) => `${fn}(${path}, ${x})`),
    pathText.map((path) => `attribute_type(${path}, :t)`),
  ),
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc
      .tuple(tie('condition'), fc.constantFrom('AND', 'OR'), tie('condition'))
      .map(([x, op, y]) => `(${x}) ${op} (${y})`),
    tie('condition').map((x) => `NOT (${x})`),
  ),
}));

const updateOperandText = fc.oneof(
  pathText,
  valueText,
  fc.tuple(pathText, valueText).map(([path, value]) => `if_not_exists(${path}, ${value})`),
  fc
    .tuple(fc.oneof(pathText, valueText), fc.oneof(pathText, valueText))
    .map(([x, y]) => `list_append(${x}, ${y})`),
);
const setActionText = fc
  .tuple(pathText, updateOperandText, fc.option(fc.tuple(fc.constantFrom('+', '-'), updateOperandText)))
  .map(([path, x, rest]) => `${path} = ${x}${rest === null ? '' : ` ${rest[0]} ${rest[1]}`}`);
const updateText = fc
  .record({
    set: fc.array(setActionText, { maxLength: 3 }),
    remove: fc.array(pathText, { maxLength: 2 }),
    add: fc.array(
      fc.tuple(pathText, valueText).map((pair) => pair.join(' ')),
      { maxLength: 2 },
    ),
    delete: fc.array(
      fc.tuple(pathText, valueText).map((pair) => pair.join(' ')),
      { maxLength: 2 },
    ),
  })
  .map((clauses) =>
    Object.entries(clauses)
      .filter(([, actions]) => actions.length > 0)
      .map(([clause, actions]) => `${clause.toUpperCase()} ${actions.join(', ')}`)
      .join(' '),
  );

function onlyValidationErrors(run: () => void): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof SluiceError) || error.code !== 'ValidationException') throw error;
  }
}

const scope = (): Substitutions => new Substitutions(names, values);

describe('robustness on arbitrary input', () => {
  it('any text compiled as a condition throws nothing but a ValidationException, and what compiles evaluates', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyValidationErrors(() => {
          const compiled = conditionFromScope('ConditionExpression', text, scope());
          for (const item of items) expect(typeof compiled.evaluate(item)).toBe('boolean');
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('any text compiled as an update throws nothing but a ValidationException, in compilation or application', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyValidationErrors(() => {
          const compiled = updateFromScope(text, scope());
          for (const item of items) onlyValidationErrors(() => compiled.apply(item));
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('any text compiled as a key condition or a projection throws nothing but a ValidationException', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyValidationErrors(() => {
          const keyCondition = keyConditionFromScope(text, scope(), { partitionKey: 'a', sortKey: 'b' });
          for (const item of items) if (item !== undefined) matchesKeyCondition(keyCondition, item);
        });
        onlyValidationErrors(() => {
          const projection = projectionFromScope(text, scope());
          for (const item of items) if (item !== undefined) projection.project(item);
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('well-formed conditions over arbitrary paths and values evaluate to a boolean or fail validation', () => {
    fc.assert(
      fc.property(conditionText, (text) => {
        onlyValidationErrors(() => {
          const compiled = conditionFromScope('FilterExpression', text, scope());
          for (const item of items) expect(typeof compiled.evaluate(item)).toBe('boolean');
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('well-formed updates over arbitrary paths and values apply or fail validation', () => {
    fc.assert(
      fc.property(
        updateText.filter((text) => text.length > 0),
        (text) => {
          onlyValidationErrors(() => {
            const compiled = updateFromScope(text, scope());
            for (const item of items) onlyValidationErrors(() => compiled.apply(item));
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('applying any compiled update never changes the input item', () => {
    fc.assert(
      fc.property(fc.oneof(soup, updateText), (text) => {
        const item = items[2] as Item;
        const before = JSON.stringify(item, (_key, value: unknown) =>
          value instanceof Set ? [...value] : value,
        );
        onlyValidationErrors(() => {
          const compiled = updateFromScope(text, scope());
          compiled.apply(item);
        });
        expect(
          JSON.stringify(item, (_key, value: unknown) => (value instanceof Set ? [...value] : value)),
        ).toBe(before);
      }),
      { numRuns: 2000 },
    );
  });
});
