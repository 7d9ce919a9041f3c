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
    try {
      return plain(compile(match[1] as string).evaluate(null, { ...scope.variables, states: scope.states }));
    } catch (error) {
      throw new StatesError(StatesErrors.QueryEvaluationError, `${field}: the JSONata expression ${template} failed: ${(error as Error).message}`);
    }
  }
  if (Array.isArray(template)) return template.map((item, i) => evaluateTemplate(item, scope, `${field}[${i}]`));
  if (isObject(template)) {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(template)) out[key] = evaluateTemplate(value, scope, `${field}.${key}`);
    return out;
  }
  return template;
}

/** Assign: each key a new value of the variable, all evaluated before any is set. */
export function evaluateAssign(assign: Json | undefined, scope: JsonataScope): JsonObject {
  if (!isObject(assign)) return {};
  return evaluateTemplate(assign, scope, 'Assign') as JsonObject;
}
