/** The native API's contract for /v1/functions and /v1/triggers (see docs/http-api.md). */
import { z } from 'zod';
import { queueGroupActivityView } from './groups.js';

export const functionRequests = {
  invoke: z.strictObject({
    /** The event handed to the handler. */
    payload: z.unknown().optional(),
    /** RequestResponse (default) waits for the result; Event queues the invocation and answers 202. */
    invocationType: z.enum(['RequestResponse', 'Event']).optional(),
  }),
} as const;

export const triggerRequests = {
  listQuery: z.strictObject({ queue: z.string().optional(), function: z.string().optional() }),
  update: z.strictObject({
    enabled: z.boolean().optional(),
    batchSize: z.number().int().optional(),
    maximumBatchingWindowInSeconds: z.number().int().optional(),
    /** null removes the limit. */
    maximumConcurrency: z.number().int().nullable().optional(),
    /**
     * A trigger a node's config file declares is managed by that file, on every node that loads it: the
     * API refuses to change it unless asked to change it on this node only, until its restart (an
     * operator's pause).
     */
    thisNodeOnly: z.boolean().optional(),
  }),
} as const;

const functionMetrics = z.object({
  invocations: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  throttles: z.number(),
  concurrentExecutions: z.number(),
  peakConcurrentExecutions: z.number(),
  durationP50Ms: z.number(),
  durationP99Ms: z.number(),
});

export const functionView = z.object({
  name: z.string(),
  arn: z.string(),
  handler: z.string(),
  timeout: z.number(),
  memorySize: z.number(),
  reservedConcurrency: z.number().nullable(),
  execution: z.enum(['worker', 'in-process']),
  /** Published version numbers (each invocable as `name:N`), when the function has any. */
  versions: z.array(z.string()).optional(),
  /** Alias names (each invocable as `name:alias`), when the function has any. */
  aliases: z.array(z.string()).optional(),
});

export const triggerView = z.object({
  uuid: z.string(),
  eventSourceArn: z.string(),
  queue: z.string(),
  functionName: z.string(),
  batchSize: z.number(),
  maximumBatchingWindowInSeconds: z.number(),
  scalingConfig: z.object({ maximumConcurrency: z.number().optional() }),
  state: z.enum(['Enabled', 'Disabled']),
  stateTransitionReason: z.string(),
  lastProcessingResult: z.string(),
});

const triggerMetrics = z.object({
  batches: z.number(),
  records: z.number(),
  failedBatches: z.number(),
  failedRecords: z.number(),
  filteredRecords: z.number(),
  lagMs: z.number(),
  maxLagMs: z.number(),
  activeBatches: z.number(),
  peakActiveBatches: z.number(),
  pollers: z.number(),
});

export const functionResponses = {
  list: z.object({ functions: z.array(functionView) }),
  detail: z.object({ function: functionView, metrics: functionMetrics }),
  invoked: z.object({ statusCode: z.literal(200), executedVersion: z.string(), payload: z.unknown(), functionError: z.string().optional() }),
  accepted: z.object({ statusCode: z.literal(202), requestId: z.string() }),
} as const;

export const triggerResponses = {
  list: z.object({ triggers: z.array(triggerView) }),
  detail: z.object({ trigger: triggerView, metrics: triggerMetrics }),
  updated: z.object({ trigger: triggerView }),
} as const;

export const metricsResponse = z.object({
  queues: z.array(z.object({ name: z.string(), visible: z.number(), inFlight: z.number(), delayed: z.number(), oldestAgeSeconds: z.number() })),
  /** Each function once, with its $LATEST's figures; its versions and aliases nested, each with its own (`version`: the number or the alias's name). */
  functions: z.array(functionMetrics.extend({ name: z.string(), versions: z.array(functionMetrics.extend({ version: z.string() })).optional() })),
  triggers: z.array(triggerMetrics.extend({ uuid: z.string(), queue: z.string(), functionName: z.string(), state: z.string() })),
  /** Grouped queues with trigger activity on this node: totals and the busiest recent groups. */
  groups: z.array(queueGroupActivityView),
});
