/**
 * Lambda versions and aliases with the unmodified @aws-sdk/client-lambda, on SQLite and on PostgreSQL:
 * PublishVersion snapshots code and configuration, a version keeps running its code after $LATEST
 * changes, aliases route (with weights) to versions, qualified reads and deletes, an event source
 * mapping on a version's ARN invokes that version; and Lambda's errors for each refusal.
 */
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionConcurrencyCommand,
  PutFunctionConcurrencyCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeBackends } from './support/dynamodb.js';
import { useLambdaNode } from './support/lambda-nodes.js';
import { sdkFailure as failure } from './support/sdk-failure.js';
import { zipOf } from '../src/testkit/zip.js';

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;
const ROLE = 'arn:aws:iam::000000000000:role/service-role/runner';

const codeOf = (tag: string) =>
  zipOf({
    'index.js': `exports.handler = async (event, context) => ({ tag: ${JSON.stringify(tag)}, version: context.functionVersion, arn: context.invokedFunctionArn, env: process.env.AWS_LAMBDA_FUNCTION_VERSION, name: process.env.AWS_LAMBDA_FUNCTION_NAME, greeting: process.env.GREETING ?? null });`,
  });

describe.each(storeBackends)('Lambda versions and aliases on %s', (_backend, openStore) => {
  const ctx = useLambdaNode(openStore, 'sluice-versions-test');

  const invoke = async (name: string, qualifier?: string) => {
    const response = await ctx.lambda.send(new InvokeCommand({ FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}), Payload: Buffer.from('{}') }));
    return { body: decode(response.Payload) as Record<string, unknown>, executed: response.ExecutedVersion };
  };
  const create = (name: string, tag: string) =>
    ctx.lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: codeOf(tag) }, Environment: { Variables: { GREETING: 'one' } } }));

  it('publishes immutable versions: a version keeps its code and settings after $LATEST changes', async () => {
    await create('versioned', 'first');
    const v1 = await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'versioned', Description: 'first release' }));
    expect(v1.$metadata.httpStatusCode).toBe(201);
    expect(v1).toMatchObject({ Version: '1', Description: 'first release', FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:versioned:1' });
    // Nothing changed since: Lambda returns the last version rather than publishing another.
    expect((await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }))).Version).toBe('1');

    const second = codeOf('second');
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'versioned', ZipFile: second }));
    await ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'versioned', Environment: { Variables: { GREETING: 'two' } } }));
    const v2 = await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }));
    expect(v2.Version).toBe('2');

    expect(await invoke('versioned', '1')).toEqual({
      body: { tag: 'first', version: '1', arn: 'arn:aws:lambda:us-east-1:000000000000:function:versioned:1', env: '1', name: 'versioned', greeting: 'one' },
      executed: '1',
    });
    expect((await invoke('versioned:2')).body).toMatchObject({ tag: 'second', version: '2', greeting: 'two' });
    expect(await invoke('versioned')).toMatchObject({ body: { tag: 'second', version: '$LATEST', env: '$LATEST' }, executed: '$LATEST' });

    const config = await ctx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'versioned', Qualifier: '1' }));
    expect(config).toMatchObject({ Version: '1', Environment: { Variables: { GREETING: 'one' } }, CodeSha256: v1.CodeSha256 });
    const got = await ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:versioned:2' }));
    expect(got.Configuration).toMatchObject({ Version: '2', CodeSha256: v2.CodeSha256 });
    const zip = await fetch(got.Code!.Location!);
    expect(Buffer.from(await zip.arrayBuffer())).toEqual(second);

    const listed = await ctx.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'versioned' }));
    expect(listed.Versions?.map((version) => version.Version)).toEqual(['$LATEST', '1', '2']);
    // ListFunctions lists each function once, at $LATEST.
    expect((await ctx.lambda.send(new ListFunctionsCommand({}))).Functions?.filter((fn) => fn.FunctionName === 'versioned').map((fn) => fn.Version)).toEqual(['$LATEST']);
  });

  it('checks PublishVersion’s CodeSha256 and RevisionId', async () => {
    const created = await create('guarded', 'a');
    const wrongSha = await failure(ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'guarded', CodeSha256: 'bm90IHRoZSBzaGE=' })));
    expect(wrongSha.name).toBe('InvalidParameterValueException');
    expect(wrongSha.message).toBe(`CodeSHA256 (bm90IHRoZSBzaGE=) is different from current CodeSHA256 in $LATEST (${created.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`);
    const stale = await failure(ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'guarded', RevisionId: '00000000-0000-0000-0000-000000000000' })));
    expect(stale.name).toBe('PreconditionFailedException');
    expect((await ctx.node.sluice.store.catalogList({ kind: 'function-version' })).filter((entry) => entry.name.startsWith('guarded:'))).toEqual([]);
    const published = await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'guarded', CodeSha256: created.CodeSha256, RevisionId: created.RevisionId }));
    expect(published.Version).toBe('1');
  });

  it('routes an alias to its version, and by weight to a second one', async () => {
    await create('aliased', 'one');
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'aliased' }));
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'aliased', ZipFile: codeOf('two') }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'aliased' }));

    const alias = await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'aliased', Name: 'live', FunctionVersion: '1', Description: 'production' }));
    expect(alias).toMatchObject({ AliasArn: 'arn:aws:lambda:us-east-1:000000000000:function:aliased:live', Name: 'live', FunctionVersion: '1', Description: 'production' });
    expect(await invoke('aliased', 'live')).toMatchObject({ body: { tag: 'one', version: '1', arn: 'arn:aws:lambda:us-east-1:000000000000:function:aliased:live' }, executed: '1' });
    expect((await ctx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'aliased:live' })))).toMatchObject({
      Version: '1',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:aliased:live',
    });

    const shifted = await ctx.lambda.send(new UpdateAliasCommand({ FunctionName: 'aliased', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } }, RevisionId: alias.RevisionId }));
    expect(shifted.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.5 });
    expect(shifted.RevisionId).not.toBe(alias.RevisionId);
    const executed = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const { executed: version } = await invoke('aliased', 'live');
      executed.set(version!, (executed.get(version!) ?? 0) + 1);
    }
    // 60 draws at 50%: each side at least 10 times fails with probability below 1e-6.
    expect(executed.get('1')).toBeGreaterThanOrEqual(10);
    expect(executed.get('2')).toBeGreaterThanOrEqual(10);

    const staleAlias = await failure(ctx.lambda.send(new UpdateAliasCommand({ FunctionName: 'aliased', Name: 'live', FunctionVersion: '2', RevisionId: alias.RevisionId })));
    expect(staleAlias.name).toBe('PreconditionFailedException');
    await ctx.lambda.send(new UpdateAliasCommand({ FunctionName: 'aliased', Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }));
    expect(await invoke('aliased', 'live')).toMatchObject({ executed: '2' });
    expect((await ctx.lambda.send(new GetAliasCommand({ FunctionName: 'aliased', Name: 'live' }))).FunctionVersion).toBe('2');

    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'aliased', Name: 'old', FunctionVersion: '1' }));
    expect((await ctx.lambda.send(new ListAliasesCommand({ FunctionName: 'aliased' }))).Aliases?.map((a) => a.Name)).toEqual(['live', 'old']);
    expect((await ctx.lambda.send(new ListAliasesCommand({ FunctionName: 'aliased', FunctionVersion: '1' }))).Aliases?.map((a) => a.Name)).toEqual(['old']);
    await ctx.lambda.send(new DeleteAliasCommand({ FunctionName: 'aliased', Name: 'old' }));
    expect((await ctx.lambda.send(new ListAliasesCommand({ FunctionName: 'aliased' }))).Aliases?.map((a) => a.Name)).toEqual(['live']);
  });

  it('refuses unknown versions and aliases, and bad aliases, with Lambda’s errors', async () => {
    await create('strict', 'x');
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'strict' }));
    const unknownVersion = await failure(invoke('strict', '7'));
    expect(unknownVersion.name).toBe('ResourceNotFoundException');
    expect(unknownVersion.message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:strict:7');
    expect((await failure(ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'strict', Qualifier: '7' })))).name).toBe('ResourceNotFoundException');
    const unknownAlias = await failure(ctx.lambda.send(new GetAliasCommand({ FunctionName: 'strict', Name: 'nope' })));
    expect(unknownAlias.name).toBe('ResourceNotFoundException');
    expect(unknownAlias.message).toBe('Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:strict:nope');

    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'strict', Name: 'live', FunctionVersion: '1' }));
    const twice = await failure(ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'strict', Name: 'live', FunctionVersion: '1' })));
    expect(twice.name).toBe('ResourceConflictException');
    expect(twice.message).toBe('Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:strict:live');
    const toMissing = await failure(ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'strict', Name: 'beta', FunctionVersion: '9' })));
    expect(toMissing.name).toBe('ResourceNotFoundException');
    const sameTwice = await failure(ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'strict', Name: 'canary', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.1 } } })));
    expect(sameTwice.name).toBe('InvalidParameterValueException');
    expect(sameTwice.message).toBe('Invalid function version 1. Function version 1 is already included in routing configuration.');
    const numeric = await failure(ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'strict', Name: '12', FunctionVersion: '1' })));
    expect(numeric.name).toBe('ValidationException');

    const onVersion = await failure(ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'strict:1', Timeout: 9 })));
    expect(onVersion.name).toBe('InvalidParameterValueException');
    expect(onVersion.message).toBe('Current operation does not support versions other than $LATEST. Please set the version to $LATEST or do not set a version in your request.');
    expect((await ctx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'strict', Qualifier: '1' }))).Timeout).toBe(3);

    const referenced = await failure(ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'strict', Qualifier: '1' })));
    expect(referenced.name).toBe('ResourceConflictException');
    expect(referenced.message).toBe('Unable to delete version because the following aliases reference it: [live]');
    const latest = await failure(ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'strict', Qualifier: '$LATEST' })));
    expect(latest.name).toBe('InvalidParameterValueException');
    expect((await ctx.node.sluice.store.catalogList({ kind: 'function-alias' })).filter((entry) => entry.name.startsWith('strict:')).map((entry) => entry.name)).toEqual(['strict:live']);
  });

  it('deletes one version with a Qualifier, and everything with the function; numbers are not reused', async () => {
    await create('pruned', 'a');
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'pruned' }));
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'pruned', ZipFile: codeOf('b') }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'pruned' }));
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'pruned', Qualifier: '2' }));
    expect((await failure(invoke('pruned', '2'))).name).toBe('ResourceNotFoundException');
    expect((await invoke('pruned', '1')).body).toMatchObject({ tag: 'a' });
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'pruned', ZipFile: codeOf('c') }));
    expect((await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'pruned' }))).Version).toBe('3');
    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'pruned', Name: 'live', FunctionVersion: '3' }));

    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'pruned' }));
    const left = (await ctx.node.sluice.store.catalogList({})).filter((entry) => entry.name === 'pruned' || entry.name.startsWith('pruned:'));
    expect(left).toEqual([]);
    expect(ctx.node.sluice.functions.exists('pruned:1')).toBe(false);
    expect(ctx.node.sluice.functions.exists('pruned:3')).toBe(false);
  });

  it('keeps one copy of a zip however many versions publish it; removes it with the last function or version using it', async () => {
    const stats = () => ctx.node.sluice.store.catalogAttachmentStats();
    const before = await stats();
    const grown = async () => {
      const now = await stats();
      return { references: now.references - before.references, blobs: now.blobs - before.blobs };
    };
    const code = codeOf('stored-once');
    await ctx.lambda.send(new CreateFunctionCommand({ FunctionName: 'shared', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: code } }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'shared' }));
    await ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'shared', Environment: { Variables: { GREETING: 'two' } } }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'shared' }));
    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'shared', Name: 'live', FunctionVersion: '2' }));
    // $LATEST, versions 1 and 2: three references to one zip.
    expect(await grown()).toEqual({ references: 3, blobs: 1 });
    expect((await stats()).bytes - before.bytes).toBe(code.length);
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'shared', ZipFile: codeOf('stored-twice') }));
    expect(await grown()).toEqual({ references: 3, blobs: 2 });
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'shared', Qualifier: '1' }));
    expect(await grown()).toEqual({ references: 2, blobs: 2 });
    expect((await invoke('shared', 'live')).body).toMatchObject({ tag: 'stored-once', version: '2' });
    await ctx.lambda.send(new DeleteAliasCommand({ FunctionName: 'shared', Name: 'live' }));
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'shared', Qualifier: '2' }));
    expect(await grown()).toEqual({ references: 1, blobs: 1 });
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'shared' }));
    expect(await stats()).toEqual(before);
  });

  it('lists $LATEST alone for a function the program defines, and refuses to publish it', async () => {
    await ctx.node.sluice.functions.create({ name: 'programmed', handler: async () => 'ok' });
    expect((await ctx.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'programmed' }))).Versions?.map((v) => v.Version)).toEqual(['$LATEST']);
    expect((await ctx.lambda.send(new ListAliasesCommand({ FunctionName: 'programmed' }))).Aliases).toEqual([]);
    const refused = await failure(ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'programmed' })));
    expect(refused.name).toBe('ResourceConflictException');
  });

  it('keeps the qualified names of versions for the catalog: a program cannot define one', async () => {
    await expect(ctx.node.sluice.functions.create({ name: 'orders:3', handler: async () => 'no' })).rejects.toThrow(/must be 1-64 letters/);
  });

  it('counts a version’s invocations against the function’s reserved concurrency', async () => {
    await create('reserved', 'r');
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'reserved' }));
    await ctx.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved', ReservedConcurrentExecutions: 0 }));
    const throttled = await failure(invoke('reserved', '1'));
    expect(throttled.name).toBe('TooManyRequestsException');
    await ctx.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'reserved' }));
    expect((await invoke('reserved', '1')).executed).toBe('1');
  });

  it('runs an event source mapping on a version’s ARN with that version', async () => {
    await create('consumer', 'old');
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'consumer' }));
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'consumer', ZipFile: codeOf('new') }));
    await ctx.node.sluice.queues.create('versioned-input');
    const mapping = await ctx.lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:consumer:1',
        EventSourceArn: ctx.node.sluice.queues.arnOf('versioned-input'),
        BatchSize: 1,
      }),
    );
    expect(mapping.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:consumer:1');
    await ctx.node.sluice.queues.send('versioned-input', { body: 'hello' });
    await expect.poll(() => ctx.node.sluice.functions.metrics('consumer:1').invocations, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect(ctx.node.sluice.functions.metrics('consumer').invocations).toBe(0);
    await ctx.lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID! }));
  });

  it('runs an event source mapping on an alias’s ARN with the version the alias names at each invocation', async () => {
    const out = join(ctx.cacheDir, 'routed.log');
    const recorder = (tag: string) =>
      zipOf({ 'index.js': `exports.handler = async (event, context) => { require('node:fs').appendFileSync(process.env.OUT, ${JSON.stringify(tag)} + ' ' + context.functionVersion + ' ' + context.invokedFunctionArn + '\\n'); return {}; };` });
    await ctx.lambda.send(new CreateFunctionCommand({ FunctionName: 'routed', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: recorder('one') }, Environment: { Variables: { OUT: out } } }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'routed' }));
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'routed', ZipFile: recorder('two') }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'routed' }));
    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'routed', Name: 'live', FunctionVersion: '1' }));
    await ctx.node.sluice.queues.create('aliased-input');
    const mapping = await ctx.lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: 'routed:live', EventSourceArn: ctx.node.sluice.queues.arnOf('aliased-input'), BatchSize: 1 }),
    );
    expect(mapping.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:routed:live');
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
    await ctx.node.sluice.queues.send('aliased-input', { body: 'first' });
    await expect.poll(lines, { timeout: 5000 }).toEqual(['one 1 arn:aws:lambda:us-east-1:000000000000:function:routed:live']);
    await ctx.lambda.send(new UpdateAliasCommand({ FunctionName: 'routed', Name: 'live', FunctionVersion: '2' }));
    await ctx.node.sluice.queues.send('aliased-input', { body: 'second' });
    await expect.poll(() => lines().length, { timeout: 5000 }).toBe(2);
    expect(lines()[1]).toBe('two 2 arn:aws:lambda:us-east-1:000000000000:function:routed:live');
    expect(ctx.node.sluice.functions.metrics('routed:live').invocations).toBe(2);
    await ctx.lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID! }));
  });

  it('gives an asynchronous invocation through an alias the alias’s ARN as invokedFunctionArn', async () => {
    const out = join(ctx.cacheDir, 'async-alias.log');
    const recorder = zipOf({ 'index.js': `exports.handler = async (event, context) => { require('node:fs').appendFileSync(process.env.OUT, context.functionVersion + ' ' + context.invokedFunctionArn + '\\n'); return {}; };` });
    await ctx.lambda.send(new CreateFunctionCommand({ FunctionName: 'eventful', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: recorder }, Environment: { Variables: { OUT: out } } }));
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'eventful' }));
    await ctx.lambda.send(new CreateAliasCommand({ FunctionName: 'eventful', Name: 'live', FunctionVersion: '1' }));
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
    for (const [qualifier, name] of [['live', 'eventful'], [undefined, 'eventful:1'], [undefined, 'eventful']] as const) {
      const accepted = await ctx.lambda.send(new InvokeCommand({ FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}), InvocationType: 'Event', Payload: Buffer.from('{}') }));
      expect(accepted.StatusCode).toBe(202);
    }
    await expect.poll(() => lines().length, { timeout: 5000 }).toBe(3);
    expect(lines().sort()).toEqual(
      [
        '1 arn:aws:lambda:us-east-1:000000000000:function:eventful:live',
        '1 arn:aws:lambda:us-east-1:000000000000:function:eventful:1',
        '$LATEST arn:aws:lambda:us-east-1:000000000000:function:eventful',
      ].sort(),
    );
  });

  it('deletes a version an event source mapping uses, as Lambda does: the mapping stays, reports the missing function and leaves its messages queued', async () => {
    // Lambda refuses to delete a version an alias names (tested above), not one a mapping names: its
    // DeleteFunction page sends mappings to DeleteEventSourceMapping.
    await create('pinned', 'one');
    await ctx.lambda.send(new PublishVersionCommand({ FunctionName: 'pinned' }));
    await ctx.node.sluice.queues.create('pinned-input');
    const mapping = await ctx.lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: 'pinned:1', EventSourceArn: ctx.node.sluice.queues.arnOf('pinned-input'), BatchSize: 1 }),
    );
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'pinned', Qualifier: '1' }));
    await expect.poll(() => ctx.node.sluice.functions.exists('pinned:1')).toBe(false);
    const kept = await ctx.lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID! }));
    expect(kept.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:pinned:1');
    await ctx.node.sluice.queues.send('pinned-input', { body: 'waits' });
    await expect.poll(async () => (await ctx.lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID! }))).StateTransitionReason, { timeout: 5000 }).toContain('pinned:1 does not exist');
    expect((await ctx.node.sluice.queues.counts('pinned-input')).visible).toBe(1);
    expect(ctx.node.sluice.functions.metrics('pinned').invocations).toBe(0);
    await ctx.lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID! }));
  });
});
