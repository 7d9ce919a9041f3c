/**
 * `functions:` in the config file: each function by name, with a handler module path relative to the
 * config file (`./handlers/orders.ts#handler`) or, in a TypeScript/JavaScript config, a handler value.
 */
import { z } from 'zod';
import { functionLimits as limits } from '../../functions/definition.js';
import type { FunctionHandler } from '../../functions/types.js';
import { functionNameKey, oneOf, queueNameKey, rangedInteger, stringMap } from '../rules.js';

const destination = z.union([z.strictObject({ queue: queueNameKey }), z.strictObject({ function: functionNameKey })]);

export const functionConfigSchema = z.strictObject({
  handler: z.union([
    z.string().min(1, { error: 'a module path such as ./handlers/orders.ts#handler' }),
    z.custom<FunctionHandler<never, unknown>>((value) => typeof value === 'function', { error: 'must be a module path or a function' }),
  ]),
  timeout: rangedInteger({ min: limits.minTimeout, max: limits.maxTimeout, unit: 'seconds' }).optional(),
  memorySize: rangedInteger({ min: limits.minMemory, max: limits.maxMemory, unit: 'MB' }).optional(),
  /** The most concurrent executions of this function; 0 disables it. */
  reservedConcurrency: rangedInteger({ min: 0, max: limits.defaultAccountConcurrency, unit: 'executions' }).nullable().optional(),
  environment: stringMap.optional(),
  execution: oneOf(['worker', 'in-process'] as const).optional(),
  async: z
    .strictObject({
      maximumRetryAttempts: rangedInteger({ min: 0, max: limits.maxRetryAttempts, unit: 'retries' }).optional(),
      maximumEventAgeInSeconds: rangedInteger({ min: limits.minEventAge, max: limits.maxEventAge, unit: 'seconds' }).optional(),
      onSuccess: destination.optional(),
      onFailure: destination.optional(),
    })
    .optional(),
});

export type FunctionConfig = z.output<typeof functionConfigSchema>;
export type DestinationConfig = z.output<typeof destination>;

export const functionsSchema = z.record(functionNameKey, functionConfigSchema);
