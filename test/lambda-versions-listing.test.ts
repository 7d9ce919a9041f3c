/**
 * A function's published versions and aliases run as functions of their own (`name:N`, `name:alias`),
 * but every listing shows the function once, with its versions and aliases nested: the library's list,
 * the native API, the CLI, the console's API; metrics label them `function` plus `version`.
 */
import { CreateAliasCommand, CreateFunctionCommand, InvokeCommand, ListFunctionsCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { useLambdaNode } from './support/lambda-nodes.js';
import { sluiceInProcess } from './support/cli-in-process.js';
import { TEST_TOKEN } from './support/in-process-node.js';
import { zipOf } from '../src/testkit/zip.js';

const ROLE = 'arn:aws:iam::000000000000:role/service-role/runner';

describe('versions and aliases in listings and metrics', () => {
  const ctx = useLambdaNode(async () => undefined, 'sluice-versions-listing');

  it('lists each function once with its versions and aliases, and labels metrics by function and version', async () => {
    const code = zipOf({ 'index.js': 'exports.handler = async () => ({ ok: true });' });
    await ctx.lambda.send(new CreateFunctionCommand({ FunctionName: 'listed', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: code } }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'listed' }));
    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'listed', Name: 'live', FunctionVersion: '1' }));
    const { node } = ctx;
    // The alias is defined on the node through the catalog's wake-up: wait for it.
    await expect.poll(() => node.sluice.functions.exists('listed:live')).toBe(true);
    for (const qualifier of ['1', 'live', undefined]) {
      await ctx.lambda.send(new InvokeCommand({ FunctionName: 'listed', ...(qualifier ? { Qualifier: qualifier } : {}), Payload: Buffer.from('{}') }));
    }

    const listed = node.sluice.functions.list();
    expect(listed.map((fn) => fn.name)).toEqual(['listed']);
    expect(listed[0]).toMatchObject({ versions: ['1'], aliases: ['live'] });
    expect(node.sluice.functions.get('listed')).toMatchObject({ versions: ['1'], aliases: ['live'] });
    expect(node.sluice.functions.list({ qualified: true }).map((fn) => fn.name).sort()).toEqual(['listed', 'listed:1', 'listed:live']);
    expect((await ctx.lambda.send(new ListFunctionsCommand({}))).Functions?.map((fn) => fn.FunctionName)).toEqual(['listed']);

    const native = await node.native('/v1/functions');
    expect((native.body as { functions: Array<{ name: string }> }).functions).toEqual([expect.objectContaining({ name: 'listed', versions: ['1'], aliases: ['live'] })]);
    const cli = await sluiceInProcess(node, 'functions', 'list');
    expect(cli.stdout).toMatch(/listed .* 1; live/);
    expect(cli.stdout).not.toContain('listed:1');

    const metrics = (await node.native('/v1/metrics')).body as { functions: Array<{ name: string; invocations: number; versions?: Array<{ version: string; invocations: number }> }> };
    // Invoke through the alias runs the version it picks as that version (ExecutedVersion 1); the alias's own
    // figures count what runs through it as a function (an event source mapping on its ARN).
    expect(metrics.functions).toEqual([
      expect.objectContaining({ name: 'listed', invocations: 1, versions: [expect.objectContaining({ version: '1', invocations: 2 }), expect.objectContaining({ version: 'live', invocations: 0 })] }),
    ]);
    const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).text();
    expect(text).toContain('sluice_function_invocations_total{function="listed",version="$LATEST"} 1');
    expect(text).toContain('sluice_function_invocations_total{function="listed",version="1"} 2');
    expect(text).toContain('sluice_function_invocations_total{function="listed",version="live"} 0');
    expect(text).toMatch(/sluice_invocations_total\{function="listed",version="1",via="[^"]+",outcome="success"\} 2/);
    expect(text).not.toContain('function="listed:');

    // The console's function list: one row's data per function, its versions' figures nested.
    const login = await fetch(`${node.url}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TEST_TOKEN }).toString(),
      redirect: 'manual',
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const consoleList = (await (await fetch(`${node.url}/console/api/functions`, { headers: { cookie } })).json()) as { functions: Array<{ name: string; metrics: { versions?: unknown[] } }> };
    expect(consoleList.functions.map((fn) => fn.name)).toEqual(['listed']);
    expect(consoleList.functions[0]?.metrics.versions).toHaveLength(2);
    const overview = (await (await fetch(`${node.url}/console/api/overview`, { headers: { cookie } })).json()) as { totals: { functions: number; invocations: number } };
    expect(overview.totals).toMatchObject({ functions: 1, invocations: 3 });
  });
});
