/**
 * Raw HTTP requests signed with SigV4 the way AWS SDKs sign them (@smithy/signature-v4), for the
 * protocol details an SDK will not produce on its own: unknown operations, malformed bodies, the
 * query protocol.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_ACCESS_KEY } from './in-process-node.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export async function signedFetch(params: {
  url: string;
  path?: string;
  headers: Record<string, string>;
  body: string | Buffer;
  method?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  signingDate?: Date;
  /** The SigV4 service name; default `sqs`. */
  service?: string;
}): Promise<RawResponse> {
  const endpoint = new URL(params.url);
  const request = new HttpRequest({
    method: params.method ?? 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: Number(endpoint.port),
    path: params.path ?? '/',
    headers: { host: endpoint.host, ...params.headers },
    body: params.body,
  });
  const signer = new SignatureV4({ credentials: params.credentials ?? TEST_ACCESS_KEY, region: 'us-east-1', service: params.service ?? 'sqs', sha256: Sha256 });
  const signed = await signer.sign(request, params.signingDate ? { signingDate: params.signingDate } : {});
  const headers = { ...signed.headers };
  delete headers.host;
  const response = await fetch(`${params.url}${params.path ?? '/'}`, { method: signed.method, headers, body: params.body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export function sqsJson(url: string, operation: string, body: unknown, extra: Partial<Parameters<typeof signedFetch>[0]> = {}) {
  return signedFetch({
    url,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${operation}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...extra,
  });
}

export function sqsQuery(url: string, params: Record<string, string>, path = '/') {
  return signedFetch({
    url,
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
  });
}
