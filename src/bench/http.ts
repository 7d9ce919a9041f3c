/**
 * HTTP benchmarks: throughput and latency of the SQS-compatible endpoint, SigV4 signed and verified on
 * every request. The setup mirrors a deployment rather than sharing one event loop between both ends:
 * - the node runs in its own process (as `sluice start` does), which also reports its CPU time, so the
 *   node's cost per request is measured apart from the clients';
 * - clients run in worker threads, each with the unmodified @aws-sdk/client-sqs v3 client over a
 *   keep-alive agent with a socket for every request in flight (no TCP handshake per request);
 * - a second, minimal client (node:http plus @smithy/signature-v4, which is what the SDK signs with)
 *   shows what the node serves when the client costs little: the SDK spends about 1 ms of CPU per call,
 *   so on a small machine it, not the node, sets the SDK figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { buildAuthSettings } from '../api/auth/credentials.js';
import { buildHttpApi } from '../api/server.js';
import {
  benchExecArgv,
  compiledBench,
  elapsedSeconds,
  freshEngine,
  nowMs,
  type BenchOptions,
  type Figure,
  type Scenario,
  nextChildReply,
} from './harness.js';
import { percentile, round } from './stats.js';

const body = JSON.stringify({ orderId: 12345, customer: 'c-42', items: [{ sku: 'a', qty: 2 }] });
export const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret-key' };
const NODE_ROLE_ENV = 'SLUICE_BENCH_HTTP_NODE';
/** Client worker threads: on a 2-core machine one SDK client alone saturates a core before the node does. */
const CLIENT_WORKERS = 2;

// ---------------------------------------------------------------------------------------------------
// The node, in a child process.

type NodeRequest = { type: 'cpu' } | { type: 'close' };
type NodeReply = { type: 'listening'; url: string } | { type: 'cpu'; ms: number } | { type: 'closed' };

async function serveBenchNode(options: BenchOptions): Promise<void> {
  const engine = await freshEngine(options);
  const auth = buildAuthSettings({ env: {}, configAccessKeys: [credentials], insecureDev: false });
  const api = await buildHttpApi({ sluice: engine.sluice, auth, logger: false });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const reply = (message: NodeReply) => process.send!(message);
  process.on('message', (message: NodeRequest) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      reply({ type: 'cpu', ms: (user + system) / 1000 });
    } else {
      void api
        .close()
        .then(() => engine.dispose())
        .then(() => reply({ type: 'closed' }));
    }
  });
  // If the bench dies, its node must not outlive it.
  process.once('disconnect', () => process.exit(0));
  reply({ type: 'listening', url });
}

interface BenchNode {
  url: string;
  /** CPU time (user + system) the node process has used so far, in ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

const nextReply = <T extends NodeReply['type']>(child: ChildProcess, type: T) =>
  nextChildReply<NodeReply, T>(child, type);

async function startBenchNode(options: BenchOptions): Promise<BenchNode> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [NODE_ROLE_ENV]: JSON.stringify(options) },
    execArgv: [...benchExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url } = await nextReply(child, 'listening');
  return {
    url,
    async cpuMs() {
      const answer = nextReply(child, 'cpu');
      child.send({ type: 'cpu' } satisfies NodeRequest);
      return (await answer).ms;
    },
    async close() {
      const closed = nextReply(child, 'closed');
      child.send({ type: 'close' } satisfies NodeRequest);
      await closed;
      // Dropping the IPC channel lets the node exit (see serveBenchNode) and this process too.
      child.disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Clients: the SDK, and a minimal signed one. Both keep connections alive with a socket per call in flight.

interface QueueClient {
  send(): Promise<number>;
  sendBatch(): Promise<number>;
  /** Receives up to 10 and deletes them in one batch; returns how many. */
  receiveAndDelete(): Promise<number>;
  destroy(): void;
}

const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: body }));

export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: Math.max(concurrency, 1) });
}

function sdkClient(url: string, QueueUrl: string, concurrency: number): QueueClient {
  const agent = keepAliveAgent(concurrency);
  const sqs = new SQSClient({
    endpoint: url,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    requestHandler: { httpAgent: agent },
  });
  return {
    async send() {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      return 1;
    },
    async sendBatch() {
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
      return result.Successful?.length ?? 0;
    },
    async receiveAndDelete() {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) return 0;
      const Entries = Messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! }));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries }));
      return Messages.length;
    },
    destroy() {
      sqs.destroy();
      agent.destroy();
    },
  };
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** The hash @smithy/signature-v4 expects, on node:crypto (the SDK's own node hash is not a dependency here). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

/**
 * A minimal AWS JSON-protocol caller: node:http on a keep-alive agent, each request signed with
 * @smithy/signature-v4 (what the SDK signs with) for `service`; resolves with the parsed 200 body.
 */
export function signedJsonCaller(params: {
  url: string;
  service: string;
  targetPrefix: string;
  agent: Agent;
}): (operation: string, input: object) => Promise<Record<string, unknown>> {
  const { agent } = params;
  const target = new URL(params.url);
  const signer = new SignatureV4({
    service: params.service,
    region: 'us-east-1',
    sha256: NodeSha256,
    credentials,
  });
  return async (operation, input) => {
    const payload = JSON.stringify(input);
    const headers = {
      host: target.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${params.targetPrefix}.${operation}`,
      'content-length': String(Buffer.byteLength(payload)),
    };
    const unsigned = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: '/',
      headers,
      body: payload,
    });
    const signed = await signer.sign(unsigned);
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: '/',
          headers: signed.headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode === 200) resolve(JSON.parse(text) as Record<string, unknown>);
            else reject(new Error(`${operation}: HTTP ${response.statusCode} ${text.slice(0, 300)}`));
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  };
}

function minimalClient(url: string, QueueUrl: string, concurrency: number): QueueClient {
  const agent = keepAliveAgent(concurrency);
  const call = signedJsonCaller({ url, service: 'sqs', targetPrefix: 'AmazonSQS', agent });
  return {
    async send() {
      await call('SendMessage', { QueueUrl, MessageBody: body });
      return 1;
    },
    async sendBatch() {
      const result = await call('SendMessageBatch', { QueueUrl, Entries: entries });
      return (result.Successful as unknown[] | undefined)?.length ?? 0;
    },
    async receiveAndDelete() {
      const { Messages = [] } = (await call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 })) as {
        Messages?: Array<{ ReceiptHandle: string }>;
      };
      if (Messages.length === 0) return 0;
      await call('DeleteMessageBatch', {
        QueueUrl,
        Entries: Messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })),
      });
      return Messages.length;
    },
    destroy() {
      agent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Load, run in client worker threads.

type ClientKind = 'sdk' | 'minimal';
type Operation = 'send' | 'sendBatch' | 'receiveAndDelete';

interface Load {
  client: ClientKind;
  operation: Operation;
  url: string;
  queueUrl: string;
  /** Calls this worker makes; for receiveAndDelete, until a receive comes back empty. */
  calls: number;
  concurrency: number;
  /** Record each call's latency (meaningful with concurrency 1). */
  latencies: boolean;
}

interface LoadResult {
  units: number;
  calls: number;
  latenciesMs: number[];
}

async function runLoad(load: Load, client: QueueClient): Promise<LoadResult> {
  const result: LoadResult = { units: 0, calls: 0, latenciesMs: [] };
  let drained = false;
  await Promise.all(
    Array.from({ length: load.concurrency }, async () => {
      while (!drained && result.calls < load.calls) {
        result.calls += 1;
        const start = nowMs();
        const units = await client[load.operation]();
        if (load.latencies) result.latenciesMs.push(nowMs() - start);
        result.units += units;
        if (units === 0 && load.operation === 'receiveAndDelete') drained = true;
      }
    }),
  );
  return result;
}

const WARM_UP_CALLS = 200;

/** A worker thread does not inherit `--import tsx`: from source it registers tsx itself, then loads this file. */
const workerBootstrap = compiledBench
  ? `import(${JSON.stringify(import.meta.url)})`
  : `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;

/** Worker side: build the client, warm it up (JIT, connections), then run the load when told to. */
async function serveClientWorker(load: Load): Promise<void> {
  const port = parentPort!;
  const client = (load.client === 'sdk' ? sdkClient : minimalClient)(
    load.url,
    load.queueUrl,
    load.concurrency,
  );
  // A drain is not warmed up: its warm-up calls would take messages before the clock starts.
  if (load.operation !== 'receiveAndDelete')
    await runLoad({ ...load, calls: WARM_UP_CALLS, latencies: false }, client);
  port.postMessage({ type: 'ready' });
  port.once('message', () => {
    void runLoad(load, client).then((result) => {
      client.destroy();
      port.postMessage({ type: 'done', result });
    });
  });
}

interface LoadFigures {
  unitsPerSecond: number;
  calls: number;
  latenciesMs: number[];
}

/** Runs `load` split over `workers` threads (each with its share of the concurrency), timed from a common start. */
async function runWorkers(
  load: Omit<Load, 'calls' | 'concurrency'>,
  calls: number,
  concurrency: number,
  workers: number,
): Promise<LoadFigures> {
  const count = Math.min(workers, concurrency);
  const threads = Array.from({ length: count }, (_, i) => {
    const share: Load = {
      ...load,
      calls: Math.ceil(calls / count),
      concurrency: Math.floor(concurrency / count) + (i < concurrency % count ? 1 : 0),
    };
    return new Worker(workerBootstrap, { eval: true, workerData: share });
  });
  const ready = threads.map(
    (thread) => new Promise<void>((resolve) => thread.once('message', () => resolve())),
  );
  await Promise.all(ready);
  const done = threads.map(
    (thread) =>
      new Promise<LoadResult>((resolve, reject) => {
        thread.once('message', (message: { result: LoadResult }) => resolve(message.result));
        thread.once('error', reject);
      }),
  );
  const start = process.hrtime.bigint();
  for (const thread of threads) thread.postMessage('go');
  const results = await Promise.all(done);
  const seconds = elapsedSeconds(start);
  await Promise.all(threads.map((thread) => thread.terminate()));
  return {
    unitsPerSecond: results.reduce((sum, r) => sum + r.units, 0) / seconds,
    calls: results.reduce((sum, r) => sum + r.calls, 0),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
  };
}

// ---------------------------------------------------------------------------------------------------
// Scenarios.

async function withBenchNode<T>(
  options: BenchOptions,
  run: (node: BenchNode, queueUrl: string) => Promise<T>,
): Promise<T> {
  const node = await startBenchNode(options);
  const sqs = new SQSClient({ endpoint: node.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench' }));
    return await run(node, QueueUrl!);
  } finally {
    sqs.destroy();
    await node.close();
  }
}

/** Runs a load and measures the node's CPU time per call over it. */
async function measured(
  node: BenchNode,
  run: () => Promise<LoadFigures>,
): Promise<LoadFigures & { nodeCpuMsPerCall: number }> {
  const before = await node.cpuMs();
  const figures = await run();
  const after = await node.cpuMs();
  return { ...figures, nodeCpuMsPerCall: (after - before) / Math.max(figures.calls, 1) };
}

function throughputFigures(
  label: string,
  unit: string,
  figures: LoadFigures & { nodeCpuMsPerCall: number },
  aim?: string,
): Figure[] {
  return [
    { name: label, value: round(figures.unitsPerSecond, 0), unit, ...(aim ? { aim } : {}) },
    { name: `${label}: node CPU per call`, value: round(figures.nodeCpuMsPerCall, 3), unit: 'ms' },
  ];
}

type Endpoint = Pick<Load, 'client' | 'url' | 'queueUrl' | 'latencies'>;

/** A scenario on a fresh node with one queue, driven by one kind of client. */
function nodeScenario(
  name: string,
  client: ClientKind,
  run: (params: { options: BenchOptions; node: BenchNode; endpoint: Endpoint }) => Promise<Figure[]>,
): Scenario {
  return {
    name,
    run: (options) =>
      withBenchNode(options, (node, queueUrl) =>
        run({ options, node, endpoint: { client, url: node.url, queueUrl, latencies: false } }),
      ),
  };
}

async function latencyFigures(endpoint: Endpoint, calls: number): Promise<Figure[]> {
  const sequential = await runWorkers({ ...endpoint, operation: 'send', latencies: true }, calls, 1, 1);
  const at = (p: number) => round(percentile(sequential.latenciesMs, p), 2);
  return [
    { name: 'SendMessage, one at a time', value: round(sequential.unitsPerSecond, 0), unit: 'msg/s' },
    { name: 'SendMessage latency, p50', value: at(50), unit: 'ms' },
    { name: 'SendMessage latency, p99', value: at(99), unit: 'ms' },
  ];
}

function sendScenario(client: ClientKind, title: string): Scenario {
  return nodeScenario(title, client, async ({ options, node, endpoint }) => {
    const singles = options.quick ? 2_000 : 20_000;
    // The SDK's latency is what applications see; the minimal client's would only repeat the node's share.
    const figures = client === 'sdk' ? await latencyFigures(endpoint, singles / 4) : [];
    const concurrent = await measured(node, () =>
      runWorkers({ ...endpoint, operation: 'send' }, singles, 16, CLIENT_WORKERS),
    );
    const batched = await measured(node, () =>
      runWorkers({ ...endpoint, operation: 'sendBatch' }, singles / 4, 16, CLIENT_WORKERS),
    );
    return [
      ...figures,
      ...throughputFigures('SendMessage, 16 in flight', 'msg/s', concurrent, '>= 5,000'),
      ...throughputFigures('SendMessageBatch of 10, 16 in flight', 'msg/s', batched, '>= 20,000'),
    ];
  });
}

function receiveScenario(client: ClientKind, title: string): Scenario {
  return nodeScenario(title, client, async ({ options, node, endpoint }) => {
    const total = options.quick ? 10_000 : 100_000;
    await runWorkers({ ...endpoint, operation: 'sendBatch' }, total / 10, 16, CLIENT_WORKERS);
    const drained = await measured(node, () =>
      runWorkers({ ...endpoint, operation: 'receiveAndDelete' }, Number.MAX_SAFE_INTEGER, 8, CLIENT_WORKERS),
    );
    return throughputFigures('ReceiveMessage (10) + DeleteMessageBatch, 8 in flight', 'msg/s', drained);
  });
}

export const httpScenarios: Scenario[] = [
  sendScenario('sdk', 'http send (SQS endpoint, SDK v3)'),
  receiveScenario('sdk', 'http receive+delete (SQS endpoint, SDK v3)'),
  sendScenario('minimal', 'http send (SQS endpoint, minimal signed client)'),
  receiveScenario('minimal', 'http receive+delete (SQS endpoint, minimal signed client)'),
];

// This file is also the entry point of the node process and of the client worker threads.
if (!isMainThread && (workerData as Load | undefined)?.operation !== undefined) {
  void serveClientWorker(workerData as Load);
} else if (isMainThread && process.env[NODE_ROLE_ENV] !== undefined && process.send !== undefined) {
  void serveBenchNode(JSON.parse(process.env[NODE_ROLE_ENV]!) as BenchOptions);
}
