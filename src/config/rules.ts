/**
 * Building blocks for the config schema: integers with a range whose message states the range and the
 * value given, so a bad config says what is allowed, and name patterns shared with the services.
 */
import { z } from 'zod';

export function rangedInteger(params: { min: number; max: number; unit: string }) {
  const message = (issue: { input?: unknown }) =>
    `must be an integer from ${params.min} to ${params.max} ${params.unit} (got ${JSON.stringify(issue.input)})`;
  return z
    .number({ error: message })
    .refine((value) => Number.isInteger(value) && value >= params.min && value <= params.max, { error: message });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (issue) => `must be one of ${values.join(', ')} (got ${JSON.stringify(issue.input)})` });
}

export const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }));

/** SQS's queue names: 1-80 letters, digits, '-' and '_', FIFO queues ending in '.fifo'. */
export const queueNameKey = z
  .string()
  .regex(/^(?=.{1,80}$)[A-Za-z0-9_-]+(\.fifo)?$/, { error: "a queue name must be 1-80 letters, digits, '-' or '_' (FIFO queues end in '.fifo')" });

export const functionNameKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "a function name must be 1-64 letters, digits, '-' or '_'" });

export const tableNameKey = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: "a table name must be 3-255 letters, digits, '_', '-' or '.'" });
