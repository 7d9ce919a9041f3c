/**
 * Credentials are checked on the headers, before a body is read: an unauthenticated client announcing a
 * large body is answered at once and its connection closed, without the node waiting for the body. And
 * the SQS endpoint refuses UNSIGNED-PAYLOAD, which would leave the body out of the signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { head, openRaw } from './support/raw-http.js';
import { signedFetch } from './support/signed-fetch.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.queues.create('auth-first');
});
afterAll(async () => node.close());

function amzNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** A SigV4 Authorization header that is well formed; its signature is never reached. */
function sigv4Header(params: { accessKeyId: string; service: string; date?: string }): Record<string, string> {
  const date = params.date ?? amzNow();
  return {
    'x-amz-date': date,
    authorization: `AWS4-HMAC-SHA256 Credential=${params.accessKeyId}/${date.slice(0, 8)}/us-east-1/${params.service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
  };
}

const large = { 'content-length': '4000000' };

describe('refusals before the body', () => {
  const cases: [string, string, string, Record<string, string>, RegExp][] = [
    ['no credentials on the SQS endpoint', 'POST', '/', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, /MissingAuthenticationToken/],
    ['an unknown access key', 'POST', '/', { ...sigv4Header({ accessKeyId: 'AKIDUNKNOWN', service: 'sqs' }), 'content-type': 'application/x-www-form-urlencoded' }, /InvalidClientTokenId/],
    ['a signature scoped to a service the node does not serve', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 's3' }), 'content-type': 'application/x-www-form-urlencoded' }, /UnknownOperationException.*service &apos;s3&apos;/],
    ['an SQS call signed for DynamoDB', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'dynamodb' }), 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, /SignatureDoesNotMatch.*'sqs'/],
    // Each service is checked against its own signing name: the issue's `aws dynamodb` symptom was a
    // DynamoDB call told its credential "should be scoped to 'sqs'".
    ['a DynamoDB call signed for SQS', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'sqs' }), 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.PutItem' }, /SignatureDoesNotMatch.*'dynamodb'/],
    ['a DynamoDB Streams call signed for Step Functions', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'states' }), 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDBStreams_20120810.GetRecords' }, /SignatureDoesNotMatch.*'dynamodb'/],
    ['a Step Functions call signed for DynamoDB', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'dynamodb' }), 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.StartExecution' }, /SignatureDoesNotMatch.*'states'/],
    ['a target of a service the node does not serve', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'kinesis' }), 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecord' }, /UnknownOperationException.*Kinesis_20131202/],
    ['a stale date', 'POST', '/000000000000/auth-first', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'sqs', date: '20200101T000000Z' }), 'content-type': 'application/x-www-form-urlencoded' }, /RequestExpired/],
    ['a malformed Authorization header', 'POST', '/', { authorization: 'AWS4-HMAC-SHA256 nonsense', 'content-type': 'application/x-amz-json-1.0' }, /IncompleteSignature/],
    ['UNSIGNED-PAYLOAD on SQS', 'POST', '/', { ...sigv4Header({ accessKeyId: TEST_ACCESS_KEY.accessKeyId, service: 'sqs' }), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, /UNSIGNED-PAYLOAD/],
    ['no credentials on a Step Functions call', 'POST', '/', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.SendTaskSuccess' }, /MissingAuthenticationToken/],
    ['no bearer token on the native API', 'POST', '/v1/queues/auth-first/messages', { 'content-type': 'application/json' }, /MissingAuthenticationToken/],
    ['a wrong bearer token', 'POST', '/v1/queues', { authorization: 'Bearer wrong-token-wrong-token', 'content-type': 'application/json' }, /AccessDenied/],
    ['an unknown route', 'POST', '/nowhere', { 'content-type': 'application/json' }, /ResourceNotFoundException/],
  ];

  it.each(cases)('answers %s at once and closes the connection, the 4 MB body never sent', async (_label, method, path, headers, code) => {
    const connection = await openRaw(node.url);
    connection.socket.write(head(method, path, { ...headers, ...large }));
    await connection.closed;
    const response = connection.received();
    expect(response).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toMatch(code);
  });
});

describe('UNSIGNED-PAYLOAD on the SQS endpoint', () => {
  it('is refused even with a valid signature, so a body cannot be swapped under a captured signature', async () => {
    const response = await signedFetch({
      url: node.url,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: JSON.stringify({ QueueUrl: '/000000000000/auth-first', MessageBody: 'not covered by the signature' }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-query-error')).toBe('SignatureDoesNotMatch;Sender');
    expect(response.text).toContain('UNSIGNED-PAYLOAD');
    expect((await node.sluice.queues.counts('auth-first')).visible).toBe(0);
  });

  it('still accepts a body whose SHA-256 is declared in x-amz-content-sha256', async () => {
    const body = JSON.stringify({ QueueUrl: '/000000000000/auth-first', MessageBody: 'signed' });
    const { createHash } = await import('node:crypto');
    const response = await signedFetch({
      url: node.url,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage', 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') },
      body,
    });
    expect(response.status).toBe(200);
  });
});
