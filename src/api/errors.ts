/**
 * The one mapper from whatever a route threw to a SluiceError. Every protocol renders the result its own
 * way (native JSON, AWS JSON, AWS query XML), so a failure means the same thing on every endpoint.
 * Anything that is not a deliberate error becomes InternalFailure with a generic message: internal
 * details (stack traces, SQL, file paths) never reach a client.
 */
import { SluiceError } from '../model/errors.js';

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** Fastify's own client-error codes, translated into the catalog. */
const fastifyCodes: ReadonlyMap<string, (message: string) => SluiceError> = new Map([
  ['FST_ERR_CTP_BODY_TOO_LARGE', () =>
    new SluiceError('RequestEntityTooLarge', 'The request body is larger than this node accepts (see maxRequestBytes).')],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', () =>
    new SluiceError('SerializationException', 'The Content-Length header does not match the body.')],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', () => new SluiceError('SerializationException', 'Unsupported Content-Type.')],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', () => new SluiceError('SerializationException', 'The request body is empty.')],
]);

export function toSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  const candidate = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  if (typeof candidate.code === 'string') {
    const translate = fastifyCodes.get(candidate.code);
    if (translate) return translate(String(candidate.message ?? ''));
  }
  // Other client errors raised by the HTTP layer itself (a malformed request line, an aborted body).
  if (typeof candidate.statusCode === 'number' && candidate.statusCode >= 400 && candidate.statusCode < 500) {
    return new SluiceError('ValidationException', 'The request is malformed.', { cause: error });
  }
  return new SluiceError('InternalFailure', 'We encountered an internal error. Please try again.', { cause: error });
}

/** Whether this failure is the service's fault and worth logging at error level (refusals while shutting down are not). */
export function isServerFault(error: SluiceError): boolean {
  return error.status >= 500 && error.code !== 'ServiceUnavailable';
}
