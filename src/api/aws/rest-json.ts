/**
 * AWS's REST-JSON protocol (Lambda, EventBridge Scheduler): each operation has its own method and path,
 * errors are the HTTP status of the error, `X-Amzn-ErrorType` naming it and a JSON body with its message.
 * `registerRestJsonService` gives a service's routes their own Fastify scope: the SigV4 headers checked
 * for the service's signing name before the body is read, the whole signature once it is in, and every
 * failure rendered in the service's error shape.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../../model/errors.js';
import { checkAwsSignature, precheckAwsSignature } from '../auth/aws-signature.js';
import type { AuthSettings } from '../auth/credentials.js';
import { toSluiceError } from '../errors.js';
import { parseJsonObject } from '../validation.js';

export interface RestJsonResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** How a service names Sluice's catalog codes, with its status for each. */
export type ErrorCodes = Record<string, { code: string; status: number }>;

/** A failure in a REST-JSON service's shape; `members` builds the body from the message. */
export function restJsonError(params: {
  error: unknown;
  requestId: string;
  codes: ErrorCodes;
  members: (failure: SluiceError) => Record<string, unknown>;
}): RestJsonResponse {
  const { error, requestId, codes } = params;
  const failure = error instanceof SluiceError ? error : toSluiceError(error);
  const mapped = codes[failure.code] ?? { code: failure.code, status: failure.status };
  return {
    status: mapped.status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': mapped.code,
      'x-amzn-requestid': requestId,
      ...(mapped.status === 429 ? { 'retry-after': '1' } : {}),
    },
    body: JSON.stringify(params.members(failure)),
  };
}

export function restJson(body: unknown, requestId: string, status = 200): RestJsonResponse {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: JSON.stringify(body) };
}

export function sendRestJson(reply: FastifyReply, response: RestJsonResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

export function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** The JSON body of a request (absent counts as `{}`). */
export function jsonBody(request: FastifyRequest): Record<string, unknown> {
  return parseJsonObject(bodyOf(request), { allowEmpty: true });
}

export function pathParam(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

/** A query parameter as one string (the last one when repeated), or undefined. */
export function queryValue(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) return value.length > 0 ? String(value[value.length - 1]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

export async function registerRestJsonService(
  app: FastifyInstance,
  params: {
    signingName: string;
    auth: AuthSettings;
    renderError: (error: unknown, requestId: string) => RestJsonResponse;
    routes: (scope: FastifyInstance) => void;
  },
): Promise<void> {
  const { auth, signingName } = params;
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), protocol: 'aws' } as NonNullable<typeof route.config>;
    });
    scope.setErrorHandler((error, request, reply) => sendRestJson(reply, params.renderError(toSluiceError(error), request.id)));
    scope.addHook('onRequest', (request, reply, done) => {
      const refusal = precheckAwsSignature({ request, auth, service: signingName, now: Date.now() });
      if (refusal) reply.header('connection', 'close');
      done(refusal);
    });
    scope.addHook('preHandler', (request, _reply, done) => {
      done(checkAwsSignature({ request, body: bodyOf(request), auth, service: signingName, now: Date.now() }));
    });
    params.routes(scope);
  });
}
