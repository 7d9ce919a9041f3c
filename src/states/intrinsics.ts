/**
 * Intrinsic functions (`States.Format('{} items', $.count)` and the other eighteen), as AWS documents
 * them in "Intrinsic functions for JSONPath states". Arguments are quoted strings (`\'`, `\{`, `\}`,
 * `\\` escapes), numbers, booleans, null, JSONPaths (`$.x`, `$$.x`) and nested calls. A call that cannot
 * be evaluated fails the state with States.IntrinsicFailure, or States.Runtime for a bad path.
 */
import { createHash, randomUUID } from 'node:crypto';
import { StatesError, StatesErrors } from './errors.js';
import { isObject, jsonEquals, type Json, type JsonObject } from './json.js';
import { evaluatePath } from './jsonpath.js';

type Arg =
  | { kind: 'literal'; value: Json }
  | { kind: 'path'; path: string }
  | { kind: 'call'; name: string; args: Arg[] };

export class IntrinsicSyntaxError extends Error {}

export const intrinsicNames = [
  'States.Format',
  'States.StringToJson',
  'States.JsonToString',
  'States.Array',
  'States.ArrayPartition',
  'States.ArrayContains',
  'States.ArrayRange',
  'States.ArrayGetItem',
  'States.ArrayLength',
  'States.ArrayUnique',
  'States.Base64Encode',
  'States.Base64Decode',
  'States.Hash',
  'States.JsonMerge',
  'States.MathRandom',
  'States.MathAdd',
  'States.StringSplit',
  'States.UUID',
] as const;

export function isIntrinsic(text: string): boolean {
  return /^States\.[A-Za-z0-9]+\(/.test(text.trim());
}

const cache = new Map<string, Arg>();

export function parseIntrinsic(text: string): Arg {
  const hit = cache.get(text);
  if (hit) return hit;
  const parser = new Parser(text.trim());
  const call = parser.call();
  parser.end();
  if (cache.size > 10_000) cache.clear();
  cache.set(text, call);
  return call;
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  call(): Arg {
    const m = /^States\.[A-Za-z0-9]+/.exec(this.s.slice(this.i));
    if (!m) throw new IntrinsicSyntaxError(`${this.s}: expected an intrinsic function at ${this.i}`);
    const name = m[0];
    if (!(intrinsicNames as readonly string[]).includes(name)) throw new IntrinsicSyntaxError(`${name} is not an intrinsic function`);
    this.i += name.length;
    this.expect('(');
    const args: Arg[] = [];
    this.ws();
    if (this.s[this.i] !== ')') {
      for (;;) {
        args.push(this.arg());
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
          continue;
        }
        break;
      }
    }
    this.expect(')');
    return { kind: 'call', name, args };
  }

  end(): void {
    this.ws();
    if (this.i !== this.s.length) throw new IntrinsicSyntaxError(`${this.s}: unexpected text at ${this.i}`);
  }

  private arg(): Arg {
    this.ws();
    const rest = this.s.slice(this.i);
    if (rest.startsWith("'")) return { kind: 'literal', value: this.string() };
    if (rest.startsWith('States.')) return this.call();
    if (rest.startsWith('$')) {
      // A path runs to the next top-level comma or closing parenthesis (brackets may hold either).
      let depth = 0;
      let j = this.i;
      let quote = false;
      for (; j < this.s.length; j++) {
        const c = this.s[j];
        if (quote) {
          if (c === "'") quote = false;
          continue;
        }
        if (c === "'") quote = true;
        else if (c === '[' || c === '(') depth++;
        else if (c === ']' || (c === ')' && depth > 0)) depth--;
        else if (depth === 0 && (c === ',' || c === ')')) break;
      }
      const path = this.s.slice(this.i, j).trim();
      this.i = j;
      return { kind: 'path', path };
    }
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(rest);
    if (!m) throw new IntrinsicSyntaxError(`${this.s}: unexpected argument at ${this.i}`);
    this.i += m[0].length;
    return { kind: 'literal', value: JSON.parse(m[0]) as Json };
  }

  private string(): string {
    this.i++; // opening quote
    let out = '';
    for (; this.i < this.s.length; this.i++) {
      const c = this.s[this.i] as string;
      if (c === '\\') {
        const next = this.s[this.i + 1];
        if (next === undefined) break;
        // \{ and \} stay escaped for States.Format; other escapes drop the backslash.
        out += next === '{' || next === '}' ? '\\' + next : next;
        this.i++;
      } else if (c === "'") {
        this.i++;
        return out;
      } else out += c;
    }
    throw new IntrinsicSyntaxError(`${this.s}: unterminated string`);
  }

  private ws(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  private expect(c: string): void {
    this.ws();
    if (this.s[this.i] !== c) throw new IntrinsicSyntaxError(`${this.s}: expected ${c} at ${this.i}`);
    this.i++;
  }
}

export interface IntrinsicEnv {
  input: Json;
  context: Json;
  /** Workflow variables (`$name` arguments). */
  variables?: JsonObject;
  /** For States.UUID and States.MathRandom without a seed (tests pass deterministic ones). */
  uuid?: () => string;
  random?: () => number;
}

export function evaluateIntrinsic(text: string, env: IntrinsicEnv): Json {
  let call: Arg;
  try {
    call = parseIntrinsic(text);
  } catch (error) {
    throw new StatesError(StatesErrors.IntrinsicFailure, (error as Error).message);
  }
  return evaluate(call, env);
}

/** One intrinsic applied to evaluated arguments: the JSONata functions AWS adds ($partition, ...) reuse them. */
export function applyIntrinsic(name: string, args: Json[], env: Pick<IntrinsicEnv, 'uuid' | 'random'> = {}): Json {
  return apply(name, args, { input: null, context: null, ...env });
}

function evaluate(arg: Arg, env: IntrinsicEnv): Json {
  if (arg.kind === 'literal') return arg.value;
  if (arg.kind === 'path') {
    const value = evaluatePath(arg.path, env.input, env.context, env.variables);
    if (value === undefined)
      throw new StatesError(StatesErrors.Runtime, `The JsonPath argument for the field '${arg.path}' could not be found in the input`);
    return value;
  }
  const args = arg.args.map((a) => evaluate(a, env));
  return apply(arg.name, args, env);
}

function fail(name: string, message: string): never {
  throw new StatesError(StatesErrors.IntrinsicFailure, `Invalid arguments in ${name}: ${message}`);
}

function count(name: string, args: Json[], min: number, max = min): void {
  if (args.length < min || args.length > max) fail(name, `expected ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
}

function str(name: string, v: Json | undefined): string {
  if (typeof v !== 'string') fail(name, `${JSON.stringify(v)} is not a string`);
  return v;
}

function int(name: string, v: Json | undefined): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(name, `${JSON.stringify(v)} is not an integer`);
  return v;
}

function arr(name: string, v: Json | undefined): Json[] {
  if (!Array.isArray(v)) fail(name, `${JSON.stringify(v)} is not an array`);
  return v;
}

function apply(name: string, args: Json[], env: IntrinsicEnv): Json {
  switch (name) {
    case 'States.Format': {
      if (args.length < 1) fail(name, 'a template is required');
      const template = str(name, args[0]);
      const values = args.slice(1);
      let used = 0;
      let out = '';
      for (let i = 0; i < template.length; i++) {
        const c = template[i];
        if (c === '\\' && (template[i + 1] === '{' || template[i + 1] === '}')) {
          out += template[i + 1];
          i++;
        } else if (c === '{' && template[i + 1] === '}') {
          if (used >= values.length) fail(name, 'more placeholders than arguments');
          const v = values[used++] as Json;
          if (typeof v === 'object' && v !== null) fail(name, 'arguments must be strings, numbers, booleans or null');
          out += v === null ? 'null' : String(v);
          i++;
        } else out += c;
      }
      if (used !== values.length) fail(name, `${values.length} arguments for ${used} placeholders`);
      return out;
    }
    case 'States.StringToJson': {
      count(name, args, 1);
      try {
        return JSON.parse(str(name, args[0])) as Json;
      } catch {
        return fail(name, 'the string is not JSON');
      }
    }
    case 'States.JsonToString':
      count(name, args, 1);
      return JSON.stringify(args[0]);
    case 'States.Array':
      return args;
    case 'States.ArrayPartition': {
      count(name, args, 2);
      const a = arr(name, args[0]);
      const size = int(name, args[1]);
      if (size < 1) fail(name, 'the chunk size must be positive');
      const out: Json[] = [];
      for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
      return out;
    }
    case 'States.ArrayContains':
      count(name, args, 2);
      return arr(name, args[0]).some((v) => jsonEquals(v, args[1]));
    case 'States.ArrayRange': {
      count(name, args, 3);
      const [start, end, stepBy] = [int(name, args[0]), int(name, args[1]), int(name, args[2])];
      if (stepBy === 0) fail(name, 'the step must not be 0');
      const out: number[] = [];
      for (let v = start; stepBy > 0 ? v <= end : v >= end; v += stepBy) {
        out.push(v);
        if (out.length > 1000) fail(name, 'the range has more than 1,000 items');
      }
      return out;
    }
    case 'States.ArrayGetItem': {
      count(name, args, 2);
      const a = arr(name, args[0]);
      const index = int(name, args[1]);
      if (index < 0 || index >= a.length) fail(name, `index ${index} is out of bounds`);
      return a[index] as Json;
    }
    case 'States.ArrayLength':
      count(name, args, 1);
      return arr(name, args[0]).length;
    case 'States.ArrayUnique': {
      count(name, args, 1);
      const out: Json[] = [];
      for (const v of arr(name, args[0])) if (!out.some((o) => jsonEquals(o, v))) out.push(v);
      return out;
    }
    case 'States.Base64Encode': {
      count(name, args, 1);
      const s = str(name, args[0]);
      if (s.length > 10_000) fail(name, 'the input is longer than 10,000 characters');
      return Buffer.from(s, 'utf8').toString('base64');
    }
    case 'States.Base64Decode': {
      count(name, args, 1);
      const s = str(name, args[0]);
      if (s.length > 10_000) fail(name, 'the input is longer than 10,000 characters');
      return Buffer.from(s, 'base64').toString('utf8');
    }
    case 'States.Hash': {
      count(name, args, 2);
      const data = typeof args[0] === 'string' ? args[0] : JSON.stringify(args[0]);
      if (data.length > 10_000) fail(name, 'the input is longer than 10,000 characters');
      const algorithm = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[str(name, args[1])];
      if (!algorithm) fail(name, 'the algorithm must be MD5, SHA-1, SHA-256, SHA-384 or SHA-512');
      return createHash(algorithm).update(data, 'utf8').digest('hex');
    }
    case 'States.JsonMerge': {
      count(name, args, 3);
      const [a, b, deep] = args;
      if (!isObject(a) || !isObject(b)) fail(name, 'both values must be objects');
      if (deep !== false) fail(name, 'only a shallow merge (false) is supported');
      return { ...a, ...b };
    }
    case 'States.MathRandom': {
      count(name, args, 2, 3);
      const [start, end] = [int(name, args[0]), int(name, args[1])];
      if (end <= start) fail(name, 'the end must be greater than the start');
      const r = args.length === 3 ? seeded(int(name, args[2])) : (env.random ?? Math.random)();
      return start + Math.floor(r * (end - start));
    }
    case 'States.MathAdd': {
      count(name, args, 2);
      const [a, b] = [int(name, args[0]), int(name, args[1])];
      return a + b;
    }
    case 'States.StringSplit': {
      count(name, args, 2);
      const s = str(name, args[0]);
      const delimiters = new Set(str(name, args[1]));
      const out: string[] = [];
      let current = '';
      for (const c of s) {
        if (delimiters.has(c)) {
          if (current !== '') out.push(current);
          current = '';
        } else current += c;
      }
      if (current !== '') out.push(current);
      return out;
    }
    case 'States.UUID':
      count(name, args, 0);
      return (env.uuid ?? randomUUID)();
    default:
      return fail(name, 'unknown function');
  }
}

/** A deterministic number in [0, 1) from a seed (mulberry32). */
export function seeded(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
