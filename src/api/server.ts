/**
 * The node's HTTP server: health probes, the SQS-compatible endpoint and the native JSON API on one
 * Fastify instance. Bodies are read as raw bytes (SigV4 signs the exact bytes) up to one size limit,
 * every failure goes through one mapper and is rendered in the caller's protocol, and closing stops
 * accepting requests, ends long polls and waits for requests under way.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
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
import { EngineMetrics } from '../observability/metrics.js';
import { prometheusText } from './native/metrics.js';
import { ConsoleLive } from '../console/live.js';
import { registerConsole } from '../console/routes.js';
import { registerDynamoDbEndpoint } from './aws/dynamodb/endpoint.js';
import { dynamoDbFastPath } from './aws/dynamodb/fast-path.js';
import { registerLambdaEndpoint } from './aws/lambda/endpoint.js';
import { registerSchedulerEndpoint } from './aws/scheduler/endpoint.js';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, serverTimeouts, ThrottledLog, type ConnectionLimits } from './connections.js';
import { definedMembers } from '../model/defined.js';

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
  /** Connection caps and timeouts; each unset member takes its default (DEFAULT_CONNECTION_LIMITS). */
  connections?: Partial<ConnectionLimits>;
  /** How often a cap or timeout that keeps being hit is logged again (default 10 s); for tests. */
  capLogIntervalMs?: number;
  /** The event-fed Prometheus series; default: a new one listening on the engine's events. */
  metrics?: EngineMetrics;
  /**
   * GET /metrics: `token` (default) asks for a bearer token as the native API does; `none` lets a
   * scraper on a trusted network in without one; `off` serves no /metrics.
   */
  metricsAuth?: 'token' | 'none' | 'off';
  /** The web console at /console (default on); `false` serves none. */
  console?: boolean;
  /** How often an open console page gets a fresh snapshot (default 2 s). */
  consoleIntervalMs?: number;
  /** The age at which the Code.Location signing key is rotated before use (default 30 days). */
  codeKeyMaxAgeMs?: number;
}

export interface HttpApi {
  app: FastifyInstance;
  /** The console's live feed (undefined when the console is off): tests read how many snapshots it took. */
  consoleLive: ConsoleLive | undefined;
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

/**
 * Failures Node's HTTP parser reports before there is a request (a request timeout, oversized headers,
 * malformed HTTP), answered in the native error shape, since no route says which protocol the client
 * speaks, then closed.
 */
function clientError(error: { code?: string; reason?: string }): SluiceError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new SluiceError('RequestTimeout', "The request did not arrive in full within the node's request timeout (node.connections.requestTimeoutMs).");
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') return new SluiceError('RequestHeaderFieldsTooLarge', 'The request headers are larger than the node accepts.');
  // A chunk announcing more than 2^64 bytes, or chunk extensions past the parser's limit: a chunked body
  // too large to accept, answered as every oversized body is.
  if (error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' || (error.code === 'HPE_INVALID_CHUNK_SIZE' && /overflow/i.test(error.reason ?? ''))) {
    return new SluiceError('RequestEntityTooLarge', 'The chunked request body is larger than this node accepts (see maxRequestBytes).');
  }
  return new SluiceError('ValidationException', 'The request is not well-formed HTTP.');
}

function clientErrorResponse(error: { code?: string; reason?: string }): string {
  const failure = clientError(error);
  const body = JSON.stringify({ error: { code: failure.code, message: failure.message } });
  return (
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

export async function buildHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const shutdown = new AbortController();
  // Every waiting request (a long poll) listens on this one signal until it ends (request-signal.ts removes
  // the listener), so thousands at once are expected, not a leak: no MaxListenersExceededWarning.
  setMaxListeners(0, shutdown.signal);
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...definedMembers(options.connections ?? {}) };
  const timeouts = serverTimeouts(limits);
  const logger = options.logger || undefined;
  const requestTimeouts = new ThrottledLog((count, first) => {
    logger?.warn(
      { timeout: 'requestTimeoutMs', limit: limits.requestTimeoutMs, closed: count },
      first
        ? `request timeout: closed a connection whose request did not arrive in full within ${limits.requestTimeoutMs} ms (node.connections.requestTimeoutMs)`
        : `request timeout: closed ${count} more connection(s) whose request did not arrive in time (node.connections.requestTimeoutMs)`,
    );
  }, options.capLogIntervalMs);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    genReqId: () => randomUUID(),
    // Per-request lines would dominate the log at thousands of requests a second; failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing is answered by our own hook, in the caller's protocol.
    return503OnClosing: false,
    // No socket inactivity timeout: a long poll (20 s) or a synchronous invoke may be silent for long.
    // Receiving a request is bounded instead (headers, then the whole body), and so is idling between
    // requests; see connections.ts.
    connectionTimeout: 0,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    requestTimeout: timeouts.requestTimeout,
    http: {
      headersTimeout: timeouts.headersTimeout,
      requestTimeout: timeouts.requestTimeout,
      connectionsCheckingInterval: timeouts.connectionsCheckingInterval,
    },
    clientErrorHandler: (error: Error & { code?: string; reason?: string }, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') requestTimeouts.hit();
      if (socket.writable) socket.write(clientErrorResponse(error));
      socket.destroy();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // A URL the router cannot decode (`/%zz`) is refused in our shape like every other bad request.
    frameworkErrors: (error, request, reply) => {
      void sendError(request, reply, toSluiceError(error));
    },
  });

  const guard = guardConnections(app.server, limits, logger, options.capLogIntervalMs);

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
  // Step Functions (state machines, executions, SendTaskSuccess, ...) shares `/` with SQS, told apart by X-Amz-Target.
  registerStepFunctionsEndpoint(app, { callbacks: options.sluice.callbacks, stateMachines: options.sluice.stateMachines, auth: options.auth, shutdown: shutdown.signal });
  // DynamoDB and DynamoDB Streams (DynamoDB_20120810.*, DynamoDBStreams_20120810.*) share `/` the same way.
  const { tables, streams, arn, clock } = options.sluice;
  registerDynamoDbEndpoint(app, { context: { tables, streams, arn, clock }, auth: options.auth });
  // Plain DynamoDB calls skip Fastify (fast-path.ts); every other request, and any the fast path
  // declines, reaches Fastify's own handler as before.
  const fastPath = dynamoDbFastPath({
    context: { tables, streams, arn, clock },
    auth: options.auth,
    shutdown: shutdown.signal,
    maxBodyBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
  });
  const fastifyHandlers = app.server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  app.server.removeAllListeners('request');
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (fastPath(request, response)) return;
    for (const handler of fastifyHandlers) handler.call(app.server, request, response);
  });
  // Lambda's REST API (its own paths, signed for `lambda`), in a scope with Lambda's error shape.
  const { functions, triggers, streamTriggers, catalog } = options.sluice;
  await registerLambdaEndpoint(app, {
    context: { functions, triggers, streamTriggers, catalog, arn },
    auth: options.auth,
    shutdown: shutdown.signal,
    ...(options.codeKeyMaxAgeMs !== undefined ? { codeKeyMaxAgeMs: options.codeKeyMaxAgeMs } : {}),
  });
  // EventBridge Scheduler's REST API (`/schedules`, `/schedule-groups`, signed for `scheduler`).
  const { schedules, store } = options.sluice;
  await registerSchedulerEndpoint(app, { context: { schedules, store, arn, now: () => clock.now() }, auth: options.auth });
  const metrics = options.metrics ?? new EngineMetrics(options.sluice.events);
  const context = { sluice: options.sluice, shutdown: shutdown.signal, metrics };
  const requireBearer = (scope: FastifyInstance) => {
    if (options.auth.insecureDev) return;
    // Before the body is read; a refused client's connection is closed rather than drained.
    scope.addHook('onRequest', (request, reply, done) => {
      const refusal = verifyBearer(request.headers.authorization, options.auth.tokens);
      if (refusal) reply.header('connection', 'close');
      done(refusal);
    });
  };
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...(route.config as object), protocol: 'native' } as NonNullable<typeof route.config>;
      });
      requireBearer(scope);
      for (const module of options.nativeModules ?? nativeRouteModules) module.register(scope, context);
    },
    { prefix: '/v1' },
  );
  const live = options.console === false ? undefined : new ConsoleLive(options.sluice, options.sluice.events, options.consoleIntervalMs);
  if (live) {
    await registerConsole(app, {
      sluice: options.sluice,
      auth: options.auth,
      live,
      nativeModules: options.nativeModules ?? nativeRouteModules,
      nativeContext: context,
    });
  }
  if ((options.metricsAuth ?? 'token') !== 'off') {
    await app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...(route.config as object), protocol: 'native' } as NonNullable<typeof route.config>;
      });
      if (options.metricsAuth !== 'none') requireBearer(scope);
      scope.get('/metrics', async (_request, reply) => {
        const exposition = await prometheusText(options.sluice, metrics);
        return reply.header('content-type', exposition.contentType).send(exposition.text);
      });
    });
  }

  return {
    app,
    consoleLive: live,
    async listen({ host, port }) {
      const address = await app.listen({ host, port });
      return address;
    },
    async close({ graceMs = 10_000 } = {}) {
      shutdown.abort();
      // Open console pages hold event streams: end them, so closing does not wait for the browser.
      live?.close();
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
        guard.stop();
        requestTimeouts.stop();
        if (!options.metrics) metrics.close();
      }
    },
  };
}
