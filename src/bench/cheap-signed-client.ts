/**
 * A cheap signed AWS JSON-protocol client for benchmarks: node:http on a keep-alive agent, each request
 * signed with SigV4 the way an efficient client does it rather than the way @smithy/signature-v4 does.
 * The signing key is derived once per (secret, day, region, service), the X-Amz-Date text once per second,
 * the canonical request's fixed parts once; a call then costs one SHA-256 of the body, one of the
 * canonical request and one HMAC. The SDK's signer spends most of its time building objects around
 * those three hashes; a client that costs little lets the node, not the client, set the figures on a
 * machine where both share the cores.
 *
 * The signature covers content-type, host, x-amz-date and x-amz-target (what the node must check; the SDK
 * also signs its own headers) and the payload hash; the node verifies it in full like any other.
 */
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest, type Agent } from 'node:http';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const SIGNED_HEADERS = 'content-type;host;x-amz-date;x-amz-target';

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');

/** `20261204T221530Z` for an epoch second. */
function amzDateOf(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export interface CheapSignedClientParams {
  url: string;
  service: string;
  targetPrefix: string;
  agent: Agent;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region?: string;
}

/** Resolves with the parsed 200 body; rejects with the status and the start of any other answer. */
export type JsonCaller = (operation: string, input: object) => Promise<Record<string, unknown>>;

export function cheapSignedJsonCaller(params: CheapSignedClientParams): JsonCaller {
  const { agent, service, targetPrefix, credentials } = params;
  const region = params.region ?? 'us-east-1';
  const target = new URL(params.url);
  const host = target.host;
  let second = -1;
  let amzDate = '';
  let day = '';
  let key: Buffer = Buffer.alloc(0);
  let credentialPrefix = '';
  let scope = '';

  const refreshDate = (now: number) => {
    second = Math.floor(now / 1000);
    amzDate = amzDateOf(second * 1000);
    const today = amzDate.slice(0, 8);
    if (today === day) return;
    day = today;
    scope = `${day}/${region}/${service}/aws4_request`;
    key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service), 'aws4_request');
    credentialPrefix = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=`;
  };

  return (operation, input) => {
    const payload = JSON.stringify(input);
    const now = Date.now();
    if (Math.floor(now / 1000) !== second) refreshDate(now);
    const amzTarget = `${targetPrefix}.${operation}`;
    const canonical =
      `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${host}\nx-amz-date:${amzDate}\nx-amz-target:${amzTarget}\n\n` +
      `${SIGNED_HEADERS}\n${sha256Hex(payload)}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = hmac(key, stringToSign).toString('hex');
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': CONTENT_TYPE,
            'x-amz-date': amzDate,
            'x-amz-target': amzTarget,
            authorization: credentialPrefix + signature,
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
            if (response.statusCode === 200) resolve(JSON.parse(text) as Record<string, unknown>);
            else reject(new Error(`${operation}: HTTP ${response.statusCode} ${text.slice(0, 300)}`));
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  };
}
