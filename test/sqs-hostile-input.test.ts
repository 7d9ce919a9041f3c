/**
 * Hostile and malformed input on the SQS endpoint and the native API, found by the attack of issue 19:
 * names that are Object.prototype members, over-long parameters, bytes that are not UTF-8, and the
 * query protocol's result elements. Each answer is a 4xx naming the field, never a 500 nor lost data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './support/in-process-node.js';
import { signedFetch, sqsJson, sqsQuery } from './support/signed-fetch.js';

let node: TestNode;
const queuePath = '/000000000000/hostile';

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.queues.create('hostile');
});
afterAll(async () => node.close());

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];

function xmlCode(text: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
}

async function visibleCount(): Promise<number> {
  return (await node.sluice.queues.counts('hostile')).visible;
}

describe('names that are members of Object.prototype', () => {
  it.each(PROTOTYPE_NAMES)('answers Action=%s with UnknownOperationException, in both protocols', async (name) => {
    const query = await sqsQuery(node.url, { Action: name });
    expect(query.status).toBe(400);
    expect(xmlCode(query.text)).toBe('UnknownOperationException');
    const json = await sqsJson(node.url, name, {});
    expect(json.status).toBe(400);
    expect(json.text).toContain('UnknownOperationException');
  });

  it.each(PROTOTYPE_NAMES)('refuses %s as a queue attribute name', async (name) => {
    const response = await sqsQuery(node.url, { Action: 'GetQueueAttributes', QueueUrl: queuePath, 'AttributeName.1': name });
    expect(response.status).toBe(400);
    expect(xmlCode(response.text)).toBe('InvalidAttributeName');
  });

  it('keeps constructor and toString as ordinary tag keys and message attribute names', async () => {
    const tagged = await sqsQuery(node.url, { Action: 'TagQueue', QueueUrl: queuePath, 'Tag.1.Key': 'constructor', 'Tag.1.Value': 'c', 'Tag.2.Key': 'toString', 'Tag.2.Value': 't' });
    expect(tagged.status).toBe(200);
    expect(await node.sluice.queues.listTags('hostile')).toMatchObject({ constructor: 'c', toString: 't' });
    await node.sluice.queues.purge('hostile').catch(() => undefined);
    const sent = await sqsJson(node.url, 'SendMessage', {
      QueueUrl: queuePath,
      MessageBody: 'named',
      MessageAttributes: { constructor: { DataType: 'String', StringValue: 'v' } },
    });
    expect(sent.status).toBe(200);
    const messages = await node.sluice.queues.receive('hostile', { maxNumberOfMessages: 10 });
    const named = messages.find((message) => message.body === 'named');
    expect(named?.messageAttributes.constructor).toMatchObject({ dataType: 'String', stringValue: 'v' });
  });

  it('refuses a __proto__ member (which every copy would drop) instead of losing it, naming the field', async () => {
    const before = await visibleCount();
    const json = await sqsJson(node.url, 'SendMessage', `{"QueueUrl":"${queuePath}","MessageBody":"b","MessageAttributes":{"__proto__":{"DataType":"String","StringValue":"v"}}}`);
    expect(json.status).toBe(400);
    expect(JSON.parse(json.text)).toMatchObject({ __type: 'com.amazonaws.sqs#InvalidParameterValue', message: expect.stringContaining('MessageAttributes.__proto__') });
    const query = await sqsQuery(node.url, { Action: 'TagQueue', QueueUrl: queuePath, 'Tag.1.Key': '__proto__', 'Tag.1.Value': 'x' });
    expect(query.status).toBe(400);
    expect(query.text).toContain('Tags.__proto__');
    const native = await node.native('/v1/queues/hostile/messages', { body: '{"body":"b","messageAttributes":{"__proto__":{"dataType":"String","stringValue":"v"}}}' });
    expect(native.status).toBe(400);
    expect(native.body.error.field).toBe('messageAttributes.__proto__');
    expect(await visibleCount()).toBe(before);
  });
});

describe('length limits SQS documents', () => {
  it('refuses a QueueNamePrefix over 80 characters (SQLite would fail on a 60,000-character pattern)', async () => {
    const long = await sqsQuery(node.url, { Action: 'ListQueues', QueueNamePrefix: 'h'.repeat(60_000) });
    expect(long.status).toBe(400);
    expect(xmlCode(long.text)).toBe('InvalidParameterValue');
    expect(long.text).toContain('QueueNamePrefix');
    const json = await sqsJson(node.url, 'ListQueues', { QueueNamePrefix: 'h'.repeat(81) });
    expect(json.status).toBe(400);
    const native = await node.native(`/v1/queues?prefix=${'h'.repeat(1000)}`);
    expect(native.status).toBe(400);
    const atLimit = await sqsJson(node.url, 'ListQueues', { QueueNamePrefix: 'h'.repeat(80) });
    expect(atLimit.status).toBe(200);
  });

  it('refuses a MessageAttributeNames entry over 256 characters', async () => {
    const response = await sqsJson(node.url, 'ReceiveMessage', { QueueUrl: queuePath, MessageAttributeNames: ['a'.repeat(257)] });
    expect(response.status).toBe(400);
    expect(response.text).toContain('MessageAttributeNames');
  });
});

describe('bytes that are not UTF-8', () => {
  it('refuses a percent-encoded surrogate in a query-protocol body with InvalidMessageContents', async () => {
    const before = await visibleCount();
    const response = await signedFetch({
      url: node.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=SendMessage&QueueUrl=${encodeURIComponent(queuePath)}&MessageBody=a%ED%A0%80b`,
    });
    expect(response.status).toBe(400);
    expect(xmlCode(response.text)).toBe('InvalidMessageContents');
    expect(response.text).toContain('MessageBody');
    expect(await visibleCount()).toBe(before);
  });

  it('refuses raw invalid bytes in a query-protocol or JSON body with InvalidMessageContents', async () => {
    const before = await visibleCount();
    const form = Buffer.concat([Buffer.from(`Action=SendMessage&QueueUrl=${encodeURIComponent(queuePath)}&MessageBody=a`), Buffer.from([0xff, 0xfe])]);
    const query = await signedFetch({ url: node.url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(xmlCode(query.text)).toBe('InvalidMessageContents');
    const json = Buffer.concat([Buffer.from(`{"QueueUrl":"${queuePath}","MessageBody":"a`), Buffer.from([0xc3]), Buffer.from('"}')]);
    const response = await signedFetch({ url: node.url, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, body: json });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-query-error')).toBe('InvalidMessageContents;Sender');
    expect(await visibleCount()).toBe(before);
  });

  it('still reads well-formed UTF-8 and the form encoding’s quirks as before', async () => {
    const response = await signedFetch({
      url: node.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=SendMessage&QueueUrl=${encodeURIComponent(queuePath)}&MessageBody=caf%C3%A9+%E2%82%AC+%F0%9F%98%80+100%zz`,
    });
    expect(response.status).toBe(200);
    const messages = await node.sluice.queues.receive('hostile', { maxNumberOfMessages: 10 });
    expect(messages.map((message) => message.body)).toContain('café € 😀 100%zz');
  });
});

describe('query-protocol result elements', () => {
  it('sends an empty <ReceiveMessageResult/> for an empty receive, as SQS does', async () => {
    await node.sluice.queues.create('hostile-empty');
    const response = await sqsQuery(node.url, { Action: 'ReceiveMessage', QueueUrl: '/000000000000/hostile-empty' });
    expect(response.status).toBe(200);
    expect(response.text).toContain('<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult/>');
    const list = await sqsQuery(node.url, { Action: 'ListQueues', QueueNamePrefix: 'no-such-prefix' });
    expect(list.text).toContain('<ListQueuesResult/>');
    const tags = await sqsQuery(node.url, { Action: 'ListQueueTags', QueueUrl: '/000000000000/hostile-empty' });
    expect(tags.text).toContain('<ListQueueTagsResult/>');
  });

  it('sends no result element for operations without output', async () => {
    const response = await sqsQuery(node.url, { Action: 'PurgeQueue', QueueUrl: '/000000000000/hostile-empty' });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('Result');
  });
});
