/**
 * Authenticates an AWS-protocol request: its SigV4 signature must verify against one of the node's
 * access keys, for the service the endpoint serves, within AWS's clock skew. Any region is accepted,
 * since clients pick one arbitrarily when talking to a local endpoint.
 *
 * The check runs twice: `precheckAwsSignature` on the headers, before the body is read (a request with no
 * or a malformed signature, another service's scope, a stale date or an unknown key is answered at once
 * and its connection closed, so nobody unauthenticated can make the node buffer a body), and
 * `checkAwsSignature` on the whole request once the body is in, since the signature covers it.
 */
import type { FastifyRequest } from 'fastify';
import type { SluiceError } from '../../model/errors.js';
import { precheckSigV4, verifySigV4 } from '../aws/sigv4.js';
import type { AuthSettings } from './credentials.js';

interface SignatureCheck {
  request: FastifyRequest;
  auth: AuthSettings;
  service: string;
  now: number;
}

function verifyOptions(params: SignatureCheck) {
  return {
    credentials: (id: string) => params.auth.accessKeys.get(id),
    service: params.service,
    now: params.now,
    // SQS signs every body; only S3 accepts UNSIGNED-PAYLOAD.
    requireSignedPayload: params.service === 'sqs',
  };
}

export function precheckAwsSignature(params: SignatureCheck): SluiceError | undefined {
  if (params.auth.insecureDev) return undefined;
  const { request } = params;
  return precheckSigV4({ method: request.method, path: request.raw.url ?? request.url, headers: request.headers }, verifyOptions(params));
}

export function checkAwsSignature(params: SignatureCheck & { body: Buffer }): SluiceError | undefined {
  if (params.auth.insecureDev) return undefined;
  const { request } = params;
  const result = verifySigV4(
    { method: request.method, path: request.raw.url ?? request.url, headers: request.headers, body: params.body },
    verifyOptions(params),
  );
  return result.ok ? undefined : result.error;
}
