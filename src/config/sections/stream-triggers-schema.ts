/**
 * `streamTriggers:` in the config file: each reads a table's change stream (declared in the same file)
 * and invokes a function with batches of records (Lambda's DynamoDB Streams event source mapping). A
 * table and function pair names one stream trigger.
 */
import { z } from 'zod';
import { streamTriggerLimits as limits } from '../../triggers/stream/stream-definition.js';
import { functionNameKey, oneOf, queueNameKey, rangedInteger, tableNameKey } from '../rules.js';

export const streamTriggerConfigSchema = z.strictObject({
  table: tableNameKey,
  function: functionNameKey,
  /** Fixed once the trigger exists, as in Lambda. */
  startingPosition: oneOf(['TRIM_HORIZON', 'LATEST'] as const).optional(),
  batchSize: rangedInteger({ min: 1, max: limits.maxBatchSize, unit: 'records' }).optional(),
  maximumBatchingWindowInSeconds: rangedInteger({ min: 0, max: limits.maxWindowSeconds, unit: 'seconds' }).optional(),
  parallelizationFactor: rangedInteger({ min: 1, max: limits.maxParallelizationFactor, unit: 'batches per shard' }).optional(),
  bisectBatchOnFunctionError: z.boolean().optional(),
  /** -1 retries until the record expires. */
  maximumRetryAttempts: rangedInteger({ min: -1, max: limits.maxRetryAttempts, unit: 'retries (-1: until the record expires)' }).optional(),
  /** Where records given up on are reported. */
  onFailure: z.union([z.strictObject({ queue: queueNameKey }), z.strictObject({ function: functionNameKey })]).optional(),
  reportBatchItemFailures: z.boolean().optional(),
  filters: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
  enabled: z.boolean().optional(),
});

export type StreamTriggerConfigEntry = z.output<typeof streamTriggerConfigSchema>;

export const streamTriggersSchema = z.array(streamTriggerConfigSchema);
