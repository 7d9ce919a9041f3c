/**
 * Input and output processing for JSONPath states, in AWS's order: InputPath → Parameters (or
 * ItemSelector) → the work → ResultSelector → ResultPath → OutputPath. A path that selects nothing fails
 * the state with States.Runtime, as AWS does; a ResultPath that cannot be applied with
 * States.ResultPathMatchFailure.
 */
import { StatesError, StatesErrors } from './errors.js';
import { evaluateIntrinsic, isIntrinsic } from './intrinsics.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { evaluatePath, setAtPath } from './jsonpath.js';

export interface PathEnv {
  context: Json;
  /** The workflow variables the state sees (`$name` paths). */
  variables?: JsonObject;
  uuid?: () => string;
  random?: () => number;
}

/** InputPath / OutputPath: undefined keeps the value, null gives `{}`, a path selects. */
export function applySelectPath(field: 'InputPath' | 'OutputPath' | 'ItemsPath' | 'MaxConcurrencyPath', path: string | null | undefined, value: Json, env: PathEnv): Json {
  if (path === undefined) return value;
  if (path === null) return {};
  const selected = evaluatePath(path, value, env.context, env.variables);
  if (selected === undefined)
    throw new StatesError(StatesErrors.Runtime, `Invalid path '${path}' : No results for path: ${path} (${field})`);
  return selected;
}

/** Parameters, ResultSelector, ItemSelector: `key.$` fields take a path's value or an intrinsic's result. */
export function applyTemplate(field: string, template: Json, input: Json, env: PathEnv): Json {
  if (Array.isArray(template)) return template.map((item) => applyTemplate(field, item, input, env));
  if (!isObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      const name = key.slice(0, -2);
      if (typeof value !== 'string')
        throw new StatesError(StatesErrors.Runtime, `The value for the field '${key}' in ${field} must be a JSONPath or an intrinsic function`);
      if (isIntrinsic(value)) {
        out[name] = evaluateIntrinsic(value, { input, context: env.context, ...(env.variables ? { variables: env.variables } : {}), ...(env.uuid ? { uuid: env.uuid } : {}), ...(env.random ? { random: env.random } : {}) });
      } else {
        const selected = evaluatePath(value, input, env.context, env.variables);
        if (selected === undefined)
          throw new StatesError(StatesErrors.Runtime, `The JsonPath argument for the field '${key}' could not be found in the input '${truncate(input)}'`);
        out[name] = selected;
      }
    } else out[key] = applyTemplate(field, value, input, env);
  }
  return out;
}

/** ResultPath: undefined is `$` (the result replaces the input), null discards the result. */
export function applyResultPath(path: string | null | undefined, input: Json, result: Json): Json {
  if (path === null) return input;
  if (path === undefined || path === '$') return result;
  return setAtPath(input, path, result);
}

export interface JsonPathIo {
  InputPath?: string | null;
  Parameters?: Json;
  ResultSelector?: Json;
  ResultPath?: string | null;
  OutputPath?: string | null;
}

/** InputPath then Parameters: the effective input of a state. */
export function effectiveInput(state: JsonPathIo, raw: Json, env: PathEnv, template: Json | undefined = state.Parameters): Json {
  const selected = applySelectPath('InputPath', state.InputPath, raw, env);
  return template === undefined ? selected : applyTemplate('Parameters', template, selected, env);
}

/**
 * ResultSelector, ResultPath, OutputPath: a state's output from its raw input and its result.
 * `onSelected` sees the result after ResultSelector (what a JSONPath state's Assign reads as `$`).
 */
export function stateOutput(state: JsonPathIo, raw: Json, result: Json, env: PathEnv, onSelected?: (selected: Json) => void): Json {
  const selected = state.ResultSelector === undefined ? result : applyTemplate('ResultSelector', state.ResultSelector, result, env);
  onSelected?.(selected);
  const combined = applyResultPath(state.ResultPath, raw, selected);
  return applySelectPath('OutputPath', state.OutputPath, combined, env);
}

/**
 * A JSONPath state's Assign: each `name` gets a static value, or for `name.$` a path's or an intrinsic's
 * value over `value` (the state's result, or its input for Choice and Wait, or a Catch's error output),
 * with the variables as they were when the state was entered. Returns the assignments.
 */
export function evaluateJsonPathAssign(assign: Json | undefined, value: Json, env: PathEnv): JsonObject {
  if (assign === undefined) return {};
  const assigned = applyTemplate('Assign', assign, value, env);
  return isObject(assigned) ? assigned : {};
}

function truncate(value: Json): string {
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
