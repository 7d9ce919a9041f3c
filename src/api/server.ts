/**
 * The node's HTTP server: health probes, the SQS-compatible endpoint and the native JSON API on one
 * Fastify instance. Bodies are read as raw bytes (SigV4 signs the exact bytes) up to one size limit,
 * every failure goes through one mapper and is rendered in the caller's protocol, and closing stops
 * accepting requests, ends long polls and waits for requests under way.
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Sluice } from '../engine/sluice.js';
import { SluiceError } from '../model/errors.js';
import type { AuthSettings } from './auth/credentials.js';
import { verifyBearer } from './auth/bearer.js';
import { registerSqsEndpoint, sendSqsError } from './aws/sqs-endpoint.js';
import { isServerFault, toSluiceError } from './errors.js';
import { registerHealth } from './health.js';
import type { Logger } from './logger.js';
import { nativeRouteModules } from './native/modules.js';
import type { NativeRouteModule } from './native/route-module.js';
import type { ErrorBody } from './native/schemas/common.js';
import { registerStepFunctionsEndpoint } from './aws/sfn-endpoint.js';

/**
 * The largest request body accepted: a 1 MiB SQS batch in its most expensive encoding (form-encoded
 * non-ASCII text triples in size) plus room for the envelope.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface HttpApiOptions {
  sluice: Sluice;
  auth: AuthSettings;
  /** Request and error logs; `false` logs nothing. */
  logger: Logger | false;
  maxRequestBytes?: number;
  /** Base of queue URLs (`https://sqs.example.com`); default: the scheme and Host the client used. */
  publicUrl?: string;
  nativeModules?: readonly NativeRouteModule[];
}

export interface HttpApi {
  app: FastifyInstance;
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:8340`). */
  listen(params: { host: string; port: number }): Promise<string>;
  /**
   * Stops accepting requests, ends long polls with what they have, waits for requests under way (cut
   * after `graceMs`, default 10 s).
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

type Protocol = 'aws' | 'native';

function protocolOf(request: FastifyRequest): Protocol {
  const configured = (request.routeOptions.config as { protocol?: Protocol } | undefined)?.protocol;
  if (configured) return configured;
  // No route matched: answer in the protocol the client seems to speak.
  return request.headers['x-amz-target'] !== undefined || request.url.split('?')[0] === '/'
    ? 'aws'
    : 'native';
}

function sendNativeError(request: FastifyRequest, reply: FastifyReply, error: SluiceError): FastifyReply {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
      requestId: request.id,
    },
  };
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(body);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: SluiceError): FastifyReply {
  return protocolOf(request) === 'aws'
    ? sendSqsError(request, reply, error)
    : sendNativeError(request, reply, error);
}

function noSuchRoute(request: FastifyRequest): SluiceError {
  return new SluiceError('ResourceNotFoundException', `${request.method} ${request.url.split('?')[0]!.slice(0, 200)}: no such route`);
}

export async function buildHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const shutdown = new AbortController();
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    genReqId: () => randomUUID(),
    // Per-request lines would dominate the log at thousands of requests a second; failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing is answered by our own hook, in the caller's protocol.
    return503OnClosing: false,
    // A long poll lasts up to 20 s; leave the socket timeouts well above it.
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // A URL the router cannot decode (`/%zz`) is refused in our shape like every other bad request.
    frameworkErrors: (error, request, reply) => {
      void sendError(request, reply, toSluiceError(error));
    },
  });

  // Every body is kept as bytes: SigV4 hashes the exact payload, and each protocol parses its own format.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // The hooks that run on every request take callbacks rather than being async: an async hook costs
  // promises and microtask turns on every request, for a check that is almost always false.
  app.addHook('onRequest', (request, reply, done) => {
    // No route: answer before reading any body, and close, so unauthenticated clients cannot stall here either.
    if (request.is404) {
      reply.header('connection', 'close');
      return done(noSuchRoute(request));
    }
    if (!shutdown.signal.aborted) return done();
    reply.header('connection', 'close');
    done(
      new SluiceError(
        'ServiceUnavailable',
        'The node is shutting down; retry on another node or after it restarts.',
      ),
    );
  });

  // While shutting down, every response closes its connection, so keep-alive clients let the server go.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.signal.aborted) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => {
    const failure = toSluiceError(error);
    if (isServerFault(failure)) request.log.error({ err: error, url: request.url }, 'request failed');
    else request.log.debug({ code: failure.code, url: request.url }, 'request refused');
    return sendError(request, reply, failure);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, noSuchRoute(request)));

  registerHealth(app, { sluice: options.sluice, isClosing: () => shutdown.signal.aborted });
  registerSqsEndpoint(app, {
    queues: options.sluice.queues,
    accountId: options.sluice.arn.accountId,
    auth: options.auth,
    shutdown: shutdown.signal,
    publicUrl: options.publicUrl,
  });
  // Step Functions callbacks (SendTaskSuccess, ...) share `/` with SQS, told apart by X-Amz-Target.
  registerStepFunctionsEndpoint(app, { callbacks: options.sluice.callbacks, auth: options.auth });
  const context = { sluice: options.sluice, shutdown: shutdown.signal };
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...(route.config as object), protocol: 'native' } as typeof route.config;
      });
      if (!options.auth.insecureDev) {
        // Before the body is read; a refused client's connection is closed rather than drained.
        scope.addHook('onRequest', (request, reply, done) => {
          const refusal = verifyBearer(request.headers.authorization, options.auth.tokens);
          if (refusal) reply.header('connection', 'close');
          done(refusal);
        });
      }
      for (const module of options.nativeModules ?? nativeRouteModules) module.register(scope, context);
    },
    { prefix: '/v1' },
  );

  return {
    app,
    async listen({ host, port }) {
      const address = await app.listen({ host, port });
      return address;
    },
    async close({ graceMs = 10_000 } = {}) {
      shutdown.abort();
      const closed = app.close();
      // Connections that turn idle after close began would otherwise hold it open; requests still
      // running at the deadline (a long synchronous invoke) are cut.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      const deadline = setTimeout(() => app.server.closeAllConnections(), graceMs);
      try {
        await closed;
      } finally {
        clearInterval(sweep);
        clearTimeout(deadline);
      }
    },
  };
}
