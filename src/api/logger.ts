/**
 * The node's logger (pino): JSON lines, or on a terminal pretty, colored, multi-line output (pino-pretty,
 * as an in-process stream so a line is written before the process can exit). `SLUICE_LOG_FORMAT=json` or
 * `pretty` (`--log-format`) overrides the guess. Credentials can reach a log line only by accident (a header
 * dump, a config object); the redaction list blanks every place they could appear, so an accident
 * still prints `[redacted]`.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import PinoPretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

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

/** Pretty on a terminal, JSON lines otherwise (a file, a pipe, a log collector). */
export function defaultLogFormat(params: { env?: NodeJS.ProcessEnv; isTTY?: boolean } = {}): LogFormat {
  const configured = (params.env ?? process.env).SLUICE_LOG_FORMAT;
  if (configured === 'json' || configured === 'pretty') return configured;
  return (params.isTTY ?? process.stdout.isTTY) ? 'pretty' : 'json';
}

export function createNodeLogger(
  params: { level?: LevelWithSilent; destination?: NodeJS.WritableStream; format?: LogFormat; colorize?: boolean } = {},
): Logger {
  const options = {
    level: params.level ?? 'info',
    base: { service: 'sluice' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  const format = params.format ?? (params.destination ? 'json' : defaultLogFormat());
  if (format === 'pretty') {
    const pretty = PinoPretty({
      colorize: params.colorize ?? (params.destination ? false : Boolean(process.stdout.isTTY)),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      errorLikeObjectKeys: ['err', 'error'],
      sync: true,
      ...(params.destination ? { destination: params.destination } : {}),
    });
    return pino(options, pretty);
  }
  return params.destination ? pino(options, params.destination) : pino(options);
}

export type { Logger };
