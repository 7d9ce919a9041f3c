/**
 * Synchronous invokes on the nodes of a cluster (two nodes on one PostgreSQL schema, heartbeat 100 ms),
 * through the unmodified @aws-sdk/client-lambda and the library: a call refused only because its node has
 * not been granted its share of the limit yet waits for the grant instead of reaching the client as a
 * 429, while a reserved concurrency genuinely in use is refused with TooManyRequestsException (429,
 * Reason ReservedFunctionConcurrentInvocationLimitExceeded) as Lambda refuses it.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { isSluiceError } from '../src/model/errors.js';
import { gate } from '../src/testkit/engine.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../src/testkit/postgres.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure } from './support/sdk-failure.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// A lease of 1 s: with 400 ms a loaded machine let a heartbeat age past the point where a node fences itself
// off its slots (about 1 run in 6), and a waiting invoke then ran into its timeout.
const timing = { heartbeatMs: 100, leaseMs: 1_000, slotLingerMs: 100 };
const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;

describePostgres('synchronous Lambda invokes on the nodes of a cluster', () => {
  let schema: string;
  let nodes: TestNode[];
  let clients: LambdaClient[];

  async function node(id: string): Promise<TestNode> {
    const started = await startTestNode({ store: await openTestStore({ schema }), cluster: { nodeId: id, ...timing } });
    nodes.push(started);
    return started;
  }

  function lambdaOf(target: TestNode): LambdaClient {
    const client = new LambdaClient({ endpoint: target.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    clients.push(client);
    return client;
  }

  /** Declares `single` (reserved concurrency 1) on both nodes; returns the node granted its standing slot. */
  async function singleSlot(pair: TestNode[], handler: () => Promise<unknown>): Promise<{ holder: TestNode; other: TestNode }> {
    for (const n of pair) await n.sluice.functions.create({ name: 'single', reservedConcurrency: 1, handler });
    const granted = async () => (await pair[0]!.sluice.store.slotList({ scope: 'function:single' })).find((row) => row.granted === 1);
    await expect.poll(granted, { timeout: 10_000, interval: 20 }).toBeDefined();
    const holderId = (await granted())!.nodeId;
    const holder = pair.find((n) => n.sluice.cluster!.nodeId === holderId)!;
    return { holder, other: pair.find((n) => n !== holder)! };
  }

  beforeEach(() => {
    schema = freshSchemaName();
    nodes = [];
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) client.destroy();
    await Promise.all(nodes.map((n) => n.close()));
    await dropSchema(schema);
  });

  it('serves a burst of 12 concurrent invokes on a node granted nothing yet, without a 429', async () => {
    const a = await node('a');
    await a.sluice.functions.create({ name: 'work', handler: async (event: unknown) => (await sleep(20), { event }) });
    const lambda = lambdaOf(a);
    const calls = Array.from({ length: 12 }, (_, i) => lambda.send(new InvokeCommand({ FunctionName: 'work', Payload: Buffer.from(JSON.stringify(i)) })));
    const outs = await Promise.all(
      calls.map((call) =>
        call.then(
          (out) => ({ status: out.StatusCode, payload: decode(out.Payload) }),
          (error: { name: string; $metadata: { httpStatusCode?: number } }) => ({ status: error.$metadata.httpStatusCode, payload: error.name }),
        ),
      ),
    );
    expect(outs).toEqual(Array.from({ length: 12 }, (_, i) => ({ status: 200, payload: { event: i } })));
  });

  it('takes, through the SDK and the library, the slot another node holds spare', async () => {
    const { holder, other } = await singleSlot([await node('a'), await node('b')], async () => 'done');
    const out = await lambdaOf(other).send(new InvokeCommand({ FunctionName: 'single' }));
    expect({ status: out.StatusCode, payload: decode(out.Payload) }).toEqual({ status: 200, payload: 'done' });
    // The slot lingers on `other` now; the library's invoke on the first holder takes it back the same way.
    expect((await holder.sluice.functions.invoke('single')).payload).toBe('done');
  });

  it('refuses with 429 TooManyRequestsException while another node runs the only slot', async () => {
    const running = gate();
    const { holder, other } = await singleSlot([await node('a'), await node('b')], () => running.promise);
    const invocation = holder.sluice.functions.invoke('single');
    const started = Date.now();
    const refused = await sdkFailure(lambdaOf(other).send(new InvokeCommand({ FunctionName: 'single' })));
    const tookMs = Date.now() - started;
    console.log(`[lambda-cluster-slots] SDK throttle after ${tookMs} ms`);
    expect({ name: refused.name, status: refused.$metadata.httpStatusCode, reason: refused.Reason }).toEqual({
      name: 'TooManyRequestsException',
      status: 429,
      reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    // Refused once the store calls the refusal final (the holder answered the wait): not held for the function's timeout.
    expect(tookMs).toBeLessThan(2_000);
    const library = await other.sluice.functions.invoke('single').catch((error: unknown) => error);
    expect(isSluiceError(library, 'TooManyRequestsException')).toBe(true);
    running.open();
    await invocation;
  });

  it('refuses a function reserved at 0 at once', async () => {
    const a = await node('a');
    await a.sluice.functions.create({ name: 'off', reservedConcurrency: 0, handler: async () => 'never' });
    const started = Date.now();
    const refused = await sdkFailure(lambdaOf(a).send(new InvokeCommand({ FunctionName: 'off' })));
    expect({ name: refused.name, status: refused.$metadata.httpStatusCode }).toEqual({ name: 'TooManyRequestsException', status: 429 });
    expect(Date.now() - started).toBeLessThan(500);
  });
});
