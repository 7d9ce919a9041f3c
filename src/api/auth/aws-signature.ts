/**
 * Authenticates an AWS-protocol request: its SigV4 signature must verify against one of the node's
 * access keys, for the service the endpoint serves, within AWS's clock skew. Any region is accepted,
 * since clients pick one arbitrarily when talking to a local endpoint.
 */
import type { FastifyRequest } from 'fastify';
import type { SluiceError } from '../../model/errors.js';
import { verifySigV4 } from '../aws/sigv4.js';
import type { AuthSettings } from './credentials.js';

export function checkAwsSignature(params: {
  request: FastifyRequest;
  body: Buffer;
  auth: AuthSettings;
  service: string;
  now: number;
}): SluiceError | undefined {
  if (params.auth.insecureDev) return undefined;
  const { request } = params;
  const result = verifySigV4(
    { method: request.method, path: request.raw.url ?? request.url, headers: request.headers, body: params.body },
    { credentials: (id) => params.auth.accessKeys.get(id), service: params.service, now: params.now },
  );
  return result.ok ? undefined : result.error;
}
