/**
 * Stream trigger benchmarks (issue 4): a stream backlog of 1,000 partition keys drained into a no-op
 * function in batches of 100, and the latency from an item write to the start of its handler.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Sluice } from '../engine/sluice.js';
import { elapsedSeconds, freshEngine, nowMs, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

async function taskTable(sluice: Sluice): Promise<void> {
  await sluice.tables.createTable({
    name: 'tasks',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'N' },
    stream: { viewType: 'NEW_IMAGE' },
  });
}

const streamThroughput: Scenario = {
  name: 'stream -> function',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      await taskTable(sluice);
      const total = options.quick ? 20_000 : 200_000;
      for (let written = 0; written < total; written += 100) {
        await sluice.tables.transactWriteItems(
          Array.from({ length: 100 }, (_, i) => ({
            put: {
              tableName: 'tasks',
              item: { pk: `key-${(written + i) % 1000}`, sk: written + i, status: 'queued', attempt: 0 },
            },
          })),
        );
      }
      let handled = 0;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      await sluice.functions.create({
        name: 'noop',
        handler: async (event: DynamoDBStreamEvent) => {
          handled += event.Records.length;
          if (handled >= total) done();
        },
      });
      const start = process.hrtime.bigint();
      await sluice.streamTriggers.create({
        stream: 'tasks',
        functionName: 'noop',
        startingPosition: 'TRIM_HORIZON',
        batchSize: 100,
      });
      await finished;
      const rate = total / elapsedSeconds(start);
      return [
        {
          name: '1,000 keys, batches of 100, no-op handler',
          value: round(rate, 0),
          unit: 'records/s',
          aim: '>= 20,000',
        },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

const writeToHandlerLatency: Scenario = {
  name: 'stream write -> handler latency',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      await taskTable(sluice);
      let started: (() => void) | undefined;
      await sluice.functions.create({
        name: 'probe',
        handler: async () => {
          started?.();
        },
      });
      await sluice.streamTriggers.create({
        stream: 'tasks',
        functionName: 'probe',
        startingPosition: 'LATEST',
        batchSize: 1,
      });
      const samples: number[] = [];
      const rounds = options.quick ? 300 : 2_000;
      for (let i = 0; i < rounds; i++) {
        const handlerStarted = new Promise<void>((resolve) => {
          started = resolve;
        });
        const writtenAt = nowMs();
        await sluice.tables.putItem({ tableName: 'tasks', item: { pk: `key-${i % 1000}`, sk: i } });
        await handlerStarted;
        samples.push(nowMs() - writtenAt);
      }
      return [
        {
          name: 'write -> handler start, p50',
          value: round(percentile(samples, 50), 3),
          unit: 'ms',
          aim: '<= 2',
        },
        { name: 'write -> handler start, p99', value: round(percentile(samples, 99), 3), unit: 'ms' },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

export const streamScenarios: Scenario[] = [streamThroughput, writeToHandlerLatency];
