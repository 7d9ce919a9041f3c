/**
 * Validates a stream trigger against Lambda's rules for DynamoDB Streams event source mappings: batch
 * size 1-10,000 (default 100), batching window 0-300 s, parallelization factor 1-10, retries -1..10,000,
 * record age -1 or 60-604,800 s, tumbling window 0-900 s, a queue or function as onFailure destination.
 */
import { invalidValue } from '../../model/errors.js';
import { destinationOf } from '../../functions/destination.js';
import { parseFilterCriteria } from '../filter/filter-criteria.js';
import type {
  StartingPosition,
  StreamTriggerConfig,
  StreamTriggerInput,
  StreamTriggerUpdate,
} from './stream-types.js';

export const streamTriggerLimits = {
  defaultBatchSize: 100,
  maxBatchSize: 10_000,
  maxWindowSeconds: 300,
  maxParallelizationFactor: 10,
  maxRetryAttempts: 10_000,
  minRecordAgeSeconds: 60,
  maxRecordAgeSeconds: 604_800,
  maxTumblingWindowSeconds: 900,
  /** Lambda cuts a batch at 6 MB of payload. */
  maxBatchBytes: 6 * 1024 * 1024,
} as const;

const startingPositions: readonly string[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidValue(
      field,
      `${JSON.stringify(value)} is invalid; must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function booleanOf(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidValue(field, 'must be true or false');
  return value;
}

function recordAge(value: unknown): number {
  const age = integerIn('MaximumRecordAgeInSeconds', value, -1, streamTriggerLimits.maxRecordAgeSeconds);
  if (age !== -1 && age < streamTriggerLimits.minRecordAgeSeconds) {
    throw invalidValue(
      'MaximumRecordAgeInSeconds',
      `${age} is invalid; must be -1 or from 60 to ${streamTriggerLimits.maxRecordAgeSeconds}`,
    );
  }
  return age;
}

function onFailureOf(
  config: StreamTriggerInput['destinationConfig'],
  previous: string | null,
): string | null {
  if (config === undefined) return previous;
  const destination = config?.onFailure?.destination;
  if (destination === undefined || destination === null) return null;
  if (typeof destination !== 'string' || !destinationOf(destination)) {
    throw invalidValue(
      'DestinationConfig.OnFailure.Destination',
      `${JSON.stringify(destination)} is not the ARN of a queue or a function`,
    );
  }
  return destination;
}

/** Applies `input` over `previous` (or the defaults) and checks the result. */
export function buildStreamTriggerConfig(params: {
  uuid: string;
  tableName: string;
  input: StreamTriggerInput | StreamTriggerUpdate;
  previous?: StreamTriggerConfig;
  now: number;
}): StreamTriggerConfig {
  const { input, previous } = params;
  const functionName = input.functionName ?? previous?.functionName;
  if (typeof functionName !== 'string' || functionName.length === 0)
    throw invalidValue('FunctionName', 'is required');
  const creating = 'startingPosition' in input ? input : undefined;
  const startingPosition = (creating?.startingPosition ?? previous?.startingPosition) as
    StartingPosition | undefined;
  if (typeof startingPosition !== 'string' || !startingPositions.includes(startingPosition)) {
    throw invalidValue(
      'StartingPosition',
      `${JSON.stringify(startingPosition)} is invalid; must be TRIM_HORIZON, LATEST or AT_TIMESTAMP`,
    );
  }
  let startingPositionTimestamp = previous?.startingPositionTimestamp ?? null;
  if (creating) {
    startingPositionTimestamp = creating.startingPositionTimestamp ?? null;
    if (
      startingPosition === 'AT_TIMESTAMP' &&
      (typeof startingPositionTimestamp !== 'number' || !Number.isFinite(startingPositionTimestamp))
    ) {
      throw invalidValue('StartingPositionTimestamp', 'is required with AT_TIMESTAMP: epoch seconds');
    }
  }
  const pick = <K extends keyof StreamTriggerUpdate>(key: K, fallback: NonNullable<StreamTriggerUpdate[K]>) =>
    input[key] ?? previous?.[key as keyof StreamTriggerConfig] ?? fallback;
  let reportBatchItemFailures = previous?.reportBatchItemFailures ?? false;
  if (input.functionResponseTypes !== undefined) {
    const types = input.functionResponseTypes;
    if (!Array.isArray(types) || types.some((t) => t !== 'ReportBatchItemFailures')) {
      throw invalidValue('FunctionResponseTypes', "must be a list holding at most 'ReportBatchItemFailures'");
    }
    reportBatchItemFailures = types.length > 0;
  }
  let filterCriteria = previous?.filterCriteria ?? null;
  if (input.filterCriteria !== undefined) {
    const parsed = parseFilterCriteria(input.filterCriteria, { source: 'dynamodb' });
    filterCriteria = parsed.Filters.length === 0 ? null : parsed;
  }
  return {
    uuid: params.uuid,
    tableName: params.tableName,
    functionName,
    startingPosition,
    startingPositionTimestamp,
    batchSize: integerIn(
      'BatchSize',
      pick('batchSize', streamTriggerLimits.defaultBatchSize),
      1,
      streamTriggerLimits.maxBatchSize,
    ),
    maximumBatchingWindowInSeconds: integerIn(
      'MaximumBatchingWindowInSeconds',
      pick('maximumBatchingWindowInSeconds', 0),
      0,
      streamTriggerLimits.maxWindowSeconds,
    ),
    parallelizationFactor: integerIn(
      'ParallelizationFactor',
      pick('parallelizationFactor', 1),
      1,
      streamTriggerLimits.maxParallelizationFactor,
    ),
    bisectBatchOnFunctionError: booleanOf(
      'BisectBatchOnFunctionError',
      pick('bisectBatchOnFunctionError', false),
    ),
    maximumRetryAttempts: integerIn(
      'MaximumRetryAttempts',
      pick('maximumRetryAttempts', -1),
      -1,
      streamTriggerLimits.maxRetryAttempts,
    ),
    maximumRecordAgeInSeconds: recordAge(pick('maximumRecordAgeInSeconds', -1)),
    onFailure: onFailureOf(input.destinationConfig, previous?.onFailure ?? null),
    reportBatchItemFailures,
    filterCriteria,
    tumblingWindowInSeconds: integerIn(
      'TumblingWindowInSeconds',
      pick('tumblingWindowInSeconds', 0),
      0,
      streamTriggerLimits.maxTumblingWindowSeconds,
    ),
    enabled: booleanOf('Enabled', pick('enabled', true)),
    lastModified: params.now,
  };
}
