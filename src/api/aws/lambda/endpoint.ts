/**
 * The Lambda REST API on the node (`/2015-03-31/functions/...`, `/2015-03-31/event-source-mappings/...`,
 * `/2017-10-31/functions/{name}/concurrency`, `/2016-08-19/account-settings`), signed with SigV4 for the
 * service `lambda`, so the unmodified `@aws-sdk/client-lambda` and `aws lambda --endpoint-url` work
 * against a node. The routes live in their own scope with Lambda's error shape (rest-json.ts).
 *
 * No semantics live here: each route decodes its request and calls functions.ts or
 * event-source-mappings.ts, which call the same services the library uses.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { codePackageLimits, tooLargeZip } from '../../../functions/code-package.js';
import { toSluiceError } from '../../errors.js';
import { SluiceError } from '../../../model/errors.js';
import type { AuthSettings } from '../../auth/credentials.js';
import { bodyOf, jsonBody, pathParam as param, queryValue, registerRestJsonService, sendRestJson as send } from '../rest-json.js';
import {
  deleteFunctionConcurrency,
  getAccountSettings,
  getFunction,
  getFunctionConfiguration,
  INVOKE_PAYLOAD_LIMIT,
  invoke,
  listFunctions,
  putFunctionConcurrency,
  type LambdaContext,
} from './functions.js';
import { createFunction, deleteFunction, updateFunctionCode, updateFunctionConfiguration } from './function-code.js';
import { eventSourceMappingRoutes, type MappingContext } from './event-source-mappings.js';
import { lambdaErrorResponse } from './wire.js';
import { requestSignal } from '../../request-signal.js';
import { createAlias, deleteAlias, getAlias, listAliases, listVersionsByFunction, publishVersion, updateAlias } from './versions.js';
import { CODE_KEY_MAX_AGE_MS, CODE_KEY_SECRET, CodeLocations, registerCodeDownload } from './code-location.js';
import { afterCatchUp } from './catch-up.js';

export const LAMBDA_SIGNING_NAME = 'lambda';

export interface LambdaEndpointOptions {
  context: LambdaContext & MappingContext;
  auth: AuthSettings;
  /** The node begins shutting down: a synchronous invoke still waiting for a cluster grant gives up. */
  shutdown?: AbortSignal;
  /** The age at which the Code.Location signing key is rotated before use (default 30 days). */
  codeKeyMaxAgeMs?: number;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/**
 * The two operations that carry a zip take Lambda's request size (the 50 MB zip in base64) rather than
 * the node's body limit, and refuse a larger one as Lambda does.
 */
function codeUpload(operation: 'CreateFunction' | 'UpdateFunctionCode') {
  return {
    bodyLimit: codePackageLimits.requestBytes,
    errorHandler: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
      send(reply, lambdaErrorResponse(error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? tooLargeZip(operation) : toSluiceError(error), request.id)),
  };
}

/** CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction (function-code.ts). */
function codeRoutes(scope: FastifyInstance, context: LambdaContext): void {
  scope.post('/2015-03-31/functions', codeUpload('CreateFunction'), async (request, reply) => send(reply, await createFunction(context, jsonBody(request), request.id)));
  scope.put('/2015-03-31/functions/:name/code', codeUpload('UpdateFunctionCode'), async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => updateFunctionCode(context, param(request, 'name'), jsonBody(request), request.id))),
  );
  scope.put('/2015-03-31/functions/:name/configuration', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => updateFunctionConfiguration(context, param(request, 'name'), jsonBody(request), request.id))),
  );
  scope.delete('/2015-03-31/functions/:name', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => deleteFunction(context, param(request, 'name'), queryValue(request.query, 'Qualifier'), request.id))),
  );
}

/**
 * Invoke takes Lambda's synchronous payload limit (6 MB) rather than the node's body limit, as the code
 * uploads take theirs, and refuses a larger payload in Lambda's words (an Event payload's 1 MB is
 * checked in functions.ts). The signature is checked before the body is read (http-auth-before-body).
 */
const invokeUpload = {
  bodyLimit: INVOKE_PAYLOAD_LIMIT,
  errorHandler: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, lambdaErrorResponse(toSluiceError(error), request.id));
    const length = Number(header(request, 'content-length'));
    const type = header(request, 'x-amz-invocation-type') ?? 'RequestResponse';
    const message = Number.isSafeInteger(length)
      ? `${length} byte payload is too large for the ${type.slice(0, 20)} invocation type (limit ${INVOKE_PAYLOAD_LIMIT} bytes)`
      : `Request must be smaller than ${INVOKE_PAYLOAD_LIMIT} bytes for the Invoke operation`;
    return send(reply, lambdaErrorResponse(new SluiceError('RequestEntityTooLarge', message), request.id));
  },
};

function functionRoutes(scope: FastifyInstance, context: LambdaContext, locations: CodeLocations, shutdown: AbortSignal): void {
  codeRoutes(scope, context);
  scope.post('/2015-03-31/functions/:name/invocations', invokeUpload, async (request, reply) => {
    // Armed only if the invoke waits for a cluster grant (FunctionService.invoke).
    const requestScope = requestSignal(reply, shutdown);
    try {
      return send(
        reply,
        await afterCatchUp(context.catalog, () => invoke(context, {
          functionName: param(request, 'name'),
          qualifier: queryValue(request.query, 'Qualifier'),
          invocationType: header(request, 'x-amz-invocation-type'),
          logType: header(request, 'x-amz-log-type'),
          body: bodyOf(request),
          requestId: request.id,
          signal: () => requestScope.signal,
        })),
      );
    } finally {
      requestScope.release();
    }
  });
  scope.get('/2015-03-31/functions', async (request, reply) => {
    const marker = queryValue(request.query, 'Marker');
    const limit = queryValue(request.query, 'MaxItems');
    return send(reply, listFunctions(context, { ...(marker !== undefined ? { marker } : {}), ...(limit !== undefined ? { maxItems: limit } : {}) }, request.id));
  });
  scope.get('/2015-03-31/functions/:name', async (request, reply) => {
    // The Location is on the node that answers, as the client reached it.
    const base = `${request.protocol}://${header(request, 'host') ?? request.hostname}`;
    await locations.ready();
    return send(reply, await afterCatchUp(context.catalog, () => getFunction(context, param(request, 'name'), queryValue(request.query, 'Qualifier'), request.id, (name, sha) => locations.url(base, name, sha))));
  });
  scope.get('/2015-03-31/functions/:name/configuration', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => getFunctionConfiguration(context, param(request, 'name'), queryValue(request.query, 'Qualifier'), request.id))),
  );
  scope.put('/2017-10-31/functions/:name/concurrency', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => putFunctionConcurrency(context, param(request, 'name'), jsonBody(request), request.id))),
  );
  scope.delete('/2017-10-31/functions/:name/concurrency', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => deleteFunctionConcurrency(context, param(request, 'name'), request.id))),
  );
  versionRoutes(scope, context);
  scope.get('/2016-08-19/account-settings', async (request, reply) => send(reply, getAccountSettings(context, request.id)));
}

/** PublishVersion, ListVersionsByFunction and the alias operations (versions.ts). */
function versionRoutes(scope: FastifyInstance, context: LambdaContext): void {
  const listQuery = (request: FastifyRequest, extra: Record<string, string> = {}) => {
    const query: Record<string, string> = {};
    for (const [key, member] of Object.entries({ Marker: 'marker', MaxItems: 'maxItems', ...extra })) {
      const value = queryValue(request.query, key);
      if (value !== undefined) query[member] = value;
    }
    return query;
  };
  scope.post('/2015-03-31/functions/:name/versions', async (request, reply) => send(reply, await afterCatchUp(context.catalog, () => publishVersion(context, param(request, 'name'), jsonBody(request), request.id))));
  scope.get('/2015-03-31/functions/:name/versions', async (request, reply) => send(reply, await afterCatchUp(context.catalog, () => listVersionsByFunction(context, param(request, 'name'), listQuery(request), request.id))));
  scope.post('/2015-03-31/functions/:name/aliases', async (request, reply) => send(reply, await afterCatchUp(context.catalog, () => createAlias(context, param(request, 'name'), jsonBody(request), request.id))));
  scope.get('/2015-03-31/functions/:name/aliases', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => listAliases(context, param(request, 'name'), listQuery(request, { FunctionVersion: 'functionVersion' }), request.id))),
  );
  scope.get('/2015-03-31/functions/:name/aliases/:alias', async (request, reply) => send(reply, await afterCatchUp(context.catalog, () => getAlias(context, param(request, 'name'), param(request, 'alias'), request.id))));
  scope.put('/2015-03-31/functions/:name/aliases/:alias', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => updateAlias(context, param(request, 'name'), param(request, 'alias'), jsonBody(request), request.id))),
  );
  scope.delete('/2015-03-31/functions/:name/aliases/:alias', async (request, reply) => send(reply, await afterCatchUp(context.catalog, () => deleteAlias(context, param(request, 'name'), param(request, 'alias'), request.id))));
}

export async function registerLambdaEndpoint(app: FastifyInstance, options: LambdaEndpointOptions): Promise<void> {
  const { context, auth } = options;
  const maxAgeMs = options.codeKeyMaxAgeMs ?? CODE_KEY_MAX_AGE_MS;
  const locations = new CodeLocations(() => Date.now(), () => context.catalog.signingKeys(CODE_KEY_SECRET, { maxAgeMs }));
  registerCodeDownload(app, { locations, catalog: context.catalog });
  await registerRestJsonService(app, {
    signingName: LAMBDA_SIGNING_NAME,
    auth,
    renderError: (error, requestId) => lambdaErrorResponse(error, requestId),
    routes: (scope) => {
      functionRoutes(scope, context, locations, options.shutdown ?? new AbortController().signal);
      eventSourceMappingRoutes(scope, context, { send, jsonBody, param });
    },
  });
}
