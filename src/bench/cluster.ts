/**
 * Cluster benchmarks (issue 5, PostgreSQL only): queue -> no-op function throughput with 1 and with 3
 * node processes on one schema (batch 10, trigger concurrency 16 cluster-wide), and send -> handler
 * start latency at 50 msg/s with 1 and with 3 nodes (the send in the benchmark process, the handler in a
 * node, the wake-up crossing processes through LISTEN/NOTIFY).
 *
 * The nodes are this module run as a child process (`SLUICE_BENCH_NODE` holds its settings); they talk
 * to the benchmark over IPC: `go` creates the trigger, `count` and `samples` report what was handled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Sluice } from '../engine/sluice.js';
import { benchExecArgv, type BenchOptions, type Figure, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

interface NodeSettings {
  store: string;
  nodeId: string;
  queue: string;
  maximumConcurrency: number;
}

type NodeMessage =
  { type: 'ready' } | { type: 'count'; handled: number } | { type: 'samples'; samples: number[] };

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const epochNow = () => performance.timeOrigin + performance.now();

async function runNode(settings: NodeSettings): Promise<void> {
  const sluice = await Sluice.open({ store: settings.store, cluster: { nodeId: settings.nodeId } });
  let handled = 0;
  const samples: number[] = [];
  await sluice.functions.create({
    name: 'noop',
    handler: async (event: { Records: Array<{ body: string }> }) => {
      const started = epochNow();
      handled += event.Records.length;
      for (const record of event.Records)
        if (record.body.startsWith('t')) samples.push(started - Number(record.body.slice(1)));
    },
  });
  const send = (message: NodeMessage) => process.send?.(message);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'go') {
      void sluice.triggers.create({
        queue: settings.queue,
        functionName: 'noop',
        batchSize: 10,
        scalingConfig: { maximumConcurrency: settings.maximumConcurrency },
      });
    } else if (message.type === 'count') send({ type: 'count', handled });
    else if (message.type === 'samples') send({ type: 'samples', samples });
    else if (message.type === 'stop') void sluice.close().then(() => process.exit(0));
  });
  send({ type: 'ready' });
}

class NodeProcess {
  private readonly waiters = new Map<string, (message: NodeMessage) => void>();
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: NodeMessage) => {
      const waiter = this.waiters.get(message.type);
      this.waiters.delete(message.type);
      waiter?.(message);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(settings: NodeSettings): Promise<NodeProcess> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: [...benchExecArgv],
      env: { ...process.env, SLUICE_BENCH_NODE: JSON.stringify(settings) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const node = new NodeProcess(child);
    await node.next('ready');
    return node;
  }

  next<T extends NodeMessage['type']>(type: T): Promise<Extract<NodeMessage, { type: T }>> {
    return new Promise((resolve) => this.waiters.set(type, resolve as (message: NodeMessage) => void));
  }

  async ask<T extends 'count' | 'samples'>(type: T): Promise<Extract<NodeMessage, { type: T }>> {
    const reply = this.next(type);
    this.child.send({ type });
    return reply;
  }

  send(type: 'go' | 'stop'): void {
    this.child.send({ type });
  }
}

/** A fresh schema, `count` nodes on it, and a sender (not a node) for the benchmark's own sends. */
async function cluster(options: BenchOptions, count: number) {
  const schema = `sluice_bench_cluster_${process.pid}_${Date.now().toString(36)}`;
  const separator = options.postgresUrl.includes('?') ? '&' : '?';
  const store = `${options.postgresUrl}${separator}schema=${schema}`;
  const sender = await Sluice.open({ store, cluster: false });
  await sender.queues.create('bench', { VisibilityTimeout: 60 });
  const nodes: NodeProcess[] = [];
  for (let i = 0; i < count; i++)
    nodes.push(
      await NodeProcess.start({ store, nodeId: `bench-${i}`, queue: 'bench', maximumConcurrency: 16 }),
    );
  return {
    sender,
    nodes,
    async handled(): Promise<number> {
      const counts = await Promise.all(nodes.map((node) => node.ask('count')));
      return counts.reduce((sum, c) => sum + c.handled, 0);
    },
    async dispose(): Promise<void> {
      for (const node of nodes) node.send('stop');
      await Promise.all(nodes.map((node) => node.exited));
      await sender.close();
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: options.postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

const body = JSON.stringify({ orderId: 12345, customer: 'c-42' });

function throughput(count: number): Scenario {
  return {
    name: `cluster throughput, ${count} node${count > 1 ? 's' : ''}`,
    async run(options): Promise<Figure[]> {
      if (options.store !== 'postgres') return [];
      const c = await cluster(options, count);
      try {
        const total = options.quick ? 20_000 : 100_000;
        const entries = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body }));
        for (let i = 0; i < total / 10; i++) await c.sender.queues.sendBatch('bench', entries);
        const start = performance.now();
        for (const node of c.nodes) node.send('go');
        while ((await c.handled()) < total) await new Promise((resolve) => setTimeout(resolve, 20));
        const rate = total / ((performance.now() - start) / 1000);
        return [
          {
            name: `queue -> no-op function, ${count} node process${count > 1 ? 'es' : ''}, batch 10, concurrency 16 cluster-wide`,
            value: round(rate, 0),
            unit: 'msg/s',
            ...(count === 1 ? { aim: '>= 10,000' } : {}),
          },
        ];
      } finally {
        await c.dispose();
      }
    },
  };
}

function latency(count: number): Scenario {
  return {
    name: `cluster latency, ${count} node${count > 1 ? 's' : ''}`,
    async run(options): Promise<Figure[]> {
      if (options.store !== 'postgres') return [];
      const c = await cluster(options, count);
      try {
        for (const node of c.nodes) node.send('go');
        // Warm up (connections, prepared statements, each node's standing slot); these are not sampled.
        for (let i = 0; i < 20; i++) {
          await c.sender.queues.send('bench', { body: 'warm-up' });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const messages = options.quick ? 150 : 500;
        for (let i = 0; i < messages; i++) {
          await c.sender.queues.send('bench', { body: `t${epochNow()}` });
          await new Promise((resolve) => setTimeout(resolve, 20)); // 50 msg/s
        }
        while ((await c.handled()) < messages + 20) await new Promise((resolve) => setTimeout(resolve, 20));
        const samples = (await Promise.all(c.nodes.map((node) => node.ask('samples')))).flatMap(
          (s) => s.samples,
        );
        const label = `${count} node process${count > 1 ? 'es' : ''}`;
        return [
          {
            name: `send -> handler start at 50 msg/s, ${label}, p50`,
            value: round(percentile(samples, 50), 3),
            unit: 'ms',
            ...(count === 1 ? { aim: '<= 5' } : {}),
          },
          {
            name: `send -> handler start at 50 msg/s, ${label}, p99`,
            value: round(percentile(samples, 99), 3),
            unit: 'ms',
          },
        ];
      } finally {
        await c.dispose();
      }
    },
  };
}

export const clusterScenarios: Scenario[] = [throughput(1), throughput(3), latency(1), latency(3)];

if (process.env.SLUICE_BENCH_NODE) {
  runNode(JSON.parse(process.env.SLUICE_BENCH_NODE) as NodeSettings).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
