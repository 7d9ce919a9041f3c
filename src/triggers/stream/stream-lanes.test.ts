import { describe, expect, it } from 'vitest';
import { Lane, laneOf, ShardLanes, unitOf, type BufferedRecord, type LaneSettings } from './stream-lanes.js';
import { afterInvocation, retryDelayMs, splitByAge } from './stream-retry.js';

const settings: LaneSettings = {
  batchSize: 3,
  batchingWindowMs: 0,
  tumblingWindowMs: 0,
  maxBatchBytes: 6 * 1024 * 1024,
};
const record = (seq: number, createdAt = 0, bytes = 100): BufferedRecord => ({
  seq,
  createdAt,
  bytes,
  record: { dynamodb: { SequenceNumber: String(seq).padStart(21, '0') } },
});
const seqs = (records: BufferedRecord[]) => records.map((r) => r.seq);

function laneWith(...records: BufferedRecord[]): Lane {
  const lane = new Lane();
  for (const r of records) lane.enqueue(r);
  return lane;
}

describe('lanes', () => {
  it('sends one key always to the same lane and spreads many keys over all lanes', () => {
    const keys = Array.from({ length: 200 }, (_, i) => Buffer.from(`key-${i}`));
    expect(keys.map((k) => laneOf(k, 10))).toEqual(keys.map((k) => laneOf(Buffer.from(k), 10)));
    expect(new Set(keys.map((k) => laneOf(k, 10))).size).toBe(10);
  });

  it('takes up to batchSize records in sequence order, and nothing while a batch runs', () => {
    const lane = laneWith(record(1), record(2), record(3), record(4));
    const step = lane.next(0, settings);
    expect(step.kind === 'run' && seqs(step.unit.records)).toEqual([1, 2, 3]);
    lane.begin(step as Extract<typeof step, { kind: 'run' }>, settings);
    expect(lane.next(0, settings)).toEqual({ kind: 'idle' });
    lane.finish([]);
    const rest = lane.next(0, settings);
    expect(rest.kind === 'run' && seqs(rest.unit.records)).toEqual([4]);
  });

  it('waits out the batching window from the first record unless the batch is full', () => {
    const windowed = { ...settings, batchingWindowMs: 5000 };
    expect(laneWith(record(1, 1000)).next(2000, windowed)).toEqual({ kind: 'wait', until: 6000 });
    expect(laneWith(record(1, 1000)).next(6000, windowed).kind).toBe('run');
    expect(laneWith(record(1, 1000), record(2, 1000), record(3, 1000)).next(2000, windowed).kind).toBe('run');
  });

  it('cuts a batch at the payload limit, but always takes one record', () => {
    const small = { ...settings, maxBatchBytes: 250 };
    const step = laneWith(record(1, 0, 100), record(2, 0, 100), record(3, 0, 100)).next(0, small);
    expect(step.kind === 'run' && seqs(step.unit.records)).toEqual([1, 2]);
    const huge = laneWith(record(1, 0, 1000)).next(0, small);
    expect(huge.kind === 'run' && seqs(huge.unit.records)).toEqual([1]);
  });

  it('runs a retry before anything queued, once its backoff is over', () => {
    const lane = laneWith(record(5));
    lane.finish([{ ...unitOf([record(1), record(2)], null, false), retries: 1, notBefore: 300 }]);
    expect(lane.next(100, settings)).toEqual({ kind: 'wait', until: 300 });
    const step = lane.next(300, settings);
    expect(step.kind === 'run' && seqs(step.unit.records)).toEqual([1, 2]);
  });

  it('keeps a tumbling window’s records apart and closes the window with a final invocation', () => {
    const tumbling = { ...settings, tumblingWindowMs: 60_000 };
    const lane = laneWith(record(1, 10_000), record(2, 70_000));
    const first = lane.next(20_000, tumbling);
    expect(first.kind === 'run' && [seqs(first.unit.records), first.unit.windowStart]).toEqual([[1], 0]);
    lane.begin(first as Extract<typeof first, { kind: 'run' }>, tumbling);
    lane.finish([]);
    const final = lane.next(20_000, tumbling);
    expect(
      final.kind === 'run' && [final.unit.final, final.unit.records.length, final.unit.windowStart],
    ).toEqual([true, 0, 0]);
  });

  it('checkpoints below the lowest record any lane still holds', () => {
    const shard = new ShardLanes(2);
    expect(shard.checkpoint(7)).toBe(7);
    shard.lanes[0]!.enqueue(record(9));
    shard.lanes[1]!.enqueue(record(8));
    expect(shard.checkpoint(9)).toBe(7);
  });
});

describe('after an invocation', () => {
  const policy = { maximumRetryAttempts: 2, bisectBatchOnFunctionError: false };
  const unit = unitOf([record(1), record(2), record(3)], null, false);
  const failure = { kind: 'failure' as const, reason: 'boom' };

  it('is done on success', () => {
    expect(afterInvocation(unit, { kind: 'success' }, policy, 0)).toEqual([]);
  });

  it('retries a failed batch after a growing backoff, then gives up', () => {
    const [retry] = afterInvocation(unit, failure, policy, 1000);
    expect(retry).toMatchObject({ retries: 1, notBefore: 1000 + retryDelayMs(0), discard: null });
    const [last] = afterInvocation({ ...unit, retries: 2 }, failure, policy, 0);
    expect(last).toMatchObject({ discard: 'RetryAttemptsExhausted', retries: 2 });
    expect(seqs(last!.records)).toEqual([1, 2, 3]);
    expect(
      afterInvocation({ ...unit, retries: 500 }, failure, { ...policy, maximumRetryAttempts: -1 }, 0)[0]!
        .discard,
    ).toBeNull();
    expect([retryDelayMs(0), retryDelayMs(1), retryDelayMs(20)]).toEqual([100, 200, 10_000]);
  });

  it('bisects a failed batch into two halves, the first first', () => {
    const halves = afterInvocation(unit, failure, { ...policy, bisectBatchOnFunctionError: true }, 0);
    expect(halves.map((h) => [seqs(h.records), h.retries])).toEqual([
      [[1, 2], 1],
      [[3], 1],
    ]);
  });

  it('retries a partial failure from the lowest failed sequence number', () => {
    const [retry] = afterInvocation(unit, { kind: 'partial', fromSeq: 2 }, policy, 0);
    expect(seqs(retry!.records)).toEqual([2, 3]);
  });

  it('splits off records older than the maximum age', () => {
    const { expired, fresh } = splitByAge([record(1, 0), record(2, 50_000)], 70_000, 60);
    expect([seqs(expired), seqs(fresh)]).toEqual([[1], [2]]);
  });
});
