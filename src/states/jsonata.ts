/**
 * JSONata in state machines (`"QueryLanguage": "JSONata"`): a string `"{% expression %}"` anywhere in
 * Arguments, Output, Assign, Items, ItemSelector, a Choice rule's Condition, Wait's Seconds/Timestamp,
 * Fail's Error/Cause and the task timeouts is evaluated with `$states` (`input`, `result`,
 * `errorOutput`, `context`) and the execution's variables (`$name`, set by Assign) bound; other values
 * are taken literally. An expression that fails to evaluate fails the state with
 * States.QueryEvaluationError.
 *
 * The jsonata package's 1.8 line evaluates synchronously, which the interpreter (a pure, synchronous
 * function) needs; AWS runs JSONata 2.0, whose language is the same but whose evaluation is asynchronous.
 */
import jsonata from 'jsonata';
import { StatesError, StatesErrors } from './errors.js';
import { applyIntrinsic, seeded } from './intrinsics.js';
import { isObject, type Json, type JsonObject } from './json.js';

const EXPRESSION = /^\{%([\s\S]*)%\}$/;
const compiled = new Map<string, jsonata.Expression>();

export function isJsonataExpression(value: unknown): value is string {
  return typeof value === 'string' && EXPRESSION.test(value);
}

function compile(source: string): jsonata.Expression {
  let expression = compiled.get(source);
  if (!expression) {
    expression = jsonata(source);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(source, expression);
  }
  return expression;
}

/** A syntax problem of a `{% %}` string, or undefined when it compiles (for definition validation). */
export function jsonataSyntaxError(value: string): string | undefined {
  const match = EXPRESSION.exec(value);
  if (!match) return undefined;
  try {
    compile(match[1] as string);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export interface JsonataScope {
  states: JsonObject;
  variables: JsonObject;
  /** For $uuid() and $random() without a seed (tests pass deterministic ones). */
  uuid?: (() => string) | undefined;
  random?: (() => number) | undefined;
}

/**
 * The functions Step Functions adds to JSONata, each the JSONata form of an intrinsic: $partition,
 * $range (inclusive end), $hash (MD5, SHA-1, SHA-256, SHA-384, SHA-512), $random([seed]) in [0, 1),
 * $uuid() (v4) and $parse (JSON text to a value). A bad argument fails the expression
 * (States.QueryEvaluationError).
 */
function stepFunctionsFunctions(scope: JsonataScope): Record<string, (...args: unknown[]) => unknown> {
  const env = { uuid: scope.uuid, random: scope.random };
  const call = (name: string) => (...args: unknown[]) => applyIntrinsic(name, args.map((a) => (a === undefined ? null : plain(a))), definedOnly(env));
  return {
    partition: call('States.ArrayPartition'),
    range: call('States.ArrayRange'),
    hash: call('States.Hash'),
    uuid: call('States.UUID'),
    random: (seed?: unknown) => {
      if (seed === undefined) return (scope.random ?? Math.random)();
      if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new Error(`$random: the seed ${JSON.stringify(seed)} is not an integer`);
      return seeded(seed);
    },
    parse: (text: unknown) => {
      if (typeof text !== 'string') throw new Error(`$parse: ${JSON.stringify(text)} is not a string`);
      return JSON.parse(text) as unknown;
    },
  };
}

function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** JSONata's results carry sequence flags and may be undefined; a state sees plain JSON. */
function plain(value: unknown): Json {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** Evaluates every `{% %}` string in `template` (objects and arrays recursively); other values stay. */
export function evaluateTemplate(template: Json, scope: JsonataScope, field: string): Json {
  if (typeof template === 'string') {
    const match = EXPRESSION.exec(template);
    if (!match) return template;
    let value: unknown;
    try {
      value = compile(match[1] as string).evaluate(null, { ...stepFunctionsFunctions(scope), ...scope.variables, states: scope.states });
    } catch (error) {
      throw new StatesError(StatesErrors.QueryEvaluationError, `${field}: the JSONata expression ${template} failed: ${(error as Error).message}`);
    }
    // JSON has no undefined: AWS fails the state rather than writing null (its words, its field naming).
    if (value === undefined)
      throw new StatesError(
        StatesErrors.QueryEvaluationError,
        `The JSONata expression '${(match[1] as string).trim()}' specified for the field '${field}' returned nothing (undefined).`,
      );
    return plain(value);
  }
  if (Array.isArray(template)) return template.map((item, i) => evaluateTemplate(item, scope, `${field}[${i}]`));
  if (isObject(template)) {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(template)) out[key] = evaluateTemplate(value, scope, `${field}/${key}`);
    return out;
  }
  return template;
}

/** Assign: each key a new value of the variable, all evaluated before any is set. */
export function evaluateAssign(assign: Json | undefined, scope: JsonataScope): JsonObject {
  if (!isObject(assign)) return {};
  return evaluateTemplate(assign, scope, 'Assign') as JsonObject;
}
