/**
 * The "DynamoDB > stream > Lambda" experiment (seeds/000), run on Sluice: a table used as a task queue,
 * whose change stream triggers a function. Three questions, as in the experiment:
 *   A. concurrency: are many invocations started at once? (batch 1, window 0, parallelization 10)
 *   B. order: are tasks sharing a partition key handled one at a time in sort-key order, while
 *      different keys run in parallel?
 *   C. retry: is a failed task retried until it succeeds, and does a task that keeps failing end in the
 *      onFailure destination once its retries are spent?
 * Run with `npm run example:streams`. Durations are scaled down (the experiment's handlers took ~1.2 s).
 *
 * `npm run example:streams -- --wire` runs the producers as the experiment's did: tables created and
 * tasks written with the unmodified AWS SDK (CreateTable, BatchWriteItem and PutItem of the
 * DocumentClient) against a node's DynamoDB endpoint, SigV4 signed; the functions and stream triggers
 * are the node's.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { buildAuthSettings } from '../api/auth/credentials.js';
import { buildHttpApi } from '../api/server.js';
import { Sluice } from '../engine/sluice.js';
import type { StreamFailureRecord } from '../triggers/stream/stream-failure.js';

type Task = Record<string, string>;

/** Where the producers write: the library, or the DynamoDB endpoint through the AWS SDK. */
interface Producer {
  createTaskTable(name: string): Promise<void>;
  batchWrite(table: string, tasks: Task[]): Promise<void>;
  put(table: string, task: Task): Promise<void>;
  close(): Promise<void>;
}

function libraryProducer(sluice: Sluice): Producer {
  return {
    async createTaskTable(name) {
      await sluice.tables.createTable({
        name,
        partitionKey: { name: 'PK', type: 'S' },
        sortKey: { name: 'SK', type: 'S' },
        stream: { viewType: 'NEW_IMAGE' },
      });
    },
    async batchWrite(table, tasks) {
      await sluice.tables.batchWriteItem(tasks.map((put) => ({ tableName: table, put })));
    },
    async put(table, task) {
      await sluice.tables.putItem({ tableName: table, item: task });
    },
    async close() {},
  };
}

async function wireProducer(sluice: Sluice): Promise<Producer> {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: randomBytes(16).toString('hex') };
  const api = await buildHttpApi({
    sluice,
    auth: buildAuthSettings({ env: {}, configAccessKeys: [credentials], insecureDev: false }),
    logger: false,
  });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const ddb = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials });
  const doc = DynamoDBDocumentClient.from(ddb);
  console.log(`(producers write through the AWS SDK to ${url})`);
  return {
    async createTaskTable(name) {
      await ddb.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [
            { AttributeName: 'PK', AttributeType: 'S' },
            { AttributeName: 'SK', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'PK', KeyType: 'HASH' },
            { AttributeName: 'SK', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
        }),
      );
    },
    async batchWrite(table, tasks) {
      await doc.send(new BatchWriteCommand({ RequestItems: { [table]: tasks.map((Item) => ({ PutRequest: { Item } })) } }));
    },
    async put(table, task) {
      await doc.send(new PutCommand({ TableName: table, Item: task }));
    },
    async close() {
      ddb.destroy();
      await api.close();
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const label = (i: number) => String(i).padStart(3, '0');
const keyOf = (event: DynamoDBStreamEvent, i = 0) => event.Records[i]!.dynamodb!.Keys!;

/** Counts handler executions under way and the most at once. */
function concurrencyProbe() {
  const probe = { active: 0, peak: 0 };
  const around = async (work: () => Promise<void>) => {
    probe.active++;
    probe.peak = Math.max(probe.peak, probe.active);
    try {
      await work();
    } finally {
      probe.active--;
    }
  };
  return { probe, around };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await pause(20);
}

/** Writes the tasks all at once, 25 per batch write, as the experiment's threaded producer does. */
async function produce(producer: Producer, table: string, tasks: Task[]): Promise<void> {
  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < tasks.length; i += 25) writes.push(producer.batchWrite(table, tasks.slice(i, i + 25)));
  await Promise.all(writes);
}

async function concurrency(sluice: Sluice, producer: Producer, batching: { batchSize: number; window: number }): Promise<void> {
  const name = `parallel-${batching.batchSize}`;
  await producer.createTaskTable(name);
  const { probe, around } = concurrencyProbe();
  const handled: string[] = [];
  await sluice.functions.create({
    name,
    handler: (event: DynamoDBStreamEvent) =>
      around(async () => {
        await pause(150 + Math.random() * 250);
        for (const record of event.Records) handled.push(record.dynamodb!.NewImage!.text!.S!);
      }),
  });
  await sluice.streamTriggers.create({
    stream: name,
    functionName: name,
    startingPosition: 'LATEST',
    batchSize: batching.batchSize,
    maximumBatchingWindowInSeconds: batching.window,
    parallelizationFactor: 10,
  });
  const started = Date.now();
  await produce(
    producer,
    name,
    Array.from({ length: 100 }, (_, i) => ({ PK: `task-${label(i + 1)}`, SK: 'A', text: label(i + 1) })),
  );
  await until(() => handled.length === 100);
  const fn = sluice.functions.metrics(name);
  console.log(`  batch size ${batching.batchSize}, window ${batching.window} s, parallelization factor 10:`);
  console.log(
    `    ${handled.length} tasks handled in ${Date.now() - started} ms, ${fn.invocations} invocations, ${fn.errors} errors`,
  );
  console.log(
    `    observed concurrency: ${probe.peak} handlers at once (the experiment saw 28 and 36 Lambdas)`,
  );
  console.log(`    first handled: ${handled.slice(0, 8).join(' ')} ... (unique keys: any order)`);
}

async function order(sluice: Sluice, producer: Producer): Promise<void> {
  await producer.createTaskTable('ordered');
  const { probe, around } = concurrencyProbe();
  const seen = new Map<string, string[]>();
  await sluice.functions.create({
    name: 'ordered',
    handler: (event: DynamoDBStreamEvent) =>
      around(async () => {
        await pause(20 + Math.random() * 60);
        const { PK, SK } = keyOf(event);
        seen.set(PK!.S!, [...(seen.get(PK!.S!) ?? []), SK!.S!]);
      }),
  });
  await sluice.streamTriggers.create({
    stream: 'ordered',
    functionName: 'ordered',
    startingPosition: 'LATEST',
    batchSize: 1,
    parallelizationFactor: 10,
  });
  // 40 tasks with a key each, then keys shared by 5, 10, 15 and 30 tasks; sort keys are time-ordered
  // (the experiment used KSUIDs), written by concurrent producers.
  const tasks: Task[] = [];
  let n = 0;
  const ksuid = () => `${Date.now().toString(36)}-${label(++n)}`;
  for (let i = 0; i < 40; i++) tasks.push({ PK: `solo-${i}`, SK: ksuid(), text: label(n) });
  for (const size of [5, 10, 15, 30])
    for (let i = 0; i < size; i++) tasks.push({ PK: `group-of-${size}`, SK: ksuid(), text: label(n) });
  // One producer per partition key, all at once: a key's tasks are written one after the other (over
  // HTTP, concurrent writes of one key would reach the table in any order), different keys concurrently.
  const byKey = new Map<string, Task[]>();
  for (const task of tasks) byKey.set(task.PK!, [...(byKey.get(task.PK!) ?? []), task]);
  await Promise.all(
    [...byKey.values()].map(async (keyTasks) => {
      for (const task of keyTasks) await producer.put('ordered', task);
    }),
  );
  await until(() => [...seen.values()].reduce((total, sks) => total + sks.length, 0) === 100);
  console.log(`  100 invocations, observed concurrency ${probe.peak}`);
  for (const size of [5, 10, 15, 30]) {
    const sks = seen.get(`group-of-${size}`) ?? [];
    const inOrder = sks.every((sk, i) => i === 0 || sk > sks[i - 1]!);
    console.log(
      `  key shared by ${size}: ${inOrder ? 'in sort-key order' : 'OUT OF ORDER'} (${sks[0]} ... ${sks.at(-1)})`,
    );
  }
}

async function retry(sluice: Sluice, producer: Producer): Promise<void> {
  await sluice.queues.create('retry-failures');
  const attempts = new Map<string, number>();
  await sluice.functions.create({
    name: 'retry',
    handler: async (event: DynamoDBStreamEvent) => {
      for (const record of event.Records) {
        const text = record.dynamodb!.NewImage!.text!.S!;
        const attempt = (attempts.get(text) ?? 0) + 1;
        attempts.set(text, attempt);
        // "001" fails on its first four attempts (the experiment's S3 markers); "666" always fails.
        if (text === '666' || (text === '001' && attempt <= 4))
          throw new Error(`task ${text} failed on attempt ${attempt}`);
      }
    },
  });
  const onFailure = { onFailure: { destination: sluice.queues.arnOf('retry-failures') } };
  // As in the experiment: maximumRetryAttempts 7. A second table gives up sooner (2), to show the destination.
  for (const [table, maximumRetryAttempts] of [
    ['retry', 7],
    ['retry-soon', 2],
  ] as const) {
    await producer.createTaskTable(table);
    await sluice.streamTriggers.create({
      stream: table,
      functionName: 'retry',
      startingPosition: 'LATEST',
      maximumRetryAttempts,
      destinationConfig: onFailure,
    });
  }
  await producer.put('retry', { PK: 'task-001', SK: 'A', text: '001' });
  await until(() => sluice.functions.metrics('retry').invocations === 5);
  console.log(
    `  task 001: ${attempts.get('001')} attempts, ${sluice.functions.metrics('retry').errors} errors, succeeded on attempt 5 (maximumRetryAttempts 7)`,
  );
  await producer.put('retry-soon', { PK: 'task-666', SK: 'A', text: '666' });
  await until(async () => (await sluice.queues.counts('retry-failures')).visible > 0);
  const [message] = await sluice.queues.receive('retry-failures');
  const failure = JSON.parse(message!.body) as StreamFailureRecord;
  console.log(
    `  task 666: ${attempts.get('666')} attempts (1 + maximumRetryAttempts 2), then the onFailure queue got:`,
  );
  console.log(
    `    condition ${failure.requestContext.condition}, approximateInvokeCount ${failure.requestContext.approximateInvokeCount}`,
  );
  console.log(
    `    DDBStreamBatchInfo ${JSON.stringify({ ...failure.DDBStreamBatchInfo, streamArn: '...' })}`,
  );
}

async function main(): Promise<void> {
  const sluice = await Sluice.open({ store: 'sqlite::memory:' });
  const producer = process.argv.includes('--wire') ? await wireProducer(sluice) : libraryProducer(sluice);
  try {
    console.log('A. CONCURRENCY: 100 tasks with unique partition keys written at once');
    await concurrency(sluice, producer, { batchSize: 1, window: 0 });
    await concurrency(sluice, producer, { batchSize: 100, window: 1 });
    console.log('B. ORDER: 40 tasks with unique keys, and keys shared by 5, 10, 15 and 30 tasks');
    await order(sluice, producer);
    console.log('C. RETRY: a task failing four times, a task failing always');
    await retry(sluice, producer);
  } finally {
    await producer.close();
    await sluice.close();
  }
}

await main();
