/**
 * What happens to a stream batch after its invocation, as Lambda decides it:
 * - success: the records are done;
 * - partial failure (ReportBatchItemFailures): the records before the lowest failed sequence number are
 *   done; the rest are retried from there;
 * - failure: retried until MaximumRetryAttempts is spent (-1: never), then given up on (onFailure);
 *   with BisectBatchOnFunctionError a failed batch of several records is split in two halves, the first
 *   retried before the second. A bisection is a retry: the halves carry the spent retries plus one, so
 *   MaximumRetryAttempts bounds how often any record is invoked (at most retries + 1 times).
 * Retries wait 100 ms, doubling to at most 10 s (Sluice's choice; Lambda documents no figure), and block
 * the lane, so a key's later records wait behind them.
 */
import type { Execution } from '../../functions/types.js';
import { judgeBatchResponse } from '../batch-response.js';
import type { BufferedRecord, WorkUnit } from './stream-lanes.js';

export type StreamVerdict =
  | { kind: 'success' }
  | { kind: 'failure'; reason: string }
  /** Everything from this sequence number on failed. */
  | { kind: 'partial'; fromSeq: number };

export interface RetryPolicy {
  maximumRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
}

export function retryDelayMs(retries: number): number {
  return Math.min(100 * 2 ** Math.min(retries, 20), 10_000);
}

/** Judges an execution: a function error fails the batch; a batch response may fail part of it. */
export function judgeStreamExecution(
  execution: Execution,
  reportBatchItemFailures: boolean,
  records: BufferedRecord[],
): StreamVerdict {
  if (!execution.ok)
    return { kind: 'failure', reason: `${execution.error.errorType}: ${execution.error.errorMessage}` };
  if (!reportBatchItemFailures) return { kind: 'success' };
  const bySeq = new Map<string, number>();
  for (const r of records) bySeq.set(r.record.dynamodb!.SequenceNumber!, r.seq);
  const verdict = judgeBatchResponse(execution.result, (id) => bySeq.has(id));
  if (verdict.kind !== 'partial') return verdict;
  let fromSeq = Number.POSITIVE_INFINITY;
  for (const id of verdict.failed) fromSeq = Math.min(fromSeq, bySeq.get(id) as number);
  return { kind: 'partial', fromSeq };
}

function exhausted(unit: WorkUnit, policy: RetryPolicy): boolean {
  return policy.maximumRetryAttempts !== -1 && unit.retries >= policy.maximumRetryAttempts;
}

/** The units that replace `unit` at the front of its lane: none when it is done. */
export function afterInvocation(
  unit: WorkUnit,
  verdict: StreamVerdict,
  policy: RetryPolicy,
  now: number,
): WorkUnit[] {
  if (verdict.kind === 'success') return [];
  const failed =
    verdict.kind === 'partial' ? unit.records.filter((r) => r.seq >= verdict.fromSeq) : unit.records;
  if (failed.length === 0 && !unit.final) return [];
  if (exhausted(unit, policy)) return [{ ...unit, records: failed, discard: 'RetryAttemptsExhausted' }];
  const retries = unit.retries + 1;
  const notBefore = now + retryDelayMs(unit.retries);
  if (verdict.kind === 'failure' && policy.bisectBatchOnFunctionError && failed.length > 1) {
    const middle = Math.ceil(failed.length / 2);
    return [
      { ...unit, records: failed.slice(0, middle), retries, notBefore },
      { ...unit, records: failed.slice(middle), retries, notBefore },
    ];
  }
  return [{ ...unit, records: failed, retries, notBefore }];
}

/** Splits off the records older than the maximum record age (-1: none are). */
export function splitByAge(
  records: BufferedRecord[],
  now: number,
  maximumRecordAgeInSeconds: number,
): { expired: BufferedRecord[]; fresh: BufferedRecord[] } {
  if (maximumRecordAgeInSeconds === -1) return { expired: [], fresh: records };
  const oldest = now - maximumRecordAgeInSeconds * 1000;
  const expired = records.filter((r) => r.createdAt < oldest);
  return expired.length === 0
    ? { expired, fresh: records }
    : { expired, fresh: records.filter((r) => r.createdAt >= oldest) };
}
