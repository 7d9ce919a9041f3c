/**
 * Versions and aliases across two nodes sharing one PostgreSQL schema, each with its own code cache: a
 * version published through node A runs on node B with its own code after $LATEST changed; an alias
 * created through A and moved through B routes on both; a version deleted through B is gone on A.
 */
import type {
  LambdaClient} from '@aws-sdk/client-lambda';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { expect, it } from 'vitest';
import { describePostgres } from '../src/testkit/postgres.js';
import { useLambdaNodePair } from './support/lambda-nodes.js';
import { zipOf } from '../src/testkit/zip.js';

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as Record<string, unknown>;
const codeOf = (tag: string) => zipOf({ 'index.js': `exports.handler = async (event, context) => ({ tag: ${JSON.stringify(tag)}, version: context.functionVersion });` });

describePostgres('Lambda versions and aliases across nodes', () => {
  const nodes = useLambdaNodePair('sluice-versions');

  it('runs on B the versions and aliases made through A, and the reverse', async () => {
    const invokeOn = async (lambda: LambdaClient, qualifier?: string) => {
      const response = await lambda.send(new InvokeCommand({ FunctionName: 'shared', ...(qualifier ? { Qualifier: qualifier } : {}) }));
      return { ...decode(response.Payload), executed: response.ExecutedVersion };
    };
    await nodes.lambdaA.send(new CreateFunctionCommand({ FunctionName: 'shared', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: codeOf('one') } }));
    await nodes.lambdaA.send(new PublishVersionCommand({ FunctionName: 'shared' }));
    await nodes.lambdaA.send(new UpdateFunctionCodeCommand({ FunctionName: 'shared', ZipFile: codeOf('two') }));
    await nodes.lambdaA.send(new CreateAliasCommand({ FunctionName: 'shared', Name: 'live', FunctionVersion: '1' }));

    const started = Date.now();
    await expect.poll(() => nodes.b.sluice.functions.exists('shared:1'), { timeout: 1000, interval: 10 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await invokeOn(nodes.lambdaB, '1')).toEqual({ tag: 'one', version: '1', executed: '1' });
    await expect.poll(async () => (await invokeOn(nodes.lambdaB, 'live').catch(() => undefined))?.executed, { timeout: 1000, interval: 10 }).toBe('1');
    await expect.poll(async () => (await invokeOn(nodes.lambdaB)).tag, { timeout: 1000, interval: 10 }).toBe('two');

    // Published and moved through B: A follows.
    expect((await nodes.lambdaB.send(new PublishVersionCommand({ FunctionName: 'shared' }))).Version).toBe('2');
    await nodes.lambdaB.send(new UpdateAliasCommand({ FunctionName: 'shared', Name: 'live', FunctionVersion: '2' }));
    await expect.poll(async () => (await invokeOn(nodes.lambdaA, 'live').catch(() => undefined))?.executed, { timeout: 1000, interval: 10 }).toBe('2');
    expect(await invokeOn(nodes.lambdaA, '2')).toEqual({ tag: 'two', version: '2', executed: '2' });

    await nodes.lambdaB.send(new DeleteFunctionCommand({ FunctionName: 'shared', Qualifier: '1' }));
    await expect.poll(() => nodes.a.sluice.functions.exists('shared:1'), { timeout: 1000, interval: 10 }).toBe(false);
  });
});
