/**
 * Choice rules: the first top-level rule that matches gives the next state. Comparisons follow the
 * States Language: a value of the wrong type never matches; `...Path` operators compare with another
 * value of the input; timestamps compare as instants; StringMatches takes `*` wildcards (`\*` literal).
 * A Variable or `...Path` operand that selects nothing fails the state with States.Runtime, as AWS fails
 * it ("The choice state's condition path references an invalid value"); IsPresent tests for that.
 */
import { StatesError, StatesErrors } from './errors.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { evaluatePath } from './jsonpath.js';

/** The first rule that matches (its Next and, in JSONPath states, its Assign), or undefined. */
export function matchChoice(rules: JsonObject[], input: Json, context: Json, variables: JsonObject = {}): JsonObject | undefined {
  return rules.find((rule) => evaluateRule(rule, input, context, variables));
}

export function evaluateRule(rule: JsonObject, input: Json, context: Json, variables: JsonObject = {}): boolean {
  if (Array.isArray(rule.And)) return rule.And.every((r) => isObject(r) && evaluateRule(r, input, context, variables));
  if (Array.isArray(rule.Or)) return rule.Or.some((r) => isObject(r) && evaluateRule(r, input, context, variables));
  if (isObject(rule.Not)) return !evaluateRule(rule.Not, input, context, variables);
  const variable = evaluatePath(rule.Variable as string, input, context, variables);
  for (const [op, raw] of Object.entries(rule)) {
    if (op === 'Variable' || op === 'Next' || op === 'Comment' || op === 'Assign') continue;
    // A path that selects nothing is an error, not a mismatch (only IsPresent asks whether it does).
    if (variable === undefined && op !== 'IsPresent') throw invalidPath(rule.Variable as string);
    let expected: Json | undefined = raw;
    let name = op;
    if (op.endsWith('Path')) {
      name = op.slice(0, -4);
      expected = evaluatePath(raw as string, input, context, variables);
      if (expected === undefined) throw invalidPath(raw as string);
    }
    return compare(name, variable, expected);
  }
  return false;
}

function timestamp(v: Json | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function ordered(a: number | string, b: number | string, kind: string): boolean {
  switch (kind) {
    case 'Equals':
      return a === b;
    case 'LessThan':
      return a < b;
    case 'GreaterThan':
      return a > b;
    case 'LessThanEquals':
      return a <= b;
    default:
      return a >= b;
  }
}

function compare(op: string, value: Json | undefined, expected: Json | undefined): boolean {
  switch (op) {
    case 'IsPresent':
      return (value !== undefined) === expected;
    case 'IsNull':
      return (value === null) === expected;
    case 'IsNumeric':
      return (typeof value === 'number') === expected;
    case 'IsString':
      return (typeof value === 'string') === expected;
    case 'IsBoolean':
      return (typeof value === 'boolean') === expected;
    case 'IsTimestamp':
      return (timestamp(value) !== undefined) === expected;
    case 'BooleanEquals':
      return typeof value === 'boolean' && value === expected;
    case 'StringMatches':
      return typeof value === 'string' && typeof expected === 'string' && wildcard(expected).test(value);
    default:
      break;
  }
  if (op.startsWith('String')) {
    return typeof value === 'string' && typeof expected === 'string' && ordered(value, expected, op.slice(6));
  }
  if (op.startsWith('Numeric')) {
    return typeof value === 'number' && typeof expected === 'number' && ordered(value, expected, op.slice(7));
  }
  if (op.startsWith('Timestamp')) {
    const a = timestamp(value);
    const b = timestamp(expected);
    return a !== undefined && b !== undefined && ordered(a, b, op.slice(9));
  }
  return false;
}

function wildcard(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      source += escape(pattern[i + 1] as string);
      i++;
    } else if (c === '*') source += '.*';
    else source += escape(c);
  }
  return new RegExp(`^${source}$`, 's');
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function invalidPath(path: string): StatesError {
  return new StatesError(StatesErrors.Runtime, `Invalid path '${path}': The choice state's condition path references an invalid value.`);
}
