/**
 * Lambda's destination record for asynchronous invocations, and its delivery to a queue (as the message
 * body) or to a function (as the event of an asynchronous invocation).
 */
import { parseArn } from '../model/arn.js';
import type { Execution } from './types.js';

export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

export interface DestinationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: DestinationCondition;
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: '$LATEST'; functionError?: 'Unhandled' };
  responsePayload?: unknown;
}

export function destinationRecord(params: {
  now: number;
  requestId: string;
  functionArn: string;
  condition: DestinationCondition;
  invokeCount: number;
  event: unknown;
  /** The last execution, when there was one (an event that aged out while throttled has none). */
  execution: Execution | undefined;
}): DestinationRecord {
  const record: DestinationRecord = {
    version: '1.0',
    timestamp: new Date(params.now).toISOString(),
    requestContext: {
      requestId: params.requestId,
      functionArn: `${params.functionArn}:$LATEST`,
      condition: params.condition,
      approximateInvokeCount: params.invokeCount,
    },
    requestPayload: params.event,
  };
  const execution = params.execution;
  if (execution) {
    record.responseContext = execution.ok
      ? { statusCode: 200, executedVersion: '$LATEST' }
      : { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
    record.responsePayload = execution.ok ? execution.result : execution.error;
  }
  return record;
}

/** What a destination ARN names: a queue or a function (a qualifier after the name is ignored). */
export function destinationOf(arn: string): { kind: 'queue' | 'function'; name: string } | undefined {
  const parsed = parseArn(arn);
  if (parsed?.service === 'sqs') return { kind: 'queue', name: parsed.resource };
  if (parsed?.service === 'lambda' && parsed.resource.startsWith('function:')) {
    const name = parsed.resource.split(':')[1];
    if (name) return { kind: 'function', name };
  }
  return undefined;
}
