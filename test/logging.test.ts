/**
 * Secrets never reach the log: the node's logger blanks credentials wherever an accident could put them
 * (request headers, the config's auth section, error objects carrying a token).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { describeAuth, buildAuthSettings } from '../src/api/auth/credentials.js';
import { createNodeLogger } from '../src/api/logger.js';
import { describeError, redactStoreUrl, startNode } from '../src/api/node.js';
import { defaultLogFormat } from '../src/api/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createNodeLogger({ level: 'debug', destination }) };
}

describe('the node logger', () => {
  it('redacts authorization headers, session tokens, configured secrets and tokens', () => {
    const { lines, logger } = capture();
    logger.info({ req: { headers: { authorization: 'Bearer super-secret-token', 'x-amz-security-token': 'session-secret' } } }, 'request');
    logger.info({ auth: { accessKeys: [{ accessKeyId: 'AKID', secretAccessKey: 'secret-key-value' }], tokens: ['token-value-0123456789'] } }, 'config');
    logger.error({ err: { token: 'leaky-token' }, secretAccessKey: 'top-level-secret' }, 'failure');
    const text = lines.join('\n');
    for (const secret of ['super-secret-token', 'session-secret', 'secret-key-value', 'token-value-0123456789', 'leaky-token', 'top-level-secret']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('AKID');
  });

  it('describes credentials by count and key id only, and blanks store passwords', () => {
    const auth = buildAuthSettings({ env: { SLUICE_ACCESS_KEYS: 'AKIDONE:very-secret-1', SLUICE_TOKENS: 'a-token-of-sixteen-chars' }, insecureDev: false });
    expect(describeAuth(auth)).toBe('1 access key(s) (AKIDONE) for the AWS endpoints, 1 bearer token(s) for the native API');
    expect(redactStoreUrl('postgres://sluice:hunter2@db:5432/sluice')).toBe('postgres://sluice:[redacted]@db:5432/sluice');
  });

  it('refuses short tokens and malformed access keys without echoing them', () => {
    expect(() => buildAuthSettings({ env: { SLUICE_TOKENS: 'short' }, insecureDev: false })).toThrow('SLUICE_TOKENS[0]: a token must be at least 16 characters');
    let message = '';
    try {
      buildAuthSettings({ env: { SLUICE_ACCESS_KEYS: 'AKID:tiny' }, insecureDev: false });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('SLUICE_ACCESS_KEYS[0].secretAccessKey');
    expect(message).not.toContain('tiny');
  });
});

describe('the log format', () => {
  it('is pretty on a terminal and JSON lines otherwise, unless SLUICE_LOG_FORMAT says', () => {
    expect(defaultLogFormat({ env: {}, isTTY: true })).toBe('pretty');
    expect(defaultLogFormat({ env: {}, isTTY: false })).toBe('json');
    expect(defaultLogFormat({ env: { SLUICE_LOG_FORMAT: 'json' }, isTTY: true })).toBe('json');
  });

  it('pretty output keeps a multi-line message and an error stack on lines of their own', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createNodeLogger({ destination, format: 'pretty', colorize: false });
    logger.fatal({ code: 'ValidationException' }, 'Invalid config:\n  queues.a: bad');
    logger.error({ err: new Error('boom') }, 'failed');
    const text = lines.join('');
    expect(text).toContain('FATAL: Invalid config:\n  queues.a: bad');
    expect(text).toMatch(/Error: boom\n\s+at /);
  });

  it('describes a store error with its causes on one line', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
    expect(describeError(new Error('cluster: heartbeat of node n1 failed', { cause: refused }))).toBe(
      'cluster: heartbeat of node n1 failed: connect ECONNREFUSED 127.0.0.1:5433',
    );
  });
});

describe('a node', () => {
  it('logs a throwing handler behind a trigger exactly once, at error, with the trigger, message ids, attempt and stack', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const logger = createNodeLogger({ level: 'debug', destination, format: 'json' });
    const cwd = mkdtempSync(join(tmpdir(), 'sluice-logging-'));
    const node = await startNode({ store: 'sqlite::memory:', cwd, port: 0, insecureDev: true, prune: false, env: {}, logger });
    try {
      await node.sluice.queues.create('jobs', { VisibilityTimeout: 30 });
      await node.sluice.functions.create({
        name: 'explode',
        handler: async () => {
          throw new SyntaxError('unexpected token');
        },
      });
      const trigger = await node.sluice.triggers.create({ queue: 'jobs', functionName: 'explode' });
      const sent = await node.sluice.queues.send('jobs', { body: '{' });
      const errors = () => lines.filter((line) => line.level === 50);
      for (let i = 0; i < 200 && errors().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(errors()).toHaveLength(1);
      expect(errors()[0]).toMatchObject({
        function: 'explode',
        via: 'queue-trigger',
        trigger: trigger.uuid,
        queue: 'jobs',
        messageIds: [sent.messageId],
        attempt: 1,
        errorType: 'SyntaxError',
        err: { type: 'SyntaxError', message: 'unexpected token' },
      });
      expect((errors()[0]!.err as { stack: string }).stack).toContain('logging.test.ts');
    } finally {
      await node.close();
    }
  });
});
