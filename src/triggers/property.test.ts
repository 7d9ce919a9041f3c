/**
 * Random workloads against one trigger: random handler durations (some past the function's timeout),
 * random failures (some past maxReceiveCount), random batch sizes and limits, with and without partial
 * batch responses. Whatever happens:
 * - no message is lost: each one was acknowledged after a successful handling, or is in the DLQ;
 * - concurrent executions never exceed min(maximumConcurrency, reserved concurrency, account concurrency);
 * - with enough backlog, they reach that limit (capacity is used, not wasted).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openTestEngine, sleep } from '../testkit/engine.js';

const scenario = fc
  .record({
    account: fc.integer({ min: 2, max: 12 }),
    reservedShare: fc.option(fc.double({ min: 0.01, max: 1, noNaN: true })),
    maximumConcurrency: fc.option(fc.integer({ min: 2, max: 10 })),
    batchSize: fc.integer({ min: 1, max: 6 }),
    reportBatchItemFailures: fc.boolean(),
    messages: fc.array(
      fc.record({
        durationMs: fc.oneof(fc.integer({ min: 1, max: 1_500 }), fc.integer({ min: 1, max: 2_500 })), // the function's timeout is 2 s
        failFirst: fc.constantFrom(0, 0, 0, 0, 0, 0, 1, 2, 5), // 5: always fails, ends in the DLQ
      }),
      { minLength: 1, maxLength: 80, size: 'medium' },
    ),
  })
  .map((s) => ({
    ...s,
    reserved: s.reservedShare === null ? null : Math.max(1, Math.floor(s.reservedShare * s.account)),
  }));

describe('trigger properties', () => {
  it('loses no message and keeps concurrency within, and up to, every limit', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const t = await openTestEngine({ accountConcurrency: s.account });
        try {
          const { sluice, clock } = t;
          await sluice.queues.create('dlq');
          await sluice.queues.create('work', {
            VisibilityTimeout: 5,
            RedrivePolicy: { deadLetterTargetArn: sluice.queues.arnOf('dlq'), maxReceiveCount: 3 },
          });
          const acked = new Set<string>();
          let running = 0;
          let peak = 0;
          await sluice.functions.create({
            name: 'fn',
            timeout: 2,
            reservedConcurrency: s.reserved,
            handler: async (event: SQSEvent, context): Promise<SQSBatchResponse | void> => {
              running++;
              peak = Math.max(peak, running);
              const plans = event.Records.map((r) => s.messages[Number(r.body)]!);
              const duration = Math.max(...plans.map((p) => p.durationMs));
              if (duration >= 2_000) {
                // Past its timeout Lambda kills the sandbox; in-process the handler runs on, but it no
                // longer counts: the engine has already released its slot. Model the kill just before.
                await sleep(clock, 1_999);
                running--;
                await sleep(clock, duration - 1_999);
                return;
              }
              await sleep(clock, duration);
              running--;
              const failing = event.Records.filter(
                (r, i) => Number(r.attributes.ApproximateReceiveCount) <= plans[i]!.failFirst,
              );
              if (context.getRemainingTimeInMillis() <= 0) return; // timed out: the engine already gave up on it
              if (!s.reportBatchItemFailures && failing.length > 0) throw new Error('a record failed');
              for (const record of event.Records) if (!failing.includes(record)) acked.add(record.body);
              if (s.reportBatchItemFailures)
                return { batchItemFailures: failing.map((r) => ({ itemIdentifier: r.messageId })) };
            },
          });
          for (let i = 0; i < s.messages.length; i += 10) {
            const entries = s.messages.slice(i, i + 10).map((_, k) => ({ id: `e${k}`, body: String(i + k) }));
            await sluice.queues.sendBatch('work', entries);
          }
          await sluice.triggers.create({
            queue: 'work',
            functionName: 'fn',
            batchSize: s.batchSize,
            functionResponseTypes: s.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
            scalingConfig:
              s.maximumConcurrency === null ? null : { maximumConcurrency: s.maximumConcurrency },
          });
          const limit = Math.min(s.maximumConcurrency ?? Infinity, s.reserved ?? s.account, s.account);
          await t.until(
            async () => {
              const c = await sluice.queues.counts('work');
              return c.visible + c.inFlight + c.delayed === 0 && running === 0;
            },
            { stepMs: 250, maxMs: 3_600_000 },
          );

          const dead = new Set<string>();
          for (;;) {
            const batch = await sluice.queues.receive('dlq', {
              maxNumberOfMessages: 10,
              visibilityTimeout: 600,
            });
            if (batch.length === 0) break;
            for (const m of batch) dead.add(m.body);
          }
          s.messages.forEach((_plan, i) => {
            expect(acked.has(String(i)) || dead.has(String(i)), `message ${i} was lost`).toBe(true);
          });
          expect(peak).toBeLessThanOrEqual(limit);
          expect(sluice.functions.metrics('fn').peakConcurrentExecutions).toBeLessThanOrEqual(limit);
          if (s.messages.length >= limit * s.batchSize) expect(peak).toBe(limit);
        } finally {
          await t.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
