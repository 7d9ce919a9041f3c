/**
 * Functions created through the Lambda API with the unmodified @aws-sdk/client-lambda, on SQLite and on
 * PostgreSQL: CreateFunction from a zip built here, Invoke, UpdateFunctionCode and the new behaviour,
 * UpdateFunctionConfiguration, GetFunction's CodeSha256 and CodeSize, DeleteFunction; and refusals
 * (a bad zip, a missing handler file, an oversize package, a runtime that is not Node.js, limits) that
 * leave nothing in the store.
 */
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  PutFunctionConcurrencyCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { validateConfig } from '../src/config/schema.js';
import { storeBackends } from './support/dynamodb.js';
import { useLambdaNode } from './support/lambda-nodes.js';
import { sdkFailure as failure } from './support/sdk-failure.js';
import { zipClaiming, zipOf } from '../src/testkit/zip.js';

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;
const ROLE = 'arn:aws:iam::000000000000:role/service-role/runner';

/** Version 1: CommonJS (index.js), reads its environment. */
const v1 = zipOf({
  'index.js': `exports.handler = async (event) => ({ version: 1, event, greeting: process.env.GREETING ?? null });
exports.other = async () => ({ other: true, greeting: process.env.GREETING ?? null });`,
  'lib/util.js': 'module.exports = 1;',
});
/** Version 2: an ES module (index.mjs) importing a file of its package. */
const v2 = zipOf({
  'index.mjs': `import { twice } from './lib/twice.mjs';\nexport const handler = async (event) => ({ version: 2, doubled: twice(event.n ?? 0) });`,
  'lib/twice.mjs': 'export const twice = (n) => n * 2;',
});

function createInput(name: string, zip: Buffer, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return { FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, ...extra };
}

describe.each(storeBackends)('functions created through the Lambda API on %s', (_backend, openStore) => {
  const ctx = useLambdaNode(openStore, 'sluice-code-test');

  const invoke = async (name: string, event: unknown = {}) =>
    decode((await ctx.lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }))).Payload);

  /** Nothing of the function in the store: no catalog entry, no code package. */
  async function expectNothingStored(name: string): Promise<void> {
    expect((await ctx.node.sluice.store.catalogList({ kind: 'function' })).map((entry) => entry.name)).not.toContain(name);
    expect(await ctx.node.sluice.store.catalogAttachment({ kind: 'function', name })).toBeUndefined();
    expect(ctx.node.sluice.functions.exists(name)).toBe(false);
  }

  it('creates a function from a zip, invokes it, updates its code and runs the new code', async () => {
    const created = await ctx.lambda.send(new CreateFunctionCommand(createInput('zipped', v1, { Environment: { Variables: { GREETING: 'hello' } } })));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({
      FunctionName: 'zipped',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      CodeSize: v1.length,
      CodeSha256: createHash('sha256').update(v1).digest('base64'),
      Timeout: 3,
      MemorySize: 128,
      State: 'Active',
      Environment: { Variables: { GREETING: 'hello' } },
    });
    expect(await invoke('zipped', { a: 1 })).toEqual({ version: 1, event: { a: 1 }, greeting: 'hello' });
    // The package is extracted once into the node's cache, under its SHA-256.
    expect(readdirSync(ctx.cacheDir)).toEqual([createHash('sha256').update(v1).digest('hex')]);

    const updated = await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'zipped', ZipFile: v2 }));
    expect(updated.CodeSha256).toBe(createHash('sha256').update(v2).digest('base64'));
    expect(updated.CodeSize).toBe(v2.length);
    expect(await invoke('zipped', { n: 21 })).toEqual({ version: 2, doubled: 42 });

    const settings = await ctx.lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountUsage?.TotalCodeSize).toBe(v2.length);
    const got = await ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'zipped' }));
    expect(got.Configuration).toMatchObject({ CodeSha256: updated.CodeSha256, CodeSize: v2.length, Handler: 'index.handler', Runtime: 'nodejs20.x' });
    expect((await ctx.node.sluice.store.catalogAttachment({ kind: 'function', name: 'zipped' }))?.content).toEqual(v2);
  });

  it('changes the timeout, memory, environment and handler with UpdateFunctionConfiguration', async () => {
    await ctx.lambda.send(new CreateFunctionCommand(createInput('configured', v1)));
    const out = await ctx.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'configured',
        Timeout: 30,
        MemorySize: 512,
        Environment: { Variables: { GREETING: 'changed' } },
        Handler: 'index.other',
        Description: 'the other export',
      }),
    );
    expect(out).toMatchObject({ Timeout: 30, MemorySize: 512, Handler: 'index.other', Description: 'the other export', Environment: { Variables: { GREETING: 'changed' } } });
    expect(await ctx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'configured' }))).toMatchObject({ Timeout: 30, MemorySize: 512, Handler: 'index.other' });
    expect(ctx.node.sluice.functions.get('configured')).toMatchObject({ timeout: 30, memorySize: 512, environment: { GREETING: 'changed' } });
    expect(await invoke('configured')).toEqual({ other: true, greeting: 'changed' });

    const missing = await failure(ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'configured', Handler: 'absent.handler' })));
    expect(missing.name).toBe('InvalidParameterValueException');
    expect(missing.message).toContain('absent.js');
    const timeout = await failure(ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'configured', Timeout: 901 })));
    expect(timeout.name).toBe('ValidationException');
    expect(timeout.message).toContain("at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900");
    expect(ctx.node.sluice.functions.get('configured').timeout).toBe(30);
  });

  it('reports a RevisionId that changes at every update, and refuses an update at a stale one with PreconditionFailedException', async () => {
    const created = await ctx.lambda.send(new CreateFunctionCommand(createInput('revised', v1)));
    expect(created.RevisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'revised' }))).Configuration?.RevisionId).toBe(created.RevisionId);
    const updated = await ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'revised', Timeout: 9, RevisionId: created.RevisionId }));
    expect(updated.RevisionId).not.toBe(created.RevisionId);
    const stale = await failure(ctx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'revised', Timeout: 12, RevisionId: created.RevisionId })));
    expect(stale.name).toBe('PreconditionFailedException');
    expect(stale.$metadata.httpStatusCode).toBe(412);
    const staleCode = await failure(ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'revised', ZipFile: v2, RevisionId: created.RevisionId })));
    expect(staleCode.name).toBe('PreconditionFailedException');
    expect(ctx.node.sluice.functions.get('revised').timeout).toBe(9);
    expect(await invoke('revised')).toMatchObject({ version: 1 });
    const recoded = await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'revised', ZipFile: v2, RevisionId: updated.RevisionId }));
    expect(recoded.RevisionId).not.toBe(updated.RevisionId);
  });

  it('gives GetFunction a Code.Location on the node that serves the zip, signed, for that package only', async () => {
    await ctx.lambda.send(new CreateFunctionCommand(createInput('located', v1)));
    const location = (await ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'located' }))).Code?.Location;
    expect(location).toMatch(new RegExp(`^${ctx.node.url}/_sluice/lambda-code/located\\?`));
    const downloaded = await fetch(location!);
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get('content-type')).toBe('application/zip');
    expect(Buffer.from(await downloaded.arrayBuffer())).toEqual(v1);
    const tampered = location!.replace(/signature=([0-9a-f])/, (_, c: string) => `signature=${c === '0' ? '1' : '0'}`);
    expect((await fetch(tampered)).status).toBe(403);
    expect((await fetch(location!.replace('/located?', '/zipped?'))).status).toBe(403);
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'located', ZipFile: v2 }));
    expect((await fetch(location!)).status).toBe(404);
  });

  it('deletes a function with its code package', async () => {
    await ctx.lambda.send(new CreateFunctionCommand(createInput('doomed', v1)));
    const deleted = await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    await expectNothingStored('doomed');
    const gone = await failure(ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'doomed' })));
    expect(gone.name).toBe('ResourceNotFoundException');
  });

  it('refuses a name already taken, and changes to functions the program defines', async () => {
    await ctx.lambda.send(new CreateFunctionCommand(createInput('taken', v1)));
    const again = await failure(ctx.lambda.send(new CreateFunctionCommand(createInput('taken', v2))));
    expect(again.name).toBe('ResourceConflictException');
    expect(again.message).toBe('Function already exist: taken');
    expect((await ctx.node.sluice.store.catalogAttachment({ kind: 'function', name: 'taken' }))?.content).toEqual(v1);

    await ctx.node.sluice.functions.create({ name: 'programmed', handler: async () => 'mine' });
    for (const attempt of [
      () => ctx.lambda.send(new CreateFunctionCommand(createInput('programmed', v1))),
      () => ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'programmed', ZipFile: v1 })),
      () => ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'programmed' })),
    ]) {
      expect((await failure(attempt())).name).toBe('ResourceConflictException');
    }
    expect(await invoke('programmed')).toBe('mine');
  });

  it('refuses bad input with Lambda’s errors and stores nothing', async () => {
    const cases: Array<[Partial<CreateFunctionCommandInput>, string, string]> = [
      [{ Code: { ZipFile: Buffer.from('this is not a zip') } }, 'InvalidParameterValueException', 'Could not unzip uploaded file'],
      [{ Code: { ZipFile: zipOf({ 'main.js': 'exports.handler = () => 1' }) } }, 'InvalidParameterValueException', 'none of index.js, index.mjs, index.cjs'],
      [{ Code: { ZipFile: zipOf({ '../escape.js': 'x', 'index.js': 'exports.handler = () => 1' }) } }, 'InvalidParameterValueException', 'leaves the package'],
      [{ Code: { ZipFile: zipClaiming({ 'index.js': 'exports.handler = () => 1' }, 262_144_001) } }, 'InvalidParameterValueException', 'Unzipped size must be smaller than 262144000 bytes'],
      [{ Runtime: 'python3.12' }, 'InvalidParameterValueException', 'The runtime parameter of python3.12 is not supported'],
      [{ Timeout: 0 }, 'ValidationException', "at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      [{ MemorySize: 10_241 }, 'ValidationException', "at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"],
      [{ MemorySize: 64 }, 'ValidationException', 'Member must have value greater than or equal to 128'],
      [{ FunctionName: 'bad.name' }, 'ValidationException', "at 'functionName' failed to satisfy constraint"],
      [{ FunctionName: 'x'.repeat(65) }, 'ValidationException', "at 'functionName' failed to satisfy constraint"],
      [{ Environment: { Variables: { AWS_REGION: 'elsewhere' } } }, 'InvalidParameterValueException', 'Reserved keys used in this request: AWS_REGION'],
      [{ Environment: { Variables: { BIG: 'x'.repeat(4100) } } }, 'InvalidParameterValueException', 'exceeded the 4KB limit'],
      [{ Role: 'not-a-role' }, 'ValidationException', "at 'role' failed to satisfy constraint"],
      [{ Code: { S3Bucket: 'b', S3Key: 'k' } }, 'InvalidParameterValueException', 'ZipFile only'],
    ];
    for (const [extra, name, message] of cases) {
      const input = createInput('refused', v1, extra);
      const refused = await failure(ctx.lambda.send(new CreateFunctionCommand(input)));
      expect(refused.name, JSON.stringify(extra).slice(0, 100)).toBe(name);
      expect(refused.message).toContain(message);
      await expectNothingStored(input.FunctionName!);
    }
    await ctx.lambda.send(new CreateFunctionCommand(createInput('kept', v1)));
    const bad = await failure(ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ZipFile: Buffer.from('PK not really') })));
    expect(bad.name).toBe('InvalidParameterValueException');
    const noHandler = await failure(ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ZipFile: zipOf({ 'main.js': '' }) })));
    expect(noHandler.message).toContain('none of index.js');
    expect((await ctx.node.sluice.store.catalogAttachment({ kind: 'function', name: 'kept' }))?.content).toEqual(v1);
    expect(await invoke('kept')).toMatchObject({ version: 1 });
  });

  it('sets the concurrency of an API-created function on a config-started node; refuses a config-declared one, naming the file; a prune keeps it', async () => {
    const handler = `${fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url))}#echo`;
    const config = validateConfig({ functions: { declared: { handler } } }, 'test');
    await applyConfig({ sluice: ctx.node.sluice, config, baseDir: '.', prune: false, source: '/etc/sluice/ctx.node.yaml' });
    await ctx.lambda.send(new CreateFunctionCommand(createInput('from-api', v1)));

    expect(await ctx.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'from-api', ReservedConcurrentExecutions: 5 }))).toMatchObject({ ReservedConcurrentExecutions: 5 });
    expect((await ctx.lambda.send(new GetFunctionCommand({ FunctionName: 'from-api' }))).Concurrency).toEqual({ ReservedConcurrentExecutions: 5 });
    expect(ctx.node.sluice.functions.get('from-api').reservedConcurrency).toBe(5);
    // The definition stored with the function is kept beside its concurrency.
    const [entry] = (await ctx.node.sluice.store.catalogList({ kind: 'function' })).filter((candidate) => candidate.name === 'from-api');
    expect(JSON.parse(entry!.definition)).toMatchObject({ reservedConcurrency: 5, function: { handler: 'index.handler' } });
    expect(await invoke('from-api')).toMatchObject({ version: 1 });
    await ctx.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'from-api' }));
    expect(ctx.node.sluice.functions.get('from-api').reservedConcurrency).toBeNull();

    const refused = await failure(ctx.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'declared', ReservedConcurrentExecutions: 2 })));
    expect(refused.name).toBe('ResourceConflictException');
    expect(refused.message).toContain('/etc/sluice/ctx.node.yaml');
    expect(ctx.node.sluice.functions.get('declared').reservedConcurrency).toBeNull();

    await applyConfig({ sluice: ctx.node.sluice, config, baseDir: '.', prune: true, source: '/etc/sluice/ctx.node.yaml' });
    expect(ctx.node.sluice.functions.exists('from-api')).toBe(true);
  });

  it('refuses a zip over the 50 MB of a direct upload as Lambda does', { timeout: 60_000 }, async () => {
    const refused = await failure(ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ZipFile: Buffer.alloc(52_428_801) })));
    expect(refused.name).toBe('RequestEntityTooLargeException');
    expect(refused.message).toBe('Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation');
    expect((await ctx.node.sluice.store.catalogAttachment({ kind: 'function', name: 'kept' }))?.content).toEqual(v1);
  });
});

describe.each(storeBackends)('the code cache on %s', (_backend, openStore) => {
  const ctx = useLambdaNode(openStore, 'sluice-code-prune', { codeCacheRetentionMs: 0 });
  const hex = (zip: Buffer) => createHash('sha256').update(zip).digest('hex');
  /** The cache's entries once the prunes planned (after the retention, 0 here) have run. */
  const entries = async () => {
    await ctx.node.sluice.catalog.codeCacheSettled();
    return readdirSync(ctx.cacheDir).sort();
  };

  it('drops a package no function uses any more, keeps one another function still uses', async () => {
    await ctx.lambda.send(new CreateFunctionCommand(createInput('first', v1)));
    await ctx.lambda.send(new CreateFunctionCommand(createInput('twin', v1)));
    expect(await entries()).toEqual([hex(v1)]);
    await ctx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'first', ZipFile: v2 }));
    // v1 is still twin's.
    expect(await entries()).toEqual([hex(v1), hex(v2)].sort());
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'twin' }));
    expect(await entries()).toEqual([hex(v2)]);
    await ctx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'first' }));
    expect(await entries()).toEqual([]);
  });
});
