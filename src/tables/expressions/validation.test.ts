import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../model/errors.js';
import type { ExpressionAttributeNames, ExpressionAttributeValues, ExpressionRequest } from './index.js';
import {
  compileCondition,
  compileExpressions,
  compileProjection,
  compileUpdate,
  isReservedWord,
} from './index.js';

/** The ValidationException message a compilation raises. */
function rejection(compile: () => unknown): string {
  try {
    compile();
  } catch (error) {
    if (isSluiceError(error, 'ValidationException')) return error.message;
    throw error;
  }
  throw new Error('expected a ValidationException');
}

const condition = (
  expression: string,
  values?: ExpressionAttributeValues,
  names?: ExpressionAttributeNames,
): string => rejection(() => compileCondition(expression, names, values));
const update = (
  expression: string,
  values?: ExpressionAttributeValues,
  names?: ExpressionAttributeNames,
): string => rejection(() => compileUpdate(expression, names, values));
const request = (input: ExpressionRequest): string => rejection(() => compileExpressions(input));

describe('syntax errors', () => {
  it('a syntax error names the expression, the token and the text around it', () => {
    expect(condition('a AND AND b')).toBe(
      'Invalid ConditionExpression: Syntax error; token: "AND", near: "a AND AND"',
    );
  });

  it('a character outside the grammar is reported as the token', () => {
    expect(condition('a-b')).toBe('Invalid ConditionExpression: Syntax error; token: "-", near: "a-b"');
    expect(update('SET _123 = :v', { ':v': 1 })).toBe(
      'Invalid UpdateExpression: Syntax error; token: "_", near: "SET _123"',
    );
  });

  it('an expression that ends too early reports <EOF> after the last token', () => {
    expect(condition('attribute_exists(car_id) AND NOT #h', undefined, { '#h': 'h' })).toBe(
      'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "#h"',
    );
  });

  it('empty function arguments are a syntax error at the closing parenthesis', () => {
    expect(condition('contains()')).toBe('Invalid ConditionExpression: Syntax error; token: ")", near: "()"');
  });

  it('a :value cannot be assigned to and an index must be a literal number', () => {
    expect(update('SET :a = :b', { ':a': 1, ':b': 2 })).toMatch(
      /^Invalid UpdateExpression: Syntax error; token: ":a"/,
    );
    expect(update('SET a[:i] = :b', { ':i': 1, ':b': 2 })).toMatch(
      /^Invalid UpdateExpression: Syntax error; token: ":i"/,
    );
  });

  it('an update must start with a clause keyword and adds exactly two operands', () => {
    expect(update('HELLO b = :v', { ':v': 1 })).toMatch(/Syntax error; token: "HELLO"/);
    expect(update('SET b = :a + :b + :c', { ':a': 1, ':b': 1, ':c': 1 })).toMatch(
      /Syntax error; token: "\+"/,
    );
    expect(update('SET c = if_not_exists(c, :a + :b)', { ':a': 1, ':b': 1 })).toMatch(
      /Syntax error; token: "\+"/,
    );
  });

  it('a clause keyword cannot be used as a bare attribute name in an update', () => {
    expect(update('SET a = remove')).toMatch(/Syntax error; token: "remove"/);
  });

  it('a syntax error is reported before an undefined placeholder earlier in the text', () => {
    expect(condition('#missing = :v AND')).toMatch(/Syntax error; token: "<EOF>"/);
  });
});

describe('expression text limits', () => {
  it('an empty expression is rejected', () => {
    expect(condition('')).toBe('Invalid ConditionExpression: The expression can not be empty;');
    expect(update('')).toBe('Invalid UpdateExpression: The expression can not be empty;');
  });

  it('an expression of 4096 UTF-8 bytes is accepted and one of 4097 is rejected with its size', () => {
    const padded = (bytes: number): string => `a = :v${' '.repeat(bytes - 6)}`;
    expect(compileCondition(padded(4096), undefined, { ':v': 1 }).evaluate({ a: 1 })).toBe(true);
    expect(condition(padded(4097), { ':v': 1 })).toBe(
      'Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097',
    );
  });

  it('the size limit counts UTF-8 bytes, not characters', () => {
    const name = 'é'.repeat(2047); // 4094 bytes
    expect(rejection(() => compileProjection(`#n,${name}`, { '#n': 'x' }))).toMatch(/expression size: 4097$/);
  });

  it('more than 300 operators are rejected', () => {
    const clauses = Array.from({ length: 151 }, () => 'a = :v').join(' AND ');
    expect(condition(clauses, { ':v': 1 })).toBe(
      'Invalid ConditionExpression: The expression contains too many operators; operator count: 301',
    );
  });

  it('deep nesting is rejected before it can exhaust the stack', () => {
    expect(condition(`${'('.repeat(500)}a = :v${')'.repeat(500)}`, { ':v': 1 })).toMatch(/nested too deeply/);
    expect(condition(`${'NOT '.repeat(500)}a = :v`, { ':v': 1 })).toMatch(/nested too deeply/);
  });

  it('a document path deeper than 32 levels is rejected', () => {
    const path = Array.from({ length: 33 }, (_, i) => `p${i}`).join('.');
    expect(condition(`attribute_exists(${path})`)).toBe(
      'Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33',
    );
  });
});

describe('placeholders', () => {
  it('an undefined #name is rejected', () => {
    expect(condition('#n = :v', { ':v': 1 })).toBe(
      'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n',
    );
  });

  it('an undefined :value is rejected', () => {
    expect(update('SET a = :v')).toBe(
      'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v',
    );
  });

  it('an unused #name is rejected', () => {
    expect(condition('a = :v', { ':v': 1 }, { '#a': 'a', '#b': 'b' })).toBe(
      'Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}',
    );
  });

  it('an unused :value is rejected', () => {
    expect(condition('a = :v', { ':v': 1, ':w': 2 })).toBe(
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}',
    );
  });

  it('placeholders are shared by the expressions of a request and each needs only one user', () => {
    const compiled = compileExpressions({
      updateExpression: 'SET #a = :v',
      conditionExpression: 'attribute_exists(#k) AND #a < :v',
      projectionExpression: '#k',
      expressionAttributeNames: { '#a': 'a', '#k': 'pk' },
      expressionAttributeValues: { ':v': 5 },
    });
    expect(compiled.condition?.evaluate({ pk: 'x', a: 1 })).toBe(true);
    expect(compiled.update?.apply({ pk: 'x', a: 1 })).toEqual({ pk: 'x', a: 5 });
    expect(compiled.projection?.project({ pk: 'x', a: 1 })).toEqual({ pk: 'x' });
  });

  it('a placeholder unused by every expression of a request is rejected', () => {
    expect(
      request({
        conditionExpression: 'a = :v',
        filterExpression: 'b = :v',
        expressionAttributeValues: { ':v': 1, ':spare': 2 },
      }),
    ).toBe('Value provided in ExpressionAttributeValues unused in expressions: keys: {:spare}');
  });

  it('a request with empty placeholder maps is rejected', () => {
    expect(request({ conditionExpression: 'attribute_exists(a)', expressionAttributeNames: {} })).toBe(
      'ExpressionAttributeNames must not be empty',
    );
    expect(request({ conditionExpression: 'attribute_exists(a)', expressionAttributeValues: {} })).toBe(
      'ExpressionAttributeValues must not be empty',
    );
  });

  it('a placeholder key must be # or : followed by letters, digits or underscores', () => {
    expect(condition('a = :v', { ':v': 1 }, { n: 'x' })).toBe(
      'ExpressionAttributeNames contains invalid key: Syntax error; key: "n"',
    );
    expect(condition('a = :v', { v: 1 })).toBe(
      'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
    );
  });

  it('a value outside the data model is rejected with its key', () => {
    expect(condition('a = :v', { ':v': Number.NaN })).toBe(
      'ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: NaN for key :v',
    );
    expect(condition('a = :v', { ':v': new Set<string>() })).toBe(
      'ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An AttributeValue may not contain an empty set. for key :v',
    );
    expect(condition('a = :v', { ':v': { when: new Date(0) } as never })).toMatch(
      /^ExpressionAttributeValues contains invalid value: .* for key :v$/,
    );
  });

  it('a request with a key condition needs the key schema', () => {
    expect(() =>
      compileExpressions({ keyConditionExpression: 'pk = :p', expressionAttributeValues: { ':p': 'x' } }),
    ).toThrow(expect.objectContaining({ code: 'MissingParameter' }));
  });
});

describe('reserved words', () => {
  it('an unescaped reserved word is rejected, in any case, at any depth of a path', () => {
    expect(condition('status = :v', { ':v': 1 })).toBe(
      'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status',
    );
    expect(update('SET a.Name = :v', { ':v': 1 })).toBe(
      'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Name',
    );
    expect(rejection(() => compileProjection('id, data'))).toBe(
      'Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: data',
    );
  });

  it('a reserved word substituted through a #name is accepted', () => {
    expect(
      compileCondition('#s = :v', { '#s': 'status' }, { ':v': 'open' }).evaluate({ status: 'open' }),
    ).toBe(true);
  });

  it('the whole reserved word list is included', () => {
    for (const word of [
      'count',
      'size',
      'timestamp',
      'user',
      'value',
      'key',
      'date',
      'time',
      'order',
      'type',
      'ttl',
      'zone',
    ]) {
      expect(isReservedWord(word)).toBe(true);
    }
    expect(isReservedWord('heartbeat')).toBe(false);
  });

  it('a reserved word is reported before an undefined placeholder', () => {
    expect(condition('#n = :v AND count = :v', { ':v': 1 })).toMatch(/reserved keyword: count$/);
  });
});

describe('condition semantics checked at compile time', () => {
  it('redundant parentheses are rejected', () => {
    expect(condition('((a = :v))', { ':v': 1 })).toBe(
      'Invalid ConditionExpression: The expression has redundant parentheses;',
    );
  });

  it('an unknown function is rejected by name', () => {
    expect(condition('dog(a) = :v', { ':v': 1 })).toBe(
      'Invalid ConditionExpression: Invalid function name; function: dog',
    );
  });

  it('function names are case-sensitive', () => {
    expect(condition('ATTRIBUTE_EXISTS(a)')).toBe(
      'Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS',
    );
  });

  it('size() alone, a boolean function in a comparison and update functions are misused functions', () => {
    const misused = (name: string): string =>
      `Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: ${name}`;
    expect(condition('size(a)')).toBe(misused('size'));
    expect(condition('attribute_exists(a) < :v', { ':v': 1 })).toBe(misused('attribute_exists'));
    expect(condition('if_not_exists(a, b) = :v', { ':v': 1 })).toBe(misused('if_not_exists'));
  });

  it('a function with the wrong number of operands is rejected', () => {
    expect(condition('begins_with(a)')).toBe(
      'Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1',
    );
  });

  it('attribute_exists requires a document path', () => {
    expect(condition('attribute_exists(:v)', { ':v': 1 })).toBe(
      'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists',
    );
  });

  it('attribute_type requires a valid type name', () => {
    expect(condition('attribute_type(a, :t)', { ':t': 'STRING' })).toBe(
      'Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: {S,N,B,BOOL,NULL,L,M,SS,NS,BS}',
    );
  });

  it('begins_with with a literal that is not a string or binary is rejected', () => {
    expect(condition('begins_with(a, :v)', { ':v': 2 })).toBe(
      'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
    );
  });

  it('contains(a, a) and a = a are rejected because the operands must be distinct', () => {
    expect(condition('contains(a, a)')).toBe(
      'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a]',
    );
    expect(condition('a.b = a.b')).toMatch(/operator: =, first operand: \[a, b\]$/);
  });

  it('an ordering comparison with a literal of an unordered type is rejected', () => {
    expect(condition('a < :v', { ':v': [1, 2] })).toBe(
      'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: L',
    );
  });

  it('BETWEEN literal bounds must share a type and be in order', () => {
    expect(condition('a BETWEEN :lo AND :hi', { ':lo': 1, ':hi': 'x' })).toBe(
      'Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}',
    );
    expect(condition('a BETWEEN :lo AND :hi', { ':lo': 5, ':hi': 1 })).toBe(
      'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}',
    );
  });

  it('IN accepts at most 100 values', () => {
    const values = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`:v${i}`, i]));
    const list = Object.keys(values).join(', ');
    expect(condition(`a IN (${list})`, values)).toMatch(/number of operands: 101$/);
  });
});

describe('update semantics checked at compile time', () => {
  it('a clause may appear only once', () => {
    expect(update('SET a = :v REMOVE b SET c = :v', { ':v': 1 })).toBe(
      'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
    );
  });

  it('two actions on overlapping paths are rejected', () => {
    expect(update('SET a = :v REMOVE a', { ':v': 1 })).toBe(
      'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]',
    );
    expect(update('SET a[1] = :v, a[1][1] = :v', { ':v': 1 })).toMatch(
      /overlap .* path one: \[a, \[1\]\], path two: \[a, \[1\], \[1\]\]$/,
    );
    expect(update('SET #x = :v, #y = :v', { ':v': 1 }, { '#x': 'a', '#y': 'a' })).toMatch(/overlap/);
  });

  it('two actions on conflicting paths are rejected', () => {
    expect(update('SET a.b = :v, a[1] = :v', { ':v': 1 })).toBe(
      'Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]',
    );
  });

  it('ADD takes a number or a set, DELETE only a set', () => {
    expect(update('ADD a :v', { ':v': 'hello' })).toBe(
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING',
    );
    expect(update('ADD a :v', { ':v': [1] })).toMatch(/operator: ADD, operand type: LIST$/);
    expect(update('DELETE a :v', { ':v': 1 })).toMatch(/operator: DELETE, operand type: NUMBER$/);
  });

  it('arithmetic and list_append on literals of the wrong type are rejected', () => {
    expect(update('SET a = :s + :n', { ':s': 'dog', ':n': 3 })).toBe(
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S',
    );
    expect(update('SET a = list_append(:l, :s)', { ':l': [1], ':s': 'hi' })).toMatch(
      /operator or function: list_append, operand type: S$/,
    );
  });

  it('list_append cannot take another list_append', () => {
    expect(update('SET a = list_append(list_append(:a, :b), :c)', { ':a': [1], ':b': [2], ':c': [3] })).toBe(
      'Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: list_append',
    );
  });

  it('if_not_exists requires a document path first', () => {
    expect(update('SET b = if_not_exists(:a, :b)', { ':a': 1, ':b': 2 })).toBe(
      'Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists',
    );
  });

  it('an unknown function and a wrong operand count are rejected', () => {
    expect(update('SET a = f(b, c)')).toBe('Invalid UpdateExpression: Invalid function name; function: f');
    expect(update('SET a = list_append(:a)', { ':a': [1] })).toMatch(
      /operator or function: list_append, number of operands: 1$/,
    );
  });

  it('a projection of overlapping paths is rejected', () => {
    expect(rejection(() => compileProjection('a, a.b'))).toBe(
      'Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]',
    );
  });
});
