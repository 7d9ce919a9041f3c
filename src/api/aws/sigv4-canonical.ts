/**
 * The canonical request of AWS Signature Version 4, rebuilt on the receiving side from the request as it
 * arrived on the wire.
 *
 * The rules are AWS's for every service except S3, which is also what `@smithy/signature-v4` does:
 * - URI: the raw path (already percent-encoded once by the client) with empty, `.` and `..` segments
 *   normalised away, then encoded again byte by byte, keeping `/`. So `%20` on the wire is `%2520` here.
 * - Query: every `name=value` pair percent-decoded, then encoded with the RFC 3986 unreserved set, sorted
 *   by name and then value; a pair without `=` has the empty value; `X-Amz-Signature` is left out.
 * - Headers: lower-case names in the SignedHeaders order, values with line breaks turned into spaces,
 *   runs of spaces and tabs folded to one space, and the ends trimmed.
 *
 * Everything works on bytes, so a malformed `%` escape or a non-UTF-8 byte never throws: it simply
 * canonicalises to something the client did not sign.
 */

const HEX = '0123456789ABCDEF';

/** Percent-encodes bytes, keeping only RFC 3986 unreserved characters (and `/` when asked). */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash = false): string {
  let out = '';
  for (const byte of bytes) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      byte === 0x2d || // -
      byte === 0x2e || // .
      byte === 0x5f || // _
      byte === 0x7e || // ~
      (keepSlash && byte === 0x2f);
    out += unreserved ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 0x0f]}`;
  }
  return out;
}

/** The UTF-8 bytes of `text` with every valid `%XX` escape replaced by the byte it names. */
export function percentDecodeToBytes(text: string): Buffer {
  if (!text.includes('%')) return Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  let plainStart = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '%' || !/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) continue;
    chunks.push(
      Buffer.from(text.slice(plainStart, i), 'utf8'),
      Buffer.from([parseInt(text.slice(i + 1, i + 3), 16)]),
    );
    i += 2;
    plainStart = i + 1;
  }
  chunks.push(Buffer.from(text.slice(plainStart), 'utf8'));
  return Buffer.concat(chunks);
}

/** Splits a raw request target into its path and its query string (without the `?`). */
export function splitTarget(target: string): { path: string; query: string } {
  const mark = target.indexOf('?');
  return mark < 0
    ? { path: target, query: '' }
    : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}

/** The canonical URI of a raw (still percent-encoded) path. */
export function canonicalUri(rawPath: string): string {
  // Every JSON-protocol call (SQS's, DynamoDB's, Step Functions') posts to `/`.
  if (rawPath === '/') return '/';
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const leading = rawPath.startsWith('/') ? '/' : '';
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  const normalised = `${leading}${segments.join('/')}${trailing}`;
  return normalised === '' ? '/' : uriEncodeBytes(Buffer.from(normalised, 'utf8'), true);
}

export interface QueryParameter {
  /** The name, decoded as UTF-8. */
  name: string;
  /** The value, decoded as UTF-8. */
  value: string;
  /** Canonical (re-encoded) name and value, as they appear in the canonical query string. */
  encodedName: string;
  encodedValue: string;
}

/** Parses a raw query string (without `?`). `+` is a literal plus sign, as SigV4 clients encode space as `%20`. */
export function parseQuery(rawQuery: string): QueryParameter[] {
  const parameters: QueryParameter[] = [];
  if (rawQuery === '') return parameters;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const nameBytes = percentDecodeToBytes(eq < 0 ? pair : pair.slice(0, eq));
    const valueBytes = percentDecodeToBytes(eq < 0 ? '' : pair.slice(eq + 1));
    parameters.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encodedName: uriEncodeBytes(nameBytes),
      encodedValue: uriEncodeBytes(valueBytes),
    });
  }
  return parameters;
}

const SIGNATURE_PARAMETER = 'x-amz-signature';

/** The canonical query string: encoded pairs sorted by name then value, the signature itself left out. */
export function canonicalQuery(parameters: readonly QueryParameter[]): string {
  return parameters
    .filter((p) => p.name.toLowerCase() !== SIGNATURE_PARAMETER)
    .map((p) => [p.encodedName, p.encodedValue] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** A header value as it enters the canonical request. */
const NEEDS_CANONICAL_SPACING = /[\r\n\t]| {2}|^ | $/;

export function canonicalHeaderValue(value: string): string {
  // Most values are canonical already: one test instead of three replacements.
  if (!NEEDS_CANONICAL_SPACING.test(value)) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  /** Signed header names in order, each with its canonical value. */
  headers: readonly (readonly [name: string, value: string])[];
  payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method.toUpperCase(),
    parts.canonicalUri,
    parts.canonicalQuery,
    ...parts.headers.map(([name, value]) => `${name}:${value}`),
    '',
    parts.headers.map(([name]) => name).join(';'),
    parts.payloadHash,
  ].join('\n');
}
