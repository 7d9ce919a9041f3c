/**
 * Functions created through the Lambda API across nodes sharing one PostgreSQL schema, each node with
 * its own code cache: a function created through node A runs on node B (its zip fetched from the store
 * and extracted there, on the catalog's wake-up, no polling); its code updated through B runs as the new
 * code on A; a node whose config declares a function of that name is refused, naming it and the file;
 * deleted through A, it is gone from B.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, InvokeCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { validateConfig } from '../src/config/schema.js';
import { Sluice } from '../src/engine/sluice.js';
import { describePostgres, openTestStore } from '../src/testkit/postgres.js';
import { useLambdaNodePair } from './support/lambda-nodes.js';
import { sdkFailure } from './support/sdk-failure.js';
import { sluiceInProcess } from './support/cli-in-process.js';
import { zipOf } from '../src/testkit/zip.js';

const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;
const version = (n: number) => zipOf({ 'app/main.js': `exports.run = async (event) => ({ version: ${n}, from: process.env.NODE_NAME ?? null, event });` });

describePostgres('functions created through the Lambda API across nodes', () => {
  const nodes = useLambdaNodePair('sluice-code');

  it('runs on node B a function created through node A, and on A the code updated through B', async () => {
    const invokeOn = async (lambda: LambdaClient, event: unknown) =>
      decode((await lambda.send(new InvokeCommand({ FunctionName: 'shared', Payload: Buffer.from(JSON.stringify(event)) }))).Payload);
    await nodes.lambdaA.send(
      new CreateFunctionCommand({ FunctionName: 'shared', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'app/main.run', Code: { ZipFile: version(1) } }),
    );
    const started = Date.now();
    await expect.poll(() => nodes.b.sluice.functions.exists('shared'), { timeout: 1000, interval: 10 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await invokeOn(nodes.lambdaB, { on: 'b' })).toEqual({ version: 1, from: null, event: { on: 'b' } });
    expect(readdirSync(nodes.caches.b)).toHaveLength(1);

    await nodes.lambdaB.send(new UpdateFunctionCodeCommand({ FunctionName: 'shared', ZipFile: version(2) }));
    await nodes.lambdaB.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'shared', Environment: { Variables: { NODE_NAME: 'set through b' } }, Timeout: 20 }));
    await expect.poll(() => nodes.a.sluice.functions.get('shared').timeout, { timeout: 1000, interval: 10 }).toBe(20);
    expect(await invokeOn(nodes.lambdaA, { on: 'a' })).toEqual({ version: 2, from: 'set through b', event: { on: 'a' } });
    expect(await invokeOn(nodes.lambdaB, {})).toMatchObject({ version: 2 });

    // A node whose config declares a function of the same name is refused, naming it and the file.
    const cacheC = mkdtempSync(join(tmpdir(), 'sluice-code-c-'));
    const c = await Sluice.open({ store: await openTestStore({ schema: nodes.schema }), codeCacheDir: cacheC });
    try {
      const handler = `${fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url))}#echo`;
      const refused = await sdkFailure(applyConfig({ sluice: c, config: validateConfig({ functions: { shared: { handler } } }, 'test'), baseDir: '.', prune: false, source: '/etc/sluice/node-c.yaml' }));
      expect(refused.message).toContain('the function shared was created through the Lambda API');
      expect(refused.message).toContain('/etc/sluice/node-c.yaml');
    } finally {
      await c.close();
      rmSync(cacheC, { recursive: true, force: true });
    }

    await nodes.lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'shared' }));
    await expect.poll(() => nodes.b.sluice.functions.exists('shared'), { timeout: 1000, interval: 10 }).toBe(false);
  });

  it('serves on node B the Code.Location node A gave (the signing key is in the store), and refuses a forged one', async () => {
    const zip = version(7);
    await nodes.lambdaA.send(new CreateFunctionCommand({ FunctionName: 'located', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'app/main.run', Code: { ZipFile: zip } }));
    const location = new URL((await nodes.lambdaA.send(new GetFunctionCommand({ FunctionName: 'located' }))).Code!.Location!);
    expect(location.origin).toBe(new URL(nodes.a.url).origin);
    const onB = new URL(location.pathname + location.search, nodes.b.url);
    const served = await fetch(onB);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(zip);
    // B's own Location is signed with the same key: A serves it too.
    const fromB = new URL((await nodes.lambdaB.send(new GetFunctionCommand({ FunctionName: 'located' }))).Code!.Location!);
    expect((await fetch(new URL(fromB.pathname + fromB.search, nodes.a.url))).status).toBe(200);
    onB.searchParams.set('signature', '0'.repeat(64));
    expect((await fetch(onB)).status).toBe(403);
    await nodes.lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'located' }));
  });

  it('rotates the signing key through node B (sluice functions rotate-code-key): URLs given before stay valid on both nodes, new ones use the new key', async () => {
    const zip = version(8);
    await nodes.lambdaA.send(new CreateFunctionCommand({ FunctionName: 'rotated', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'app/main.run', Code: { ZipFile: zip } }));
    const location = async () => new URL((await nodes.lambdaA.send(new GetFunctionCommand({ FunctionName: 'rotated' }))).Code!.Location!);
    const on = (url: URL, node: { url: string }) => fetch(new URL(url.pathname + url.search, node.url));
    const before = await location();
    const keyBefore = await nodes.a.sluice.catalog.sharedSecret('code-location');
    const rotated = await sluiceInProcess(nodes.b, 'functions', 'rotate-code-key');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/rotated at .*; 1 retired key\(s\) still accepted/);
    expect((await nodes.a.sluice.catalog.sharedSecret('code-location')).equals(keyBefore)).toBe(false);
    // Signed with the retired key before the rotation: served by both nodes until it expires.
    for (const node of [nodes.a, nodes.b]) {
      const served = await on(before, node);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.arrayBuffer())).toEqual(zip);
    }
    // Node A signs with the new key at once (it reads the key at each GetFunction).
    const after = await location();
    expect(after.searchParams.get('signature')).not.toBe(before.searchParams.get('signature'));
    expect((await on(after, nodes.b)).status).toBe(200);
    // The retired key cannot sign a URL that outlives its retirement by more than a URL's 10 minutes.
    const forged = new URL(before);
    const expires = Math.floor(Date.now() / 1000) + 3600;
    forged.searchParams.set('expires', String(expires));
    forged.searchParams.set('signature', createHmac('sha256', keyBefore).update(`rotated\n${forged.searchParams.get('sha256')}\n${expires}`).digest('hex'));
    expect((await on(forged, nodes.b)).status).toBe(403);
    await nodes.lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'rotated' }));
  });

  // Last: it leaves node B deaf to the catalog's wake-ups.
  it('answers on node B for a function created through node A before B has heard of it (read-your-writes)', async () => {
    // As a wake-up that comes late (a loaded node, a slow LISTEN connection): B hears none from now on.
    (nodes.b.sluice.catalog as unknown as { unsubscribe: () => void }).unsubscribe();
    await nodes.lambdaA.send(new CreateFunctionCommand({ FunctionName: 'fresh', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'app/main.run', Code: { ZipFile: version(9) } }));
    expect(nodes.b.sluice.functions.exists('fresh')).toBe(false);
    const got = await nodes.lambdaB.send(new GetFunctionCommand({ FunctionName: 'fresh' }));
    expect(got.Configuration?.FunctionName).toBe('fresh');
    await nodes.lambdaA.send(new UpdateFunctionCodeCommand({ FunctionName: 'fresh', ZipFile: version(10), Publish: true }));
    expect(decode((await nodes.lambdaB.send(new InvokeCommand({ FunctionName: 'fresh', Qualifier: '1', Payload: Buffer.from('{}') }))).Payload)).toMatchObject({ version: 10 });
    // A name that does not exist is still refused, after one look at the store.
    expect((await sdkFailure(nodes.lambdaB.send(new GetFunctionCommand({ FunctionName: 'never-made' })))).name).toBe('ResourceNotFoundException');
  });
});
