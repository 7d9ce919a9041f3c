/**
 * Compiles one filter pattern (the JSON text of a `FilterCriteria.Filters[n].Pattern`) into the node tree
 * `filter-pattern-match.ts` evaluates. Validation and compilation are one pass, so a pattern that compiles
 * is valid and every check happens once, when the event source mapping is created, never per record.
 *
 * The grammar is the EventBridge content-filter grammar as Lambda event filtering documents it, with the
 * rule checks of its engine (aws/event-ruler, JsonRuleCompiler): values are always arrays, empty arrays and
 * empty objects are rejected, an operator object has exactly one key, `$or` takes at least two objects and
 * its branches may not use operator names as field names, `anything-but` lists are all strings or all
 * numbers, a numeric range is `>`/`>=` then `<`/`<=` with bottom below top.
 *
 * Left out on purpose: `wildcard` and `cidr` (EventBridge operators that Lambda's filter rule syntax does
 * not list) are rejected with a message saying so, rather than silently accepted.
 */
import { invalidValue } from '../../model/errors.js';
import type { FieldNode, LeafNode, ObjectNode, PatternNode, ScalarTest } from './filter-pattern-match.js';

/**
 * Which event source the pattern filters. `sqs` applies the SQS body-format rule to the root `body` key;
 * `dynamodb` requires the root `dynamodb` key to be an object pattern, as Lambda does at creation time.
 */
export type FilterSource = 'sqs' | 'dynamodb' | 'generic';

export interface CompilePatternInput {
  /** The pattern's JSON text. */
  readonly pattern: string;
  /** The input field the pattern came from, named in every error (e.g. `FilterCriteria.Filters[1].Pattern`). */
  readonly field: string;
  readonly source: FilterSource;
}

const supportedOperators = ['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'numeric', 'exists'];
const unsupportedOperators = new Set(['wildcard', 'cidr']);

/** Names event-ruler reserves for operators; they may not be field names inside `$or`. */
const reservedInOr = new Set(
  (
    'exactly equals-ignore-case prefix suffix anything-but exists wildcard numeric cidr = < <= > >= regex not-wildcard not-equals-ignore-case ' +
    'date-after date-on-or-after date-before date-on-or-before in-date-range ip-address-in-range ip-address-not-in-range'
  ).split(' '),
);

/** Marks `{"exists": false}`, which matches absence and so is no test on a present value. */
const ABSENT = Symbol('absent');

type Fail = (path: string, message: string) => never;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Validates and compiles a pattern; throws `InvalidParameterValue` naming `field`, the path and the rule. */
export function compilePattern({ pattern, field, source }: CompilePatternInput): ObjectNode {
  const fail: Fail = (path, message) => {
    throw invalidValue(field, path === '' ? message : `${message} (at ${path})`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch (error) {
    throw invalidValue(field, `is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) fail('', `must be a JSON object, got ${describeValue(parsed)}`);
  return compileObject(parsed, '', { fail, source, root: true, insideOr: false });
}

interface ObjectContext {
  readonly fail: Fail;
  readonly source: FilterSource;
  readonly root: boolean;
  readonly insideOr: boolean;
}

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function compileObject(object: Record<string, unknown>, path: string, context: ObjectContext): ObjectNode {
  const fail: Fail = context.fail;
  const { source, root, insideOr } = context;
  const keys = Object.keys(object);
  if (keys.length === 0) fail(path, 'empty objects are not allowed');
  const fields: FieldNode[] = [];
  const anyOf: ObjectNode[][] = [];
  let sqsBody: PatternNode | undefined;
  for (const key of keys) {
    const value = object[key];
    const at = joinPath(path, key);
    if (key === '$or') {
      anyOf.push(compileOr(value, at, context));
      continue;
    }
    if (insideOr && reservedInOr.has(key)) {
      fail(at, `"${key}" is an operator name and cannot be used as a field name inside $or`);
    }
    let node: PatternNode;
    if (Array.isArray(value)) node = compileLeaf(value as unknown[], at, fail);
    else if (isPlainObject(value)) node = compileObject(value, at, { ...context, root: false });
    else fail(at, `must be an object or an array of match values, got ${describeValue(value)}`);
    if (root && source === 'sqs' && key === 'body') {
      sqsBody = node;
      continue;
    }
    if (root && source === 'dynamodb' && key === 'dynamodb' && node.kind === 'leaf') {
      fail(at, 'the dynamodb data key of a DynamoDB stream pattern must be a JSON object pattern');
    }
    fields.push({ key, node });
  }
  const matchesAbsent =
    fields.every((field) => field.node.matchesAbsent) &&
    anyOf.every((group) => group.some((branch) => branch.matchesAbsent));
  return { kind: 'object', fields, anyOf, matchesAbsent, sqsBody };
}

function compileOr(value: unknown, at: string, context: ObjectContext): ObjectNode[] {
  if (!Array.isArray(value)) context.fail(at, `$or must be an array of objects, got ${describeValue(value)}`);
  if (value.length < 2) context.fail(at, `$or needs at least 2 objects, got ${value.length}`);
  return (value as unknown[]).map((branch, index) => {
    const branchPath = `${at}[${index}]`;
    if (!isPlainObject(branch))
      context.fail(branchPath, `$or takes only objects, got ${describeValue(branch)}`);
    return compileObject(branch, branchPath, { ...context, insideOr: true });
  });
}

function compileLeaf(rules: unknown[], path: string, fail: Fail): LeafNode {
  if (rules.length === 0) fail(path, 'empty arrays are not allowed');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const tests: ScalarTest[] = [];
  let matchTrue = false;
  let matchFalse = false;
  let matchNull = false;
  let matchesAbsent = false;
  rules.forEach((rule, index) => {
    const at = `${path}[${index}]`;
    if (rule === null) matchNull = true;
    else if (typeof rule === 'string') strings.add(rule);
    else if (typeof rule === 'number') numbers.add(rule);
    else if (typeof rule === 'boolean') {
      if (rule) matchTrue = true;
      else matchFalse = true;
    } else if (isPlainObject(rule)) {
      const test = compileOperator(rule, at, fail);
      if (test === ABSENT) matchesAbsent = true;
      else tests.push(test);
    } else
      fail(
        at,
        `a match value must be a string, number, boolean, null or operator object, got ${describeValue(rule)}`,
      );
  });
  const test: ScalarTest = (value) => {
    switch (typeof value) {
      case 'string':
        if (strings.has(value)) return true;
        break;
      case 'number':
        if (numbers.has(value)) return true;
        break;
      case 'boolean':
        if (value ? matchTrue : matchFalse) return true;
        break;
      default:
        if (matchNull) return true;
    }
    for (const extra of tests) if (extra(value)) return true;
    return false;
  };
  return { kind: 'leaf', test, matchesAbsent };
}

function compileOperator(
  expression: Record<string, unknown>,
  at: string,
  fail: Fail,
): ScalarTest | typeof ABSENT {
  const names = Object.keys(expression);
  const name = names[0];
  if (name === undefined)
    fail(at, `an operator object needs one operator (${supportedOperators.join(', ')})`);
  if (names.length > 1) fail(at, `an operator object takes exactly one operator, got ${names.join(', ')}`);
  const operand = expression[name];
  const opPath = `${at}.${name}`;
  switch (name) {
    case 'prefix':
    case 'suffix':
      return compileAffix(name, operand, opPath, fail);
    case 'equals-ignore-case': {
      if (typeof operand !== 'string')
        fail(opPath, `equals-ignore-case takes a string, got ${describeValue(operand)}`);
      const lowered = operand.toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase() === lowered;
    }
    case 'anything-but':
      return compileAnythingBut(operand, opPath, fail);
    case 'numeric':
      return compileNumeric(operand, opPath, fail);
    case 'exists':
      if (typeof operand !== 'boolean')
        fail(opPath, `exists takes true or false, got ${describeValue(operand)}`);
      return operand ? () => true : ABSENT;
    default:
      if (unsupportedOperators.has(name)) {
        fail(opPath, `"${name}" is an EventBridge operator that Lambda event filtering does not support`);
      }
      fail(opPath, `unknown operator "${name}"; expected one of ${supportedOperators.join(', ')}`);
  }
}

/** `prefix`/`suffix` with a string, or with `{"equals-ignore-case": string}` to ignore case. */
function compileAffix(name: 'prefix' | 'suffix', operand: unknown, at: string, fail: Fail): ScalarTest {
  if (typeof operand === 'string') {
    return name === 'prefix'
      ? (value) => typeof value === 'string' && value.startsWith(operand)
      : (value) => typeof value === 'string' && value.endsWith(operand);
  }
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    const inner = operand['equals-ignore-case'];
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      fail(
        at,
        `${name} takes a string or {"equals-ignore-case": string}, got keys ${keys.join(', ') || '(none)'}`,
      );
    }
    if (typeof inner !== 'string')
      fail(`${at}.equals-ignore-case`, `takes a string, got ${describeValue(inner)}`);
    const lowered = inner.toLowerCase();
    return name === 'prefix'
      ? (value) => typeof value === 'string' && value.toLowerCase().startsWith(lowered)
      : (value) => typeof value === 'string' && value.toLowerCase().endsWith(lowered);
  }
  fail(at, `${name} takes a string or {"equals-ignore-case": string}, got ${describeValue(operand)}`);
}

/**
 * `anything-but` matches any present leaf value the inner rule does not: a value or list (all strings or all
 * numbers), `{"prefix"}`, `{"suffix"}` or `{"equals-ignore-case": string | string[]}`. Values of another
 * type (null, booleans, numbers against strings) are "anything but" and match, as on AWS.
 */
function compileAnythingBut(operand: unknown, at: string, fail: Fail): ScalarTest {
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    const name = keys[0];
    if (keys.length !== 1 || name === undefined) {
      fail(
        at,
        `anything-but takes one of prefix, suffix, equals-ignore-case, got keys ${keys.join(', ') || '(none)'}`,
      );
    }
    const inner = operand[name];
    const innerPath = `${at}.${name}`;
    if (name === 'prefix' || name === 'suffix') {
      if (typeof inner !== 'string') fail(innerPath, `takes a string, got ${describeValue(inner)}`);
      if (inner === '') fail(innerPath, 'an empty prefix or suffix is not allowed');
      return name === 'prefix'
        ? (value) => !(typeof value === 'string' && value.startsWith(inner))
        : (value) => !(typeof value === 'string' && value.endsWith(inner));
    }
    if (name === 'equals-ignore-case') {
      const list = Array.isArray(inner) ? (inner as unknown[]) : [inner];
      const lowered = new Set<string>();
      list.forEach((item, index) => {
        if (typeof item !== 'string') {
          fail(
            Array.isArray(inner) ? `${innerPath}[${index}]` : innerPath,
            `takes strings only, got ${describeValue(item)}`,
          );
        }
        lowered.add(item.toLowerCase());
      });
      return (value) => !(typeof value === 'string' && lowered.has(value.toLowerCase()));
    }
    if (unsupportedOperators.has(name)) {
      fail(innerPath, `"${name}" is an EventBridge operator that Lambda event filtering does not support`);
    }
    fail(innerPath, `anything-but does not take "${name}"; expected prefix, suffix or equals-ignore-case`);
  }
  const list = Array.isArray(operand) ? (operand as unknown[]) : [operand];
  const strings = new Set<string>();
  const numbers = new Set<number>();
  list.forEach((item, index) => {
    const itemPath = Array.isArray(operand) ? `${at}[${index}]` : at;
    if (typeof item === 'string') strings.add(item);
    else if (typeof item === 'number' && Number.isFinite(item)) numbers.add(item);
    else fail(itemPath, `anything-but takes strings or finite numbers, got ${describeValue(item)}`);
  });
  if (strings.size === 0 && numbers.size === 0) fail(at, 'anything-but needs at least one value');
  if (strings.size > 0 && numbers.size > 0)
    fail(at, 'anything-but values must be all strings or all numbers');
  return (value) =>
    !((typeof value === 'string' && strings.has(value)) || (typeof value === 'number' && numbers.has(value)));
}

const lowerOperators = new Set(['>', '>=']);
const upperOperators = new Set(['<', '<=']);

function numericOperand(value: unknown, operator: string, at: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(at, `numeric "${operator}" must be followed by a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** `numeric`: `["=", n]`, `[op, n]` for op in <, <=, >, >=, or `[">"|">=", low, "<"|"<=", high]` with low < high. */
function compileNumeric(operand: unknown, at: string, fail: Fail): ScalarTest {
  if (!Array.isArray(operand) || operand.length === 0) {
    fail(at, `numeric takes a non-empty array like [">", 0, "<=", 5], got ${describeValue(operand)}`);
  }
  const terms = operand as unknown[];
  const first = terms[0];
  if (
    typeof first !== 'string' ||
    !(first === '=' || lowerOperators.has(first) || upperOperators.has(first))
  ) {
    fail(`${at}[0]`, `unknown numeric operator ${JSON.stringify(first)}; expected =, <, <=, > or >=`);
  }
  const firstValue = numericOperand(terms[1], first, `${at}[1]`, fail);
  if (terms.length === 2) {
    switch (first) {
      case '=':
        return (value) => typeof value === 'number' && value === firstValue;
      case '>':
        return (value) => typeof value === 'number' && value > firstValue;
      case '>=':
        return (value) => typeof value === 'number' && value >= firstValue;
      case '<':
        return (value) => typeof value === 'number' && value < firstValue;
      default:
        return (value) => typeof value === 'number' && value <= firstValue;
    }
  }
  if (!lowerOperators.has(first)) {
    fail(at, `numeric "${first}" takes one value; only > or >= may start a range`);
  }
  const second = terms[2];
  if (typeof second !== 'string' || !upperOperators.has(second)) {
    fail(`${at}[2]`, `a numeric range must continue with < or <=, got ${describeValue(second)}`);
  }
  const secondValue = numericOperand(terms[3], second, `${at}[3]`, fail);
  if (terms.length > 4) fail(at, `a numeric range has 4 terms, got ${terms.length}`);
  if (!(firstValue < secondValue))
    fail(at, `the bottom of a numeric range (${firstValue}) must be below its top (${secondValue})`);
  const low = firstValue;
  const high = secondValue;
  const openLow = first === '>';
  const openHigh = second === '<';
  return (value) =>
    typeof value === 'number' &&
    (openLow ? value > low : value >= low) &&
    (openHigh ? value < high : value <= high);
}
