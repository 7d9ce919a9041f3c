/**
 * In-process nodes with a code cache of their own and a Lambda client: the set-up of the tests of
 * functions created through the Lambda API, on one node or on two sharing a fresh PostgreSQL schema.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { dropSchema, freshSchemaName, openTestStore } from '../../src/testkit/postgres.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './in-process-node.js';

export interface LambdaNodePair {
  schema: string;
  caches: { a: string; b: string };
  a: TestNode;
  b: TestNode;
  lambdaA: LambdaClient;
  lambdaB: LambdaClient;
}

/** Starts the pair before the suite's tests (call inside a describe) and stops it, schema and caches dropped, after. */
export function useLambdaNodePair(cachePrefix: string): LambdaNodePair {
  const pair = {
    schema: freshSchemaName(),
    caches: {
      a: mkdtempSync(join(tmpdir(), `${cachePrefix}-a-`)),
      b: mkdtempSync(join(tmpdir(), `${cachePrefix}-b-`)),
    },
  } as LambdaNodePair;
  const client = (node: TestNode) =>
    new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
  beforeAll(async () => {
    pair.a = await startTestNode({ store: await openTestStore({ schema: pair.schema }), codeCacheDir: pair.caches.a });
    pair.b = await startTestNode({ store: await openTestStore({ schema: pair.schema }), codeCacheDir: pair.caches.b });
    pair.lambdaA = client(pair.a);
    pair.lambdaB = client(pair.b);
  });
  afterAll(async () => {
    pair.lambdaA.destroy();
    pair.lambdaB.destroy();
    await pair.a.close();
    await pair.b.close();
    await dropSchema(pair.schema);
    for (const dir of Object.values(pair.caches)) rmSync(dir, { recursive: true, force: true });
  });
  return pair;
}

export interface LambdaNode {
  node: TestNode;
  lambda: LambdaClient;
  cacheDir: string;
}

/** One node on the store `openStore` gives (none: the default SQLite), started before the suite's tests and stopped after. */
export function useLambdaNode(
  openStore: () => Promise<Store | undefined>,
  cachePrefix: string,
  options: { codeCacheRetentionMs?: number } = {},
): LambdaNode {
  const context = {} as LambdaNode;
  beforeAll(async () => {
    context.cacheDir = mkdtempSync(join(tmpdir(), `${cachePrefix}-`));
    const store = await openStore();
    context.node = await startTestNode({ codeCacheDir: context.cacheDir, ...options, ...(store ? { store } : {}) });
    context.lambda = new LambdaClient({ endpoint: context.node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
  });
  afterAll(async () => {
    context.lambda.destroy();
    await context.node.close();
    rmSync(context.cacheDir, { recursive: true, force: true });
  });
  return context;
}
