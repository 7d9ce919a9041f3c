/**
 * The AWS JSON 1.0/1.1 RPC protocols as a server speaks them: `POST /` with
 * `Content-Type: application/x-amz-json-1.0` and `X-Amz-Target: <TargetPrefix>.<Operation>`, answered
 * with a JSON body; errors as `{"__type": "<namespace>#<Code>", "message": "..."}`.
 *
 * SQS is "query compatible": it also sends `x-amzn-query-error: <LegacyCode>;Sender|Receiver`. The
 * JavaScript SDK v3 (checked against @aws-sdk/client-sqs 3.1169 / @aws-sdk/core protocols) reads that
 * header first, takes its code as the error code, and when the code is a legacy one (such as
 * `AWS.SimpleQueueService.NonExistentQueue`) finds the modelled error whose `awsQueryError` trait names it,
 * so `error.name` is the modern name (`QueueDoesNotExist`) while `error.Code` and `error.Error.Code` keep
 * the legacy code and `error.Type` / `error.Error.Type` say Sender or Receiver. Services that are not
 * query compatible (Step Functions) are identified by `__type` alone, with the namespace stripped.
 */
import { SluiceError, errorCatalog } from '../../model/errors.js';

export interface AwsJsonService {
  /** The `X-Amz-Target` prefix, e.g. `AmazonSQS`. */
  targetPrefix: string;
  /** The Smithy namespace used in `__type`, e.g. `com.amazonaws.sqs`. */
  namespace: string;
  jsonVersion: '1.0' | '1.1';
  /** Whether errors carry the `x-amzn-query-error` header with the query protocol's code. */
  queryCompatible: boolean;
}

export const SQS_JSON: AwsJsonService = {
  targetPrefix: 'AmazonSQS',
  namespace: 'com.amazonaws.sqs',
  jsonVersion: '1.0',
  queryCompatible: true,
};

export const SFN_JSON: AwsJsonService = {
  targetPrefix: 'AWSStepFunctions',
  namespace: 'com.amazonaws.sfn',
  jsonVersion: '1.0',
  queryCompatible: false,
};

export const DYNAMODB_JSON: AwsJsonService = {
  targetPrefix: 'DynamoDB_20120810',
  namespace: 'com.amazonaws.dynamodb.v20120810',
  jsonVersion: '1.0',
  queryCompatible: false,
};

export const DYNAMODB_STREAMS_JSON: AwsJsonService = {
  targetPrefix: 'DynamoDBStreams_20120810',
  namespace: 'com.amazonaws.dynamodb.v20120810',
  jsonVersion: '1.0',
  queryCompatible: false,
};

export interface AmzTarget {
  servicePrefix: string;
  operation: string;
}

/**
 * Splits `X-Amz-Target` at its last dot: `AmazonSQS.SendMessage` → `{ servicePrefix: 'AmazonSQS',
 * operation: 'SendMessage' }`. Returns undefined when the header is missing or malformed; AWS answers
 * that (and an unknown operation) with `UnknownOperationException`.
 */
export function parseAmzTarget(value: string | undefined): AmzTarget | undefined {
  if (value === undefined) return undefined;
  const dot = value.lastIndexOf('.');
  const servicePrefix = value.slice(0, dot);
  const operation = value.slice(dot + 1);
  if (dot <= 0 || !/^[A-Za-z][A-Za-z0-9]*$/.test(operation) || !/^[A-Za-z][\w.]*$/.test(servicePrefix)) {
    return undefined;
  }
  return { servicePrefix, operation };
}

export function awsJsonContentType(service: AwsJsonService): string {
  return `application/x-amz-json-${service.jsonVersion}`;
}

export interface AwsJsonResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A successful response carrying `payload` as the operation's output. */
export function awsJsonResponse(
  service: AwsJsonService,
  payload: object,
  requestId?: string,
): AwsJsonResponse {
  return { status: 200, headers: baseHeaders(service, requestId), body: JSON.stringify(payload) };
}

/**
 * The error response for `error`. A SluiceError keeps its code, status and message; anything else
 * becomes InternalFailure with a generic message, so internal details never reach the client.
 */
export function awsJsonErrorResponse(
  service: AwsJsonService,
  error: unknown,
  requestId?: string,
): AwsJsonResponse {
  const failure =
    error instanceof SluiceError
      ? error
      : new SluiceError('InternalFailure', 'We encountered an internal error. Please try again.', {
          cause: error,
        });
  const entry: { status: number; sender: boolean; legacy?: string } = errorCatalog[failure.code];
  const headers = baseHeaders(service, requestId);
  if (service.queryCompatible) {
    headers['x-amzn-query-error'] = `${entry.legacy ?? failure.code};${entry.sender ? 'Sender' : 'Receiver'}`;
  }
  return {
    status: entry.status,
    headers,
    body: JSON.stringify({ __type: `${service.namespace}#${failure.code}`, message: failure.message }),
  };
}

function baseHeaders(service: AwsJsonService, requestId: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': awsJsonContentType(service) };
  if (requestId !== undefined) headers['x-amzn-requestid'] = requestId;
  return headers;
}
