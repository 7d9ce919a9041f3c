/**
 * The SQS event source mapping, in Lambda's words, under the name Sluice gives it: a trigger reads a
 * queue in batches and invokes a function with each batch.
 */
import type { FilterCriteria } from './filter/filter-criteria.js';

export type FunctionResponseType = 'ReportBatchItemFailures';

export interface TriggerInput {
  /** The mapping's UUID; default a new one. The catalog passes its own, so every node runs it under one UUID. */
  uuid?: string;
  /** The queue's name or ARN. */
  queue: string;
  functionName: string;
  /** 1-10,000 (10 for FIFO queues), default 10; above 10 needs a batching window of at least 1 second. */
  batchSize?: number;
  /** 0-300 seconds, default 0; not supported on FIFO queues. */
  maximumBatchingWindowInSeconds?: number;
  /** maximumConcurrency 2-1,000: the most concurrent invocations this trigger may cause. */
  scalingConfig?: { maximumConcurrency?: number } | null;
  /** Default true. */
  enabled?: boolean;
  /** Lambda's filter syntax; a message that matches no filter is deleted without an invocation. */
  filterCriteria?: FilterCriteria | null;
  functionResponseTypes?: FunctionResponseType[];
  /**
   * Sluice's extension: run the queue's messages within per-group limits (`sluice.groupLimits`), grouped
   * by `MessageGroupId`, `attribute:<name>` or `body:<dot.path>`. Sets the queue's grouping rule
   * (`SluiceGroupKey`); every trigger of one queue must agree. Standard queues only, without a batching
   * window; BatchSize may then go up to 10,000 without one.
   */
  groupBy?: string | null;
}

/** What can change on a trigger; its queue cannot, as in Lambda. */
export type TriggerUpdate = Partial<Omit<TriggerInput, 'queue' | 'uuid'>>;

/** A trigger's settings after validation, with defaults applied. */
export interface TriggerConfig {
  uuid: string;
  queueName: string;
  functionName: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  maximumConcurrency: number | null;
  enabled: boolean;
  filterCriteria: FilterCriteria | null;
  reportBatchItemFailures: boolean;
  groupBy: string | null;
  lastModified: number;
}

export interface TriggerView {
  uuid: string;
  eventSourceArn: string;
  queue: string;
  functionName: string;
  functionArn: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  scalingConfig: { maximumConcurrency?: number };
  filterCriteria: FilterCriteria | null;
  functionResponseTypes: FunctionResponseType[];
  /** The grouping rule this trigger set on its queue, or null. */
  groupBy: string | null;
  state: 'Enabled' | 'Disabled';
  /** Why the trigger is not polling although enabled (its queue or function is missing), if it is not. */
  stateTransitionReason: string;
  lastModified: number;
  lastProcessingResult: 'No records processed' | 'OK' | 'PROBLEM: Function call failed';
}

export interface TriggerMetricsView {
  /** Invocations of the function. */
  batches: number;
  /** Records handed to the function. */
  records: number;
  /** Invocations that failed as a whole (error, timeout, invalid batch response). */
  failedBatches: number;
  /** Records that went back to the queue: every record of a failed batch, or those reported failed. */
  failedRecords: number;
  /** Records that matched no filter and were deleted without an invocation. */
  filteredRecords: number;
  /** Age of the oldest record of the latest batch when it was handed to the function, in ms. */
  lagMs: number;
  maxLagMs: number;
  /** Invocations under way now, and the most there have been at once. */
  activeBatches: number;
  peakActiveBatches: number;
  /** Pollers (each holding a concurrency slot) now. */
  pollers: number;
}
