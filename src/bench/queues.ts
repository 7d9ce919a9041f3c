/**
 * Queue benchmarks (issue 2): send throughput (single and batches of 10), receive+delete throughput in
 * batches of 10, long-poll wake latency, and resident memory with an empty versus a deep backlog.
 */
import { elapsedSeconds, freshEngine, nowMs, type Figure, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

const body = JSON.stringify({ orderId: 12345, customer: 'c-42', items: [{ sku: 'a', qty: 2 }] });

const sendThroughput: Scenario = {
  name: 'queue send',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const q = engine.sluice.queues;
      await q.create('bench');
      const singles = options.quick ? 2_000 : 20_000;
      let start = process.hrtime.bigint();
      for (let i = 0; i < singles; i++) await q.send('bench', { body });
      const singleRate = singles / elapsedSeconds(start);
      const batches = options.quick ? 2_000 : 20_000;
      const entries = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body }));
      start = process.hrtime.bigint();
      for (let i = 0; i < batches; i++) await q.sendBatch('bench', entries);
      const batchRate = (batches * 10) / elapsedSeconds(start);
      return [
        { name: 'send, single messages', value: round(singleRate, 0), unit: 'msg/s' },
        { name: 'send, batches of 10', value: round(batchRate, 0), unit: 'msg/s', aim: '>= 50,000' },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

const receiveDeleteThroughput: Scenario = {
  name: 'queue receive+delete',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const q = engine.sluice.queues;
      await q.create('bench');
      const total = options.quick ? 20_000 : 200_000;
      const entries = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body }));
      for (let i = 0; i < total / 10; i++) await q.sendBatch('bench', entries);
      const start = process.hrtime.bigint();
      let drained = 0;
      for (;;) {
        const batch = await q.receive('bench', { maxNumberOfMessages: 10 });
        if (batch.length === 0) break;
        await q.deleteMessageBatch(
          'bench',
          batch.map((m, i) => ({ id: `d${i}`, receiptHandle: m.receiptHandle })),
        );
        drained += batch.length;
      }
      const rate = drained / elapsedSeconds(start);
      return [{ name: 'receive+delete, batches of 10', value: round(rate, 0), unit: 'msg/s', aim: '>= 30,000' }];
    } finally {
      await engine.dispose();
    }
  },
};

const longPollWake: Scenario = {
  name: 'long-poll wake latency',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const q = engine.sluice.queues;
      await q.create('bench');
      const samples: number[] = [];
      const rounds = options.quick ? 300 : 2_000;
      for (let i = 0; i < rounds; i++) {
        const receiving = q.receive('bench', { waitTimeSeconds: 20 });
        // Let the receive reach its wait before sending, so we time a wake-up, not a lucky first query.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        const sentAt = nowMs();
        await q.send('bench', { body });
        const [message] = await receiving;
        samples.push(nowMs() - sentAt);
        await q.deleteMessage('bench', message!.receiptHandle);
      }
      return [
        { name: 'wake latency send -> receive returns, p50', value: round(percentile(samples, 50), 3), unit: 'ms', aim: '<= 1' },
        { name: 'wake latency send -> receive returns, p99', value: round(percentile(samples, 99), 3), unit: 'ms' },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

const residentMemory: Scenario = {
  name: 'resident memory vs backlog',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const q = engine.sluice.queues;
      await q.create('bench');
      const gc = (globalThis as { gc?: () => void }).gc;
      const measure = () => {
        gc?.();
        return process.memoryUsage().rss / 1024 / 1024;
      };
      await q.send('bench', { body });
      const figures: Figure[] = [{ name: 'RSS with 1 message queued', value: round(measure(), 1), unit: 'MiB' }];
      const backlog = options.quick ? 100_000 : 1_000_000;
      const entries = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body }));
      // Sample along the way: memory grows while SQLite's bounded page cache (64 MiB) fills, then stays flat.
      for (const checkpoint of [0.25, 0.5, 1]) {
        const target = backlog * checkpoint;
        const { visible } = await q.counts('bench');
        for (let sent = visible; sent < target; sent += 10) await q.sendBatch('bench', entries);
        figures.push({
          name: `RSS with ${target.toLocaleString('en-US')} messages queued`,
          value: round(measure(), 1),
          unit: 'MiB',
          ...(checkpoint === 1 ? { aim: 'flat' } : {}),
        });
      }
      return figures;
    } finally {
      await engine.dispose();
    }
  },
};

export const queueScenarios: Scenario[] = [sendThroughput, receiveDeleteThroughput, longPollWake, residentMemory];
