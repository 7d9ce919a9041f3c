/**
 * The native JSON API (/v1/queues): every queue operation, responses checked against the zod schemas
 * the docs describe, bearer-token authentication, and validation errors naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAPPING_KIND } from '../src/catalog/catalog-entries.js';
import { errorBody } from '../src/api/native/schemas/common.js';
import { functionResponses, metricsResponse, triggerResponses } from '../src/api/native/schemas/functions.js';
import { queueResponses } from '../src/api/native/schemas/queues.js';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => node.close());

describe('bearer tokens on the native API', () => {
  it('refuses a missing, malformed or unknown token, and accepts a configured one', async () => {
    const missing = await node.native('/v1/queues', { token: null });
    expect(missing.status).toBe(403);
    expect(errorBody.parse(missing.body).error.code).toBe('MissingAuthenticationToken');
    expect((await node.native('/v1/queues', { token: 'wrong-token-but-long-enough' })).body.error.code).toBe('AccessDenied');
    const basic = await fetch(`${node.url}/v1/queues`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(((await basic.json()) as { error: { code: string } }).error.code).toBe('IncompleteSignature');
    expect((await node.native('/v1/queues')).status).toBe(200);
  });

  it('serves health and readiness without a token', async () => {
    expect((await node.native('/health', { token: null })).body).toEqual({ status: 'ok' });
    expect((await node.native('/ready', { token: null })).body).toEqual({ status: 'ready' });
  });
});

describe('queues over the native API', () => {
  it('creates, describes, updates, lists and deletes a queue', async () => {
    const created = await node.native('/v1/queues', { body: { name: 'native-a', attributes: { VisibilityTimeout: 20 }, tags: { team: 'x' } } });
    expect(created.status).toBe(201);
    expect(queueResponses.created.parse(created.body).queue).toMatchObject({ name: 'native-a', fifo: false });
    const detail = queueResponses.detail.parse((await node.native('/v1/queues/native-a')).body);
    expect(detail.attributes.VisibilityTimeout).toBe('20');
    expect(detail.tags).toEqual({ team: 'x' });
    expect(detail.counts).toEqual({ visible: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: 0 });
    const patched = await node.native('/v1/queues/native-a', { method: 'PATCH', body: { attributes: { DelaySeconds: '3' } } });
    expect(queueResponses.attributes.parse(patched.body).attributes.DelaySeconds).toBe('3');
    const listed = queueResponses.list.parse((await node.native('/v1/queues?prefix=native-&counts=true')).body);
    expect(listed.queues.map((queue) => queue.name)).toContain('native-a');
    expect(listed.queues[0]!.counts).toBeDefined();
    expect((await node.native('/v1/queues/native-a', { method: 'DELETE' })).status).toBe(204);
    const gone = await node.native('/v1/queues/native-a');
    expect(gone.status).toBe(400);
    expect(gone.body.error).toMatchObject({ code: 'QueueDoesNotExist', field: 'QueueName' });
  });

  it('sends, receives, changes visibility and deletes messages, one and in batches', async () => {
    await node.native('/v1/queues', { body: { name: 'native-b' } });
    const sent = await node.native('/v1/queues/native-b/messages', {
      body: { body: 'hello', messageAttributes: { kind: { dataType: 'String', stringValue: 'greeting' } } },
    });
    expect(sent.status).toBe(201);
    expect(queueResponses.sent.parse(sent.body).md5OfMessageBody).toBe('5d41402abc4b2a76b9719d911017c592');
    const batch = await node.native('/v1/queues/native-b/messages/batch', {
      body: { entries: [{ id: 'a', body: 'one' }, { id: 'b', body: 'two', delaySeconds: 9999 }] },
    });
    const batchResult = queueResponses.sentBatch.parse(batch.body);
    expect(batchResult.successful.map((entry) => entry.id)).toEqual(['a']);
    expect(batchResult.failed[0]).toMatchObject({ id: 'b', code: 'InvalidParameterValue', senderFault: true });
    const received = queueResponses.received.parse((await node.native('/v1/queues/native-b/messages/receive', { body: { maxNumberOfMessages: 10 } })).body);
    expect(received.messages.map((message) => message.body).sort()).toEqual(['hello', 'one']);
    const [first, second] = received.messages;
    const changed = await node.native('/v1/queues/native-b/messages/visibility', { body: { receiptHandle: first!.receiptHandle, visibilityTimeout: 60 } });
    expect(changed.status).toBe(204);
    const changedBatch = await node.native('/v1/queues/native-b/messages/visibility-batch', {
      body: { entries: [{ id: 'x', receiptHandle: second!.receiptHandle, visibilityTimeout: 60 }] },
    });
    expect(queueResponses.batch.parse(changedBatch.body).successful).toEqual([{ id: 'x' }]);
    expect((await node.native('/v1/queues/native-b/messages/delete', { body: { receiptHandle: first!.receiptHandle } })).status).toBe(204);
    const deleted = await node.native('/v1/queues/native-b/messages/delete-batch', {
      body: { entries: [{ id: 'y', receiptHandle: second!.receiptHandle }] },
    });
    expect(queueResponses.batch.parse(deleted.body).successful).toEqual([{ id: 'y' }]);
    expect(queueResponses.counts.parse((await node.native('/v1/queues/native-b/counts')).body)).toMatchObject({ visible: 0, inFlight: 0 });
  });

  it('long-polls on receive until a message arrives', async () => {
    await node.native('/v1/queues', { body: { name: 'native-c' } });
    const waiting = node.native('/v1/queues/native-c/messages/receive', { body: { waitTimeSeconds: 10 } });
    setTimeout(() => void node.sluice.queues.send('native-c', { body: 'woken' }), 100);
    expect((await waiting).body.messages[0].body).toBe('woken');
  });

  it('purges, tags and untags', async () => {
    await node.native('/v1/queues', { body: { name: 'native-d' } });
    await node.native('/v1/queues/native-d/messages', { body: { body: 'x' } });
    expect((await node.native('/v1/queues/native-d/purge', { method: 'POST' })).status).toBe(204);
    expect((await node.sluice.queues.counts('native-d')).visible).toBe(0);
    const tagged = await node.native('/v1/queues/native-d/tags', { method: 'PATCH', body: { tags: { a: '1', b: '2' } } });
    expect(queueResponses.tags.parse(tagged.body).tags).toEqual({ a: '1', b: '2' });
    const untagged = await node.native('/v1/queues/native-d/tags/a', { method: 'DELETE' });
    expect(untagged.body.tags).toEqual({ b: '2' });
  });

  it('redrives a dead-letter queue by name with a move task, and lists its sources and tasks', async () => {
    await node.native('/v1/queues', { body: { name: 'native-dlq' } });
    const dlqArn = node.sluice.queues.arnOf('native-dlq');
    await node.native('/v1/queues', {
      body: { name: 'native-src', attributes: { VisibilityTimeout: 0, RedrivePolicy: { deadLetterTargetArn: dlqArn, maxReceiveCount: 1 } } },
    });
    expect((await node.native('/v1/queues/native-dlq/dead-letter-sources')).body).toEqual({ queues: ['native-src'] });
    await node.sluice.queues.send('native-src', { body: 'poison' });
    await node.sluice.queues.receive('native-src');
    await node.sluice.queues.receive('native-src');
    expect((await node.sluice.queues.counts('native-dlq')).visible).toBe(1);
    const started = await node.native('/v1/queues/native-dlq/move-tasks', { body: {} });
    expect(queueResponses.moveStarted.parse(started.body).taskHandle).toBeTruthy();
    let tasks = queueResponses.moveTasks.parse((await node.native('/v1/queues/native-dlq/move-tasks')).body).tasks;
    for (let i = 0; i < 50 && tasks[0]?.status === 'RUNNING'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      tasks = queueResponses.moveTasks.parse((await node.native('/v1/queues/native-dlq/move-tasks')).body).tasks;
    }
    expect(tasks[0]).toMatchObject({ status: 'COMPLETED', approximateNumberOfMessagesMoved: 1 });
    const cancel = await node.native(`/v1/move-tasks/${started.body.taskHandle}/cancel`, { method: 'POST' });
    expect(cancel.body.error.code).toBe('UnsupportedOperation');
  });
});

describe('validation on the native API', () => {
  it('refuses malformed JSON, wrong types, unknown fields and unknown routes with a named field', async () => {
    const malformed = await node.native('/v1/queues', { body: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('SerializationException');
    const wrongType = await node.native('/v1/queues', { body: { name: 7 } });
    expect(wrongType.body.error).toMatchObject({ code: 'InvalidParameterValue', field: 'name' });
    const missing = await node.native('/v1/queues', { body: {} });
    expect(missing.body.error).toMatchObject({ code: 'MissingParameter', field: 'name' });
    const unknownField = await node.native('/v1/queues', { body: { name: 'x', visibility: 3 } });
    expect(unknownField.body.error.message).toContain("'visibility'");
    const nested = await node.native('/v1/queues', { body: { name: 'x', attributes: { VisibilityTimeout: -1 } } });
    expect(nested.body.error).toMatchObject({ code: 'InvalidAttributeValue', field: 'Attributes.VisibilityTimeout' });
    const route = await node.native('/v1/rockets');
    expect(route.status).toBe(404);
    expect(errorBody.parse(route.body).error.code).toBe('ResourceNotFoundException');
    expect(await node.sluice.queues.exists('x')).toBe(false);
  });
});

describe('functions, triggers and metrics over the native API', () => {
  it('lists and invokes functions, synchronously and as events', async () => {
    await node.sluice.functions.create({ name: 'double', handler: async (event: { n: number }) => ({ n: event.n * 2 }) });
    await node.sluice.functions.create({ name: 'broken', handler: async () => { throw new Error('nope'); } });
    const listed = functionResponses.list.parse((await node.native('/v1/functions')).body);
    expect(listed.functions.map((fn) => fn.name).sort()).toEqual(['broken', 'double']);
    const invoked = functionResponses.invoked.parse((await node.native('/v1/functions/double/invoke', { body: { payload: { n: 21 } } })).body);
    expect(invoked.payload).toEqual({ n: 42 });
    const failed = functionResponses.invoked.parse((await node.native('/v1/functions/broken/invoke', { body: {} })).body);
    expect(failed).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Error', errorMessage: 'nope' } });
    const accepted = await node.native('/v1/functions/double/invoke', { body: { payload: { n: 1 }, invocationType: 'Event' } });
    expect(accepted.status).toBe(202);
    functionResponses.accepted.parse(accepted.body);
    const detail = functionResponses.detail.parse((await node.native('/v1/functions/double')).body);
    expect(detail.metrics.invocations).toBeGreaterThanOrEqual(1);
    expect((await node.native('/v1/functions/ghost')).body.error.code).toBe('ResourceNotFoundException');
  });

  it('lists triggers and disables and enables one at run time', async () => {
    await node.native('/v1/queues', { body: { name: 'native-trigger' } });
    await node.sluice.functions.create({ name: 'sink', handler: async () => undefined });
    const created = await node.sluice.triggers.create({ queue: 'native-trigger', functionName: 'sink' });
    const listed = triggerResponses.list.parse((await node.native('/v1/triggers?queue=native-trigger')).body);
    expect(listed.triggers.map((t) => t.uuid)).toEqual([created.uuid]);
    const disabled = triggerResponses.updated.parse((await node.native(`/v1/triggers/${created.uuid}`, { method: 'PATCH', body: { enabled: false } })).body);
    expect(disabled.trigger.state).toBe('Disabled');
    const enabled = triggerResponses.updated.parse(
      (await node.native(`/v1/triggers/${created.uuid}`, { method: 'PATCH', body: { enabled: true, batchSize: 5 } })).body,
    );
    expect(enabled.trigger).toMatchObject({ state: 'Enabled', batchSize: 5 });
    triggerResponses.detail.parse((await node.native(`/v1/triggers/${created.uuid}`)).body);
  });

  it('refuses to change a trigger a config file declares unless asked for this node only', async () => {
    await node.native('/v1/queues', { body: { name: 'native-declared' } });
    await node.sluice.functions.create({ name: 'declared-sink', handler: async () => undefined });
    const created = await node.sluice.triggers.create({ queue: 'native-declared', functionName: 'declared-sink' });
    // What config/sections/triggers.ts does for each trigger the node's config file declares.
    node.sluice.catalog.manage(MAPPING_KIND, created.uuid, 'sluice.config.ts');
    const refused = await node.native(`/v1/triggers/${created.uuid}`, { method: 'PATCH', body: { enabled: false } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'ResourceConflictException', field: 'thisNodeOnly' });
    expect(refused.body.error.message).toContain('sluice.config.ts');
    expect(node.sluice.triggers.get(created.uuid).state).toBe('Enabled');
    const paused = triggerResponses.updated.parse(
      (await node.native(`/v1/triggers/${created.uuid}`, { method: 'PATCH', body: { enabled: false, thisNodeOnly: true } })).body,
    );
    expect(paused.trigger.state).toBe('Disabled');
  });

  it('reports metrics as JSON and in Prometheus format', async () => {
    const snapshot = metricsResponse.parse((await node.native('/v1/metrics')).body);
    expect(snapshot.queues.length).toBeGreaterThan(0);
    const response = await fetch(`${node.url}/v1/metrics?format=prometheus`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE sluice_queue_messages gauge');
    expect(text).toMatch(/sluice_function_invocations_total\{function="double",version="\$LATEST"\} \d+/);
  });
});
