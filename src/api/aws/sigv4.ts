/**
 * Verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on an incoming request, so unmodified AWS SDKs and
 * CLIs can authenticate against Sluice with an access key and secret.
 *
 * Two forms are accepted, never both on one request:
 * - the `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header with
 *   `X-Amz-Date`, which every SDK sends;
 * - presigned query parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
 *   `X-Amz-SignedHeaders`, `X-Amz-Signature`).
 *
 * Failures carry AWS's codes: MissingAuthenticationToken (no auth at all), IncompleteSignature (auth
 * present but malformed), InvalidClientTokenId (unknown access key), SignatureDoesNotMatch, and
 * RequestExpired (outside the clock skew, or past a presigned URL's expiry). SDKs treat RequestExpired and
 * SignatureDoesNotMatch as clock-skew errors: they correct their clock from the response's `Date` header
 * and retry, so the HTTP layer must send one (Node's does by default).
 *
 * The secret never appears in a result or message, and the session token is redacted from the
 * canonical request quoted in a SignatureDoesNotMatch message. Signatures are compared in constant time.
 *
 * Not supported: the `Date` header instead of `X-Amz-Date`, SigV4a (ECDSA), and S3's streaming
 * (`STREAMING-…`) payload signing. With `x-amz-content-sha256: UNSIGNED-PAYLOAD` the body is not
 * covered by the signature; the result says so in `payloadSigned`, and `requireSignedPayload` refuses it
 * (SQS does not accept it).
 *
 * `precheckSigV4` runs every check the headers decide, so a server can refuse before reading a body.
 */
import * as crypto from 'node:crypto';
import { createHash, timingSafeEqual } from 'node:crypto';

import { SluiceError } from '../../model/errors.js';
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  parseQuery,
  splitTarget,
} from './sigv4-canonical.js';
import { hmac, signingKey } from './sigv4-signing-key.js';
import { clip, readSignatureClaim, requestHeader, SIGV4_ALGORITHM, UNSIGNED_PAYLOAD } from './sigv4-claim.js';
import type { IncomingSignedRequest, SignatureClaim } from './sigv4-claim.js';

export { MAX_PRESIGNED_EXPIRES_SECONDS, SIGV4_ALGORITHM, UNSIGNED_PAYLOAD } from './sigv4-claim.js';
export type { IncomingSignedRequest } from './sigv4-claim.js';

/** AWS's allowed difference between the request date and the server clock. */
export const DEFAULT_ALLOWED_SKEW_MS = 5 * 60_000;

/** Returns the secret access key for an access key id, or undefined when the key is not known. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

export interface VerifySigV4Options {
  credentials: SecretLookup;
  /** The signing name the credential scope must carry, e.g. `sqs` or `states`. */
  service: string;
  /** The server clock, in milliseconds since the epoch. */
  now: number;
  /** When set, the credential scope must name this region; otherwise any region is accepted. */
  region?: string;
  allowedSkewMs?: number;
  /**
   * Refuse `x-amz-content-sha256: UNSIGNED-PAYLOAD`. Only S3 lets a signature leave the body out; SQS
   * does not, and accepting it would let anyone who captured one signed request replay it with any body.
   */
  requireSignedPayload?: boolean;
}

export interface SigV4Identity {
  ok: true;
  accessKeyId: string;
  /** The region from the credential scope. */
  region: string;
  /** `X-Amz-Security-Token`, present only when the signature covers it; the caller decides if it is valid. */
  sessionToken: string | undefined;
  /** False when the client sent `UNSIGNED-PAYLOAD`: the body was not authenticated. */
  payloadSigned: boolean;
  /** The signing time (`X-Amz-Date`), in milliseconds since the epoch. */
  signedAt: number;
}

export type SigV4Result = SigV4Identity | { ok: false; error: SluiceError };

const fail = (code: SluiceError['code'], message: string): { ok: false; error: SluiceError } => ({
  ok: false,
  error: new SluiceError(code, message),
});

/** What a request claims, checked as far as it can be without its body. */
interface CheckedClaim {
  claim: SignatureClaim;
  signedAt: number;
  secret: string;
  rawPath: string;
  query: ReturnType<typeof parseQuery>;
}

/**
 * Everything about the signature that the headers alone decide: the claim is well formed, its scope names
 * this service and the request's date, the date is within the allowed skew (or the presigned URL's
 * lifetime), the access key is known, and, where the service requires it, the payload is signed. A request
 * refused here can be answered before its body is read.
 */
function checkClaim(request: Omit<IncomingSignedRequest, 'body'>, options: VerifySigV4Options): CheckedClaim | { ok: false; error: SluiceError } {
  const { path: rawPath, query: rawQuery } = splitTarget(request.path);
  const query = parseQuery(rawQuery);
  const claim = readSignatureClaim(request, query);
  if (claim === undefined) {
    return fail('MissingAuthenticationToken', 'Request is missing Authentication Token');
  }
  if (claim instanceof SluiceError) return { ok: false, error: claim };

  const signedAt = parseAmzDate(claim.amzDate);
  if (signedAt === undefined) {
    return fail(
      'IncompleteSignature',
      `Date must be in ISO-8601 'basic format'. Got '${clip(claim.amzDate)}'.`,
    );
  }
  const scopeError = checkScope(claim, options);
  if (scopeError !== undefined) return { ok: false, error: scopeError };
  const timeError = checkTime(claim, signedAt, options);
  if (timeError !== undefined) return { ok: false, error: timeError };

  const secret = options.credentials(claim.accessKeyId);
  if (secret === undefined) {
    return fail('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  if (options.requireSignedPayload === true && claim.declaredPayloadHash === UNSIGNED_PAYLOAD) {
    return fail(
      'SignatureDoesNotMatch',
      `x-amz-content-sha256: ${UNSIGNED_PAYLOAD} is not accepted by the ${options.service} service; the signature must cover the body (send its SHA-256, or no x-amz-content-sha256 at all).`,
    );
  }
  return { claim, signedAt, secret, rawPath, query };
}

/**
 * Checks what can be checked before the body arrives (see checkClaim): undefined when the request may go
 * on to have its body read, else the refusal. verifySigV4 must still run once the body is in.
 */
/**
 * Claims that passed the precheck, by the request's headers object, for the verification of the same
 * request once its body arrived: parsing and checking the claim twice was a third of the signature's
 * cost per call. Weak keys: an entry goes with its request.
 */
const prechecked = new WeakMap<object, { service: string; checked: CheckedClaim }>();

export function precheckSigV4(request: Omit<IncomingSignedRequest, 'body'>, options: VerifySigV4Options): SluiceError | undefined {
  const checked = checkClaim(request, options);
  if ('ok' in checked) return checked.error;
  prechecked.set(request.headers, { service: options.service, checked });
  return undefined;
}

/** The precheck's claim of this request (for the same service), or the claim checked now. */
function claimOf(request: IncomingSignedRequest, options: VerifySigV4Options): CheckedClaim | { ok: false; error: SluiceError } {
  const cached = prechecked.get(request.headers);
  if (cached === undefined) return checkClaim(request, options);
  prechecked.delete(request.headers);
  return cached.service === options.service ? cached.checked : checkClaim(request, options);
}

/** Verifies the request's SigV4 signature. Never throws for a bad request; returns the failure instead. */
export function verifySigV4(request: IncomingSignedRequest, options: VerifySigV4Options): SigV4Result {
  const checked = claimOf(request, options);
  if ('ok' in checked) return checked;
  const { claim, signedAt, secret, rawPath, query } = checked;

  const headers = signedHeaderValues(request, claim);
  if (headers instanceof SluiceError) return { ok: false, error: headers };
  const bodyHash = sha256Hex(request.body);
  const payloadHash = claim.declaredPayloadHash ?? bodyHash;
  const canonical = canonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(rawPath),
    canonicalQuery: canonicalQuery(query),
    headers,
    payloadHash,
  });
  const scope = `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, claim.amzDate, scope, sha256Hex(canonical)].join('\n');
  const expected = signatureOf(stringToSign, secret, claim);

  if (!constantTimeEqual(expected, claim.signature)) {
    return fail('SignatureDoesNotMatch', mismatchMessage(canonical, stringToSign, claim.sessionToken));
  }
  if (payloadHash !== UNSIGNED_PAYLOAD && payloadHash !== bodyHash) {
    return fail(
      'SignatureDoesNotMatch',
      'The x-amz-content-sha256 value does not match the SHA-256 of the request body.',
    );
  }
  return {
    ok: true,
    accessKeyId: claim.accessKeyId,
    region: claim.region,
    sessionToken: claim.sessionToken,
    payloadSigned: payloadHash !== UNSIGNED_PAYLOAD,
    signedAt,
  };
}

function checkScope(claim: SignatureClaim, options: VerifySigV4Options): SluiceError | undefined {
  const dateOfRequest = claim.amzDate.slice(0, 8);
  if (claim.scopeDate !== dateOfRequest) {
    return new SluiceError(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${clip(claim.scopeDate)}' != '${dateOfRequest}', from '${claim.amzDate}'.`,
    );
  }
  if (claim.service !== options.service) {
    return new SluiceError(
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  }
  if (options.region !== undefined && claim.region !== options.region) {
    return new SluiceError(
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region, not '${clip(claim.region)}'. This endpoint serves '${options.region}'.`,
    );
  }
  return undefined;
}

function checkTime(
  claim: SignatureClaim,
  signedAt: number,
  options: VerifySigV4Options,
): SluiceError | undefined {
  const skew = options.allowedSkewMs ?? DEFAULT_ALLOWED_SKEW_MS;
  const { now } = options;
  const skewText = skew % 60_000 === 0 ? `${skew / 60_000} min.` : `${skew / 1000} sec.`;
  if (signedAt > now + skew) {
    return new SluiceError(
      'RequestExpired',
      `Signature not yet current: ${claim.amzDate} is still later than ${amzDate(now + skew)} (${amzDate(now)} + ${skewText})`,
    );
  }
  if (claim.expiresSeconds !== undefined) {
    const expiresAt = signedAt + claim.expiresSeconds * 1000;
    if (now > expiresAt) {
      return new SluiceError(
        'RequestExpired',
        `Request has expired: X-Amz-Date ${claim.amzDate} + X-Amz-Expires ${claim.expiresSeconds} s is ${amzDate(expiresAt)}, earlier than ${amzDate(now)}.`,
      );
    }
  } else if (signedAt < now - skew) {
    return new SluiceError(
      'RequestExpired',
      `Signature expired: ${claim.amzDate} is now earlier than ${amzDate(now - skew)} (${amzDate(now)} - ${skewText})`,
    );
  }
  return undefined;
}

function signedHeaderValues(
  request: IncomingSignedRequest,
  claim: SignatureClaim,
): (readonly [string, string])[] | SluiceError {
  const headers: (readonly [string, string])[] = [];
  for (const name of claim.signedHeaders) {
    const value = requestHeader(request, name);
    if (value === undefined) {
      return new SluiceError(
        'SignatureDoesNotMatch',
        `The signed header '${clip(name)}' is not present in the request.`,
      );
    }
    headers.push([name, canonicalHeaderValue(value)]);
  }
  return headers;
}

/** HMAC-SHA256 of the string to sign under the key derived from the secret and the credential scope. */
function signatureOf(stringToSign: string, secret: string, claim: SignatureClaim): string {
  const key = signingKey({
    accessKeyId: claim.accessKeyId,
    secret,
    scopeDate: claim.scopeDate,
    region: claim.region,
    service: claim.service,
  });
  return hmac(key, stringToSign).toString('hex');
}

/** crypto.hash (Node 20.12+, 21.7+): one call instead of a Hash object, about half the cost for a request's sizes. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'hex') => string }).hash;

function sha256Hex(data: string | Buffer): string {
  return oneShotHash !== undefined ? oneShotHash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

function constantTimeEqual(expectedHex: string, provided: string): boolean {
  const a = Buffer.from(expectedHex, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  // Lengths are public (a SHA-256 hex digest is always 64 characters); the contents are compared in constant time.
  return a.length === b.length && timingSafeEqual(a, b);
}

function mismatchMessage(canonical: string, stringToSign: string, sessionToken: string | undefined): string {
  let text =
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' +
    `\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`;
  if (sessionToken !== undefined && sessionToken !== '') {
    text = text
      .split(sessionToken)
      .join('<redacted>')
      .split(encodeURIComponent(sessionToken))
      .join('<redacted>');
  }
  return text;
}

/**
 * The last date parsed: calls signed within the same second carry the same X-Amz-Date, and parsing it
 * again was about 2% of a GetItem's CPU on the DynamoDB benchmark.
 */
let lastAmzDate: { text: string; ms: number | undefined } = { text: '', ms: undefined };

function parseAmzDate(text: string): number | undefined {
  if (text === lastAmzDate.text) return lastAmzDate.ms;
  const ms = parseAmzDateText(text);
  lastAmzDate = { text, ms };
  return ms;
}

function parseAmzDateText(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Reject dates that Date.UTC silently rolls over, such as 20240231T000000Z (compared field by field:
  // formatting the date back to text for the comparison cost as much as the rest of the claim checks).
  const date = new Date(ms);
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return exact ? ms : undefined;
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}
