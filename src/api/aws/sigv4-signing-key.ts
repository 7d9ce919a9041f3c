/**
 * The SigV4 signing key (`HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`)
 * depends only on the secret and the credential scope, which a client reuses for a whole day. Deriving
 * it costs four HMACs, as much as the rest of a verification together, so keys are kept for reuse, as
 * AWS's own signers do on the client side. Only the key is cached: every request still has its
 * signature, date and payload hash checked in full.
 */
import { createHmac } from 'node:crypto';

/** Enough for every access key × region a node sees in a day, with room for the day boundary. */
const MAX_CACHED_KEYS = 256;

interface CachedKey {
  /** The secret the key was derived from: a lookup may answer a different secret for the same id. */
  secret: string;
  key: Buffer;
}

const cache = new Map<string, CachedKey>();

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function deriveSigningKey(secret: string, scopeDate: string, region: string, service: string): Buffer {
  let key = hmac(`AWS4${secret}`, scopeDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return key;
}

/** The signing key for `accessKeyId`'s secret and the scope `scopeDate/region/service/aws4_request`. */
export function signingKey(params: {
  accessKeyId: string;
  secret: string;
  scopeDate: string;
  region: string;
  service: string;
}): Buffer {
  const { accessKeyId, secret, scopeDate, region, service } = params;
  // `/` cannot occur in an access key id, a date or a region that passed the claim checks, so the id is unambiguous.
  const id = `${accessKeyId}/${scopeDate}/${region}/${service}`;
  const cached = cache.get(id);
  if (cached !== undefined && cached.secret === secret) return cached.key;
  const key = deriveSigningKey(secret, scopeDate, region, service);
  // Scopes change once a day per key: dropping everything when full is simpler than an LRU and costs a few derivations.
  if (cache.size >= MAX_CACHED_KEYS) cache.clear();
  cache.set(id, { secret, key });
  return key;
}
