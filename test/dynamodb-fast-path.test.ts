/**
 * The DynamoDB fast path (src/api/aws/dynamodb/fast-path.ts) answers plain calls before Fastify and
 * leaves the rest to it: the same call answers the same whether its body has a Content-Length (taken)
 * or is chunked (declined), a bad signature is refused as before (declined at the precheck, answered by
 * Fastify, connection closed), and an oversized Content-Length gets the usual 413.
 */
import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function call(
  url: string,
  target: string,
  payload: object,
  options: { chunked?: boolean; secret?: string; contentLength?: number } = {},
): Promise<Answer> {
  const endpoint = new URL(url);
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    host: endpoint.host,
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': target,
  };
  if (!options.chunked) headers['content-length'] = String(options.contentLength ?? Buffer.byteLength(body));
  const signer = new SignatureV4({
    credentials: { ...TEST_ACCESS_KEY, ...(options.secret ? { secretAccessKey: options.secret } : {}) },
    region: 'us-east-1',
    service: 'dynamodb',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({ method: 'POST', protocol: 'http:', hostname: endpoint.hostname, port: Number(endpoint.port), path: '/', headers, body }),
  );
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: endpoint.hostname, port: endpoint.port, method: 'POST', path: '/', headers: signed.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (options.contentLength !== undefined && options.contentLength > Buffer.byteLength(body)) {
      // Declares more than it sends: the server answers from the headers alone.
      req.flushHeaders();
      return;
    }
    if (options.chunked) {
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    } else req.end(body);
  });
}

describe('the DynamoDB fast path', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ maxRequestBytes: 64 * 1024 });
    await node.sluice.tables.createTable({ name: 'fast', partitionKey: { name: 'pk', type: 'S' } });
  });
  afterAll(async () => node.close());

  it('answers a call the same with a Content-Length (fast path) and chunked (Fastify)', async () => {
    const put = { TableName: 'fast', Item: { pk: { S: 'a' }, n: { N: '12345678901234567890.5' } } };
    const taken = await call(node.url, 'DynamoDB_20120810.PutItem', put);
    const declined = await call(node.url, 'DynamoDB_20120810.PutItem', put, { chunked: true });
    for (const answer of [taken, declined]) {
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('{}');
      // Fastify adds a charset; the fast path sends DynamoDB's own header.
      expect(answer.headers['content-type']).toMatch(/^application\/x-amz-json-1\.0(; charset=utf-8)?$/);
      expect(answer.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    }
    const get = { TableName: 'fast', Key: { pk: { S: 'a' } } };
    const [fast, slow] = await Promise.all([
      call(node.url, 'DynamoDB_20120810.GetItem', get),
      call(node.url, 'DynamoDB_20120810.GetItem', get, { chunked: true }),
    ]);
    expect(fast.body).toBe(slow.body);
    expect(fast.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(JSON.parse(fast.body)).toEqual({ Item: put.Item });
    const missing = await call(node.url, 'DynamoDB_20120810.GetItem', { TableName: 'absent', Key: get.Key });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).__type).toBe('com.amazonaws.dynamodb.v20120810#ResourceNotFoundException');
  });

  it('leaves a bad signature and an oversized body to Fastify, which refuses them as before', async () => {
    const bad = await call(node.url, 'DynamoDB_20120810.GetItem', { TableName: 'fast', Key: { pk: { S: 'a' } } }, { secret: 'wrong' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).__type).toMatch(/SignatureDoesNotMatch|InvalidSignatureException/);
    const big = await call(node.url, 'DynamoDB_20120810.GetItem', { TableName: 'fast' }, { contentLength: 10 * 1024 * 1024 });
    expect(big.status).toBe(413);
  });
});
