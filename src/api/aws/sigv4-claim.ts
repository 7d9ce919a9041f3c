/**
 * Reads what a SigV4-signed request claims about itself (the access key, credential scope, date, signed
 * headers, signature, session token and payload hash) from either the `Authorization` header or the
 * presigned query parameters, and rejects malformed claims with IncompleteSignature (or
 * SignatureDoesNotMatch for a scope AWS would reject that way). Nothing here checks the signature.
 */
import { SluiceError } from '../../model/errors.js';
import type { QueryParameter } from './sigv4-canonical.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The longest lifetime AWS accepts for a presigned URL (`X-Amz-Expires`), in seconds. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 3600;

export interface IncomingSignedRequest {
  method: string;
  /** The request target exactly as received: the path, still percent-encoded, plus any `?query`. */
  path: string;
  /** Header names in lower case (as Node delivers them); repeated headers may come as an array. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: Buffer;
}

export interface SignatureClaim {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  /** Presigned URLs only: seconds of validity after `amzDate`. */
  expiresSeconds: number | undefined;
  sessionToken: string | undefined;
  /** The `x-amz-content-sha256` value the client committed to, if any. */
  declaredPayloadHash: string | undefined;
}

/**
 * The claim the request makes, a SluiceError when it is malformed or uses both auth mechanisms, or
 * undefined when it carries no authentication at all.
 */
export function readSignatureClaim(
  request: Pick<IncomingSignedRequest, 'headers'>,
  query: readonly QueryParameter[],
): SignatureClaim | SluiceError | undefined {
  const authorization = requestHeader(request, 'authorization');
  const presigned = query.some((p) => PRESIGN_MARKERS.has(p.name));
  if (authorization === undefined && !presigned) return undefined;
  if (authorization !== undefined && presigned) {
    return incomplete(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
    );
  }
  return authorization !== undefined
    ? claimFromHeader(request, authorization)
    : claimFromQuery(request, query);
}

const PRESIGN_MARKERS = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature']);
const AUTH_COMPONENTS = ['Credential', 'SignedHeaders', 'Signature'] as const;
const TOKEN_HEADER = 'x-amz-security-token';
const CONTENT_SHA256_HEADER = 'x-amz-content-sha256';

function claimFromHeader(
  request: Pick<IncomingSignedRequest, 'headers'>,
  authorization: string,
): SignatureClaim | SluiceError {
  const text = authorization.trim();
  const space = text.search(/\s/);
  const algorithm = space < 0 ? text : text.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    return incomplete(
      `Unsupported Authorization scheme '${clip(algorithm)}'; only ${SIGV4_ALGORITHM} is accepted.`,
    );
  }
  const components = authorizationComponents(space < 0 ? '' : text.slice(space));
  if (components instanceof SluiceError) return components;
  const missing = AUTH_COMPONENTS.filter((name) => !components.get(name));
  const amzDate = requestHeader(request, 'x-amz-date');
  const problems = missing.map((name) => `Authorization header requires '${name}' parameter.`);
  if (amzDate === undefined)
    problems.push("Authorization header requires existence of an 'X-Amz-Date' header.");
  if (problems.length > 0) return incomplete(problems.join(' '));

  const signedHeaders = parseSignedHeaders(components.get('SignedHeaders') ?? '');
  if (signedHeaders instanceof SluiceError) return signedHeaders;
  const token = requestHeader(request, TOKEN_HEADER);
  if (token !== undefined && !signedHeaders.includes(TOKEN_HEADER)) {
    return incomplete("'X-Amz-Security-Token' must be a 'SignedHeader' when it is present in the request.");
  }
  return buildClaim({
    credential: components.get('Credential') ?? '',
    amzDate: amzDate ?? '',
    signedHeaders,
    signature: components.get('Signature') ?? '',
    expiresSeconds: undefined,
    sessionToken: token,
    declaredPayloadHash: requestHeader(request, CONTENT_SHA256_HEADER),
  });
}

/** The components of an Authorization header after its algorithm (`Credential=…, SignedHeaders=…, Signature=…`). */
function parseComponents(list: string): Map<string, string> | SluiceError {
  const components = new Map<string, string>();
  for (const part of list.split(',')) {
    const piece = part.trim();
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq).trim();
    if (eq < 0 || !(AUTH_COMPONENTS as readonly string[]).includes(name) || components.has(name)) {
      return incomplete(`Authorization header has a malformed or repeated component '${clip(name)}'.`);
    }
    components.set(name, piece.slice(eq + 1).trim());
  }
  return components;
}

/** Enough for every access key × scope × signed-header list a node sees in a day; cleared when full. */
const MAX_CACHED_CLAIM_PARTS = 256;
const SIGNATURE_MARK = 'Signature=';
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;
/** A signature's stand-in in the cache's keys: the parse of the rest does not depend on its value. */
const ANY_SIGNATURE = '0'.repeat(64);
const componentsByPrefix = new Map<string, Map<string, string> | SluiceError>();

/**
 * parseComponents, remembered for the text before the signature: a client sends the same
 * `Credential=…, SignedHeaders=…, ` on every call of a day and only the signature changes, and parsing it
 * again was a tenth of a verification. Taken only when the signature is the last component, alone after
 * the last comma, so the rest parses the same whatever its value.
 */
function authorizationComponents(list: string): Map<string, string> | SluiceError {
  const signatureAt = list.length - 64;
  const mark = signatureAt - SIGNATURE_MARK.length;
  const comma = list.lastIndexOf(',');
  if (
    mark < 0 ||
    comma < 0 ||
    comma > mark ||
    !list.startsWith(SIGNATURE_MARK, mark) ||
    list.slice(comma + 1, mark).trim() !== '' ||
    !SIGNATURE_HEX.test(list.slice(signatureAt))
  ) {
    return parseComponents(list);
  }
  const prefix = list.slice(0, signatureAt);
  let parsed = componentsByPrefix.get(prefix);
  if (parsed === undefined) {
    parsed = parseComponents(prefix + ANY_SIGNATURE);
    if (componentsByPrefix.size >= MAX_CACHED_CLAIM_PARTS) componentsByPrefix.clear();
    componentsByPrefix.set(prefix, parsed);
  }
  if (parsed instanceof SluiceError) return parsed;
  const components = new Map(parsed);
  components.set('Signature', list.slice(signatureAt));
  return components;
}

const PRESIGN_PARAMETERS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

function claimFromQuery(
  request: Pick<IncomingSignedRequest, 'headers'>,
  query: readonly QueryParameter[],
): SignatureClaim | SluiceError {
  const single = (name: string): string | undefined => {
    const values = query.filter((p) => p.name === name);
    return values.length === 1 ? values[0]?.value : undefined;
  };
  const missing = PRESIGN_PARAMETERS.filter((name) => !single(name));
  if (missing.length > 0) {
    return incomplete(
      `AWS query-string parameters must include ${PRESIGN_PARAMETERS.map((n) => `'${n}'`).join(', ')}, each once; ` +
        `missing or repeated: ${missing.join(', ')}.`,
    );
  }
  const algorithm = single('X-Amz-Algorithm') ?? '';
  if (algorithm !== SIGV4_ALGORITHM) {
    return incomplete(
      `Unsupported X-Amz-Algorithm '${clip(algorithm)}'; only ${SIGV4_ALGORITHM} is accepted.`,
    );
  }
  const expiresText = single('X-Amz-Expires') ?? '';
  const expiresSeconds = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_EXPIRES_SECONDS)) {
    return incomplete(
      `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS}.`,
    );
  }
  const signedHeaders = parseSignedHeaders(single('X-Amz-SignedHeaders') ?? '');
  if (signedHeaders instanceof SluiceError) return signedHeaders;
  return buildClaim({
    credential: single('X-Amz-Credential') ?? '',
    amzDate: single('X-Amz-Date') ?? '',
    signedHeaders,
    signature: single('X-Amz-Signature') ?? '',
    expiresSeconds,
    // In the query string the token is part of the canonical query, so it is always signed.
    sessionToken: single('X-Amz-Security-Token'),
    declaredPayloadHash: requestHeader(request, CONTENT_SHA256_HEADER) ?? single('X-Amz-Content-Sha256'),
  });
}

interface ClaimInput {
  credential: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  expiresSeconds: number | undefined;
  sessionToken: string | undefined;
  declaredPayloadHash: string | undefined;
}

function buildClaim(input: ClaimInput): SignatureClaim | SluiceError {
  const parts = input.credential.split('/');
  const [accessKeyId, scopeDate, region, service, terminator] = parts;
  if (parts.length !== 5 || parts.some((part) => part === '') || accessKeyId === undefined) {
    return incomplete(
      `Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request; it has ${parts.length} part(s).`,
    );
  }
  if (terminator !== 'aws4_request') {
    return new SluiceError(
      'SignatureDoesNotMatch',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${clip(terminator ?? '')}'.`,
    );
  }
  if (!input.signedHeaders.includes('host')) {
    return incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const declared = input.declaredPayloadHash;
  if (declared !== undefined && declared !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(declared)) {
    return incomplete(
      "x-amz-content-sha256 must be 'UNSIGNED-PAYLOAD' or the lower-case hex SHA-256 of the body.",
    );
  }
  return {
    accessKeyId,
    scopeDate: scopeDate ?? '',
    region: region ?? '',
    service: service ?? '',
    amzDate: input.amzDate,
    signedHeaders: input.signedHeaders,
    signature: input.signature,
    expiresSeconds: input.expiresSeconds,
    sessionToken: input.sessionToken,
    declaredPayloadHash: declared,
  };
}

const signedHeaderLists = new Map<string, string[] | SluiceError>();

/** parseSignedHeaders, remembered: a client signs the same headers on every call. */
function parseSignedHeaders(list: string): string[] | SluiceError {
  let parsed = signedHeaderLists.get(list);
  if (parsed === undefined) {
    parsed = parseSignedHeaderList(list);
    if (signedHeaderLists.size >= MAX_CACHED_CLAIM_PARTS) signedHeaderLists.clear();
    signedHeaderLists.set(list, parsed);
  }
  // A copy: a claim's list is its own.
  return parsed instanceof SluiceError ? parsed : [...parsed];
}

function parseSignedHeaderList(list: string): string[] | SluiceError {
  const names = list.split(';');
  if (names.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) {
    return incomplete(
      'SignedHeaders must be a non-empty list of lower-case header names separated by semicolons.',
    );
  }
  return names;
}

export function requestHeader(request: Pick<IncomingSignedRequest, 'headers'>, name: string): string | undefined {
  // Names come from the client (SignedHeaders), so inherited properties such as `__proto__` must not match.
  if (!Object.hasOwn(request.headers, name)) return undefined;
  const value = request.headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function incomplete(message: string): SluiceError {
  return new SluiceError('IncompleteSignature', message);
}

/** Quotes client input in a message without letting it grow the message without bound. */
export function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
