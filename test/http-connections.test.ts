/**
 * What a hostile client can hold of a node, over real sockets: stalled bodies and slow headers are cut
 * after the request timeout, idle keep-alive connections after the idle timeout, connections over the
 * total and per-address caps are closed on accept (with a log line), and /health keeps answering
 * throughout. Limits are small so the run is fast.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeLogger } from '../src/api/logger.js';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';
import { head, openRaw, until, type RawConnection } from './support/raw-http.js';

let node: TestNode | undefined;
const opened: RawConnection[] = [];

afterEach(async () => {
  for (const connection of opened.splice(0)) connection.socket.destroy();
  await node?.close();
  node = undefined;
});

function captureLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { logger: createNodeLogger({ level: 'warn', destination }), messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

async function open(count: number, localAddress?: string): Promise<RawConnection[]> {
  const connections: RawConnection[] = [];
  for (let i = 0; i < count; i++) connections.push(await openRaw(node!.url, localAddress ? { localAddress } : {}));
  opened.push(...connections);
  return connections;
}

async function healthy(): Promise<boolean> {
  const response = await fetch(`${node!.url}/health`, { signal: AbortSignal.timeout(2000) });
  return response.status === 200;
}

const stalledBody = head('POST', '/v1/queues/slow/messages', { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'content-length': '4000000' });

describe('stalled requests', () => {
  it('closes connections whose announced body never comes after the request timeout, /health answering meanwhile', async () => {
    const log = captureLog();
    node = await startTestNode({ logger: log.logger, connections: { requestTimeoutMs: 1000, headersTimeoutMs: 500 } });
    await node.sluice.queues.create('slow');
    // Authenticated clients get past the credential check; unauthenticated ones are answered at once.
    const authenticated = await open(60);
    const anonymous = await open(60);
    for (const connection of authenticated) connection.socket.write(stalledBody);
    for (const connection of anonymous) connection.socket.write(head('POST', '/', { 'content-type': 'application/x-amz-json-1.0', 'content-length': '4000000' }));
    await until(() => anonymous.every((connection) => connection.isClosed()), 2000, 'unauthenticated connections closed');
    expect(anonymous.every((connection) => /^HTTP\/1\.1 403 /.test(connection.received()))).toBe(true);
    expect(await healthy()).toBe(true);
    await until(() => authenticated.every((connection) => connection.isClosed()), 5000, 'stalled connections closed');
    for (const connection of authenticated) {
      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(connection.received()).toContain('"code":"RequestTimeout"');
    }
    expect(await healthy()).toBe(true);
    expect((await node.sluice.queues.counts('slow')).visible).toBe(0);
    expect(log.messages().some((message) => message.startsWith('request timeout: closed'))).toBe(true);
  });

  it('closes a connection that never finishes its headers', async () => {
    node = await startTestNode({ connections: { requestTimeoutMs: 2000, headersTimeoutMs: 200 } });
    const [connection] = await open(1);
    connection!.socket.write('POST /v1/queues HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await until(() => connection!.isClosed(), 2000, 'slow headers closed');
    expect(connection!.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets a long poll wait past the request timeout: only receiving the request is bounded', async () => {
    node = await startTestNode({ connections: { requestTimeoutMs: 500, headersTimeoutMs: 400 } });
    await node.sluice.queues.create('poll');
    const started = Date.now();
    const response = await node.native('/v1/queues/poll/messages/receive', { body: { waitTimeSeconds: 2 } });
    expect(response).toMatchObject({ status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });
});

describe('idle keep-alive connections', () => {
  it('are closed after the idle timeout', async () => {
    node = await startTestNode({ connections: { idleTimeoutMs: 200 } });
    const [connection] = await open(1);
    connection!.socket.write(head('GET', '/health', {}));
    await until(() => connection!.received().includes('"status":"ok"'), 2000, 'health answered');
    expect(connection!.isClosed()).toBe(false);
    await until(() => connection!.isClosed(), 2000, 'idle connection closed');
  });
});

describe('connection caps', () => {
  it('closes connections over the per-address cap on accept, logs it, and serves other addresses', async () => {
    const log = captureLog();
    node = await startTestNode({ logger: log.logger, connections: { maxConnectionsPerAddress: 20, headersTimeoutMs: 10_000 } });
    const flood = await open(35, '127.0.0.2');
    await until(() => flood.filter((connection) => connection.isClosed()).length === 15, 2000, '15 connections over the cap closed');
    expect(flood.slice(0, 20).every((connection) => !connection.isClosed())).toBe(true);
    expect(await healthy()).toBe(true);
    expect(log.messages().some((message) => message.startsWith('per-address connection cap reached: 127.0.0.2 holds 20'))).toBe(true);
    // Connections closed by the client free their places.
    for (const connection of flood.slice(0, 5)) connection.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const more = await open(5, '127.0.0.2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(more.every((connection) => !connection.isClosed())).toBe(true);
  });

  it('closes connections over the total cap on accept and logs it', async () => {
    const log = captureLog();
    node = await startTestNode({ logger: log.logger, connections: { maxConnections: 30, headersTimeoutMs: 10_000 } });
    const held = await open(30, '127.0.0.3');
    const refused = await open(5, '127.0.0.4');
    await until(() => refused.every((connection) => connection.isClosed()), 2000, 'connections over the total cap closed');
    expect(held.every((connection) => !connection.isClosed())).toBe(true);
    expect(log.messages().some((message) => message.startsWith('connection cap reached: 30 connections are open'))).toBe(true);
    for (const connection of held.slice(0, 10)) connection.socket.destroy();
    await until(async () => healthy().catch(() => false), 2000, '/health once places are free');
  });
});

describe('oversized chunked bodies', () => {
  it('answers a chunk announcing more than the parser can count with 413 in Sluice’s shape', async () => {
    node = await startTestNode({ maxRequestBytes: 64 * 1024 });
    const [connection] = await open(1);
    connection!.socket.write(
      head('POST', '/v1/queues', { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }) + 'FFFFFFFFFFFFFFFFFF\r\nabc',
    );
    await until(() => connection!.isClosed(), 2000, 'connection closed');
    expect(connection!.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(connection!.received()).toContain('"code":"RequestEntityTooLarge"');
  });

  it('answers a chunked body past maxRequestBytes with 413 in Sluice’s shape', async () => {
    node = await startTestNode({ maxRequestBytes: 64 * 1024 });
    const [connection] = await open(1);
    connection!.socket.write(head('POST', '/v1/queues', { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }));
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 6 && !connection!.isClosed(); i++) connection!.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    await until(() => connection!.isClosed(), 2000, 'connection closed');
    expect(connection!.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(connection!.received()).toContain('"code":"RequestEntityTooLarge"');
  });
});
