/**
 * The DynamoDB and DynamoDB Streams endpoints: `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`
 * or `DynamoDBStreams_20120810.<Operation>`, `application/x-amz-json-1.0`, signed with SigV4 for the
 * service `dynamodb` (both), so the unmodified `@aws-sdk/client-dynamodb`, `@aws-sdk/lib-dynamodb`,
 * `@aws-sdk/client-dynamodb-streams` and the AWS CLI work against a node. Like the Step Functions
 * endpoint, a pre-handler takes these requests at `/` before the SQS handler sees them (the route's
 * onRequest hook has already checked the signature's headers against the `dynamodb` scope).
 *
 * `handleDynamoDbRequest` is the protocol as a function of the target and the body; errors keep
 * DynamoDB's shape: HTTP 400 for every client error, `{"__type": "...#Code", "message": "..."}`, plus
 * the failed item (`Item`) or the `CancellationReasons` the SDK surfaces on its exception.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../../../model/errors.js';
import { ConditionalCheckFailed, TransactionCanceled } from '../../../tables/errors.js';
import { checkAwsSignature } from '../../auth/aws-signature.js';
import type { AuthSettings } from '../../auth/credentials.js';
import { parseJsonObject } from '../../validation.js';
import {
  awsJsonErrorResponse,
  awsJsonResponse,
  DYNAMODB_JSON,
  DYNAMODB_STREAMS_JSON,
  parseAmzTarget,
  type AwsJsonResponse,
  type AwsJsonService,
} from '../json-protocol.js';
import { encodeItem } from './attribute-values.js';
import { itemOperations } from './item-operations.js';
import { streamOperations, type StreamsContext } from './stream-operations.js';
import { tableOperations, type DynamoDbContext } from './table-operations.js';
import { WireInput } from './wire-input.js';

type Operation<C> = (input: WireInput, context: C) => Promise<object>;

const dynamoDbOperations: Record<string, Operation<DynamoDbContext>> = {
  ...tableOperations,
  ...itemOperations,
};
const streamsOperations: Record<string, Operation<StreamsContext>> = streamOperations;

export type DynamoDbEndpointContext = DynamoDbContext & StreamsContext;

/** The operations served, as X-Amz-Target values (for docs and fuzzing). */
export const dynamoDbTargets: readonly string[] = [
  ...Object.keys(dynamoDbOperations).map((operation) => `${DYNAMODB_JSON.targetPrefix}.${operation}`),
  ...Object.keys(streamsOperations).map((operation) => `${DYNAMODB_STREAMS_JSON.targetPrefix}.${operation}`),
];

/** DynamoDB answers every client error with 400 (the catalog's 404 and 409 are the native API's). */
export function dynamoDbErrorResponse(service: AwsJsonService, error: unknown, requestId?: string): AwsJsonResponse {
  // The library's generic input codes are ValidationException in DynamoDB.
  const failure =
    error instanceof SluiceError &&
    (error.code === 'InvalidParameterValue' || error.code === 'MissingParameter')
      ? new SluiceError('ValidationException', error.message, error.field ? { field: error.field } : {})
      : error;
  const response = awsJsonErrorResponse(service, failure, requestId);
  if (response.status >= 400 && response.status < 500 && response.status !== 413) response.status = 400;
  if (error instanceof ConditionalCheckFailed && error.item) {
    const body = JSON.parse(response.body) as Record<string, unknown>;
    body.Item = encodeItem(error.item);
    response.body = JSON.stringify(body);
  } else if (error instanceof TransactionCanceled) {
    const body = JSON.parse(response.body) as Record<string, unknown>;
    body.CancellationReasons = error.cancellationReasons.map((reason) => ({
      Code: reason.code,
      ...(reason.message !== undefined ? { Message: reason.message } : {}),
      ...(reason.item ? { Item: encodeItem(reason.item) } : {}),
    }));
    response.body = JSON.stringify(body);
  }
  return response;
}

function unknownOperation(
  service: AwsJsonService,
  target: string | undefined,
  served: Record<string, unknown>,
): SluiceError {
  return new SluiceError(
    'UnknownOperationException',
    `X-Amz-Target: ${JSON.stringify((target ?? '').slice(0, 120))} is not an operation of ${service.targetPrefix} that Sluice serves (${Object.keys(served).join(', ')})`,
    { field: 'X-Amz-Target' },
  );
}

/** Answers one DynamoDB or DynamoDB Streams JSON-protocol request; `target` is the X-Amz-Target header. */
export async function handleDynamoDbRequest(
  context: DynamoDbEndpointContext,
  target: string | undefined,
  body: Buffer,
  requestId?: string,
): Promise<AwsJsonResponse> {
  const parsed = parseAmzTarget(target);
  const service =
    parsed?.servicePrefix === DYNAMODB_STREAMS_JSON.targetPrefix ? DYNAMODB_STREAMS_JSON : DYNAMODB_JSON;
  try {
    const table: Record<string, Operation<DynamoDbEndpointContext>> = service === DYNAMODB_STREAMS_JSON
      ? streamsOperations
      : dynamoDbOperations;
    if (!parsed || parsed.servicePrefix !== service.targetPrefix || !Object.hasOwn(table, parsed.operation)) {
      throw unknownOperation(service, target, table);
    }
    if (!isUtf8(body))
      throw new SluiceError('SerializationException', 'The request body is not valid UTF-8.');
    const input = parseJsonObject(body, { allowEmpty: true, utf8Checked: true });
    const output = await table[parsed.operation]!(new WireInput(input), context);
    return awsJsonResponse(service, output, requestId);
  } catch (error) {
    return dynamoDbErrorResponse(service, error, requestId);
  }
}

export function isDynamoDbRequest(request: FastifyRequest): boolean {
  const target = request.headers['x-amz-target'];
  return (
    typeof target === 'string' &&
    (target.startsWith(`${DYNAMODB_JSON.targetPrefix}.`) ||
      target.startsWith(`${DYNAMODB_STREAMS_JSON.targetPrefix}.`)) &&
    request.url.split('?')[0] === '/'
  );
}

export interface DynamoDbEndpointOptions {
  context: DynamoDbEndpointContext;
  auth: AuthSettings;
}

/** Serves DynamoDB and DynamoDB Streams requests at `/` ahead of the SQS endpoint's handler. */
export function registerDynamoDbEndpoint(app: FastifyInstance, options: DynamoDbEndpointOptions): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isDynamoDbRequest(request)) return;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const target = request.headers['x-amz-target'] as string;
    const authError = checkAwsSignature({
      request,
      body,
      auth: options.auth,
      service: 'dynamodb',
      now: Date.now(),
    });
    const response = authError
      ? dynamoDbErrorResponse(
          target.startsWith(DYNAMODB_STREAMS_JSON.targetPrefix) ? DYNAMODB_STREAMS_JSON : DYNAMODB_JSON,
          authError,
          request.id,
        )
      : await handleDynamoDbRequest(options.context, target, body, request.id);
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
}
