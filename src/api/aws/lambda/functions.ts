/**
 * Lambda's function operations over the engine's FunctionService: Invoke (RequestResponse, Event,
 * DryRun; LogType Tail), ListFunctions, GetFunction, GetFunctionConfiguration, PutFunctionConcurrency,
 * DeleteFunctionConcurrency and GetAccountSettings. Each is a function of the decoded request; the
 * endpoint (endpoint.ts) does the HTTP plumbing and the signature.
 */
import { revisionIdOf } from '../../../catalog/service.js';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { CatalogService } from '../../../catalog/service.js';
import type { ArnContext } from '../../../model/arn.js';
import { SluiceError } from '../../../model/errors.js';
import type { FunctionService } from '../../../functions/service.js';
import { qualifiedConfiguration } from './versions.js';
import type { FunctionView, InvokeResponse, LambdaErrorPayload } from '../../../functions/types.js';
import {
  constraintError,
  functionNotFound,
  functionReference,
  lambdaJson,
  lambdaTimestamp,
  LambdaThrottle,
  maxItems,
  page,
  type LambdaResponse,
} from './wire.js';

export interface LambdaContext {
  functions: FunctionService;
  arn: ArnContext;
  /** Functions' settings changed here are stored for every node; config-declared functions are refused. */
  catalog: CatalogService;
}

/** Lambda's limit on a synchronous invocation's payload (the request body of Invoke). */
export const INVOKE_PAYLOAD_LIMIT = 6_291_456;
/** Lambda's limit on an asynchronous invocation's payload (1 MB since 2025). */
export const EVENT_PAYLOAD_LIMIT = 1_048_576;
/**
 * Lambda's limit on a synchronous invocation's response: a larger result fails the invocation with
 * `Function.ResponseSizeTooLarge` (200, X-Amz-Function-Error Unhandled) instead of being returned.
 */
export const RESPONSE_PAYLOAD_LIMIT = 6_291_556;
/** LogType Tail returns the last 4 KB of the execution log. */
const LOG_TAIL_BYTES = 4096;

const runtime = `nodejs${process.versions.node.split('.')[0]}.x`;

/** The existing function a FunctionName names, at `$LATEST` (versions.ts reads versions and aliases). */
export function requireFunction(context: LambdaContext, raw: string, qualifier?: string): string {
  const reference = functionReference(raw, context.arn);
  const wanted = qualifier ?? reference.qualifier;
  if (qualifier !== undefined && reference.qualifier !== undefined && qualifier !== reference.qualifier) {
    throw new SluiceError('InvalidParameterValue', 'The derived qualifier from the function name does not match the specified qualifier.', { field: 'Qualifier' });
  }
  if (reference.foreign || !context.functions.exists(reference.name) || (wanted !== undefined && wanted !== '$LATEST')) {
    throw functionNotFound(context.arn, reference.name, wanted);
  }
  return reference.name;
}

/**
 * The function an operation on `$LATEST` only names (UpdateFunctionCode, UpdateFunctionConfiguration,
 * PublishVersion): a version or an alias in the name is refused with Lambda's message.
 */
export function requireLatest(context: LambdaContext, raw: string): string {
  const reference = functionReference(raw, context.arn);
  if (reference.qualifier !== undefined && reference.qualifier !== '$LATEST') {
    throw new SluiceError(
      'InvalidParameterValue',
      'Current operation does not support versions other than $LATEST. Please set the version to $LATEST or do not set a version in your request.',
      { field: 'FunctionName' },
    );
  }
  return requireFunction(context, raw);
}

export function functionConfiguration(context: LambdaContext, view: FunctionView): Record<string, unknown> {
  // A function created through the API reports what was stored for it; one defined by a program or a
  // config file has no package, and reports its module path as the handler.
  const stored = context.catalog.storedFunction(view.name);
  const code = stored
    ? {
        Runtime: stored.runtime,
        Role: stored.role,
        Handler: stored.handler,
        CodeSize: stored.codeSize,
        Description: stored.description,
        LastModified: lambdaTimestamp(stored.lastModified),
        CodeSha256: stored.codeSha256,
      }
    : {};
  // A program's or config's function has no catalog revision: its id follows its local definition.
  const revisionId =
    context.catalog.functionRevisionId(view.name) ??
    revisionIdOf(view.name, context.functions.lastModified(view.name) + createHash('sha256').update(JSON.stringify(view)).digest().readUInt32BE(0));
  return {
    FunctionName: view.name,
    FunctionArn: view.arn,
    Runtime: runtime,
    // Sluice has no IAM: a fixed role ARN stands where Lambda requires one.
    Role: `arn:aws:iam::${context.arn.accountId}:role/sluice-function`,
    Handler: view.handler,
    CodeSize: 0,
    Description: '',
    Timeout: view.timeout,
    MemorySize: view.memorySize,
    LastModified: lambdaTimestamp(context.functions.lastModified(view.name)),
    CodeSha256: createHash('sha256').update(view.handler).digest('base64'),
    Version: '$LATEST',
    Environment: { Variables: { ...view.environment } },
    TracingConfig: { Mode: 'PassThrough' },
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
    EphemeralStorage: { Size: 512 },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${view.name}` },
    RevisionId: revisionId,
    ...code,
  };
}

/** The event a payload carries: JSON, `{}` when empty (as Lambda gives a handler invoked without one). */
function parsePayload(body: Buffer): unknown {
  if (body.length === 0) return {};
  if (!isUtf8(body)) throw new SluiceError('SerializationException', 'Could not parse request body into json: the payload is not UTF-8');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new SluiceError('SerializationException', `Could not parse request body into json: ${(error as Error).message}`);
  }
}

/**
 * The lines Lambda adds to an execution's log when it fails, so a tail shows why: the Node.js runtime's
 * `ERROR Invoke Error` line with the error as JSON, or Lambda's `Task timed out after N.NN seconds`.
 */
function failureLines(response: InvokeResponse, requestId: string): { lines: string; timedOut: boolean } {
  if (!response.functionError) return { lines: '', timedOut: false };
  const error = (response.payload ?? {}) as Partial<LambdaErrorPayload>;
  const at = new Date().toISOString();
  const timeout = error.errorType === 'Sandbox.Timedout' ? /Task timed out after [\d.]+ seconds/.exec(error.errorMessage ?? '') : null;
  if (timeout) return { lines: `${at} ${requestId} ${timeout[0]}\n`, timedOut: true };
  const json = JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage, stack: error.trace ?? [] });
  return { lines: `${at}\t${requestId}\tERROR\tInvoke Error \t${json}\n`, timedOut: false };
}

/** Lambda's text log of one execution: START, the handler's output, END and REPORT, its last 4 KB base64. */
function logTail(name: string, version: string, context: LambdaContext, response: InvokeResponse, log: NonNullable<InvokeResponse['log']>): string {
  const memory = context.functions.get(name).memorySize;
  const duration = log.durationMs.toFixed(2);
  const failure = failureLines(response, log.requestId);
  const text =
    `START RequestId: ${log.requestId} Version: ${version}\n${log.text}${log.text === '' || log.text.endsWith('\n') ? '' : '\n'}${failure.lines}` +
    `END RequestId: ${log.requestId}\n` +
    `REPORT RequestId: ${log.requestId}\tDuration: ${duration} ms\tBilled Duration: ${Math.max(1, Math.ceil(log.durationMs))} ms\tMemory Size: ${memory} MB\t${failure.timedOut ? 'Status: timeout' : ''}\n`;
  const bytes = Buffer.from(text, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

/**
 * The local function an invocation runs and the version it is: `$LATEST`, a published version (run as
 * `<name>:<N>` on every node), or the version an alias picks by its weights.
 */
function invocationTarget(context: LambdaContext, raw: string, qualifier: string | undefined): { name: string; version: string; invokedArn?: string } {
  const reference = functionReference(raw, context.arn);
  if (qualifier !== undefined && reference.qualifier !== undefined && qualifier !== reference.qualifier) {
    throw new SluiceError('InvalidParameterValue', 'The derived qualifier from the function name does not match the specified qualifier.', { field: 'Qualifier' });
  }
  const wanted = qualifier ?? reference.qualifier;
  const target = reference.foreign ? undefined : context.catalog.versions.resolve(reference.name, wanted);
  if (!target) throw functionNotFound(context.arn, reference.name, wanted);
  // Through an alias, the handler's context.invokedFunctionArn is the alias's ARN, as in Lambda.
  const viaAlias = wanted !== undefined && wanted !== '$LATEST' && !/^[0-9]+$/.test(wanted);
  return { name: target.local, version: target.version, ...(viaAlias ? { invokedArn: context.functions.arnOf(`${reference.name}:${wanted}`) } : {}) };
}

export interface InvokeRequest {
  functionName: string;
  qualifier: string | undefined;
  invocationType: string | undefined;
  logType: string | undefined;
  body: Buffer;
  requestId: string;
  /** Aborts when the client goes away or the node shuts down: a call waiting for a cluster grant gives up. */
  signal?: () => AbortSignal;
}

export async function invoke(context: LambdaContext, request: InvokeRequest): Promise<LambdaResponse> {
  const type = request.invocationType ?? 'RequestResponse';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
    throw constraintError('invocationType', type, 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]');
  }
  const logType = request.logType ?? 'None';
  if (!['None', 'Tail'].includes(logType)) throw constraintError('logType', logType, 'Member must satisfy enum value set: [None, Tail]');
  const { name, version, invokedArn } = invocationTarget(context, request.functionName, request.qualifier);
  const event = parsePayload(request.body);
  const headers = { 'x-amzn-requestid': request.requestId };
  if (type === 'DryRun') return { status: 204, headers, body: '' };
  if (type === 'Event') {
    if (request.body.length > EVENT_PAYLOAD_LIMIT) {
      throw new SluiceError('RequestEntityTooLarge', `${request.body.length} byte payload is too large for the Event invocation type (limit ${EVENT_PAYLOAD_LIMIT} bytes)`);
    }
    // The version is picked now (by the alias's weights); each attempt's handler sees the alias's ARN, as in Lambda.
    const accepted = await context.functions.invokeAsync(name, event, invokedArn !== undefined ? { invokedFunctionArn: invokedArn } : {});
    return { status: 202, headers: { 'x-amzn-requestid': accepted.requestId }, body: '' };
  }
  let response: InvokeResponse;
  try {
    response = await context.functions.invoke(name, event, { via: 'invoke' }, { withLog: logType === 'Tail', ...(request.signal ? { signal: request.signal } : {}), ...(invokedArn !== undefined ? { invokedFunctionArn: invokedArn } : {}) });
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'TooManyRequestsException') {
      const reserved = context.functions.get(name).reservedConcurrency !== null;
      throw new LambdaThrottle(
        'Rate Exceeded.',
        reserved ? 'ReservedFunctionConcurrentInvocationLimitExceeded' : 'ConcurrentInvocationLimitExceeded',
      );
    }
    throw error;
  }
  const { body, functionError } = responseBody(response);
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'x-amzn-requestid': response.log?.requestId ?? request.requestId,
      'x-amz-executed-version': version,
      ...(functionError ? { 'x-amz-function-error': functionError } : {}),
      ...(response.log ? { 'x-amz-log-result': logTail(name, version, context, response, response.log) } : {}),
    },
    body,
  };
}

/** The response's JSON, or Lambda's error for a result over its 6 MB response limit. */
function responseBody(response: InvokeResponse): { body: string; functionError: string | undefined } {
  const body = JSON.stringify(response.payload ?? null);
  if (Buffer.byteLength(body, 'utf8') <= RESPONSE_PAYLOAD_LIMIT) return { body, functionError: response.functionError };
  return {
    body: JSON.stringify({
      errorMessage: `Response payload size exceeded maximum allowed payload size (${RESPONSE_PAYLOAD_LIMIT} bytes).`,
      errorType: 'Function.ResponseSizeTooLarge',
    }),
    functionError: 'Unhandled',
  };
}

export function listFunctions(context: LambdaContext, query: { marker?: string; maxItems?: string }, requestId: string): LambdaResponse {
  const all = unqualified(context).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { items, nextMarker } = page(all, (view) => view.name, query.marker, maxItems(query.maxItems, 50));
  return lambdaJson(
    { Functions: items.map((view) => functionConfiguration(context, view)), ...(nextMarker ? { NextMarker: nextMarker } : {}) },
    requestId,
  );
}

/** The functions at `$LATEST` (the function service lists each once, its versions and aliases nested). */
function unqualified(context: LambdaContext): FunctionView[] {
  return context.functions.list();
}

export async function getFunction(
  context: LambdaContext,
  raw: string,
  qualifier: string | undefined,
  requestId: string,
  /** Signs Code.Location for a function created with a zip (code-location.ts); `base` is this node's URL. */
  location?: (name: string, sha256Hex: string) => string,
): Promise<LambdaResponse> {
  const qualified = await qualifiedConfiguration(context, raw, qualifier);
  const view = context.functions.get(qualified.name);
  const stored = context.catalog.storedFunction(view.name);
  const code = qualified.code ?? (stored ? { name: view.name, sha256Hex: stored.packageSha256 } : undefined);
  return lambdaJson(
    {
      Configuration: qualified.configuration ?? functionConfiguration(context, view),
      ...(code && location ? { Code: { RepositoryType: 'S3', Location: location(code.name, code.sha256Hex) } } : {}),
      ...(view.reservedConcurrency !== null ? { Concurrency: { ReservedConcurrentExecutions: view.reservedConcurrency } } : {}),
      Tags: {},
    },
    requestId,
  );
}

export async function getFunctionConfiguration(context: LambdaContext, raw: string, qualifier: string | undefined, requestId: string): Promise<LambdaResponse> {
  const qualified = await qualifiedConfiguration(context, raw, qualifier);
  return lambdaJson(qualified.configuration ?? functionConfiguration(context, context.functions.get(qualified.name)), requestId);
}

export async function putFunctionConcurrency(context: LambdaContext, raw: string, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const name = requireFunction(context, raw);
  const value = input.ReservedConcurrentExecutions;
  if (value === undefined) {
    throw constraintError('reservedConcurrentExecutions', 'null', 'Member must not be null');
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw constraintError('reservedConcurrentExecutions', value, 'Member must have value greater than or equal to 0');
  }
  const unknown = Object.keys(input).find((key) => key !== 'ReservedConcurrentExecutions');
  if (unknown !== undefined) throw new SluiceError('SerializationException', `Unrecognized field "${unknown.slice(0, 60)}"`);
  const unreservedOthers =
    context.functions.concurrency.accountLimit -
    context.functions.list().reduce((sum, view) => sum + (view.name === name ? 0 : (view.reservedConcurrency ?? 0)), 0);
  if (value > unreservedOthers) {
    // Lambda's words, as its users see them when a reservation leaves too little unreserved (public
    // reports, e.g. "... below its minimum value of [50]."). Lambda keeps 100 (or a new account's 10 or
    // 50) unreserved; a Sluice node lets every slot be reserved, so its minimum is 0.
    throw new SluiceError(
      'InvalidParameterValue',
      `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0].`,
      { field: 'ReservedConcurrentExecutions' },
    );
  }
  await context.catalog.setReservedConcurrency(name, value);
  return lambdaJson({ ReservedConcurrentExecutions: value }, requestId);
}

export async function deleteFunctionConcurrency(context: LambdaContext, raw: string, requestId: string): Promise<LambdaResponse> {
  const name = requireFunction(context, raw);
  await context.catalog.setReservedConcurrency(name, null);
  return { status: 204, headers: { 'x-amzn-requestid': requestId }, body: '' };
}

export function getAccountSettings(context: LambdaContext, requestId: string): LambdaResponse {
  const views = unqualified(context);
  const limit = context.functions.concurrency.accountLimit;
  const reserved = views.reduce((sum, view) => sum + (view.reservedConcurrency ?? 0), 0);
  return lambdaJson(
    {
      // Lambda's code-size quotas, reported as Lambda does; usage counts the zips of functions created
      // through the API (functions a node's config or program defines have no package).
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: limit,
        UnreservedConcurrentExecutions: limit - reserved,
      },
      AccountUsage: { TotalCodeSize: views.reduce((sum, view) => sum + (context.catalog.storedFunction(view.name)?.codeSize ?? 0), 0), FunctionCount: views.length },
    },
    requestId,
  );
}
