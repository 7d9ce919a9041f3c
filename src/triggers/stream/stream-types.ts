/**
 * The DynamoDB Streams event source mapping, in Lambda's words: a stream trigger reads a table's change
 * stream shard by shard and invokes a function with batches of records, in order per partition key.
 */
import type { FilterCriteria } from '../filter/filter-criteria.js';
import type { FunctionResponseType } from '../types.js';

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

export interface StreamTriggerInput {
  /** The mapping's UUID; default a new one. The catalog passes its own, so every node runs it under one UUID. */
  uuid?: string;
  /** The stream's ARN, or the table's name. */
  stream: string;
  functionName: string;
  startingPosition: StartingPosition;
  /** Epoch seconds; required with AT_TIMESTAMP (a Sluice extension: DynamoDB streams lack it). */
  startingPositionTimestamp?: number;
  /** 1-10,000, default 100. */
  batchSize?: number;
  /** 0-300, default 0. */
  maximumBatchingWindowInSeconds?: number;
  /** 1-10, default 1: concurrent batches per shard; one partition key is never in two at once. */
  parallelizationFactor?: number;
  bisectBatchOnFunctionError?: boolean;
  /** -1 (retry until the record expires, the default) to 10,000. */
  maximumRetryAttempts?: number;
  /** -1 (no limit, the default) or 60-604,800. */
  maximumRecordAgeInSeconds?: number;
  /** Where records that were given up on are reported: a queue's or a function's ARN. */
  destinationConfig?: { onFailure?: { destination: string } | null } | null;
  functionResponseTypes?: FunctionResponseType[];
  filterCriteria?: FilterCriteria | null;
  /** 0-900; 0 (the default) turns tumbling windows off. */
  tumblingWindowInSeconds?: number;
  /** Default true. */
  enabled?: boolean;
}

/** What can change on a stream trigger; its stream and starting position cannot, as in Lambda. */
export type StreamTriggerUpdate = Partial<
  Omit<StreamTriggerInput, 'uuid' | 'stream' | 'startingPosition' | 'startingPositionTimestamp'>
>;

export interface StreamTriggerConfig {
  uuid: string;
  tableName: string;
  functionName: string;
  startingPosition: StartingPosition;
  startingPositionTimestamp: number | null;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  parallelizationFactor: number;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  maximumRecordAgeInSeconds: number;
  onFailure: string | null;
  reportBatchItemFailures: boolean;
  filterCriteria: FilterCriteria | null;
  tumblingWindowInSeconds: number;
  enabled: boolean;
  lastModified: number;
}

export interface StreamTriggerView {
  uuid: string;
  eventSourceArn: string;
  functionName: string;
  functionArn: string;
  startingPosition: StartingPosition;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  parallelizationFactor: number;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  maximumRecordAgeInSeconds: number;
  destinationConfig: { onFailure?: { destination: string } };
  functionResponseTypes: FunctionResponseType[];
  filterCriteria: FilterCriteria | null;
  tumblingWindowInSeconds: number;
  state: 'Enabled' | 'Disabled';
  stateTransitionReason: string;
  lastModified: number;
  lastProcessingResult: 'No records processed' | 'OK' | 'PROBLEM: Function call failed';
}

export interface StreamTriggerMetricsView {
  /** Invocations of the function. */
  batches: number;
  /** Records handed to the function (a retried record counts each time). */
  records: number;
  failedBatches: number;
  /** Invocations that repeated records after a failure (retries, bisected halves, partial failures). */
  retries: number;
  /** Records that matched no filter and were skipped without an invocation. */
  filteredRecords: number;
  /** Records given up on and reported to the onFailure destination (or dropped when there is none). */
  discardedRecords: number;
  /** Age of the newest record of the latest batch when it was handed to the function, in ms. */
  iteratorAgeMs: number;
  activeBatches: number;
  peakActiveBatches: number;
}
