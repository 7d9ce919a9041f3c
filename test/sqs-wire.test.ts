/**
 * The SQS endpoint at the wire level: authentication failures with AWS's codes, malformed requests
 * answered with AWS-shaped 4xx errors, and the query protocol (form in, XML out).
 */
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type SdkError, type TestNode } from './support/in-process-node.js';
import { sqsJson, sqsQuery } from './support/signed-fetch.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ maxRequestBytes: 64 * 1024 });
  await node.sluice.queues.create('wire-a');
});
afterAll(async () => node.close());

function awsError(response: { status: number; headers: Headers; text: string }) {
  const body = JSON.parse(response.text) as { __type: string; message: string };
  return { status: response.status, type: body.__type, message: body.message, queryError: response.headers.get('x-amzn-query-error') };
}

async function sdkFailure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

describe('authentication on the SQS endpoint', () => {
  it('refuses an unsigned request with MissingAuthenticationToken', async () => {
    const response = await fetch(`${node.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { __type: string }).__type).toBe('com.amazonaws.sqs#MissingAuthenticationToken');
    expect(response.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
  });

  it('refuses an unknown access key, a wrong secret and a stale date with AWS’s codes', async () => {
    const unknown = await sdkFailure(node.sqs({ accessKeyId: 'AKIDUNKNOWN' }).send(new ListQueuesCommand({})));
    expect(unknown.name).toBe('InvalidClientTokenId');
    const wrong = await sdkFailure(node.sqs({ secretAccessKey: 'not-the-secret' }).send(new ListQueuesCommand({})));
    expect(wrong.name).toBe('SignatureDoesNotMatch');
    const stale = awsError(await sqsJson(node.url, 'ListQueues', {}, { signingDate: new Date(Date.now() - 20 * 60_000) }));
    expect(stale).toMatchObject({ status: 403, type: 'com.amazonaws.sqs#RequestExpired' });
  });

  it('never echoes the secret in an error', async () => {
    const response = await sqsJson(node.url, 'ListQueues', {}, { credentials: { accessKeyId: 'AKIDSLUICETEST', secretAccessKey: 'guessed-secret' } });
    expect(response.text).not.toContain('sluice-test-secret');
    expect(response.text).not.toContain('guessed-secret');
  });
});

describe('malformed requests on the SQS endpoint', () => {
  it('answers an unknown operation with UnknownOperationException', async () => {
    expect(awsError(await sqsJson(node.url, 'LaunchRockets', {}))).toMatchObject({
      status: 400,
      type: 'com.amazonaws.sqs#UnknownOperationException',
    });
    // A service the node does not serve is named as such, never answered as a signature problem.
    const response = await sqsJson(node.url, 'ListQueues', {}, { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' } });
    expect(awsError(response)).toMatchObject({ type: 'com.amazonaws.sqs#UnknownOperationException', message: expect.stringContaining('Kinesis_20131202') });
    // DynamoDB is served: signed for 'sqs', it is the credential scope that is wrong.
    const dynamodb = await sqsJson(node.url, 'ListQueues', {}, { headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' } });
    expect(awsError(dynamodb)).toMatchObject({ type: 'com.amazonaws.dynamodb.v20120810#SignatureDoesNotMatch', message: expect.stringContaining("'dynamodb'") });
  });

  it('answers malformed JSON with SerializationException and wrong types with InvalidParameterValue naming the field', async () => {
    expect(awsError(await sqsJson(node.url, 'SendMessage', '{"QueueUrl": '))).toMatchObject({ status: 400, type: 'com.amazonaws.sqs#SerializationException' });
    expect(awsError(await sqsJson(node.url, 'SendMessage', '[1,2]'))).toMatchObject({ status: 400, type: 'com.amazonaws.sqs#SerializationException' });
    const wrongType = awsError(await sqsJson(node.url, 'SendMessage', { QueueUrl: '/000000000000/wire-a', MessageBody: 42 }));
    expect(wrongType).toMatchObject({ status: 400, type: 'com.amazonaws.sqs#InvalidParameterValue' });
    expect(wrongType.message).toMatch(/^MessageBody: /);
    const missing = awsError(await sqsJson(node.url, 'SendMessage', { QueueUrl: '/000000000000/wire-a' }));
    expect(missing).toMatchObject({ type: 'com.amazonaws.sqs#MissingParameter', queryError: 'MissingParameter;Sender' });
    const nested = awsError(
      await sqsJson(node.url, 'SendMessageBatch', { QueueUrl: '/000000000000/wire-a', Entries: [{ Id: 'a', MessageBody: 'x', DelaySeconds: 'soon' }] }),
    );
    expect(nested.message).toMatch(/^Entries\[0\]\.DelaySeconds: /);
    expect((await node.sluice.queues.counts('wire-a')).visible).toBe(0);
  });

  it('answers an oversized body with 413 RequestEntityTooLarge in AWS’s shape', async () => {
    const response = await sqsJson(node.url, 'SendMessage', { QueueUrl: '/000000000000/wire-a', MessageBody: 'x'.repeat(100_000) });
    expect(awsError(response)).toMatchObject({ status: 413, type: 'com.amazonaws.sqs#RequestEntityTooLarge' });
  });

  it('names a queue of another account as not existing', async () => {
    const response = await sqsJson(node.url, 'PurgeQueue', { QueueUrl: 'http://elsewhere/123456789012/wire-a' });
    expect(awsError(response)).toMatchObject({ type: 'com.amazonaws.sqs#QueueDoesNotExist', queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender' });
  });
});

describe('the query protocol', () => {
  it('creates a queue, sends with attributes and receives, in XML', async () => {
    const created = await sqsQuery(node.url, { Action: 'CreateQueue', QueueName: 'query-a', 'Attribute.1.Name': 'VisibilityTimeout', 'Attribute.1.Value': '40' });
    expect(created.status).toBe(200);
    expect(created.text).toContain(`<CreateQueueResult><QueueUrl>${node.url}/000000000000/query-a</QueueUrl></CreateQueueResult>`);
    const sent = await sqsQuery(node.url, {
      Action: 'SendMessage',
      QueueUrl: `${node.url}/000000000000/query-a`,
      MessageBody: 'a < b & "c"\r\n',
      'MessageAttribute.1.Name': 'color',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'blue',
    });
    expect(sent.text).toMatch(/<MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody>/);
    expect(sent.text).toMatch(/<MD5OfMessageAttributes>[0-9a-f]{32}<\/MD5OfMessageAttributes>/);
    // The query protocol may address the queue by posting to its URL instead of naming it.
    const received = await sqsQuery(node.url, { Action: 'ReceiveMessage', 'MessageAttributeName.1': 'All', 'AttributeName.1': 'All' }, '/000000000000/query-a');
    expect(received.text).toContain('<Body>a &lt; b &amp; &quot;c&quot;&#xD;\n</Body>');
    expect(received.text).toContain('<MessageAttribute><Name>color</Name><Value><DataType>String</DataType><StringValue>blue</StringValue></Value></MessageAttribute>');
    expect(received.text).toContain('<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>');
    const attributes = await sqsQuery(node.url, { Action: 'GetQueueAttributes', QueueUrl: `${node.url}/000000000000/query-a`, 'AttributeName.1': 'VisibilityTimeout' });
    expect(attributes.text).toContain('<Attribute><Name>VisibilityTimeout</Name><Value>40</Value></Attribute>');
  });

  it('sends batches with numbered entries and answers errors in XML with the legacy code', async () => {
    await node.sluice.queues.create('query-b');
    const batch = await sqsQuery(node.url, {
      Action: 'SendMessageBatch',
      QueueUrl: '/000000000000/query-b',
      'SendMessageBatchRequestEntry.1.Id': 'one',
      'SendMessageBatchRequestEntry.1.MessageBody': 'first',
      'SendMessageBatchRequestEntry.2.Id': 'two',
      'SendMessageBatchRequestEntry.2.MessageBody': 'second',
      'SendMessageBatchRequestEntry.2.DelaySeconds': '1000',
    });
    expect(batch.text).toMatch(/<SendMessageBatchResultEntry><Id>one<\/Id><MessageId>/);
    expect(batch.text).toMatch(/<BatchResultErrorEntry><Id>two<\/Id><SenderFault>true<\/SenderFault><Code>InvalidParameterValue<\/Code>/);
    const missing = await sqsQuery(node.url, { Action: 'GetQueueUrl', QueueName: 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>');
    const unknown = await sqsQuery(node.url, { Action: 'Explode' });
    expect(unknown.text).toContain('<Code>UnknownOperationException</Code>');
  });
});

describe('ReceiveRequestAttemptId in the query protocol', () => {
  it('returns the same receipt handle to a retried FIFO receive', async () => {
    await node.sluice.queues.create('query-attempts.fifo', { ContentBasedDeduplication: true });
    await node.sluice.queues.send('query-attempts.fifo', { body: 'a', messageGroupId: 'g' });
    const receive = () =>
      sqsQuery(node.url, { Action: 'ReceiveMessage', QueueUrl: '/000000000000/query-attempts.fifo', ReceiveRequestAttemptId: 'retry-me' });
    const handle = (text: string) => /<ReceiptHandle>([^<]+)<\/ReceiptHandle>/.exec(text)?.[1];
    const first = await receive();
    expect(handle(first.text)).toBeTruthy();
    const retry = await receive();
    expect(handle(retry.text)).toBe(handle(first.text));
    const invalid = await sqsQuery(node.url, {
      Action: 'ReceiveMessage',
      QueueUrl: '/000000000000/query-attempts.fifo',
      ReceiveRequestAttemptId: 'x'.repeat(129),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('<Code>InvalidParameterValue</Code>');
    expect(invalid.text).toContain('ReceiveRequestAttemptId:');
  });
});

describe('insecure development mode', () => {
  it('accepts unsigned requests only when started with the development flag', async () => {
    const dev = await startTestNode({ insecureDev: true });
    try {
      const response = await fetch(`${dev.url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
        body: '{}',
      });
      expect(response.status).toBe(200);
      expect((await dev.native('/v1/queues', { token: null })).status).toBe(200);
    } finally {
      await dev.close();
    }
  });
});
