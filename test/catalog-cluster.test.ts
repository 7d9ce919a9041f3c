/**
 * The cluster-wide catalog across nodes sharing one PostgreSQL schema (each with its own store, notifier
 * and HTTP API): a mapping created through node A's Lambda API runs on node B within a second and
 * delivers there; disabled through B it stops on every node; deleted, it is gone everywhere; a
 * function's reserved concurrency set through one node holds on the others; a node whose config declares
 * a trigger the catalog already holds refuses to start, naming the mapping and the file.
 */
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSEvent } from 'aws-lambda';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { validateConfig } from '../src/config/schema.js';
import { Sluice } from '../src/engine/sluice.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../src/testkit/postgres.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure } from './support/sdk-failure.js';
import { zipOf } from '../src/testkit/zip.js';

describePostgres('the catalog across nodes', () => {
  const schema = freshSchemaName();
  const delivered = { a: [] as string[], b: [] as string[] };
  let a: TestNode;
  let b: TestNode;
  let lambdaA: LambdaClient;
  let lambdaB: LambdaClient;
  const client = (node: TestNode) => new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });

  beforeAll(async () => {
    a = await startTestNode({ store: await openTestStore({ schema }) });
    b = await startTestNode({ store: await openTestStore({ schema }) });
    for (const [name, node] of [['a', a], ['b', b]] as const) {
      await node.sluice.functions.create({ name: 'consume', handler: async (event: SQSEvent) => void delivered[name].push(...event.Records.map((r) => r.body)) });
    }
    await a.sluice.queues.create('jobs');
    lambdaA = client(a);
    lambdaB = client(b);
  });
  afterAll(async () => {
    lambdaA.destroy();
    lambdaB.destroy();
    await a.close();
    await b.close();
    await dropSchema(schema);
  });

  it('runs a mapping created through node A on node B within a second, disables it everywhere through B, deletes it everywhere', async () => {
    // Node A's own function cannot run (reserved at 0 on A alone), so every delivery is node B's.
    await a.sluice.functions.update('consume', { reservedConcurrency: 0 });
    const created = await lambdaA.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: a.sluice.queues.arnOf('jobs'), BatchSize: 1 }));
    const started = Date.now();
    await expect.poll(() => b.sluice.triggers.list().map((view) => view.uuid), { timeout: 1000, interval: 10 }).toEqual([created.UUID]);
    expect(Date.now() - started).toBeLessThan(1000);
    for (let i = 0; i < 5; i++) await a.sluice.queues.send('jobs', { body: `m${i}` });
    await expect.poll(() => delivered.b.length, { timeout: 5000 }).toBe(5);
    expect(delivered.a).toEqual([]);

    await lambdaB.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, Enabled: false }));
    await expect.poll(() => a.sluice.triggers.get(created.UUID!).state, { timeout: 1000, interval: 10 }).toBe('Disabled');
    expect(b.sluice.triggers.get(created.UUID!).state).toBe('Disabled');
    await a.sluice.functions.update('consume', { reservedConcurrency: null });
    await a.sluice.queues.send('jobs', { body: 'while disabled' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([...delivered.a, ...delivered.b]).not.toContain('while disabled');

    await lambdaB.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    await expect.poll(() => a.sluice.triggers.list(), { timeout: 1000, interval: 10 }).toEqual([]);
    expect(b.sluice.triggers.list()).toEqual([]);
  });

  it('disables a catalog mapping everywhere through the native API and the CLI of another node', async () => {
    const created = await lambdaA.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: a.sluice.queues.arnOf('jobs') }));
    await expect.poll(() => b.sluice.triggers.list().map((view) => view.uuid), { timeout: 1000, interval: 10 }).toEqual([created.UUID]);
    const patched = await b.native(`/v1/triggers/${created.UUID}`, { method: 'PATCH', body: { enabled: false } });
    expect(patched.body.trigger.state).toBe('Disabled');
    await expect.poll(() => a.sluice.triggers.get(created.UUID!).state, { timeout: 1000, interval: 10 }).toBe('Disabled');
    await lambdaA.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    await expect.poll(() => b.sluice.triggers.list(), { timeout: 1000, interval: 10 }).toEqual([]);
  });

  it('holds a reserved concurrency set through one node on the others', async () => {
    await lambdaB.send(new PutFunctionConcurrencyCommand({ FunctionName: 'consume', ReservedConcurrentExecutions: 7 }));
    await expect.poll(() => a.sluice.functions.get('consume').reservedConcurrency, { timeout: 1000, interval: 10 }).toBe(7);
  });

  it('refuses a config that declares a trigger the catalog holds, naming the mapping and the file', async () => {
    const created = await lambdaA.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: a.sluice.queues.arnOf('jobs'), Enabled: false }));
    const c = await Sluice.open({ store: await openTestStore({ schema }) });
    try {
      // Refused from the catalog in the store, whether or not this node has applied the mapping yet.
      const config = configDeclaring('jobs');
      const refused = await sdkFailure(applyConfig({ sluice: c, config, baseDir: '.', prune: false, source: '/etc/sluice/node-c.yaml' }));
      expect(refused.message).toContain(`is also the event source mapping ${created.UUID} in the cluster catalog`);
      expect(refused.message).toContain('/etc/sluice/node-c.yaml');
    } finally {
      await c.close();
    }
    await lambdaA.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
  });

  it('refuses a restarted node’s config that declares a function created through the Lambda API, or a stream trigger the catalog holds, naming each and the file', async () => {
    await lambdaA.send(
      new CreateFunctionCommand({ FunctionName: 'zipped', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: zipOf({ 'index.js': 'exports.handler = async () => 1;' }) } }),
    );
    await a.sluice.tables.createTable({ name: 'orders', partitionKey: { name: 'pk', type: 'S' }, stream: { viewType: 'KEYS_ONLY' } });
    const streamArn = (await a.sluice.tables.describeTable('orders')).stream!.streamArn;
    const mapping = await lambdaA.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: streamArn, StartingPosition: 'LATEST' }));
    const c = await Sluice.open({ store: await openTestStore({ schema }) });
    try {
      const handler = `${fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url))}#echo`;
      const declaringFunction = validateConfig({ functions: { zipped: { handler } } }, 'test');
      const fn = await sdkFailure(applyConfig({ sluice: c, config: declaringFunction, baseDir: '.', prune: false, source: '/etc/sluice/node-c.yaml' }));
      expect(fn.message).toContain('the function zipped was created through the Lambda API and is in the cluster catalog; /etc/sluice/node-c.yaml cannot declare it too');
      expect(fn.message).toContain('aws lambda delete-function --function-name zipped');
      const declaringStream = validateConfig(
        { tables: { orders: { partitionKey: { name: 'pk', type: 'S' }, stream: 'KEYS_ONLY' } }, functions: { consume: { handler } }, streamTriggers: [{ table: 'orders', function: 'consume', startingPosition: 'LATEST' }] },
        'test',
      );
      const stream = await sdkFailure(applyConfig({ sluice: c, config: declaringStream, baseDir: '.', prune: false, source: '/etc/sluice/node-c.yaml' }));
      expect(stream.message).toContain(`is also the event source mapping ${mapping.UUID} in the cluster catalog`);
      expect(stream.message).toContain('/etc/sluice/node-c.yaml');
    } finally {
      await c.close();
    }
    await lambdaA.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID }));
    await lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'zipped' }));
  });

  it('refuses through the API a change to what a config file declares, naming the file', async () => {
    const c = await Sluice.open({ store: await openTestStore({ schema }) });
    const lambdaC = await startApiOn(c);
    try {
      await applyConfig({ sluice: c, config: configDeclaring('managed'), baseDir: '.', prune: false, source: '/etc/sluice/node-c.yaml' });
      const [trigger] = c.triggers.list({ queue: 'managed' });
      const refused = await sdkFailure(lambdaC.client.send(new UpdateEventSourceMappingCommand({ UUID: trigger!.uuid, Enabled: false })));
      expect(refused.name).toBe('ResourceConflictException');
      expect(refused.message).toContain('/etc/sluice/node-c.yaml');
      expect(c.triggers.get(trigger!.uuid).state).toBe('Enabled');
      const concurrency = await sdkFailure(lambdaC.client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'consume', ReservedConcurrentExecutions: 3 })));
      expect(concurrency.name).toBe('ResourceConflictException');
      expect(concurrency.message).toContain('/etc/sluice/node-c.yaml');
    } finally {
      await lambdaC.close();
      await c.close();
    }
  });

  it('fires on node B, within a second of its time, a schedule created through node A’s Scheduler API while B was running', async () => {
    // Node A stops firing schedules: only B can, and B must have heard of the new one (no polling).
    await a.sluice.schedules.stop();
    await a.sluice.outbox.stop();
    await a.sluice.queues.create('fired');
    const scheduler = new SchedulerClient({ endpoint: a.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    try {
      const due = new Date(Math.ceil((Date.now() + 2_000) / 1000) * 1000);
      await scheduler.send(
        new CreateScheduleCommand({
          Name: 'soon',
          ScheduleExpression: `at(${due.toISOString().slice(0, 19)})`,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: a.sluice.queues.arnOf('fired'), RoleArn: 'arn:aws:iam::000000000000:role/s', Input: 'fired' },
        }),
      );
      const [message] = await b.sluice.queues.receive('fired', { waitTimeSeconds: 10 });
      expect(message?.body).toBe('fired');
      expect(Date.now() - due.getTime()).toBeLessThan(1000);
    } finally {
      scheduler.destroy();
    }
  });
});

/** A config declaring the queue, the function `consume` and a trigger between them. */
function configDeclaring(queue: string) {
  const handler = `${fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url))}#echo`;
  return validateConfig({ queues: { [queue]: {} }, functions: { consume: { handler } }, triggers: [{ queue, function: 'consume' }] }, 'test');
}

async function startApiOn(sluice: Sluice) {
  const { buildAuthSettings } = await import('../src/api/auth/credentials.js');
  const { buildHttpApi } = await import('../src/api/server.js');
  const api = await buildHttpApi({ sluice, auth: buildAuthSettings({ env: {}, configAccessKeys: [TEST_ACCESS_KEY], configTokens: [], insecureDev: false }), logger: false });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const client = new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
  return { client, close: async () => { client.destroy(); await api.close(); } };
}
