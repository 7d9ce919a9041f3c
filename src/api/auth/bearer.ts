/**
 * Bearer tokens on the native API: `Authorization: Bearer <token>`. Tokens are compared through their
 * SHA-256 digests in constant time, so neither the content nor the length of a configured token leaks
 * through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SluiceError } from '../../model/errors.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function verifyBearer(header: string | undefined, tokens: readonly string[]): SluiceError | undefined {
  if (header === undefined || header === '') {
    return new SluiceError('MissingAuthenticationToken', 'Authorization: send "Bearer <token>" (configure tokens with SLUICE_TOKENS or auth.tokens)', {
      field: 'Authorization',
    });
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    return new SluiceError('IncompleteSignature', 'Authorization: expected "Bearer <token>"', { field: 'Authorization' });
  }
  const presented = digest(match[1]!);
  // Compare against every token without stopping early, so the position of a match does not leak either.
  let accepted = false;
  for (const token of tokens) accepted = timingSafeEqual(presented, digest(token)) || accepted;
  if (!accepted) return new SluiceError('AccessDenied', 'Authorization: the bearer token is not valid', { field: 'Authorization' });
  return undefined;
}
