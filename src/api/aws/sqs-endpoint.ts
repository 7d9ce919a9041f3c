/**
 * The SQS-compatible endpoint. One handler serves both wire protocols at `/` and at queue URLs
 * (`/<accountId>/<queueName>`, where the query protocol may leave QueueUrl implicit):
 * - JSON: `X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`;
 * - query: form-encoded `Action=<Operation>&...` (or the same in the URL), XML responses.
 * Every request is authenticated by its SigV4 signature first (unless the node runs in insecure
 * development mode), then validated and dispatched to the shared operation table.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../../model/errors.js';
import type { QueueService } from '../../queues/service.js';
import { checkAwsSignature, precheckAwsSignature } from '../auth/aws-signature.js';
import type { AuthSettings } from '../auth/credentials.js';
import { requestSignal } from '../request-signal.js';
import { parseJsonObject, refuseProtoKeys } from '../validation.js';
import { awsJsonErrorResponse, awsJsonResponse, parseAmzTarget, SQS_JSON } from './json-protocol.js';
import { addressedService, serviceOfTarget } from './services.js';
import { queueUrl } from './queue-url.js';
import { callSqsOperation } from './sqs-operations.js';
import { decodeQueryInput, encodeQueryError, encodeQueryResult, queryParams } from './sqs-query.js';

export type AwsWireProtocol = 'json' | 'query';

export interface SqsEndpointOptions {
  queues: QueueService;
  accountId: string;
  auth: AuthSettings;
  /** Aborted when the node begins shutting down. */
  shutdown: AbortSignal;
  /** Overrides the scheme://host:port queue URLs are built on (default: the Host the client used). */
  publicUrl?: string | undefined;
}

export function wireProtocolOf(request: FastifyRequest): AwsWireProtocol {
  const contentType = String(request.headers['content-type'] ?? '');
  return request.headers['x-amz-target'] !== undefined || contentType.includes('x-amz-json')
    ? 'json'
    : 'query';
}

/** Renders a failure in the wire protocol the request used. */
export function sendSqsError(request: FastifyRequest, reply: FastifyReply, error: SluiceError): FastifyReply {
  if (wireProtocolOf(request) === 'json') {
    // Rendered as the service the target names (DynamoDB, Step Functions, ...) would render it.
    const target = request.headers['x-amz-target'];
    const service = (typeof target === 'string' ? serviceOfTarget(target)?.json : undefined) ?? SQS_JSON;
    const response = awsJsonErrorResponse(service, error, request.id);
    return reply.code(response.status).headers(response.headers).send(response.body);
  }
  const response = encodeQueryError(error, request.id);
  return reply
    .code(response.status)
    .header('content-type', 'text/xml')
    .header('x-amzn-requestid', request.id)
    .send(response.body);
}

function baseUrlOf(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  // `request.host` is the Host header the client sent (host:port), which is where it reached us.
  return `${request.protocol}://${request.host}`;
}

interface SqsRoute {
  Params: { accountId?: string; queueName?: string };
}

export function registerSqsEndpoint(app: FastifyInstance, options: SqsEndpointOptions): void {
  const handle = async (
    request: FastifyRequest<SqsRoute>,
    reply: FastifyReply,
  ) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const authError = checkAwsSignature({
      request,
      body,
      auth: options.auth,
      service: 'sqs',
      now: Date.now(),
    });
    if (authError) throw authError;
    const protocol = wireProtocolOf(request);
    let operation: string;
    let input: Record<string, unknown>;
    if (protocol === 'json') {
      const target = parseAmzTarget(request.headers['x-amz-target'] as string | undefined);
      if (!target || target.servicePrefix !== SQS_JSON.targetPrefix) {
        throw new SluiceError(
          'UnknownOperationException',
          `X-Amz-Target: expected ${SQS_JSON.targetPrefix}.<Operation>`,
          { field: 'X-Amz-Target' },
        );
      }
      operation = target.operation;
      input = parseJsonObject(body, { allowEmpty: true });
    } else {
      const params = queryParams(request.raw.url ?? request.url, body);
      operation = params.get('Action') ?? '';
      if (operation === '') {
        throw new SluiceError(
          'UnknownOperationException',
          'Send X-Amz-Target (JSON protocol) or an Action parameter (query protocol)',
          { field: 'Action' },
        );
      }
      input = decodeQueryInput(operation, params);
      refuseProtoKeys(input);
    }
    const base = baseUrlOf(request, options.publicUrl);
    const { accountId, queueName } = request.params;
    // The query protocol addresses a queue by posting to its URL.
    if (input.QueueUrl === undefined && accountId !== undefined && queueName !== undefined) {
      input.QueueUrl = queueUrl(base, accountId, queueName);
    }
    const requestScope = requestSignal(reply, options.shutdown);
    try {
      const context = {
        queues: options.queues,
        accountId: options.accountId,
        baseUrl: base,
        // A getter, so the signal is armed only by the operations that wait (ReceiveMessage).
        get signal() {
          return requestScope.signal;
        },
      };
      const output = await callSqsOperation(operation, input, context);
      if (protocol === 'json') {
        const response = awsJsonResponse(SQS_JSON, output, request.id);
        return reply.code(response.status).headers(response.headers).send(response.body);
      }
      return reply
        .code(200)
        .header('content-type', 'text/xml')
        .header('x-amzn-requestid', request.id)
        .send(encodeQueryResult(operation, output, request.id));
    } finally {
      requestScope.release();
    }
  };
  // Before the body is read: a request whose signature headers already fail is answered and its
  // connection closed, so an unauthenticated client cannot make the node wait for (or buffer) a body.
  // Each service's requests are checked against its own signing name; one the node does not serve is
  // answered as such (services.ts), never as a signature problem.
  const onRequest = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    const addressed = addressedService(request);
    const refusal =
      addressed.kind === 'unknown'
        ? addressed.error
        : precheckAwsSignature({ request, auth: options.auth, service: addressed.service.signingName, now: Date.now() });
    if (refusal === undefined) return done();
    reply.header('connection', 'close');
    done(refusal);
  };
  const route = { config: { protocol: 'aws' }, onRequest };
  app.post<SqsRoute>('/', route, handle);
  app.get<SqsRoute>('/', route, handle);
  // Queue URLs carry the node's own account id, which keeps them apart from the native API's /v1/... paths.
  const account = options.accountId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  app.post<SqsRoute>(`/:accountId(^${account}$)/:queueName`, route, handle);
  app.get<SqsRoute>(`/:accountId(^${account}$)/:queueName`, route, handle);
}
