/**
 * Validates a trigger against Lambda's rules for SQS event source mappings: batch size 1-10,000 (10 on
 * FIFO), a batching window of at least 1 second above 10, no window on FIFO, maximum concurrency
 * 2-1,000, the filter grammar, and a queue visibility timeout no shorter than the function's timeout.
 */
import { formatGroupKeyRule, parseGroupKeyRule } from '../limits/group-key.js';
import { invalidValue } from '../model/errors.js';
import type { StoredQueue } from '../store/queue-store.js';
import { parseFilterCriteria } from './filter/filter-criteria.js';
import type { TriggerConfig, TriggerInput, TriggerUpdate } from './types.js';

export const triggerLimits = {
  defaultBatchSize: 10,
  maxBatchSize: 10_000,
  maxFifoBatchSize: 10,
  maxBatchSizeWithoutWindow: 10,
  maxWindowSeconds: 300,
  minMaximumConcurrency: 2,
  maxMaximumConcurrency: 1000,
  /** Lambda cuts a batch at 6 MB of payload. */
  maxBatchBytes: 6 * 1024 * 1024,
} as const;

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidValue(
      field,
      `${JSON.stringify(value)} is invalid; must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/** Applies `input` over `previous` (or the defaults) and checks the result as a whole. */
export function buildTriggerConfig(params: {
  uuid: string;
  queue: StoredQueue;
  input: TriggerInput | TriggerUpdate;
  previous?: TriggerConfig;
  functionTimeoutSeconds: number;
  now: number;
}): TriggerConfig {
  const { input, previous, queue } = params;
  const functionName = input.functionName ?? previous?.functionName;
  if (typeof functionName !== 'string' || functionName.length === 0)
    throw invalidValue('FunctionName', 'is required');
  const batchSize = integerIn(
    'BatchSize',
    input.batchSize ?? previous?.batchSize ?? triggerLimits.defaultBatchSize,
    1,
    triggerLimits.maxBatchSize,
  );
  const window = integerIn(
    'MaximumBatchingWindowInSeconds',
    input.maximumBatchingWindowInSeconds ?? previous?.maximumBatchingWindowInSeconds ?? 0,
    0,
    triggerLimits.maxWindowSeconds,
  );
  if (queue.fifo && batchSize > triggerLimits.maxFifoBatchSize) {
    throw invalidValue(
      'BatchSize',
      `${batchSize} is invalid for the FIFO queue ${queue.name}; must be from 1 to ${triggerLimits.maxFifoBatchSize}`,
    );
  }
  if (queue.fifo && window > 0) {
    throw invalidValue(
      'MaximumBatchingWindowInSeconds',
      `a batching window is not supported for the FIFO queue ${queue.name}; must be 0`,
    );
  }
  let groupBy = previous?.groupBy ?? null;
  if (input.groupBy !== undefined) {
    groupBy = input.groupBy === null ? null : formatGroupKeyRule(parseGroupKeyRule(input.groupBy, 'GroupBy'));
  }
  if (groupBy !== null && queue.fifo) {
    throw invalidValue('GroupBy', `group limits apply to standard queues; the FIFO queue ${queue.name} already serves one batch per message group at a time`);
  }
  if (groupBy !== null && window > 0) {
    // Messages held in a window would keep their groups' slots and rate tokens idle, and start late.
    throw invalidValue('MaximumBatchingWindowInSeconds', 'a batching window is not supported with GroupBy (group limits); must be 0');
  }
  if (groupBy === null && batchSize > triggerLimits.maxBatchSizeWithoutWindow && window < 1) {
    throw invalidValue(
      'MaximumBatchingWindowInSeconds',
      `must be at least 1 when BatchSize is above ${triggerLimits.maxBatchSizeWithoutWindow} (BatchSize is ${batchSize})`,
    );
  }
  let maximumConcurrency = previous?.maximumConcurrency ?? null;
  if (input.scalingConfig !== undefined) {
    const value = input.scalingConfig?.maximumConcurrency;
    maximumConcurrency =
      value === undefined
        ? null
        : integerIn(
            'ScalingConfig.MaximumConcurrency',
            value,
            triggerLimits.minMaximumConcurrency,
            triggerLimits.maxMaximumConcurrency,
          );
  }
  const enabled = input.enabled ?? previous?.enabled ?? true;
  if (typeof enabled !== 'boolean') throw invalidValue('Enabled', 'must be true or false');
  let filterCriteria = previous?.filterCriteria ?? null;
  if (input.filterCriteria !== undefined) {
    const parsed = parseFilterCriteria(input.filterCriteria, { source: 'sqs' });
    filterCriteria = parsed.Filters.length === 0 ? null : parsed;
  }
  let reportBatchItemFailures = previous?.reportBatchItemFailures ?? false;
  if (input.functionResponseTypes !== undefined) {
    const types = input.functionResponseTypes;
    if (!Array.isArray(types) || types.some((t) => t !== 'ReportBatchItemFailures')) {
      throw invalidValue('FunctionResponseTypes', "must be a list holding at most 'ReportBatchItemFailures'");
    }
    reportBatchItemFailures = types.length > 0;
  }
  const visibility = queue.settings.VisibilityTimeout;
  if (visibility < params.functionTimeoutSeconds) {
    throw invalidValue(
      'FunctionName',
      `Queue visibility timeout: ${visibility} seconds is less than Function timeout: ${params.functionTimeoutSeconds} seconds`,
    );
  }
  return {
    uuid: params.uuid,
    queueName: queue.name,
    functionName,
    batchSize,
    maximumBatchingWindowInSeconds: window,
    maximumConcurrency,
    enabled,
    filterCriteria,
    reportBatchItemFailures,
    groupBy,
    lastModified: params.now,
  };
}
