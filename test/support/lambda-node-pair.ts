/**
 * Two in-process nodes sharing one fresh PostgreSQL schema, each with its own code cache and a Lambda
 * client: the set-up of the cluster tests of functions created through the Lambda API.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
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
