/**
 * Lambda's on-failure record for stream event source mappings: which records were given up on (shard,
 * first and last sequence numbers, arrival times, count) and why, but not the records themselves; the
 * consumer reads them from the stream while they are retained.
 */
import { destinationOf } from '../../functions/destination.js';
import type { FunctionService } from '../../functions/service.js';
import type { QueueService } from '../../queues/service.js';
import type { BufferedRecord, DiscardCondition } from './stream-lanes.js';

export interface StreamFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: DiscardCondition;
    approximateInvokeCount: number;
  };
  responseContext?: { statusCode: number; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export function streamFailureRecord(params: {
  now: number;
  requestId: string;
  functionArn: string;
  condition: DiscardCondition;
  /** Invocations these records went through (0 when they aged out before the first). */
  invokeCount: number;
  shardId: string;
  streamArn: string;
  records: BufferedRecord[];
}): StreamFailureRecord {
  const first = params.records[0]!;
  const last = params.records[params.records.length - 1]!;
  const record: StreamFailureRecord = {
    requestContext: {
      requestId: params.requestId,
      functionArn: `${params.functionArn}:$LATEST`,
      condition: params.condition,
      approximateInvokeCount: params.invokeCount,
    },
    version: '1.0',
    timestamp: new Date(params.now).toISOString(),
    DDBStreamBatchInfo: {
      shardId: params.shardId,
      startSequenceNumber: first.record.dynamodb!.SequenceNumber!,
      endSequenceNumber: last.record.dynamodb!.SequenceNumber!,
      approximateArrivalOfFirstRecord: new Date(first.createdAt).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.createdAt).toISOString(),
      batchSize: params.records.length,
      streamArn: params.streamArn,
    },
  };
  if (params.invokeCount > 0)
    record.responseContext = { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
  return record;
}

/** Sends the record to a queue (as the message body) or to a function (as an asynchronous event). */
export async function deliverStreamFailure(
  destination: string,
  record: StreamFailureRecord,
  services: { queues: QueueService; functions: FunctionService },
): Promise<void> {
  const target = destinationOf(destination);
  if (target?.kind === 'queue') await services.queues.send(target.name, { body: JSON.stringify(record) });
  else if (target?.kind === 'function') await services.functions.invokeAsync(target.name, record);
}
