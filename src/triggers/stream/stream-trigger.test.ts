import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import { ManualClock } from '../../model/clock.js';
import type { StreamFailureRecord } from './stream-failure.js';
import type { StreamTriggerInput } from './stream-types.js';
import { gate, openTestEngine, sleep, type TestEngine } from '../../testkit/engine.js';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine();
  await t.sluice.tables.createTable({
    name: 'tasks',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    stream: { viewType: 'NEW_AND_OLD_IMAGES' },
  });
  await t.sluice.queues.create('failures');
});
afterEach(async () => {
  await t.close();
});

const put = (pk: string, sk: string, extra: Record<string, unknown> = {}) =>
  t.sluice.tables.putItem({ tableName: 'tasks', item: { pk, sk, ...extra } as never });
const keyOf = (record: DynamoDBRecord) => `${record.dynamodb!.Keys!.pk!.S}/${record.dynamodb!.Keys!.sk!.S}`;

async function streamFunction(
  handler: (event: DynamoDBStreamEvent) => unknown,
  options: { reservedConcurrency?: number } = {},
) {
  await t.sluice.functions.create({
    name: 'work',
    timeout: 900,
    handler: async (event: DynamoDBStreamEvent) => handler(event),
    ...options,
  });
}

const trigger = (input: Partial<StreamTriggerInput> = {}) =>
  t.sluice.streamTriggers.create({
    stream: 'tasks',
    functionName: 'work',
    startingPosition: 'TRIM_HORIZON',
    ...input,
  });

async function failures(): Promise<StreamFailureRecord[]> {
  const messages = await t.sluice.queues.receive('failures', { maxNumberOfMessages: 10 });
  return messages.map((m) => JSON.parse(m.body) as StreamFailureRecord);
}

/** Counts handler executions under way, and the most at once. */
function concurrencyProbe() {
  const probe = { active: 0, peak: 0 };
  return {
    probe,
    async around<T>(work: () => Promise<T>): Promise<T> {
      probe.active++;
      probe.peak = Math.max(probe.peak, probe.active);
      try {
        return await work();
      } finally {
        probe.active--;
      }
    },
  };
}

describe('the experiments of seed 000 (DynamoDB > stream > Lambda)', () => {
  it('(a) processes 100 items with unique partition keys concurrently: batchSize 1, window 0, parallelizationFactor 10', async () => {
    const { probe, around } = concurrencyProbe();
    const release = gate();
    const seen: string[] = [];
    await streamFunction((event) =>
      around(async () => {
        seen.push(...event.Records.map(keyOf));
        await release.promise;
      }),
    );
    await trigger({ batchSize: 1, maximumBatchingWindowInSeconds: 0, parallelizationFactor: 10 });
    for (let i = 1; i <= 100; i++) await put(`task-${String(i).padStart(3, '0')}`, 'A');
    await t.until(() => probe.active > 0);
    // Every lane holding a record is busy at once: 4 shards x 10 lanes, as many as the keys fill.
    expect(probe.peak).toBeGreaterThan(20);
    release.open();
    await t.until(() => seen.length === 100);
    expect(new Set(seen).size).toBe(100);
  });

  it('(b) keeps each partition key in sort-key order while different keys run concurrently', async () => {
    const { probe, around } = concurrencyProbe();
    const byKey = new Map<string, string[]>();
    const busyKeys = new Set<string>();
    await streamFunction((event) =>
      around(async () => {
        const key = event.Records[0]!.dynamodb!.Keys!.pk!.S!;
        expect(busyKeys.has(key), `two batches of ${key} at once`).toBe(false);
        busyKeys.add(key);
        await sleep(t.clock, 100);
        byKey.set(key, [...(byKey.get(key) ?? []), event.Records[0]!.dynamodb!.Keys!.sk!.S!]);
        busyKeys.delete(key);
      }),
    );
    await trigger({ batchSize: 1, maximumBatchingWindowInSeconds: 0, parallelizationFactor: 10 });
    const groups = { 'group-5': 5, 'group-10': 10, 'group-15': 15, 'group-30': 30 };
    let clockTick = 0;
    // Sort keys are time-ordered (KSUID-like): zero-padded write counters.
    const ksuid = () => String(++clockTick).padStart(6, '0');
    const writes: Array<[string, string]> = [];
    for (let i = 0; i < 40; i++) writes.push([`unique-${i}`, ksuid()]);
    for (const [group, size] of Object.entries(groups))
      for (let i = 0; i < size; i++) writes.push([group, ksuid()]);
    // Interleave the groups' writes as concurrent producers would, keeping each key's own order.
    writes.sort((a, b) => (Number(a[1]) % 7) - (Number(b[1]) % 7) || Number(a[1]) - Number(b[1]));
    const expected = new Map<string, string[]>();
    for (const [pk, sk] of writes) {
      await put(pk, sk);
      expected.set(pk, [...(expected.get(pk) ?? []), sk]);
    }
    await t.until(() => [...byKey.values()].reduce((n, sks) => n + sks.length, 0) === 100);
    for (const [pk, sks] of expected) expect(byKey.get(pk), pk).toEqual(sks);
    expect(probe.peak).toBeGreaterThan(1);
  });

  it('(c) retries a failing batch: fails 4 times, succeeds on the 5th attempt', async () => {
    const attempts: number[] = [];
    await streamFunction(() => {
      attempts.push(t.clock.now());
      if (attempts.length <= 4) throw new Error(`attempt ${attempts.length} fails`);
    });
    const created = await trigger({
      batchSize: 100,
      maximumBatchingWindowInSeconds: 3,
      maximumRetryAttempts: 7,
      destinationConfig: { onFailure: { destination: t.sluice.queues.arnOf('failures') } },
    });
    await put('task-001', 'A', { text: '001' });
    await t.until(() => attempts.length === 5);
    await t.clock.advance(60_000);
    expect(attempts).toHaveLength(5);
    expect(t.sluice.streamTriggers.metrics(created.uuid)).toMatchObject({
      batches: 5,
      failedBatches: 4,
      retries: 4,
      discardedRecords: 0,
    });
    expect(await failures()).toEqual([]);
  });

  it('(c) sends the batch to the onFailure destination once the retries are exhausted', async () => {
    let attempts = 0;
    await streamFunction(() => {
      attempts++;
      throw new Error('always fails');
    });
    await put('task-001', 'A');
    await put('task-001', 'B');
    const created = await trigger({
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destination: t.sluice.queues.arnOf('failures') } },
    });
    await t.until(async () => (await t.sluice.queues.counts('failures')).visible === 1);
    expect(attempts).toBe(3);
    const [failure] = await failures();
    const streamArn = (await t.sluice.tables.describeTable('tasks')).stream!.streamArn;
    expect(failure).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
        functionArn: `${t.sluice.functions.arnOf('work')}:$LATEST`,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: { batchSize: 2, streamArn },
    });
    expect(Number(failure!.DDBStreamBatchInfo.endSequenceNumber)).toBe(
      Number(failure!.DDBStreamBatchInfo.startSequenceNumber) + 1,
    );
    expect(t.sluice.streamTriggers.metrics(created.uuid).discardedRecords).toBe(2);
  });
});

describe('stream trigger settings', () => {
  it('hands the function the DynamoDBStreamEvent Lambda would', async () => {
    const events: DynamoDBStreamEvent[] = [];
    await streamFunction((event) => void events.push(event));
    const created = await trigger();
    await put('a', '1', { n: 1 });
    await t.until(() => events.length === 1);
    const [record] = events[0]!.Records;
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: created.eventSourceArn,
      dynamodb: {
        Keys: { pk: { S: 'a' }, sk: { S: '1' } },
        NewImage: { n: { N: '1' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(created.eventSourceArn).toMatch(/:table\/tasks\/stream\//);
  });

  it('starts at TRIM_HORIZON, LATEST or AT_TIMESTAMP', async () => {
    await put('a', 'old');
    await t.clock.advance(10_000);
    const at = t.clock.now() / 1000;
    await put('a', 'middle');
    const seen: Record<string, string[]> = { TRIM_HORIZON: [], LATEST: [], AT_TIMESTAMP: [] };
    for (const position of ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const) {
      const name = `work-${position.toLowerCase().replace('_', '-')}`;
      await t.sluice.functions.create({
        name,
        handler: async (event: DynamoDBStreamEvent) =>
          void seen[position]!.push(...event.Records.map((r) => r.dynamodb!.Keys!.sk!.S!)),
      });
      await t.sluice.streamTriggers.create({
        stream: 'tasks',
        functionName: name,
        startingPosition: position,
        startingPositionTimestamp: at,
      });
    }
    await put('a', 'new');
    await t.until(
      () => seen.LATEST!.length === 1 && seen.TRIM_HORIZON!.length === 3 && seen.AT_TIMESTAMP!.length === 2,
    );
    expect(seen).toEqual({
      TRIM_HORIZON: ['old', 'middle', 'new'],
      LATEST: ['new'],
      AT_TIMESTAMP: ['middle', 'new'],
    });
  });

  it('waits out the batching window unless the batch fills first', async () => {
    const batches: Array<{ at: number; size: number }> = [];
    await streamFunction((event) => void batches.push({ at: t.clock.now(), size: event.Records.length }));
    await t.sluice.tables.createTable({
      name: 'one',
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      stream: { viewType: 'KEYS_ONLY' },
      streamShardCount: 1,
    });
    await t.sluice.streamTriggers.create({
      stream: 'one',
      functionName: 'work',
      startingPosition: 'LATEST',
      batchSize: 5,
      maximumBatchingWindowInSeconds: 5,
    });
    const start = t.clock.now();
    for (let i = 0; i < 3; i++)
      await t.sluice.tables.putItem({ tableName: 'one', item: { pk: 'k', sk: String(i) } });
    await t.clock.advance(4_999);
    expect(batches).toEqual([]);
    await t.clock.advance(1);
    expect(batches).toEqual([{ at: start + 5_000, size: 3 }]);
    for (let i = 0; i < 5; i++)
      await t.sluice.tables.putItem({ tableName: 'one', item: { pk: 'k', sk: `x${i}` } });
    await t.until(() => batches.length === 2, { stepMs: 1 });
    expect(batches[1]).toEqual({ at: start + 5_000, size: 5 });
  });

  it('retries from the lowest failed sequence number a partial batch response reports', async () => {
    const batches: string[][] = [];
    await streamFunction((event): DynamoDBBatchResponse => {
      batches.push(event.Records.map((r) => r.dynamodb!.Keys!.sk!.S!));
      const bad = event.Records.find((r) => r.dynamodb!.Keys!.sk!.S === '3');
      return {
        batchItemFailures:
          batches.length === 1 && bad ? [{ itemIdentifier: bad.dynamodb!.SequenceNumber! }] : [],
      };
    });
    for (let i = 1; i <= 5; i++) await put('k', String(i));
    await trigger({ batchSize: 10, functionResponseTypes: ['ReportBatchItemFailures'] });
    await t.until(() => batches.length === 2);
    expect(batches).toEqual([
      ['1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
  });

  it('bisects a failing batch down to the poison record and reports only it', async () => {
    const invoked: string[][] = [];
    await streamFunction((event) => {
      const sks = event.Records.map((r) => r.dynamodb!.Keys!.sk!.S!);
      invoked.push(sks);
      if (sks.includes('poison')) throw new Error('poison');
    });
    for (const sk of ['1', '2', 'poison', '4']) await put('k', sk);
    await trigger({
      batchSize: 4,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 3,
      destinationConfig: { onFailure: { destination: t.sluice.queues.arnOf('failures') } },
    });
    await t.until(async () => (await t.sluice.queues.counts('failures')).visible === 1);
    await t.until(() => invoked.some((sks) => sks.length === 1 && sks[0] === '4'));
    expect(invoked.slice(0, 3)).toEqual([
      ['1', '2', 'poison', '4'],
      ['1', '2'],
      ['poison', '4'],
    ]);
    const [failure] = await failures();
    expect(failure!.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(failure!.requestContext.approximateInvokeCount).toBe(4);
  });

  it('gives up on records older than maximumRecordAgeInSeconds', async () => {
    await streamFunction(() => {
      throw new Error('down');
    });
    await trigger({
      maximumRecordAgeInSeconds: 60,
      destinationConfig: { onFailure: { destination: t.sluice.queues.arnOf('failures') } },
    });
    await put('k', '1');
    await t.until(async () => (await t.sluice.queues.counts('failures')).visible === 1, { stepMs: 1000 });
    expect(t.clock.now() - Date.UTC(2026, 0, 1)).toBeGreaterThanOrEqual(60_000);
    const [failure] = await failures();
    expect(failure!.requestContext.condition).toBe('RecordAgeExceeded');
  });

  it('delivers only records matching the filter criteria', async () => {
    const seen: string[] = [];
    await streamFunction((event) => void seen.push(...event.Records.map(keyOf)));
    const created = await trigger({
      filterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { status: { S: ['ready'] } } },
            }),
          },
        ],
      },
    });
    await put('a', '1', { status: 'ready' });
    await put('b', '1', { status: 'draft' });
    await put('b', '1', { status: 'ready' });
    await put('c', '1', { status: 'ready' });
    await t.until(() => seen.length === 2);
    await t.clock.advance(10_000);
    expect(seen.sort()).toEqual(['a/1', 'c/1']);
    expect(t.sluice.streamTriggers.metrics(created.uuid).filteredRecords).toBe(2);
  });

  it('carries tumbling-window state between invocations and ends each window with a final invocation', async () => {
    const calls: Array<{ records: number; state: unknown; final: boolean; window: unknown }> = [];
    await t.sluice.functions.create({
      name: 'work',
      handler: async (
        event: DynamoDBStreamEvent & {
          state: { total?: number };
          isFinalInvokeForWindow: boolean;
          window: unknown;
        },
      ) => {
        calls.push({
          records: event.Records.length,
          state: event.state,
          final: event.isFinalInvokeForWindow,
          window: event.window,
        });
        return { state: { total: (event.state.total ?? 0) + event.Records.length } };
      },
    });
    await t.sluice.tables.createTable({
      name: 'one',
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      stream: { viewType: 'KEYS_ONLY' },
      streamShardCount: 1,
    });
    for (let i = 0; i < 3; i++)
      await t.sluice.tables.putItem({ tableName: 'one', item: { pk: 'k', sk: String(i) } });
    await t.sluice.streamTriggers.create({
      stream: 'one',
      functionName: 'work',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 2,
      tumblingWindowInSeconds: 60,
    });
    await t.until(() => calls.length === 2, { stepMs: 1 });
    await t.clock.advance(60_000);
    await t.until(() => calls.length === 3);
    const window = { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:01:00.000Z' };
    expect(calls).toEqual([
      { records: 2, state: {}, final: false, window },
      { records: 1, state: { total: 2 }, final: false, window },
      { records: 0, state: { total: 3 }, final: true, window },
    ]);
  });

  it('never runs more batches than the function’s reserved concurrency', async () => {
    const { probe, around } = concurrencyProbe();
    await streamFunction(() => around(() => sleep(t.clock, 50)), { reservedConcurrency: 2 });
    await trigger({ batchSize: 1, parallelizationFactor: 10 });
    for (let i = 0; i < 30; i++) await put(`k${i}`, '1');
    await t.until(() => t.sluice.functions.metrics('work').invocations === 30);
    expect(probe.peak).toBe(2);
  });

  it('sends the failure record to a function destination', async () => {
    const received: StreamFailureRecord[] = [];
    await t.sluice.functions.create({
      name: 'on-failure',
      handler: async (record: StreamFailureRecord) => void received.push(record),
    });
    await streamFunction(() => {
      throw new Error('no');
    });
    await trigger({
      maximumRetryAttempts: 0,
      destinationConfig: { onFailure: { destination: t.sluice.functions.arnOf('on-failure') } },
    });
    await put('k', '1');
    await t.until(() => received.length === 1);
    expect(received[0]!.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
    });
  });

  it('validates settings against Lambda’s limits, naming the field', async () => {
    await streamFunction(() => undefined);
    await expect(trigger({ batchSize: 10_001 })).rejects.toThrow(
      /BatchSize: 10001 is invalid; must be an integer from 1 to 10000/,
    );
    await expect(trigger({ parallelizationFactor: 11 })).rejects.toThrow(/ParallelizationFactor/);
    await expect(trigger({ maximumRecordAgeInSeconds: 30 })).rejects.toThrow(
      /MaximumRecordAgeInSeconds: 30 is invalid/,
    );
    await expect(trigger({ maximumRetryAttempts: -2 })).rejects.toThrow(/MaximumRetryAttempts/);
    await expect(trigger({ startingPosition: 'AT_TIMESTAMP' })).rejects.toThrow(/StartingPositionTimestamp/);
    await expect(trigger({ destinationConfig: { onFailure: { destination: 'nowhere' } } })).rejects.toThrow(
      /DestinationConfig.OnFailure.Destination/,
    );
    await trigger();
    await expect(trigger()).rejects.toThrow(/already exists/);
  });
});

describe('stream trigger lifecycle', () => {
  it('pauses while disabled and picks up where it stopped when enabled again', async () => {
    const seen: string[] = [];
    await streamFunction((event) => void seen.push(...event.Records.map(keyOf)));
    const created = await trigger();
    await put('a', '1');
    await t.until(() => seen.length === 1);
    await t.sluice.streamTriggers.update(created.uuid, { enabled: false });
    await put('a', '2');
    await t.clock.advance(10_000);
    expect(seen).toEqual(['a/1']);
    const updated = await t.sluice.streamTriggers.update(created.uuid, {
      enabled: true,
      parallelizationFactor: 4,
    });
    expect(updated).toMatchObject({ state: 'Enabled', parallelizationFactor: 4 });
    await t.until(() => seen.length === 2);
    expect(seen).toEqual(['a/1', 'a/2']);
  });

  it('reports a problem when its table is deleted, and forgets its position when deleted', async () => {
    await streamFunction(() => undefined);
    const created = await trigger();
    await t.sluice.tables.deleteTable('tasks');
    await t.clock.advance(100);
    expect(t.sluice.streamTriggers.get(created.uuid).stateTransitionReason).toMatch(
      /PROBLEM: the stream of table tasks/,
    );
    await t.sluice.streamTriggers.delete(created.uuid);
    expect(t.sluice.streamTriggers.list()).toEqual([]);
  });
});

describe('stream trigger cost and recovery', () => {
  it('issues no store queries while idle, and a write wakes it', async () => {
    const seen: string[] = [];
    await streamFunction((event) => void seen.push(...event.Records.map(keyOf)));
    await trigger({ maximumBatchingWindowInSeconds: 1 });
    await put('a', '1');
    await t.until(() => seen.length === 1);
    await t.clock.advance(1000);
    t.counting.reset();
    await t.clock.advance(3_600_000);
    expect(Object.fromEntries(t.counting.calls)).toEqual({});
    await put('b', '1');
    await t.until(() => seen.length === 2);
  });

  it('reads the records of writes made in separate callbacks of one turn together, as one batch', async () => {
    const batches: string[][] = [];
    await streamFunction((event) => void batches.push(event.Records.map(keyOf)));
    await trigger({ batchSize: 100 });
    await new Promise((resolve) => setImmediate(resolve));
    // Eight writers in eight callbacks of one timers phase, as concurrent HTTP requests arrive.
    const written = await new Promise<Array<Promise<unknown>>>((resolve) => {
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 8; i++)
        setTimeout(() => {
          calls.push(put('k', String(i)));
          if (calls.length === 8) resolve(calls);
        }, 0);
    });
    await Promise.all(written);
    await t.until(() => batches.flat().length === 8);
    expect(batches).toEqual([['0', '1', '2', '3', '4', '5', '6', '7'].map((sk) => `k/${sk}`)]);
  });

  it('resumes after the last success when the engine restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stream-'));
    const url = `sqlite:${join(dir, 'db.sqlite')}`;
    const clock = new ManualClock();
    const seen: string[] = [];
    const open = async () => {
      const sluice = await Sluice.open({ store: url, clock });
      await sluice.functions.create({
        name: 'work',
        handler: async (event: DynamoDBStreamEvent) => void seen.push(...event.Records.map(keyOf)),
      });
      return sluice;
    };
    try {
      let sluice = await open();
      await sluice.tables.createTable({
        name: 'tasks',
        partitionKey: { name: 'pk', type: 'S' },
        sortKey: { name: 'sk', type: 'S' },
        stream: { viewType: 'KEYS_ONLY' },
      });
      await sluice.streamTriggers.create({
        stream: 'tasks',
        functionName: 'work',
        startingPosition: 'TRIM_HORIZON',
      });
      for (const sk of ['1', '2', '3'])
        await sluice.tables.putItem({ tableName: 'tasks', item: { pk: 'k', sk } });
      await clock.advance(100);
      expect(seen).toEqual(['k/1', 'k/2', 'k/3']);
      await sluice.close();
      sluice = await open();
      await sluice.tables.putItem({ tableName: 'tasks', item: { pk: 'k', sk: '4' } });
      await sluice.streamTriggers.create({
        stream: 'tasks',
        functionName: 'work',
        startingPosition: 'TRIM_HORIZON',
      });
      await clock.advance(100);
      expect(seen).toEqual(['k/1', 'k/2', 'k/3', 'k/4']);
      await sluice.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
