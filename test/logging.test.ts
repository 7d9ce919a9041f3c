/**
 * Secrets never reach the log: the node's logger blanks credentials wherever an accident could put them
 * (request headers, the config's auth section, error objects carrying a token).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { describeAuth, buildAuthSettings } from '../src/api/auth/credentials.js';
import { createNodeLogger } from '../src/api/logger.js';
import { redactStoreUrl } from '../src/api/node.js';

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
