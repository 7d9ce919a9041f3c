/**
 * Versions and aliases across two nodes sharing one PostgreSQL schema, each with its own code cache: a
 * version published through node A runs on node B with its own code after $LATEST changed; an alias
 * created through A and moved through B routes on both; a version deleted through B is gone on A.
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../src/testkit/postgres.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { zipOf } from '../src/testkit/zip.js';

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as Record<string, unknown>;
const codeOf = (tag: string) => zipOf({ 'index.js': `exports.handler = async (event, context) => ({ tag: ${JSON.stringify(tag)}, version: context.functionVersion });` });

describePostgres('Lambda versions and aliases across nodes', () => {
  const schema = freshSchemaName();
  const caches = { a: mkdtempSync(join(tmpdir(), 'sluice-versions-a-')), b: mkdtempSync(join(tmpdir(), 'sluice-versions-b-')) };
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

  it('runs on B the versions and aliases made through A, and the reverse', async () => {
    const invokeOn = async (lambda: LambdaClient, qualifier?: string) => {
      const response = await lambda.send(new InvokeCommand({ FunctionName: 'shared', ...(qualifier ? { Qualifier: qualifier } : {}) }));
      return { ...decode(response.Payload), executed: response.ExecutedVersion };
    };
    await lambdaA.send(new CreateFunctionCommand({ FunctionName: 'shared', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: codeOf('one') } }));
    await lambdaA.send(new PublishVersionCommand({ FunctionName: 'shared' }));
    await lambdaA.send(new UpdateFunctionCodeCommand({ FunctionName: 'shared', ZipFile: codeOf('two') }));
    await lambdaA.send(new CreateAliasCommand({ FunctionName: 'shared', Name: 'live', FunctionVersion: '1' }));

    const started = Date.now();
    await expect.poll(() => b.sluice.functions.exists('shared:1'), { timeout: 1000, interval: 10 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await invokeOn(lambdaB, '1')).toEqual({ tag: 'one', version: '1', executed: '1' });
    await expect.poll(async () => (await invokeOn(lambdaB, 'live').catch(() => undefined))?.executed, { timeout: 1000, interval: 10 }).toBe('1');
    await expect.poll(async () => (await invokeOn(lambdaB)).tag, { timeout: 1000, interval: 10 }).toBe('two');

    // Published and moved through B: A follows.
    expect((await lambdaB.send(new PublishVersionCommand({ FunctionName: 'shared' }))).Version).toBe('2');
    await lambdaB.send(new UpdateAliasCommand({ FunctionName: 'shared', Name: 'live', FunctionVersion: '2' }));
    await expect.poll(async () => (await invokeOn(lambdaA, 'live').catch(() => undefined))?.executed, { timeout: 1000, interval: 10 }).toBe('2');
    expect(await invokeOn(lambdaA, '2')).toEqual({ tag: 'two', version: '2', executed: '2' });

    await lambdaB.send(new DeleteFunctionCommand({ FunctionName: 'shared', Qualifier: '1' }));
    await expect.poll(() => a.sluice.functions.exists('shared:1'), { timeout: 1000, interval: 10 }).toBe(false);
  });
});
