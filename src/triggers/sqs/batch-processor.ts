/**
 * Runs one collected batch: drop the messages no filter matches, invoke the function with the rest as an
 * SQSEvent, judge the outcome, and delete in one store call everything that is done. A failed batch is
 * left alone: its messages come back when their visibility timeout ends, and the queue's redrive policy
 * takes them to the dead-letter queue after maxReceiveCount receives.
 */
import type { SQSRecord } from 'aws-lambda';
import type { ExecutionContext } from '../../functions/service.js';
import type { Execution } from '../../functions/types.js';
import type { EngineEvents } from '../../observability/events.js';
import type { ReceiptRef } from '../../store/queue-store.js';
import type { CollectedBatch } from './batch-collector.js';
import { judgeBatchResponse, type BatchVerdict } from '../batch-response.js';
import type { RecordMatcher } from '../filter/filter-criteria.js';
import type { TriggerMetrics } from './metrics.js';
import type { SqsSource } from './sqs-source.js';
import { toSqsRecord, type RecordSource } from './sqs-record.js';

export interface BatchOutcome {
  invoked: boolean;
  verdict: BatchVerdict;
}

interface BatchParams {
  batch: CollectedBatch;
  functionName: string;
  reportBatchItemFailures: boolean;
  matcher: RecordMatcher | null;
  source: SqsSource;
  recordSource: RecordSource;
  execute: (functionName: string, event: unknown, context: ExecutionContext) => Promise<Execution>;
  metrics: TriggerMetrics;
  now: number;
  /** The trigger's UUID, for the logs and the console. */
  trigger: string;
  events?: EngineEvents | undefined;
}

export async function processBatch(params: BatchParams): Promise<BatchOutcome> {
  const count = params.batch.messages.length;
  try {
    return await runBatch(params);
  } finally {
    params.source.settle(params.batch.receiptToken, count);
  }
}

async function runBatch(params: BatchParams): Promise<BatchOutcome> {
  const { batch, matcher, metrics } = params;
  const { messages, receiptToken } = batch;
  const records: SQSRecord[] = [];
  const done: ReceiptRef[] = [];
  const delivered: number[] = [];
  let oldestSentAt = Number.POSITIVE_INFINITY;
  let attempt = 0;
  const waitedMs: number[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const record = toSqsRecord(message, params.recordSource, receiptToken);
    if (matcher && !matcher(record)) {
      done.push({ seq: message.seq, token: receiptToken });
      metrics.filteredRecords++;
      continue;
    }
    records.push(record);
    delivered.push(i);
    if (message.sentAt < oldestSentAt) oldestSentAt = message.sentAt;
    if (message.receiveCount > attempt) attempt = message.receiveCount;
    waitedMs.push(Math.max(0, params.now - message.sentAt));
  }
  if (records.length === 0) {
    const acking = params.source.ack(batch.queue, done);
    if (acking) await acking;
    return { invoked: false, verdict: { kind: 'success' } };
  }

  metrics.invoking(records.length, Math.max(0, params.now - oldestSentAt));
  let verdict: BatchVerdict = { kind: 'failure', reason: 'the invocation did not finish' };
  const origin = {
    via: 'queue-trigger' as const,
    trigger: params.trigger,
    queue: batch.queue.name,
    messageIds: records.map((record) => record.messageId),
    attempt,
  };
  let failedRecords: number;
  try {
    const execution = await params.execute(params.functionName, { Records: records }, { origin, waitedMs });
    verdict = judge(execution, params.reportBatchItemFailures, records);
  } finally {
    failedRecords =
      verdict.kind === 'success' ? 0 : verdict.kind === 'partial' ? verdict.failed.size : records.length;
    metrics.invoked({ failedBatch: verdict.kind === 'failure', failedRecords });
  }
  if (failedRecords > 0 && params.events?.active) {
    const why = verdict.kind === 'failure' ? verdict.reason : 'reported failures';
    const timeout = batch.queue.settings.VisibilityTimeout;
    params.events.emit({
      type: 'retry',
      function: params.functionName,
      origin: verdict.kind === 'partial' ? { ...origin, messageIds: [...verdict.failed] } : origin,
      records: failedRecords,
      next: `${why}; visible again on ${batch.queue.name} within the visibility timeout (${timeout} s), then retried or moved to the dead-letter queue after maxReceiveCount receives`,
      at: params.now,
    });
  }
  if (verdict.kind !== 'failure') {
    for (let r = 0; r < records.length; r++) {
      if (verdict.kind === 'partial' && verdict.failed.has(records[r]!.messageId)) continue;
      done.push({ seq: messages[delivered[r]!]!.seq, token: receiptToken });
    }
  }
  const acking = params.source.ack(batch.queue, done);
  if (acking) await acking;
  return { invoked: true, verdict };
}

function judge(execution: Execution, reportBatchItemFailures: boolean, records: SQSRecord[]): BatchVerdict {
  if (!execution.ok)
    return { kind: 'failure', reason: `${execution.error.errorType}: ${execution.error.errorMessage}` };
  if (!reportBatchItemFailures) return { kind: 'success' };
  let ids: Set<string> | undefined;
  return judgeBatchResponse(execution.result, (id) =>
    (ids ??= new Set(records.map((r) => r.messageId))).has(id),
  );
}
