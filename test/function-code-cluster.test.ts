/**
 * Functions created through the Lambda API across nodes sharing one PostgreSQL schema, each node with
 * its own code cache: a function created through node A runs on node B (its zip fetched from the store
 * and extracted there, on the catalog's wake-up, no polling); its code updated through B runs as the new
 * code on A; a node whose config declares a function of that name is refused, naming it and the file;
 * deleted through A, it is gone from B.
 */
import { CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, InvokeCommand, LambdaClient, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { validateConfig } from '../src/config/schema.js';
import { Sluice } from '../src/engine/sluice.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../src/testkit/postgres.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure } from './support/sdk-failure.js';
import { zipOf } from '../src/testkit/zip.js';

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;
const version = (n: number) => zipOf({ 'app/main.js': `exports.run = async (event) => ({ version: ${n}, from: process.env.NODE_NAME ?? null, event });` });

describePostgres('functions created through the Lambda API across nodes', () => {
  const schema = freshSchemaName();
  const caches = { a: mkdtempSync(join(tmpdir(), 'sluice-code-a-')), b: mkdtempSync(join(tmpdir(), 'sluice-code-b-')) };
  let a: TestNode;
  let b: TestNode;
  let lambdaA: LambdaClient;
  let lambdaB: LambdaClient;
  const client = (node: TestNode) => new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });

  beforeAll(async () => {
    a = await startTestNode({ store: await openTestStore({ schema }), codeCacheDir: caches.a });
    b = await startTestNode({ store: await openTestStore({ schema }), codeCacheDir: caches.b });
    lambdaA = client(a);
    lambdaB = client(b);
  });
  afterAll(async () => {
    lambdaA.destroy();
    lambdaB.destroy();
    await a.close();
    await b.close();
    await dropSchema(schema);
    for (const dir of Object.values(caches)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs on node B a function created through node A, and on A the code updated through B', async () => {
    const invokeOn = async (lambda: LambdaClient, event: unknown) =>
      decode((await lambda.send(new InvokeCommand({ FunctionName: 'shared', Payload: Buffer.from(JSON.stringify(event)) }))).Payload);
    await lambdaA.send(
      new CreateFunctionCommand({ FunctionName: 'shared', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'app/main.run', Code: { ZipFile: version(1) } }),
    );
    const started = Date.now();
    await expect.poll(() => b.sluice.functions.exists('shared'), { timeout: 1000, interval: 10 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await invokeOn(lambdaB, { on: 'b' })).toEqual({ version: 1, from: null, event: { on: 'b' } });
    expect(readdirSync(caches.b)).toHaveLength(1);

    await lambdaB.send(new UpdateFunctionCodeCommand({ FunctionName: 'shared', ZipFile: version(2) }));
    await lambdaB.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'shared', Environment: { Variables: { NODE_NAME: 'set through b' } }, Timeout: 20 }));
    await expect.poll(() => a.sluice.functions.get('shared').timeout, { timeout: 1000, interval: 10 }).toBe(20);
    expect(await invokeOn(lambdaA, { on: 'a' })).toEqual({ version: 2, from: 'set through b', event: { on: 'a' } });
    expect(await invokeOn(lambdaB, {})).toMatchObject({ version: 2 });

    // A node whose config declares a function of the same name is refused, naming it and the file.
    const cacheC = mkdtempSync(join(tmpdir(), 'sluice-code-c-'));
    const c = await Sluice.open({ store: await openTestStore({ schema }), codeCacheDir: cacheC });
    try {
      const handler = `${fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url))}#echo`;
      const refused = await sdkFailure(applyConfig({ sluice: c, config: validateConfig({ functions: { shared: { handler } } }, 'test'), baseDir: '.', prune: false, source: '/etc/sluice/node-c.yaml' }));
      expect(refused.message).toContain('the function shared was created through the Lambda API');
      expect(refused.message).toContain('/etc/sluice/node-c.yaml');
    } finally {
      await c.close();
      rmSync(cacheC, { recursive: true, force: true });
    }

    await lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'shared' }));
    await expect.poll(() => b.sluice.functions.exists('shared'), { timeout: 1000, interval: 10 }).toBe(false);
  });

  it('serves on node B the Code.Location node A gave (the signing key is in the store), and refuses a forged one', async () => {
    const zip = version(7);
    await lambdaA.send(new CreateFunctionCommand({ FunctionName: 'located', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'app/main.run', Code: { ZipFile: zip } }));
    const location = new URL((await lambdaA.send(new GetFunctionCommand({ FunctionName: 'located' }))).Code!.Location!);
    expect(location.origin).toBe(new URL(a.url).origin);
    const onB = new URL(location.pathname + location.search, b.url);
    const served = await fetch(onB);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(zip);
    // B's own Location is signed with the same key: A serves it too.
    const fromB = new URL((await lambdaB.send(new GetFunctionCommand({ FunctionName: 'located' }))).Code!.Location!);
    expect((await fetch(new URL(fromB.pathname + fromB.search, a.url))).status).toBe(200);
    onB.searchParams.set('signature', '0'.repeat(64));
    expect((await fetch(onB)).status).toBe(403);
    await lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'located' }));
  });
});
