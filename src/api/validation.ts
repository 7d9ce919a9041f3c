/**
 * Request validation shared by every route: a zod schema checks the shape and types of the input before
 * any work is done, and its first complaint becomes a SluiceError naming the field by its path
 * (`Entries[2].MessageBody`). A missing field is MissingParameter; anything else InvalidParameterValue.
 */
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

/** Parses a JSON request body, refusing anything that is not a JSON object. */
export function parseJsonObject(raw: Buffer | undefined, options: { allowEmpty: boolean }): Record<string, unknown> {
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
  return value as Record<string, unknown>;
}
