/**
 * The DynamoDB endpoint over HTTP: PutItem and GetItem throughput with a cheap signed client (node:http on
 * a keep-alive agent, SigV4 with the signing key and fixed parts precomputed: cheap-signed-client.ts;
 * 16 calls in flight over 16 connections), and write → stream-triggered handler start
 * latency through the wire (one PutItem at a time; the handler, in the node, reads the instant the client
 * sent the item from the item itself). The node runs in its own process, as `sluice start` does.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { buildAuthSettings } from '../api/auth/credentials.js';
import { buildHttpApi } from '../api/server.js';
import {
  benchExecArgv,
  freshEngine,
  nextChildReply,
  nowMs,
  type BenchOptions,
  type Figure,
  type Scenario,
} from './harness.js';
import { cheapSignedJsonCaller } from './cheap-signed-client.js';
import { credentials, keepAliveAgent } from './http.js';
import { percentile, round } from './stats.js';

const ROLE_ENV = 'SLUICE_BENCH_DYNAMODB_NODE';
const table = 'bench';

type NodeReply =
  | { type: 'listening'; url: string }
  | { type: 'latencies'; ms: number[] }
  | { type: 'cpu'; ms: number }
  | { type: 'closed' };

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const preciseNow = () => performance.timeOrigin + performance.now();

async function serveNode(options: BenchOptions): Promise<void> {
  const engine = await freshEngine(options);
  const { sluice } = engine;
  await sluice.tables.createTable({
    name: table,
    partitionKey: { name: 'pk', type: 'S' },
    stream: { viewType: 'NEW_IMAGE' },
  });
  const latencies: number[] = [];
  await sluice.functions.create({
    name: 'observe',
    handler: async (event: DynamoDBStreamEvent) => {
      const now = preciseNow();
      for (const record of event.Records) {
        const sentAt = record.dynamodb?.NewImage?.sentAt?.N;
        if (sentAt !== undefined) latencies.push(now - Number(sentAt));
      }
    },
  });
  await sluice.streamTriggers.create({
    stream: table,
    functionName: 'observe',
    startingPosition: 'LATEST',
    batchSize: 100,
  });
  const auth = buildAuthSettings({ env: {}, configAccessKeys: [credentials], insecureDev: false });
  const api = await buildHttpApi({ sluice, auth, logger: false });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (message: { type: 'latencies' | 'cpu' | 'close' }) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ type: 'cpu', ms: (user + system) / 1000 } satisfies NodeReply);
    } else if (message.type === 'latencies')
      process.send!({ type: 'latencies', ms: latencies.splice(0) } satisfies NodeReply);
    else
      void api
        .close()
        .then(() => engine.dispose())
        .then(() => process.send!({ type: 'closed' } satisfies NodeReply));
  });
  process.once('disconnect', () => process.exit(0));
  process.send!({ type: 'listening', url } satisfies NodeReply);
}

const reply = <T extends NodeReply['type']>(child: ChildProcess, type: T) =>
  nextChildReply<NodeReply, T>(child, type);

interface NodeHandle {
  url: string;
  latencies(): Promise<number[]>;
  /** CPU time (user + system) the node process has used so far, in ms. */
  cpuMs(): Promise<number>;
}

async function withNode<T>(options: BenchOptions, run: (node: NodeHandle) => Promise<T>): Promise<T> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [ROLE_ENV]: JSON.stringify(options) },
    // SLUICE_BENCH_CPU_PROF=<dir>: the node writes a V8 CPU profile there when it exits (node --cpu-prof).
    execArgv: [
      ...benchExecArgv,
      ...(process.env.SLUICE_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SLUICE_BENCH_CPU_PROF}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url } = await reply(child, 'listening');
  try {
    return await run({
      url,
      async latencies() {
        const answer = reply(child, 'latencies');
        child.send({ type: 'latencies' });
        return (await answer).ms;
      },
      async cpuMs() {
        const answer = reply(child, 'cpu');
        child.send({ type: 'cpu' });
        return (await answer).ms;
      },
    });
  } finally {
    const closed = reply(child, 'closed');
    child.send({ type: 'close' });
    await closed;
    child.disconnect();
  }
}

async function throughput(
  calls: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = nowMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) await call(next++);
    }),
  );
  return calls / ((nowMs() - start) / 1000);
}

const dynamodbScenario: Scenario = {
  name: 'http dynamodb (DynamoDB endpoint, cheap signed client)',
  async run(options) {
    return withNode(options, async (node) => {
      const agent = keepAliveAgent(16);
      const call = cheapSignedJsonCaller({
        url: node.url,
        service: 'dynamodb',
        targetPrefix: 'DynamoDB_20120810',
        agent,
        credentials,
      });
      try {
        const calls = options.quick ? 5_000 : 30_000;
        const item = (i: number) => ({
          pk: { S: `item-${i % 10_000}` },
          payload: { S: 'x'.repeat(100) },
          n: { N: String(i) },
        });
        // Warm up both ends (JIT, connections), then measure.
        await throughput(1_000, 16, (i) => call('PutItem', { TableName: table, Item: item(i) }));
        const clientCpuMs = () => {
          const { user, system } = process.cpuUsage();
          return (user + system) / 1000;
        };
        const cpuBefore = await node.cpuMs();
        const clientBefore = clientCpuMs();
        const puts = await throughput(calls, 16, (i) => call('PutItem', { TableName: table, Item: item(i) }));
        const cpuAfterPuts = await node.cpuMs();
        const clientAfterPuts = clientCpuMs();
        const gets = await throughput(calls, 16, (i) =>
          call('GetItem', { TableName: table, Key: { pk: { S: `item-${i % 10_000}` } } }),
        );
        const cpuAfterGets = await node.cpuMs();
        const clientAfterGets = clientCpuMs();
        await node.latencies();
        const samples = options.quick ? 300 : 2_000;
        for (let i = 0; i < samples; i++) {
          await call('PutItem', {
            TableName: table,
            Item: { pk: { S: `latency-${i}` }, sentAt: { N: String(preciseNow()) } },
          });
          // One write at a time: let the handler run before the next one.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        const latencies = (await node.latencies()).sort((a, b) => a - b);
        const figures: Figure[] = [
          {
            name: 'PutItem, 16 in flight',
            value: Math.round(puts),
            unit: 'items/s',
            aim: '≥ 10,000 on SQLite',
          },
          {
            name: 'GetItem, 16 in flight',
            value: Math.round(gets),
            unit: 'items/s',
            aim: '≥ 15,000 on SQLite',
          },
          // What the node itself spends, whatever the client and the machine's other load cost.
          {
            name: 'node CPU per PutItem (incl. its stream record and trigger)',
            value: round((cpuAfterPuts - cpuBefore) / calls, 3),
            unit: 'ms',
          },
          {
            name: 'node CPU per GetItem',
            value: round((cpuAfterGets - cpuAfterPuts) / calls, 3),
            unit: 'ms',
          },
          // The client's share of the machine: with both on 2 cores, its CPU bounds the rates too.
          {
            name: 'client CPU per PutItem',
            value: round((clientAfterPuts - clientBefore) / calls, 3),
            unit: 'ms',
          },
          {
            name: 'client CPU per GetItem',
            value: round((clientAfterGets - clientAfterPuts) / calls, 3),
            unit: 'ms',
          },
          {
            name: 'PutItem → stream handler start p50',
            value: round(percentile(latencies, 50)),
            unit: 'ms',
            aim: '≤ 2 ms',
          },
          { name: 'PutItem → stream handler start p99', value: round(percentile(latencies, 99)), unit: 'ms' },
          { name: 'latency samples', value: latencies.length, unit: 'writes' },
        ];
        return figures;
      } finally {
        agent.destroy();
      }
    });
  },
};

export const dynamodbScenarios: Scenario[] = [dynamodbScenario];

if (process.env[ROLE_ENV] !== undefined && process.send !== undefined) {
  void serveNode(JSON.parse(process.env[ROLE_ENV]!) as BenchOptions);
}
