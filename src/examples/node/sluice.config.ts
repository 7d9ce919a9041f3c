/**
 * The config `npm run demo` starts a node with: the patterns of the documents Sluice was started from
 * (../shared/seeds), declared instead of built by hand.
 * - seed 000, SQS > Lambda: `orders` feeds `processOrder` in batches, partial failures retried, a
 *   poison message moved to `orders-dlq` after 3 receives; `tasks.fifo` keeps each group in order.
 * - seed 000, DynamoDB > stream > Lambda: changes to the `jobs` table reach `onJobChange` in order per
 *   partition key, 4 keys at a time per shard; records given up on are reported to `jobs-failed`.
 * - seed 001, callback tokens: a workflow step puts a task token on `approvals` and waits; a worker
 *   answers with SendTaskSuccess (the demo uses @aws-sdk/client-sfn).
 * - seed 004, scheduled work: `hourly-report` fires on a schedule into the `reports` queue.
 */
import type { SluiceConfigInput } from '../../config/schema.js';

export default {
  queues: {
    'orders-dlq': { messageRetentionPeriod: 1_209_600 },
    // Short visibility so the demo's poison message reaches the dead-letter queue within seconds.
    orders: { visibilityTimeout: 2, deadLetter: { queue: 'orders-dlq', maxReceiveCount: 3 }, tags: { pattern: 'seed-000' } },
    'tasks.fifo': { contentBasedDeduplication: true, visibilityTimeout: 10 },
    'jobs-failed': {},
    approvals: { visibilityTimeout: 60 },
    reports: {},
  },
  tables: {
    jobs: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'step', type: 'N' }, stream: 'NEW_IMAGE' },
  },
  functions: {
    processOrder: { handler: './handlers/orders.ts#processOrder', timeout: 2, reservedConcurrency: 5, execution: 'in-process' },
    processTask: { handler: './handlers/tasks.ts#processTask', timeout: 5, execution: 'in-process' },
    onJobChange: { handler: './handlers/jobs.ts#onJobChange', timeout: 5, execution: 'in-process' },
  },
  triggers: [
    { queue: 'orders', function: 'processOrder', batchSize: 5, reportBatchItemFailures: true, maximumConcurrency: 5 },
    { queue: 'tasks.fifo', function: 'processTask', batchSize: 1 },
  ],
  streamTriggers: [
    { table: 'jobs', function: 'onJobChange', batchSize: 10, parallelizationFactor: 4, maximumRetryAttempts: 2, onFailure: { queue: 'jobs-failed' } },
  ],
  schedules: {
    'hourly-report': { expression: 'rate(1 hour)', target: { queue: 'reports', body: '{"report":"hourly"}' } },
  },
} satisfies SluiceConfigInput;
