/**
 * `triggers:` in the config file: each reads a queue of the config in batches and invokes a function of
 * the config (Lambda's SQS event source mapping). A queue and function pair names one trigger.
 */
import { z } from 'zod';
import { triggerLimits as limits } from '../../triggers/definition.js';
import { functionNameKey, queueNameKey, rangedInteger } from '../rules.js';

export const triggerConfigSchema = z.strictObject({
  queue: queueNameKey,
  function: functionNameKey,
  batchSize: rangedInteger({ min: 1, max: limits.maxBatchSize, unit: 'messages' }).optional(),
  maximumBatchingWindowInSeconds: rangedInteger({ min: 0, max: limits.maxWindowSeconds, unit: 'seconds' }).optional(),
  maximumConcurrency: rangedInteger({ min: limits.minMaximumConcurrency, max: limits.maxMaximumConcurrency, unit: 'invocations' }).optional(),
  /** The handler returns `{ batchItemFailures }` and only those messages are retried. */
  reportBatchItemFailures: z.boolean().optional(),
  /** Lambda's filter patterns (objects or JSON text); a message matching none is deleted unprocessed. */
  filters: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
  enabled: z.boolean().optional(),
  /** Run the queue within group limits (see groups:), grouped by 'MessageGroupId', 'attribute:<name>' or 'body:<dot.path>'. */
  groupBy: z.string().min(1).optional(),
});

export type TriggerConfigEntry = z.output<typeof triggerConfigSchema>;

export const triggersSchema = z.array(triggerConfigSchema);
