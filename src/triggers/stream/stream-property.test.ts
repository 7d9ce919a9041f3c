/**
 * Property: whatever the writes, the failures and the settings, a stream trigger keeps each partition
 * key in order and loses nothing. Random writes to a few keys, random handler failures (thrown, or
 * reported per item), parallelizationFactor 1-10, bisect on or off, 1-4 shards:
 * - no two invocations hold records of one key at once;
 * - within a batch a key's records ascend; a key's records are first delivered in sequence order, and
 *   none is delivered again once a later record of its key succeeded;
 * - every record is delivered, and ends up processed or reported to the onFailure destination.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamFailureRecord } from './stream-failure.js';
import { openTestEngine } from '../../testkit/engine.js';

/** A small seeded generator, so a failing run replays exactly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const scenario = fc.record({
  writes: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
  gaps: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 40, maxLength: 40 }),
  parallelizationFactor: fc.integer({ min: 1, max: 10 }),
  bisect: fc.boolean(),
  reportBatchItemFailures: fc.boolean(),
  batchSize: fc.integer({ min: 1, max: 8 }),
  maximumRetryAttempts: fc.integer({ min: 0, max: 3 }),
  shards: fc.integer({ min: 1, max: 4 }),
  failureRate: fc.double({ min: 0, max: 0.6, noNaN: true }),
  seed: fc.integer(),
});

describe('stream trigger order and delivery (property)', () => {
  it('keeps per-key order and processes or reports every record', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const t = await openTestEngine();
        try {
          const next = random(s.seed);
          await t.sluice.queues.create('failures');
          await t.sluice.tables.createTable({
            name: 'tasks',
            partitionKey: { name: 'pk', type: 'S' },
            sortKey: { name: 'sk', type: 'S' },
            stream: { viewType: 'KEYS_ONLY' },
            streamShardCount: s.shards,
          });
          const busy = new Set<string>();
          const firstDelivered = new Map<string, number>(); // key -> highest seq delivered so far
          const maxSucceeded = new Map<string, number>();
          const location = new Map<string, { shardId: string; seq: number }>();
          const succeeded = new Set<string>();
          const violations: string[] = [];
          await t.sluice.functions.create({
            name: 'work',
            timeout: 900,
            handler: async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse | undefined> => {
              const records = event.Records.map((r) => ({
                pk: r.dynamodb!.Keys!.pk!.S!,
                id: `${r.dynamodb!.Keys!.pk!.S}/${r.dynamodb!.Keys!.sk!.S}`,
                seq: Number(r.dynamodb!.SequenceNumber),
                sequenceNumber: r.dynamodb!.SequenceNumber!,
                shardId: r.eventID!.slice(8, 12),
              }));
              const keys = new Set(records.map((r) => r.pk));
              for (const key of keys) if (busy.has(key)) violations.push(`${key} in two invocations at once`);
              const lastInBatch = new Map<string, number>();
              for (const r of records) {
                if ((lastInBatch.get(r.pk) ?? -1) >= r.seq)
                  violations.push(`${r.id} out of order within a batch`);
                lastInBatch.set(r.pk, r.seq);
                if (r.seq <= (maxSucceeded.get(r.pk) ?? -1))
                  violations.push(`${r.id} delivered after a later record succeeded`);
                const first = firstDelivered.get(r.pk) ?? -1;
                if (!location.has(r.id) && r.seq < first)
                  violations.push(`${r.id} first delivered after a later record`);
                firstDelivered.set(r.pk, Math.max(first, r.seq));
                location.set(r.id, { shardId: r.shardId, seq: r.seq });
              }
              for (const key of keys) busy.add(key);
              await new Promise<void>((resolve) => t.clock.setTimer(Math.floor(next() * 20), resolve));
              for (const key of keys) busy.delete(key);
              const fails = next() < s.failureRate;
              const failAt = fails ? Math.floor(next() * records.length) : records.length;
              const done = s.reportBatchItemFailures ? records.slice(0, failAt) : fails ? [] : records;
              for (const r of done) {
                succeeded.add(r.id);
                maxSucceeded.set(r.pk, Math.max(maxSucceeded.get(r.pk) ?? -1, r.seq));
              }
              if (!fails) return undefined;
              if (!s.reportBatchItemFailures) throw new Error('random failure');
              return { batchItemFailures: [{ itemIdentifier: records[failAt]!.sequenceNumber }] };
            },
          });
          await t.sluice.streamTriggers.create({
            stream: 'tasks',
            functionName: 'work',
            startingPosition: 'TRIM_HORIZON',
            batchSize: s.batchSize,
            parallelizationFactor: s.parallelizationFactor,
            bisectBatchOnFunctionError: s.bisect,
            maximumRetryAttempts: s.maximumRetryAttempts,
            functionResponseTypes: s.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
            destinationConfig: { onFailure: { destination: t.sluice.queues.arnOf('failures') } },
          });
          const written: string[] = [];
          for (const [index, key] of s.writes.entries()) {
            const item = { pk: `k${key}`, sk: String(index).padStart(3, '0') };
            written.push(`${item.pk}/${item.sk}`);
            await t.sluice.tables.putItem({ tableName: 'tasks', item });
            await t.clock.advance(s.gaps[index] ?? 0);
          }
          const reported: StreamFailureRecord[] = [];
          const covered = (id: string) => {
            if (succeeded.has(id)) return true;
            const at = location.get(id);
            return (
              at !== undefined &&
              reported.some((f) => {
                const info = f.DDBStreamBatchInfo;
                return (
                  info.shardId.endsWith(String(parseInt(at.shardId, 16)).padStart(20, '0')) &&
                  Number(info.startSequenceNumber) <= at.seq &&
                  at.seq <= Number(info.endSequenceNumber)
                );
              })
            );
          };
          await t.until(
            async () => {
              for (const m of await t.sluice.queues.receive('failures', { maxNumberOfMessages: 10 }))
                reported.push(JSON.parse(m.body) as StreamFailureRecord);
              return written.every(covered);
            },
            { stepMs: 250, maxMs: 300_000 },
          );
          expect(violations).toEqual([]);
          expect(written.filter((id) => !location.has(id))).toEqual([]);
        } finally {
          await t.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
