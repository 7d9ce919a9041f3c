/**
 * Fuzzing every route with generated bodies and headers (fast-check): whatever arrives, the node answers
 * with a well-formed response below 500 in the caller's protocol, never crashes, and keeps serving.
 * Most runs use a development-mode node so inputs get past authentication into the handlers; a secured
 * node is fuzzed too, to exercise the authentication paths.
 */
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbTargets } from '../src/api/aws/dynamodb/endpoint.js';
import { sqsOperationNames } from '../src/api/aws/sqs-operations.js';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

let dev: TestNode;
let secured: TestNode;

beforeAll(async () => {
  dev = await startTestNode({ insecureDev: true, maxRequestBytes: 256 * 1024 });
  secured = await startTestNode({ maxRequestBytes: 256 * 1024 });
  for (const node of [dev, secured]) {
    await node.sluice.queues.create('fuzz');
    await node.sluice.queues.create('fuzz.fifo');
    await node.sluice.queues.send('fuzz', { body: 'seed' });
    await node.sluice.functions.create({ name: 'echo', handler: async (event: unknown) => event });
    await node.sluice.triggers.create({ queue: 'fuzz', functionName: 'echo', enabled: false });
    await node.sluice.tables.createTable({ name: 'fuzz', partitionKey: { name: 'pk', type: 'S' }, stream: { viewType: 'NEW_IMAGE' } });
    await node.sluice.tables.putItem({ tableName: 'fuzz', item: { pk: 'seed' } });
  }
});
afterAll(async () => {
  await dev.close();
  await secured.close();
});

const queueNames = fc.constantFrom('fuzz', 'fuzz.fifo', 'missing', '', 'a/b', '%zz', '..', 'x'.repeat(300));
const queueUrl = fc.oneof(
  queueNames.map((name) => `/000000000000/${name}`),
  queueNames.map((name) => `http://127.0.0.1/000000000000/${name}`),
  fc.string({ maxLength: 40 }),
);
/** Values that are right, wrong-typed or out of range for any member. Never a positive wait: long polls would slow the run. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -5, max: 2_000_000 }),
  fc.constantFrom(0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER, null, true, 'All', '.*', '', '\u0000', '\uD800'),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
);
const messageAttributes = fc.dictionary(
  fc.oneof(fc.constantFrom('a', 'order.id', 'AWS.x', '.bad'), fc.string({ maxLength: 8 })),
  fc.record(
    { DataType: fc.constantFrom('String', 'Number', 'Binary', 'Binary.x', 'Nope', ''), StringValue: anyValue, BinaryValue: fc.oneof(fc.base64String(), anyValue) },
    { requiredKeys: [] },
  ),
  { maxKeys: 12 },
);
const entry = fc.record(
  {
    Id: fc.oneof(fc.constantFrom('a', 'b', 'a'), fc.string({ maxLength: 90 })),
    MessageBody: anyValue,
    ReceiptHandle: anyValue,
    VisibilityTimeout: anyValue,
    DelaySeconds: anyValue,
    MessageAttributes: messageAttributes,
    MessageGroupId: anyValue,
    MessageDeduplicationId: anyValue,
  },
  { requiredKeys: [] },
);
/** SQS inputs built from the members operations actually read, so generated values reach the handlers. */
const sqsInput = fc.record(
  {
    QueueUrl: queueUrl,
    QueueName: fc.oneof(queueNames, fc.string({ maxLength: 90 })),
    QueueNamePrefix: anyValue,
    MessageBody: anyValue,
    DelaySeconds: anyValue,
    MessageAttributes: messageAttributes,
    MessageGroupId: anyValue,
    MessageDeduplicationId: anyValue,
    MaxNumberOfMessages: anyValue,
    VisibilityTimeout: anyValue,
    WaitTimeSeconds: fc.constantFrom(0, -1, 21, 'x', null),
    AttributeNames: anyValue,
    MessageSystemAttributeNames: anyValue,
    MessageAttributeNames: anyValue,
    ReceiptHandle: anyValue,
    Entries: fc.oneof(fc.array(entry, { maxLength: 12 }), anyValue),
    Attributes: fc.dictionary(
      fc.constantFrom('VisibilityTimeout', 'DelaySeconds', 'RedrivePolicy', 'FifoQueue', 'MaximumMessageSize', 'Nope', 'Policy'),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constant('{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:fuzz","maxReceiveCount":2}')),
      { maxKeys: 3 },
    ),
    Tags: anyValue,
    tags: anyValue,
    TagKeys: anyValue,
    MaxResults: anyValue,
    NextToken: anyValue,
    SourceArn: fc.oneof(fc.constant('arn:aws:sqs:us-east-1:000000000000:fuzz'), anyValue),
    DestinationArn: anyValue,
    MaxNumberOfMessagesPerSecond: anyValue,
    TaskHandle: anyValue,
    // DynamoDB and DynamoDB Streams members
    TableName: fc.oneof(queueNames, anyValue),
    Item: fc.oneof(fc.constant({ pk: { S: 'fuzzed' } }), fc.dictionary(fc.constantFrom('pk', 'x'), anyValue, { maxKeys: 2 }), anyValue),
    Key: fc.oneof(fc.constant({ pk: { S: 'seed' } }), anyValue),
    ConditionExpression: fc.oneof(fc.constantFrom('attribute_exists(pk)', 'pk = :v', 'size(#n) > :v'), anyValue),
    UpdateExpression: fc.oneof(fc.constantFrom('SET a = :v', 'REMOVE pk', 'ADD n :v'), anyValue),
    KeyConditionExpression: fc.oneof(fc.constantFrom('pk = :v', 'pk = :v AND sk > :v'), anyValue),
    ExpressionAttributeValues: fc.oneof(fc.constant({ ':v': { S: 'seed' } }), anyValue),
    ExpressionAttributeNames: fc.oneof(fc.constant({ '#n': 'pk' }), anyValue),
    RequestItems: anyValue,
    TransactItems: anyValue,
    StreamArn: anyValue,
    ShardIterator: anyValue,
    ShardIteratorType: fc.constantFrom('TRIM_HORIZON', 'LATEST', 'AT_SEQUENCE_NUMBER', 'x'),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  sqsInput.map((input) => JSON.stringify(input)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom('', '{', '[]', 'null', '{"__proto__": {"x": 1}}', 'Action=ListQueues', 'Action=SendMessage&QueueUrl=%zz&MessageBody=%ff'),
);
const contentType = fc.constantFrom(
  undefined,
  'application/x-amz-json-1.0',
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  ';;;',
);
const target = fc.oneof(
  fc.constantFrom(...sqsOperationNames).map((operation) => `AmazonSQS.${operation}`),
  fc.constantFrom(...dynamoDbTargets),
  fc.constantFrom(undefined, '', 'AmazonSQS.', 'AmazonSQS.Nope', 'DynamoDB_20120810.PutItem', '.', 'AmazonSQS..X'),
  fc.string({ maxLength: 30 }),
);
const headerText = fc.string({ maxLength: 60, unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) });
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${TEST_TOKEN}`),
  headerText,
  headerText.map((text) => `AWS4-HMAC-SHA256 Credential=${text}, SignedHeaders=host;x-amz-date, Signature=${text}`),
  headerText.map((text) => `Bearer ${text}`),
);

const nativeRoutes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'; path: string }> = [
  { method: 'GET', path: '/v1/queues' },
  { method: 'POST', path: '/v1/queues' },
  { method: 'GET', path: '/v1/queues/:name' },
  { method: 'PATCH', path: '/v1/queues/:name' },
  { method: 'DELETE', path: '/v1/queues/:name' },
  { method: 'POST', path: '/v1/queues/:name/purge' },
  { method: 'GET', path: '/v1/queues/:name/counts' },
  { method: 'POST', path: '/v1/queues/:name/messages' },
  { method: 'POST', path: '/v1/queues/:name/messages/batch' },
  { method: 'POST', path: '/v1/queues/:name/messages/receive' },
  { method: 'POST', path: '/v1/queues/:name/messages/delete' },
  { method: 'POST', path: '/v1/queues/:name/messages/delete-batch' },
  { method: 'POST', path: '/v1/queues/:name/messages/visibility' },
  { method: 'POST', path: '/v1/queues/:name/messages/visibility-batch' },
  { method: 'GET', path: '/v1/queues/:name/dead-letter-sources' },
  { method: 'POST', path: '/v1/queues/:name/move-tasks' },
  { method: 'GET', path: '/v1/queues/:name/move-tasks' },
  { method: 'POST', path: '/v1/move-tasks/:name/cancel' },
  { method: 'GET', path: '/v1/queues/:name/tags' },
  { method: 'PATCH', path: '/v1/queues/:name/tags' },
  { method: 'DELETE', path: '/v1/queues/:name/tags/:name' },
  { method: 'GET', path: '/v1/queues/:name/groups' },
  { method: 'GET', path: '/v1/queues/:name/groups/:name' },
  { method: 'PUT', path: '/v1/queues/:name/groups/:name' },
  { method: 'DELETE', path: '/v1/queues/:name/groups/:name' },
  { method: 'GET', path: '/v1/queues/:name/group-default' },
  { method: 'PUT', path: '/v1/queues/:name/group-default' },
  { method: 'DELETE', path: '/v1/queues/:name/group-default' },
  { method: 'GET', path: '/v1/queues/:name/group-activity' },
  { method: 'GET', path: '/v1/functions' },
  { method: 'GET', path: '/v1/functions/:name' },
  { method: 'POST', path: '/v1/functions/:name/invoke' },
  { method: 'GET', path: '/v1/triggers' },
  { method: 'GET', path: '/v1/triggers/:name' },
  { method: 'PATCH', path: '/v1/triggers/:name' },
  { method: 'GET', path: '/v1/metrics' },
  { method: 'GET', path: '/v1/tables' },
  { method: 'GET', path: '/v1/tables/:name' },
  { method: 'POST', path: '/v1/tables/:name/items' },
  { method: 'POST', path: '/v1/tables/:name/get' },
  { method: 'POST', path: '/v1/tables/:name/query' },
  { method: 'POST', path: '/v1/tables/:name/scan' },
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/ready' },
  { method: 'POST', path: '/v1/nowhere' },
];
const nativeBody = fc.oneof(
  fc.record(
    {
      name: fc.oneof(queueNames, anyValue),
      body: anyValue,
      attributes: fc.oneof(fc.dictionary(fc.constantFrom('VisibilityTimeout', 'DelaySeconds', 'Nope'), anyValue, { maxKeys: 2 }), anyValue),
      entries: fc.oneof(fc.array(fc.record({ id: anyValue, body: anyValue, receiptHandle: anyValue, visibilityTimeout: anyValue }, { requiredKeys: [] }), { maxLength: 12 }), anyValue),
      receiptHandle: anyValue,
      visibilityTimeout: anyValue,
      maxNumberOfMessages: anyValue,
      waitTimeSeconds: fc.constantFrom(0, -1, 21, 'x'),
      delaySeconds: anyValue,
      messageAttributes: anyValue,
      tags: anyValue,
      destination: anyValue,
      payload: anyValue,
      invocationType: fc.constantFrom('RequestResponse', 'Event', 'DryRun'),
      enabled: fc.oneof(fc.boolean(), anyValue),
      batchSize: anyValue,
      maximumConcurrency: anyValue,
      maxConcurrency: anyValue,
      rate: fc.oneof(fc.record({ limit: anyValue, intervalSeconds: anyValue, burst: anyValue }, { requiredKeys: [] }), anyValue),
      item: fc.oneof(fc.constant({ pk: 'x' }), anyValue),
      key: fc.oneof(fc.constant({ pk: 'seed' }), anyValue),
      keyConditionExpression: fc.oneof(fc.constant('pk = :v'), anyValue),
      expressionAttributeValues: fc.oneof(fc.constant({ ':v': 'seed' }), anyValue),
      limit: anyValue,
    },
    { requiredKeys: [] },
  ).map((value) => JSON.stringify(value)),
  body,
);
const pathSegment = fc.oneof(queueNames.map(encodeURIComponent), fc.constantFrom('echo', 'fuzz-trigger'), fc.constantFrom('%zz', '%00', '..', 'a%2Fb'), fc.string({ maxLength: 20 }).map(encodeURIComponent));
const query = fc.constantFrom('', '?prefix=fu', '?counts=true', '?counts=maybe', '?maxResults=abc', '?x=1&x=2', '?prefix[a]=1', '?format=prometheus', '?format=xml', '?queue=fuzz&function=echo', '?limit=0', '?limit=1&after=a');

interface Injected {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

function wellFormed(response: Injected): void {
  expect(response.statusCode, response.body).toBeLessThan(500);
  const type = String(response.headers['content-type'] ?? '');
  if (response.statusCode === 204) return;
  if (type.startsWith('text/plain') && response.statusCode === 200) return; // the Prometheus exposition
  if (type.includes('xml')) {
    expect(response.body.startsWith('<?xml')).toBe(true);
    if (response.statusCode >= 400) expect(response.body).toContain('<ErrorResponse');
    return;
  }
  const parsed = JSON.parse(response.body) as { __type?: string; error?: { code?: string } };
  // Every refusal is one of ours, in the AWS or the native shape, never a framework's default body.
  if (response.statusCode >= 400) expect(parsed.__type ?? parsed.error?.code, response.body).toBeTypeOf('string');
}

describe('fuzzing the HTTP routes', () => {
  it('answers generated SQS, DynamoDB and DynamoDB Streams requests (JSON and query protocols) with a well-formed 4xx or a success, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, target, authorization, fc.constantFrom('/', '/000000000000/fuzz', '/000000000000/missing'), fc.constantFrom('POST', 'GET'), async (payload, type, amzTarget, auth, url, method) => {
        const headers: Record<string, string> = {};
        if (type !== undefined) headers['content-type'] = type;
        if (amzTarget !== undefined) headers['x-amz-target'] = amzTarget;
        if (auth !== undefined) headers.authorization = auth;
        for (const node of [dev, secured]) {
          const response = await node.api.app.inject({ method, url, headers, ...(method === 'POST' ? { payload } : {}) });
          wellFormed(response);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('answers generated native requests with a well-formed 4xx or a success, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...nativeRoutes), pathSegment, query, nativeBody, contentType, authorization, async (route, segment, search, payload, type, auth) => {
        const headers: Record<string, string> = {};
        if (type !== undefined) headers['content-type'] = type;
        if (auth !== undefined) headers.authorization = auth;
        const url = route.path.replaceAll(':name', segment || 'x') + search;
        for (const node of [dev, secured]) {
          const response = await node.api.app.inject({ method: route.method, url, headers, ...(route.method === 'GET' ? {} : { payload }) });
          wellFormed(response);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps serving real clients afterwards', async () => {
    expect((await secured.native('/health', { token: null })).status).toBe(200);
    await secured.sluice.queues.create('after-fuzz');
    const { QueueUrls } = await secured.sqs().send(new ListQueuesCommand({ QueueNamePrefix: 'after-fuzz' }));
    expect(QueueUrls).toHaveLength(1);
  });
});
