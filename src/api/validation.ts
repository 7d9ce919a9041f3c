/**
 * Request validation shared by every route: a zod schema checks the shape and types of the input before
 * any work is done, and its first complaint becomes a SluiceError naming the field by its path
 * (`Entries[2].MessageBody`). A missing field is MissingParameter; anything else InvalidParameterValue.
 */
import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import { SluiceError } from '../model/errors.js';

export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath(issue.path);
  const field = prefix && path ? `${prefix}.${path}` : prefix || path || 'body';
  if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(input, issue.path) === undefined) {
    throw new SluiceError('MissingParameter', `${field}: the request must contain this parameter`, { field });
  }
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.slice(0, 5).map((key) => `'${key.slice(0, 60)}'`).join(', ');
    throw new SluiceError('InvalidParameterValue', `${field}: unknown field(s) ${keys}`, { field });
  }
  throw new SluiceError('InvalidParameterValue', `${field}: ${issue.message}`, { field });
}

/** How deep `findProtoKey` looks; request inputs nest a few levels (Entries[i].MessageAttributes.name). */
const MAX_KEY_SCAN_DEPTH = 64;

/**
 * The path of the first member named `__proto__` in a parsed body, if any. JSON.parse makes it an ordinary
 * member, but every later copy into a plain object (zod's records included) drops it or swaps the copy's
 * prototype: a tag or message attribute of that name would be lost without a word, so it is refused.
 */
export function findProtoKey(value: unknown, path = '', depth = 0): string | undefined {
  if (value === null || typeof value !== 'object' || depth > MAX_KEY_SCAN_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProtoKey(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (key === '__proto__') return at;
    const found = findProtoKey((value as Record<string, unknown>)[key], at, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Refuses an input holding a member named `__proto__` (see findProtoKey), naming where it is. */
export function refuseProtoKeys(value: unknown): void {
  const field = findProtoKey(value);
  if (field !== undefined) {
    throw new SluiceError('InvalidParameterValue', `${field.slice(0, 200)}: '__proto__' is reserved and cannot be used as a name`, { field });
  }
}

/**
 * Parses a JSON request body, refusing anything that is not a JSON object. Bytes that are not UTF-8 are
 * refused (InvalidMessageContents) rather than decoded as U+FFFD, which would store something the client
 * never sent.
 */
export function parseJsonObject(
  raw: Buffer | undefined,
  options: { allowEmpty: boolean; /** The caller refused bytes that are not UTF-8 already. */ utf8Checked?: boolean },
): Record<string, unknown> {
  if (raw !== undefined && options.utf8Checked !== true && !isUtf8(raw)) {
    throw new SluiceError('InvalidMessageContents', 'body: the request body is not valid UTF-8', { field: 'body' });
  }
  const text = raw?.toString('utf8') ?? '';
  if (text.trim() === '') {
    if (options.allowEmpty) return {};
    throw new SluiceError('SerializationException', 'The request body is empty; expected a JSON object.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SluiceError('SerializationException', 'The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SluiceError('SerializationException', 'The request body must be a JSON object.');
  }
  // A member decodes to `__proto__` only if the text spells it out or uses a \u escape (JSON's other
  // escapes make no letter or underscore): without either, the walk over every member can be skipped.
  if (text.includes('__proto__') || text.includes('\\u')) refuseProtoKeys(value);
  return value as Record<string, unknown>;
}
