/**
 * JSONPath as Amazon States Language uses it. `evaluatePath` reads any path (wildcards, slices, unions,
 * recursive descent, filters); a *reference path* (ResultPath, a Choice Variable, the `...Path` fields)
 * names one node and only uses `.name`, `['name']` and `[index]`. `$$` paths read the context object;
 * `$name` paths read the workflow variable `name` (Assign).
 */
import { StatesError, StatesErrors } from './errors.js';
import { isObject, type Json, type JsonObject } from './json.js';

type Segment =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'slice'; start: number | undefined; end: number | undefined; step: number }
  | { kind: 'union'; items: (string | number)[] }
  | { kind: 'descend'; then: Segment }
  | { kind: 'filter'; expr: string }
  | { kind: 'length' };

export interface ParsedPath {
  /** `$` the data, `$$` the context object, `var` a workflow variable (`$name...`). */
  root: '$' | '$$' | 'var';
  /** The variable a `var` path reads. */
  variable?: string;
  segments: Segment[];
  /** True when the path can name at most one node (no wildcard, slice, union, descent or filter). */
  definite: boolean;
}

const cache = new Map<string, ParsedPath>();

export class PathSyntaxError extends Error {}

export function parsePath(path: string): ParsedPath {
  const hit = cache.get(path);
  if (hit) return hit;
  const parsed = parse(path);
  if (cache.size > 10_000) cache.clear();
  cache.set(path, parsed);
  return parsed;
}

function parse(path: string): ParsedPath {
  let root: '$' | '$$' | 'var';
  let i: number;
  let variable: string | undefined;
  const named = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(path);
  if (named) {
    root = 'var';
    variable = named[1] as string;
    i = named[0].length;
  } else if (path.startsWith('$$')) {
    root = '$$';
    i = 2;
  } else if (path.startsWith('$')) {
    root = '$';
    i = 1;
  } else throw new PathSyntaxError(`${JSON.stringify(path)} is not a JSONPath (it must start with $)`);
  const segments: Segment[] = [];
  const nameChars = /[^.[\]\s()]/;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      if (path[i + 1] === '.') {
        i += 2;
        const [seg, next] = readAfterDot(path, i, nameChars, true);
        segments.push({ kind: 'descend', then: seg });
        i = next;
        continue;
      }
      i += 1;
      const [seg, next] = readAfterDot(path, i, nameChars, false);
      segments.push(seg);
      i = next;
    } else if (c === '[') {
      const [seg, next] = readBracket(path, i);
      segments.push(seg);
      i = next;
    } else throw new PathSyntaxError(`${JSON.stringify(path)}: unexpected ${JSON.stringify(c)} at ${i}`);
  }
  const definite = segments.every((s) => s.kind === 'name' || s.kind === 'index' || s.kind === 'length');
  return { root, segments, definite, ...(variable !== undefined ? { variable } : {}) };
}

function readAfterDot(path: string, i: number, nameChars: RegExp, descend: boolean): [Segment, number] {
  if (path[i] === '*') return [{ kind: 'wildcard' }, i + 1];
  if (descend && path[i] === '[') return readBracket(path, i);
  let j = i;
  while (j < path.length && nameChars.test(path[j] as string)) j++;
  if (j === i) throw new PathSyntaxError(`${JSON.stringify(path)}: a name is missing at ${i}`);
  const name = path.slice(i, j);
  if (name === 'length' && path.slice(j, j + 2) === '()') return [{ kind: 'length' }, j + 2];
  return [{ kind: 'name', name }, j];
}

function readBracket(path: string, i: number): [Segment, number] {
  // i points at '['.
  if (path[i + 1] === '?') {
    let depth = 0;
    for (let j = i + 2; j < path.length; j++) {
      if (path[j] === '(') depth++;
      else if (path[j] === ')') depth--;
      if (depth === 0 && path[j] === ']') {
        const inner = path.slice(i + 2, j).trim();
        if (!inner.startsWith('(') || !inner.endsWith(')')) throw new PathSyntaxError(`${JSON.stringify(path)}: a filter must read [?(...)]`);
        return [{ kind: 'filter', expr: inner.slice(1, -1) }, j + 1];
      }
    }
    throw new PathSyntaxError(`${JSON.stringify(path)}: unterminated filter`);
  }
  let j = i + 1;
  let quote: string | undefined;
  for (; j < path.length; j++) {
    const c = path[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') break;
  }
  if (j >= path.length) throw new PathSyntaxError(`${JSON.stringify(path)}: unterminated [`);
  const inner = path.slice(i + 1, j).trim();
  const next = j + 1;
  if (inner === '*') return [{ kind: 'wildcard' }, next];
  if (/^-?\d*:-?\d*(:-?\d+)?$/.test(inner)) {
    const [a, b, c] = inner.split(':');
    return [
      {
        kind: 'slice',
        start: a ? Number(a) : undefined,
        end: b ? Number(b) : undefined,
        step: c ? Number(c) : 1,
      },
      next,
    ];
  }
  const items = splitUnion(inner, path);
  if (items.length === 1) {
    const only = items[0] as string | number;
    return [typeof only === 'number' ? { kind: 'index', index: only } : { kind: 'name', name: only }, next];
  }
  return [{ kind: 'union', items }, next];
}

function splitUnion(inner: string, path: string): (string | number)[] {
  const items: (string | number)[] = [];
  let k = 0;
  while (k < inner.length) {
    while (inner[k] === ' ') k++;
    const c = inner[k];
    if (c === "'" || c === '"') {
      let s = '';
      let m = k + 1;
      for (; m < inner.length && inner[m] !== c; m++) {
        if (inner[m] === '\\') m++;
        s += inner[m] ?? '';
      }
      if (m >= inner.length) throw new PathSyntaxError(`${JSON.stringify(path)}: unterminated string`);
      items.push(s);
      k = m + 1;
    } else {
      const m = inner.indexOf(',', k);
      const token = (m < 0 ? inner.slice(k) : inner.slice(k, m)).trim();
      if (!/^-?\d+$/.test(token)) throw new PathSyntaxError(`${JSON.stringify(path)}: ${JSON.stringify(token)} is not an index or a quoted name`);
      items.push(Number(token));
      k = m < 0 ? inner.length : m;
    }
    while (inner[k] === ' ') k++;
    if (k < inner.length) {
      if (inner[k] !== ',') throw new PathSyntaxError(`${JSON.stringify(path)}: expected , in [...]`);
      k++;
    }
  }
  return items;
}

/**
 * Whether `path` is a valid JSONPath (for definition validation); `variables: false` refuses `$name`
 * paths (ResultPath writes into the state's data, never into a variable).
 */
export function isValidPath(path: string, options: { reference?: boolean; context?: boolean; variables?: boolean } = {}): boolean {
  try {
    const parsed = parsePath(path);
    if (parsed.root === '$$' && options.context === false) return false;
    if (parsed.root === 'var' && options.variables === false) return false;
    return options.reference ? parsed.definite && !parsed.segments.some((s) => s.kind === 'length') : true;
  } catch {
    return false;
  }
}

/**
 * The value a path selects, or undefined when it selects nothing. An indefinite path returns the array
 * of matches (possibly empty), as AWS does.
 */
export function evaluatePath(path: string, data: Json, context: Json = null, variables: JsonObject = {}): Json | undefined {
  const parsed = parsePath(path);
  if (parsed.root === 'var' && !Object.hasOwn(variables, parsed.variable as string)) return undefined;
  const start = parsed.root === '$$' ? context : parsed.root === 'var' ? (variables[parsed.variable as string] as Json) : data;
  if (parsed.definite) {
    let node: Json | undefined = start;
    for (const seg of parsed.segments) {
      if (node === undefined) return undefined;
      node = step(node, seg)[0];
    }
    return node;
  }
  let nodes: Json[] = [start];
  for (const seg of parsed.segments) nodes = nodes.flatMap((n) => step(n, seg));
  return nodes;
}

function step(node: Json, seg: Segment): Json[] {
  switch (seg.kind) {
    case 'name':
      return isObject(node) && Object.hasOwn(node, seg.name) ? [node[seg.name] as Json] : [];
    case 'index': {
      if (!Array.isArray(node)) return [];
      const i = seg.index < 0 ? node.length + seg.index : seg.index;
      return i >= 0 && i < node.length ? [node[i] as Json] : [];
    }
    case 'wildcard':
      return Array.isArray(node) ? [...node] : isObject(node) ? Object.values(node) : [];
    case 'slice': {
      if (!Array.isArray(node)) return [];
      const n = node.length;
      const norm = (v: number | undefined, d: number) => (v === undefined ? d : v < 0 ? Math.max(0, n + v) : Math.min(v, n));
      const out: Json[] = [];
      if (seg.step > 0) for (let i = norm(seg.start, 0); i < norm(seg.end, n); i += seg.step) out.push(node[i] as Json);
      return out;
    }
    case 'union':
      return seg.items.flatMap((item) =>
        typeof item === 'number' ? step(node, { kind: 'index', index: item }) : step(node, { kind: 'name', name: item }),
      );
    case 'descend': {
      const out: Json[] = [];
      const visit = (n: Json) => {
        out.push(...step(n, seg.then));
        if (Array.isArray(n)) n.forEach(visit);
        else if (isObject(n)) Object.values(n).forEach(visit);
      };
      visit(node);
      return out;
    }
    case 'filter': {
      const items = Array.isArray(node) ? node : isObject(node) ? Object.values(node) : [];
      return items.filter((item) => evaluateFilter(seg.expr, item));
    }
    case 'length':
      return Array.isArray(node) ? [node.length] : typeof node === 'string' ? [node.length] : [];
  }
}

/** `@.price < 10`, `@.isbn`, `@.a == 'x' && @.b > 2`: comparisons of `@` paths with literals. */
function evaluateFilter(expr: string, item: Json): boolean {
  const ors = splitTop(expr, '||');
  if (ors.length > 1) return ors.some((e) => evaluateFilter(e, item));
  const ands = splitTop(expr, '&&');
  if (ands.length > 1) return ands.every((e) => evaluateFilter(e, item));
  const m = /^\s*(@[^<>=!\s]*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$/.exec(expr);
  if (!m) {
    const path = expr.trim();
    if (!path.startsWith('@')) throw new PathSyntaxError(`filter ${JSON.stringify(expr)} is not supported`);
    return evaluatePath('$' + path.slice(1), item) !== undefined;
  }
  const left = evaluatePath('$' + (m[1] as string).slice(1), item);
  const raw = m[3] as string;
  let right: Json;
  if (raw.startsWith("'") && raw.endsWith("'")) right = raw.slice(1, -1);
  else right = JSON.parse(raw) as Json;
  if (left === undefined) return false;
  switch (m[2]) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return typeof left === typeof right && (left as number) < (right as number);
    case '<=':
      return typeof left === typeof right && (left as number) <= (right as number);
    case '>':
      return typeof left === typeof right && (left as number) > (right as number);
    default:
      return typeof left === typeof right && (left as number) >= (right as number);
  }
}

function splitTop(expr: string, op: string): string[] {
  const parts: string[] = [];
  let quote = false;
  let last = 0;
  for (let i = 0; i < expr.length; i++) {
    if (expr[i] === "'") quote = !quote;
    else if (!quote && expr.startsWith(op, i)) {
      parts.push(expr.slice(last, i));
      last = i + op.length;
      i += op.length - 1;
    }
  }
  parts.push(expr.slice(last));
  return parts;
}

/**
 * ResultPath: a copy of `input` with `value` placed at the reference path (`$` replaces the whole input).
 * Fails with States.ResultPathMatchFailure when the path crosses a value that is not an object.
 */
export function setAtPath(input: Json, path: string, value: Json): Json {
  const parsed = parsePath(path);
  if (parsed.root !== '$' || !parsed.definite) throw new StatesError(StatesErrors.ResultPathMatchFailure, `${path} is not a reference path`);
  if (parsed.segments.length === 0) return value;
  const root: Json = isObject(input) || Array.isArray(input) ? structuredClone(input) : input;
  if (!isObject(root) && !Array.isArray(root))
    throw new StatesError(StatesErrors.ResultPathMatchFailure, `Unable to apply ResultPath ${path}: the state input is not an object`);
  let node: JsonObject | Json[] = root;
  const segs = parsed.segments;
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k] as Segment;
    const last = k === segs.length - 1;
    if (seg.kind === 'name' && isObject(node)) {
      if (last) node[seg.name] = value;
      else {
        const child: Json | undefined = node[seg.name];
        if (child === undefined || child === null) node[seg.name] = {};
        else if (!isObject(child) && !Array.isArray(child))
          throw new StatesError(StatesErrors.ResultPathMatchFailure, `Unable to apply ResultPath ${path}: ${seg.name} is not an object`);
        node = node[seg.name] as JsonObject | Json[];
      }
    } else if (seg.kind === 'index' && Array.isArray(node) && seg.index >= 0 && seg.index < node.length) {
      if (last) node[seg.index] = value;
      else {
        const child = node[seg.index];
        if (!isObject(child) && !Array.isArray(child))
          throw new StatesError(StatesErrors.ResultPathMatchFailure, `Unable to apply ResultPath ${path}`);
        node = child;
      }
    } else throw new StatesError(StatesErrors.ResultPathMatchFailure, `Unable to apply ResultPath ${path} to the state input`);
  }
  return root;
}
