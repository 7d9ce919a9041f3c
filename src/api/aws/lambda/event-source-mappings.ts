/**
 * Lambda's event source mapping operations (Create, List, Get, Update, DeleteEventSourceMapping) over
 * Sluice's triggers: an SQS queue's ARN maps onto a queue trigger (TriggerService), a DynamoDB stream's
 * ARN onto a stream trigger (StreamTriggerService). Each field Sluice supports is passed to the service,
 * which validates it with Lambda's limits; a field of another source type, or of a source Sluice does
 * not have (Kafka, MQ, DocumentDB, Kinesis), is refused by name, before anything is created.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CatalogService, MappingView } from '../../../catalog/service.js';
import { parseArn, type ArnContext } from '../../../model/arn.js';
import { SluiceError } from '../../../model/errors.js';
import type { FunctionService } from '../../../functions/service.js';
import type { TriggerService } from '../../../triggers/service.js';
import type { TriggerInput, TriggerUpdate, TriggerView } from '../../../triggers/types.js';
import type { StreamTriggerService } from '../../../triggers/stream/stream-service.js';
import type { StreamTriggerInput, StreamTriggerUpdate, StreamTriggerView } from '../../../triggers/stream/stream-types.js';
import { constraintError, functionNotFound, functionReference, lambdaJson, maxItems, page, queryValue, type LambdaResponse } from './wire.js';
import { definedMembers } from '../../../model/defined.js';
import { afterCatchUp } from './catch-up.js';

export interface MappingContext {
  functions: FunctionService;
  triggers: TriggerService;
  streamTriggers: StreamTriggerService;
  arn: ArnContext;
  /** Mappings created, changed and deleted here are stored for every node; config-declared ones are refused. */
  catalog: CatalogService;
}

type Body = Record<string, unknown>;

/** The members each operation accepts; anything else is refused by name. */
const queueMembers = ['FunctionName', 'EventSourceArn', 'Enabled', 'BatchSize', 'MaximumBatchingWindowInSeconds', 'FilterCriteria', 'FunctionResponseTypes', 'ScalingConfig'];
const streamMembers = [
  'FunctionName', 'EventSourceArn', 'Enabled', 'BatchSize', 'MaximumBatchingWindowInSeconds', 'FilterCriteria', 'FunctionResponseTypes',
  'StartingPosition', 'StartingPositionTimestamp', 'ParallelizationFactor', 'BisectBatchOnFunctionError', 'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds', 'DestinationConfig', 'TumblingWindowInSeconds',
];

function invalid(message: string, field: string): SluiceError {
  return new SluiceError('InvalidParameterValue', message, { field });
}

function refuseOthers(body: Body, allowed: readonly string[], kind: string, ignore: readonly string[] = []): void {
  for (const key of Object.keys(body)) {
    if (allowed.includes(key) || ignore.includes(key) || body[key] === null) continue;
    throw invalid(`Unsupported ${key.slice(0, 60)} parameter for given event source mapping type (${kind}).`, key);
  }
}

const jsonTypes = { string: 'a string', integer: 'an integer', boolean: 'a boolean', object: 'an object' } as const;
type JsonType = keyof typeof jsonTypes;
type JsonValue<T extends JsonType> = T extends 'string' ? string : T extends 'integer' | 'number' ? number : T extends 'boolean' ? boolean : Body;

function isType(value: unknown, type: JsonType): boolean {
  if (type === 'integer') return typeof value === 'number' && Number.isInteger(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}

/** A member of the request of the given JSON type, or undefined when absent or null. */
function member<T extends JsonType>(body: Body, key: string, type: T): JsonValue<T> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!isType(value, type)) throw new SluiceError('SerializationException', `${key}: expected ${jsonTypes[type]}`);
  return value as JsonValue<T>;
}

const string = (body: Body, key: string) => member(body, key, 'string');
const integer = (body: Body, key: string) => member(body, key, 'integer');
const boolean = (body: Body, key: string) => member(body, key, 'boolean');
const object = (body: Body, key: string) => member(body, key, 'object');

type Source = { kind: 'queue'; queue: string } | { kind: 'stream'; stream: string };

function sourceOf(arnText: string | undefined, context: MappingContext): Source {
  if (arnText === undefined) throw invalid('EventSourceArn: the request must contain this parameter', 'EventSourceArn');
  const arn = parseArn(arnText);
  const foreign = arn && (arn.region !== context.arn.region || arn.accountId !== context.arn.accountId);
  if (arn?.service === 'sqs' && !foreign) return { kind: 'queue', queue: arnText };
  if (arn?.service === 'dynamodb' && /^table\/[^/]+\/stream\/.+$/.test(arn.resource) && !foreign) return { kind: 'stream', stream: arnText };
  throw invalid(
    `Unrecognized event source, must be an SQS queue or a DynamoDB stream of this node (${context.arn.region}, ${context.arn.accountId}): ${arnText.slice(0, 200)}`,
    'EventSourceArn',
  );
}

/**
 * The function a mapping invokes: a name (or `$LATEST`), a published version, which every node runs as
 * the function `<name>:<N>`, or an alias, `<name>:<alias>`, which picks a version at each invocation
 * (catalog/catalog-versions.ts).
 */
function functionNameOf(raw: string, context: MappingContext): string {
  const reference = functionReference(raw, context.arn, 'functionName', 140);
  const version = reference.qualifier === undefined || reference.qualifier === '$LATEST' ? undefined : reference.qualifier;
  const local = version === undefined ? reference.name : `${reference.name}:${version}`;
  // A version runs as `<name>:<N>`, an alias as `<name>:<alias>` routing to its versions.
  if (reference.foreign || !context.functions.exists(reference.name) || !context.functions.exists(local)) {
    throw functionNotFound(context.arn, reference.name, reference.qualifier);
  }
  return local;
}

function scaling(body: Body): TriggerInput['scalingConfig'] | undefined {
  const config = object(body, 'ScalingConfig');
  if (config === undefined) return body.ScalingConfig === null ? null : undefined;
  refuseOthers(config, ['MaximumConcurrency'], 'ScalingConfig');
  const maximumConcurrency = integer(config, 'MaximumConcurrency');
  return maximumConcurrency === undefined ? null : { maximumConcurrency };
}

function onFailure(body: Body): StreamTriggerInput['destinationConfig'] | undefined {
  const config = object(body, 'DestinationConfig');
  if (config === undefined) return undefined;
  refuseOthers(config, ['OnFailure'], 'DestinationConfig', ['OnSuccess']);
  if (object(config, 'OnSuccess') !== undefined) throw invalid('Unsupported DestinationConfig.OnSuccess parameter for given event source mapping type.', 'DestinationConfig.OnSuccess');
  const failure = object(config, 'OnFailure');
  const destination = failure ? string(failure, 'Destination') : undefined;
  return { onFailure: destination === undefined ? null : { destination } };
}

function filterCriteria(body: Body): TriggerInput['filterCriteria'] | undefined {
  const value = object(body, 'FilterCriteria');
  if (value === undefined) return body.FilterCriteria === null ? null : undefined;
  // The services check the shape and every pattern with Lambda's messages.
  return value as unknown as TriggerInput['filterCriteria'];
}

function responseTypes(body: Body): TriggerInput['functionResponseTypes'] | undefined {
  const value = body.FunctionResponseTypes;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new SluiceError('SerializationException', 'FunctionResponseTypes: expected a list');
  for (const item of value) {
    if (item !== 'ReportBatchItemFailures') {
      throw new SluiceError(
        'ValidationException',
        `1 validation error detected: Value '[${String(item).slice(0, 60)}]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]`,
        { field: 'FunctionResponseTypes' },
      );
    }
  }
  return value as TriggerInput['functionResponseTypes'];
}

/**
 * The ranges Lambda's API model gives these members: a value outside one is refused before the service
 * sees it, with the model's ValidationException (the service's own rules, such as a record age of 1-59
 * seconds, come after, as InvalidParameterValueException).
 */
const modelRanges: Array<[path: string[], wire: string, min: number, max: number]> = [
  [['BatchSize'], 'batchSize', 1, 10_000],
  [['MaximumBatchingWindowInSeconds'], 'maximumBatchingWindowInSeconds', 0, 300],
  [['ParallelizationFactor'], 'parallelizationFactor', 1, 10],
  [['MaximumRetryAttempts'], 'maximumRetryAttempts', -1, 10_000],
  [['MaximumRecordAgeInSeconds'], 'maximumRecordAgeInSeconds', -1, 604_800],
  [['TumblingWindowInSeconds'], 'tumblingWindowInSeconds', 0, 900],
  [['ScalingConfig', 'MaximumConcurrency'], 'scalingConfig.maximumConcurrency', 2, 1000],
];

function checkModelRanges(body: Body): void {
  for (const [path, wire, min, max] of modelRanges) {
    let value: unknown = body;
    for (const key of path) value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body)[key] : undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) continue;
    if (value < min) throw constraintError(wire, value, `Member must have value greater than or equal to ${min}`);
    if (value > max) throw constraintError(wire, value, `Member must have value less than or equal to ${max}`);
  }
}

/** The fields queue and stream mappings share. */
function sharedFields(body: Body) {
  return {
    enabled: boolean(body, 'Enabled'),
    batchSize: integer(body, 'BatchSize'),
    maximumBatchingWindowInSeconds: integer(body, 'MaximumBatchingWindowInSeconds'),
    filterCriteria: filterCriteria(body),
    functionResponseTypes: responseTypes(body),
  };
}

function queueFields(body: Body): TriggerUpdate {
  return definedMembers({ ...sharedFields(body), scalingConfig: scaling(body) });
}

function streamFields(body: Body): StreamTriggerUpdate {
  return definedMembers({
    ...sharedFields(body),
    parallelizationFactor: integer(body, 'ParallelizationFactor'),
    bisectBatchOnFunctionError: boolean(body, 'BisectBatchOnFunctionError'),
    maximumRetryAttempts: integer(body, 'MaximumRetryAttempts'),
    maximumRecordAgeInSeconds: integer(body, 'MaximumRecordAgeInSeconds'),
    destinationConfig: onFailure(body),
    tumblingWindowInSeconds: integer(body, 'TumblingWindowInSeconds'),
  });
}

function common(view: TriggerView | StreamTriggerView, context: MappingContext, state?: string): Body {
  return {
    UUID: view.uuid,
    EventSourceMappingArn: `arn:aws:lambda:${context.arn.region}:${context.arn.accountId}:event-source-mapping:${view.uuid}`,
    EventSourceArn: view.eventSourceArn,
    FunctionArn: view.functionArn,
    BatchSize: view.batchSize,
    MaximumBatchingWindowInSeconds: view.maximumBatchingWindowInSeconds,
    ...(view.filterCriteria ? { FilterCriteria: view.filterCriteria } : {}),
    FunctionResponseTypes: view.functionResponseTypes,
    // Epoch seconds, as Lambda's JSON carries timestamps.
    LastModified: view.lastModified / 1000,
    State: state ?? view.state,
    StateTransitionReason: view.stateTransitionReason,
  };
}

function queueMapping(view: TriggerView, context: MappingContext, state?: string): Body {
  return {
    ...common(view, context, state),
    ...(view.scalingConfig.maximumConcurrency !== undefined ? { ScalingConfig: { MaximumConcurrency: view.scalingConfig.maximumConcurrency } } : {}),
  };
}

function streamMapping(view: StreamTriggerView, context: MappingContext, state?: string): Body {
  return {
    ...common(view, context, state),
    StartingPosition: view.startingPosition,
    ParallelizationFactor: view.parallelizationFactor,
    BisectBatchOnFunctionError: view.bisectBatchOnFunctionError,
    MaximumRetryAttempts: view.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: view.maximumRecordAgeInSeconds,
    TumblingWindowInSeconds: view.tumblingWindowInSeconds,
    DestinationConfig: view.destinationConfig.onFailure ? { OnFailure: { Destination: view.destinationConfig.onFailure.destination } } : {},
    LastProcessingResult: view.lastProcessingResult,
  };
}

function render(found: MappingView, context: MappingContext, state?: string): Body {
  return found.source === 'queue' ? queueMapping(found.view, context, state) : streamMapping(found.view, context, state);
}

/**
 * A standard queue's mapping with more than 10 messages a batch needs a batching window. The trigger
 * service refuses it too (naming the field, for the library); Lambda's clients get Lambda's sentence.
 * Group limits (GroupBy, set only outside this API) take no window, and FIFO queues have their own limit.
 */
function requireWindowAbove10(queueArn: string, fields: TriggerUpdate, current?: TriggerView): void {
  if (queueArn.endsWith('.fifo') || (current?.groupBy ?? null) !== null) return;
  const batchSize = fields.batchSize ?? current?.batchSize ?? 10;
  const window = fields.maximumBatchingWindowInSeconds ?? current?.maximumBatchingWindowInSeconds ?? 0;
  if (typeof batchSize === 'number' && batchSize > 10 && batchSize <= 10_000 && window === 0) {
    throw invalid('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10', 'MaximumBatchingWindowInSeconds');
  }
}

/**
 * A FIFO queue's mapping takes at most 10 messages a batch and no batching window. The trigger service
 * refuses both too (naming the field); Lambda's clients get Lambda's sentences, as public reports quote
 * them: "Maximum batch size must be between 1 and 10 inclusive" (the SQS limit before standard queues
 * went to 10,000, still FIFO's) and "Batching window is not supported for FIFO queues".
 */
function requireFifoLimits(queueArn: string, fields: TriggerUpdate, current?: TriggerView): void {
  if (!queueArn.endsWith('.fifo')) return;
  const batchSize = fields.batchSize ?? current?.batchSize ?? 10;
  if (typeof batchSize === 'number' && batchSize > 10 && batchSize <= 10_000) {
    throw invalid('Maximum batch size must be between 1 and 10 inclusive', 'BatchSize');
  }
  const window = fields.maximumBatchingWindowInSeconds ?? current?.maximumBatchingWindowInSeconds ?? 0;
  if (typeof window === 'number' && window > 0 && window <= 300) {
    throw invalid('Batching window is not supported for FIFO queues', 'MaximumBatchingWindowInSeconds');
  }
}

/**
 * A second mapping from one source to one function is refused by the trigger services; Lambda words
 * that refusal differently for a queue and a stream, naming the existing mapping's UUID (clients such
 * as deploy tools read it to update that mapping instead).
 */
function duplicateInLambdaWords(error: unknown, context: MappingContext, sourceArn: string, functionName: string, kind: Source['kind']): unknown {
  if (!(error instanceof SluiceError) || error.code !== 'ResourceConflictException') return error;
  const views: Array<TriggerView | StreamTriggerView> = kind === 'queue' ? context.triggers.list() : context.streamTriggers.list();
  const existing = views.find((view) => view.eventSourceArn === sourceArn && view.functionName === functionName);
  if (!existing) return error;
  return new SluiceError(
    'ResourceConflictException',
    kind === 'queue'
      ? `An event source mapping with SQS arn (" ${sourceArn} ") and function (" ${functionName} ") already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`
      : `The event source arn (" ${sourceArn} ") and function (" ${functionName} ") provided mapping already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`,
    { field: 'EventSourceArn' },
  );
}

export async function createEventSourceMapping(context: MappingContext, body: Body, requestId: string): Promise<LambdaResponse> {
  checkModelRanges(body);
  const source = sourceOf(string(body, 'EventSourceArn'), context);
  const rawName = string(body, 'FunctionName');
  if (rawName === undefined) throw invalid('FunctionName: the request must contain this parameter', 'FunctionName');
  if (source.kind === 'queue') {
    refuseOthers(body, queueMembers, 'SQS');
    const fields = queueFields(body);
    const functionName = functionNameOf(rawName, context);
    requireWindowAbove10(source.queue, fields);
    requireFifoLimits(source.queue, fields);
    const input = { ...fields, queue: source.queue, functionName, uuid: randomUUID() } as TriggerInput & { uuid: string };
    const created = await context.catalog.createMapping({ source: 'queue', input }).catch((error: unknown) => {
      throw duplicateInLambdaWords(error, context, source.queue, functionName, 'queue');
    });
    return lambdaJson(render(created, context), requestId, 202);
  }
  refuseOthers(body, streamMembers, 'DynamoDB Streams');
  const fields = streamFields(body);
  const startingPosition = string(body, 'StartingPosition');
  if (startingPosition === undefined) throw invalid('StartingPosition is required for a DynamoDB stream event source.', 'StartingPosition');
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST') {
    throw invalid(`Unsupported starting position ${startingPosition.slice(0, 40)} for a DynamoDB stream: TRIM_HORIZON or LATEST`, 'StartingPosition');
  }
  if (body.StartingPositionTimestamp !== undefined && body.StartingPositionTimestamp !== null) {
    throw invalid('StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP, which DynamoDB streams do not support.', 'StartingPositionTimestamp');
  }
  const functionName = functionNameOf(rawName, context);
  const input = { ...fields, stream: source.stream, functionName, startingPosition, uuid: randomUUID() } as StreamTriggerInput & { uuid: string };
  const created = await context.catalog.createMapping({ source: 'stream', input }).catch((error: unknown) => {
    throw duplicateInLambdaWords(error, context, source.stream, functionName, 'stream');
  });
  return lambdaJson(render(created, context), requestId, 202);
}

export function getEventSourceMapping(context: MappingContext, uuid: string, requestId: string): LambdaResponse {
  return lambdaJson(render(context.catalog.localMapping(uuid), context), requestId);
}

export async function updateEventSourceMapping(context: MappingContext, uuid: string, body: Body, requestId: string): Promise<LambdaResponse> {
  checkModelRanges(body);
  const found = context.catalog.localMapping(uuid);
  const functionName = body.FunctionName === undefined || body.FunctionName === null ? undefined : functionNameOf(string(body, 'FunctionName')!, context);
  const named = functionName === undefined ? {} : { functionName };
  if (found.source === 'queue') {
    refuseOthers(body, queueMembers.filter((key) => key !== 'EventSourceArn'), 'SQS');
  } else {
    refuseOthers(body, streamMembers.filter((key) => !['EventSourceArn', 'StartingPosition', 'StartingPositionTimestamp'].includes(key)), 'DynamoDB Streams');
  }
  const fields = found.source === 'queue' ? queueFields(body) : streamFields(body);
  if (found.source === 'queue') {
    requireWindowAbove10(found.view.eventSourceArn, fields, found.view);
    requireFifoLimits(found.view.eventSourceArn, fields, found.view);
  }
  return lambdaJson(render(await context.catalog.updateMapping(uuid, { ...fields, ...named }), context), requestId, 202);
}

export async function deleteEventSourceMapping(context: MappingContext, uuid: string, requestId: string): Promise<LambdaResponse> {
  return lambdaJson(render(await context.catalog.deleteMapping(uuid), context, 'Deleting'), requestId, 202);
}

export function listEventSourceMappings(
  context: MappingContext,
  query: { eventSourceArn?: string; functionName?: string; marker?: string; maxItems?: string },
  requestId: string,
): LambdaResponse {
  const reference = query.functionName === undefined ? undefined : functionReference(query.functionName, context.arn, 'functionName', 140);
  // A version's mappings run the function `<name>:<N>`.
  const functionName = reference === undefined ? undefined : reference.qualifier === undefined || reference.qualifier === '$LATEST' ? reference.name : `${reference.name}:${reference.qualifier}`;
  const all = [
    ...context.triggers.list().map((view) => ({ uuid: view.uuid, arn: view.eventSourceArn, fn: view.functionName, body: () => queueMapping(view, context) })),
    ...context.streamTriggers.list().map((view) => ({ uuid: view.uuid, arn: view.eventSourceArn, fn: view.functionName, body: () => streamMapping(view, context) })),
  ]
    .filter((entry) => (query.eventSourceArn === undefined || entry.arn === query.eventSourceArn) && (functionName === undefined || entry.fn === functionName))
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  const { items, nextMarker } = page(all, (entry) => entry.uuid, query.marker, maxItems(query.maxItems, 100));
  return lambdaJson({ EventSourceMappings: items.map((entry) => entry.body()), ...(nextMarker ? { NextMarker: nextMarker } : {}) }, requestId);
}

interface RouteTools {
  send(reply: FastifyReply, response: LambdaResponse): FastifyReply;
  jsonBody(request: FastifyRequest): Body;
  param(request: FastifyRequest, name: string): string;
}

export function eventSourceMappingRoutes(scope: FastifyInstance, context: MappingContext, tools: RouteTools): void {
  const { send, jsonBody, param } = tools;
  scope.post('/2015-03-31/event-source-mappings', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => createEventSourceMapping(context, jsonBody(request), request.id))),
  );
  scope.get('/2015-03-31/event-source-mappings', async (request, reply) => {
    const query = Object.fromEntries(
      (
        [
          ['eventSourceArn', 'EventSourceArn'],
          ['functionName', 'FunctionName'],
          ['marker', 'Marker'],
          ['maxItems', 'MaxItems'],
        ] as const
      )
        .map(([key, name]) => [key, queryValue(request.query, name)])
        .filter(([, value]) => value !== undefined),
    ) as Parameters<typeof listEventSourceMappings>[1];
    return send(reply, listEventSourceMappings(context, query, request.id));
  });
  scope.get('/2015-03-31/event-source-mappings/:uuid', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => getEventSourceMapping(context, param(request, 'uuid'), request.id))),
  );
  scope.put('/2015-03-31/event-source-mappings/:uuid', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => updateEventSourceMapping(context, param(request, 'uuid'), jsonBody(request), request.id))),
  );
  scope.delete('/2015-03-31/event-source-mappings/:uuid', async (request, reply) =>
    send(reply, await afterCatchUp(context.catalog, () => deleteEventSourceMapping(context, param(request, 'uuid'), request.id))),
  );
}
