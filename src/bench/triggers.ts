/**
 * Queue -> function benchmarks (issue 3): drain throughput through a trigger with a no-op in-process
 * handler (batch 10, concurrency 16), send -> handler start latency at 50 msg/s, and the store
 * operations 50 idle triggers issue (must be zero).
 */
import { Sluice } from '../engine/sluice.js';
import { openStore } from '../store/open.js';
import { countingStore } from '../testkit/counting-store.js';
import { elapsedSeconds, freshEngine, nowMs, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

const body = JSON.stringify({ orderId: 12345, customer: 'c-42' });

const drainThroughput: Scenario = {
  name: 'trigger throughput',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      const total = options.quick ? 20_000 : 100_000;
      await sluice.queues.create('bench', { VisibilityTimeout: 60 });
      const entries = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body }));
      for (let i = 0; i < total / 10; i++) await sluice.queues.sendBatch('bench', entries);
      let handled = 0;
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      await sluice.functions.create({
        name: 'noop',
        handler: async (event: { Records: unknown[] }) => {
          handled += event.Records.length;
          if (handled >= total) finished();
        },
      });
      const start = process.hrtime.bigint();
      await sluice.triggers.create({ queue: 'bench', functionName: 'noop', batchSize: 10, scalingConfig: { maximumConcurrency: 16 } });
      await done;
      const rate = total / elapsedSeconds(start);
      return [{ name: 'queue -> no-op function, batch 10, concurrency 16', value: round(rate, 0), unit: 'msg/s', aim: '>= 20,000' }];
    } finally {
      await engine.dispose();
    }
  },
};

const sendToStartLatency: Scenario = {
  name: 'trigger latency',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      await sluice.queues.create('bench');
      const sentAt = new Map<string, number>();
      const samples: number[] = [];
      await sluice.functions.create({
        name: 'stamp',
        handler: async (event: { Records: Array<{ body: string }> }) => {
          const started = nowMs();
          for (const record of event.Records) samples.push(started - sentAt.get(record.body)!);
        },
      });
      await sluice.triggers.create({ queue: 'bench', functionName: 'stamp', batchSize: 10 });
      const count = options.quick ? 100 : 500;
      for (let i = 0; i < count; i++) {
        const id = `m${i}`;
        sentAt.set(id, nowMs());
        await sluice.queues.send('bench', { body: id });
        await new Promise((resolve) => setTimeout(resolve, 20)); // 50 msg/s
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      return [
        { name: 'send -> handler start at 50 msg/s, p50', value: round(percentile(samples, 50), 3), unit: 'ms', aim: '<= 2' },
        { name: 'send -> handler start at 50 msg/s, p99', value: round(percentile(samples, 99), 3), unit: 'ms', aim: '<= 10' },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

const idleTriggers: Scenario = {
  name: 'idle triggers',
  async run(options) {
    if (options.store === 'postgres') return []; // the PostgreSQL idle budget is measured by the cluster scenarios
    const counter = countingStore(await openStore('sqlite::memory:'));
    const sluice = await Sluice.open({ store: counter.store });
    try {
      await sluice.functions.create({ name: 'noop', handler: async () => undefined });
      for (let i = 0; i < 50; i++) {
        await sluice.queues.create(`idle-${i}`);
        await sluice.triggers.create({ queue: `idle-${i}`, functionName: 'noop' });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      counter.reset();
      const seconds = options.quick ? 5 : 60;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      return [{ name: `store operations in ${seconds} s idle with 50 triggers`, value: counter.total(), unit: 'ops', aim: '0' }];
    } finally {
      await sluice.close();
    }
  },
};

export const triggerScenarios: Scenario[] = [drainThroughput, sendToStartLatency, idleTriggers];
