/**
 * The node's logger (pino, JSON lines). Credentials can reach a log line only by accident (a header
 * dump, a config object); the redaction list blanks every place they could appear, so an accident
 * still prints `[redacted]`.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-amz-security-token"]',
  'headers.authorization',
  'headers["x-amz-security-token"]',
  'authorization',
  'auth.accessKeys[*].secretAccessKey',
  'auth.tokens',
  'accessKeys[*].secretAccessKey',
  'secretAccessKey',
  'tokens',
  'token',
  '*.secretAccessKey',
  '*.token',
  '*.tokens',
];

export function createNodeLogger(params: { level?: LevelWithSilent; destination?: NodeJS.WritableStream } = {}): Logger {
  const options = {
    level: params.level ?? 'info',
    base: { service: 'sluice' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return params.destination ? pino(options, params.destination) : pino(options);
}

export type { Logger };
