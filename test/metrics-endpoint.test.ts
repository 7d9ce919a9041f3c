/**
 * GET /metrics: Prometheus text behind the bearer token (unless the node says otherwise), with histograms
 * of handler duration and send → start latency and a counter for every outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

let node: TestNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function scrape(
  url: string,
  token: string | null = TEST_TOKEN,
): Promise<{ status: number; text: string; type: string }> {
  const response = await fetch(
    `${url}/metrics`,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type') ?? '',
  };
}

describe('GET /metrics', () => {
  it('asks for a bearer token like the rest of the native API', async () => {
    node = await startTestNode();
    expect((await scrape(node.url, null)).status).toBe(403);
    expect((await scrape(node.url, 'not-a-valid-token-at-all')).status).toBe(403);
    const ok = await scrape(node.url);
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/plain');
  });

  it('can be opened to scrapers without a token, or turned off', async () => {
    node = await startTestNode({ metricsAuth: 'none' });
    expect((await scrape(node.url, null)).status).toBe(200);
    await node.close();
    node = await startTestNode({ metricsAuth: 'off' });
    expect((await scrape(node.url)).status).toBe(404);
  });

  it('has histograms of handler duration and send-to-start latency and counters of outcomes', async () => {
    node = await startTestNode();
    const { sluice } = node;
    await sluice.queues.create('jobs', { VisibilityTimeout: 30 });
    let calls = 0;
    await sluice.functions.create({
      name: 'work',
      handler: async () => {
        calls++;
        if (calls === 2) throw new Error('second fails');
        return {};
      },
    });
    await sluice.triggers.create({ queue: 'jobs', functionName: 'work', batchSize: 1 });
    await sluice.queues.send('jobs', { body: 'a' });
    while (calls < 1) await sleep(10);
    await sluice.queues.send('jobs', { body: 'b' });
    while (calls < 2) await sleep(10);
    await sluice.functions.invoke('work', {});
    await sleep(50);
    const { text } = await scrape(node.url);
    expect(text).toContain('# TYPE sluice_handler_duration_seconds histogram');
    expect(text).toMatch(
      /sluice_handler_duration_seconds_count\{function="work",version="\$LATEST",via="queue-trigger",outcome="success"\} 1/,
    );
    expect(text).toMatch(
      /sluice_handler_duration_seconds_count\{function="work",version="\$LATEST",via="queue-trigger",outcome="error"\} 1/,
    );
    expect(text).toMatch(
      /sluice_handler_duration_seconds_count\{function="work",version="\$LATEST",via="invoke",outcome="success"\} 1/,
    );
    expect(text).toContain('# TYPE sluice_send_to_start_seconds histogram');
    expect(text).toMatch(/sluice_send_to_start_seconds_count\{queue="jobs",function="work",version="\$LATEST"\} 2/);
    expect(text).toMatch(/sluice_invocations_total\{function="work",version="\$LATEST",via="queue-trigger",outcome="error"\} 1/);
    expect(text).toMatch(/sluice_retries_total\{function="work",version="\$LATEST",via="queue-trigger"\} 1/);
    // The gauges read at scrape time are there too.
    expect(text).toMatch(/sluice_queue_messages\{queue="jobs",state="in_flight"\} 1/);
  });
});

describe('the native API for operators', () => {
  it('peeks at a queue without receiving and inspects a group', async () => {
    node = await startTestNode();
    await node.sluice.queues.create('tasks', { SluiceGroupKey: 'MessageGroupId' });
    await node.sluice.groupLimits.set('tasks', 'acme', { maxConcurrency: 1 });
    await node.sluice.queues.send('tasks', { body: 'one', messageGroupId: 'acme' });
    for (let i = 0; i < 2; i++) {
      const peeked = await node.native('/v1/queues/tasks/messages?limit=5');
      expect(peeked.status).toBe(200);
      expect(peeked.body.messages).toMatchObject([
        { body: 'one', messageGroupId: 'acme', receiveCount: 0, state: 'visible' },
      ]);
    }
    const inspected = await node.native('/v1/queues/tasks/groups/acme/inspect');
    expect(inspected.body).toMatchObject({
      queue: 'tasks',
      group: 'acme',
      waiting: 1,
      inFlight: 0,
      limits: { maxConcurrency: 1 },
    });
    expect((await node.native('/v1/queues/tasks/messages?limit=x')).status).toBe(400);
  });
});
