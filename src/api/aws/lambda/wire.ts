/**
 * Lambda's REST-JSON wire conventions, shared by its operations: how a function is named (a name, a
 * full or partial ARN, an optional qualifier), how errors look (the HTTP status of the error,
 * `X-Amzn-ErrorType` naming it, `{"Type": "User", "Message": ...}`), and the validation messages Lambda
 * answers with (`1 validation error detected: Value ... at 'functionName' failed to satisfy constraint`).
 */
import type { ArnContext } from '../../../model/arn.js';
import { SluiceError } from '../../../model/errors.js';
import { queryValue, restJson, restJsonError, type RestJsonResponse } from '../rest-json.js';

export type LambdaResponse = RestJsonResponse;

/** Sluice's catalog codes as Lambda names them, with Lambda's status for each. */
const lambdaCodes: Record<string, { code: string; status: number }> = {
  InvalidParameterValue: { code: 'InvalidParameterValueException', status: 400 },
  MissingParameter: { code: 'InvalidParameterValueException', status: 400 },
  InvalidAttributeValue: { code: 'InvalidParameterValueException', status: 400 },
  SerializationException: { code: 'InvalidRequestContentException', status: 400 },
  InvalidMessageContents: { code: 'InvalidRequestContentException', status: 400 },
  RequestEntityTooLarge: { code: 'RequestTooLargeException', status: 413 },
  QueueDoesNotExist: { code: 'ResourceNotFoundException', status: 404 },
  ServiceUnavailable: { code: 'ServiceException', status: 503 },
  InternalFailure: { code: 'ServiceException', status: 500 },
};

/** A failure in Lambda's error shape; `extra` adds members (TooManyRequestsException's Reason). */
export function lambdaErrorResponse(error: unknown, requestId: string, extra: Record<string, unknown> = {}): LambdaResponse {
  const reason = error instanceof LambdaThrottle ? { Reason: error.reason } : {};
  return restJsonError({
    error,
    requestId,
    codes: lambdaCodes,
    // Lambda's errors carry `Type` and `Message` (TooManyRequestsException spells it `message`): both are sent.
    members: (failure) => ({ Type: failure.status >= 500 ? 'Service' : 'User', Message: failure.message, message: failure.message, ...reason, ...extra }),
  });
}

/** TooManyRequestsException with Lambda's Reason. */
export class LambdaThrottle extends SluiceError {
  constructor(
    message: string,
    readonly reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded',
  ) {
    super('TooManyRequestsException', message);
  }
}

/** Lambda's JSON response: `status` 200 unless the operation says otherwise. */
export const lambdaJson = restJson;

/** Lambda's (and the AWS SDK's model) message for a member that breaks a constraint. */
export function constraintError(member: string, value: unknown, constraint: string): SluiceError {
  const shown = typeof value === 'string' ? value.slice(0, 200) : JSON.stringify(value);
  return new SluiceError(
    'ValidationException',
    `1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`,
    { field: member },
  );
}

const FUNCTION_NAME_PATTERN =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export interface FunctionReference {
  name: string;
  /** `$LATEST`, a version or an alias; undefined when none was given. */
  qualifier: string | undefined;
  /** Set when the reference named a region or an account other than the node's: no such function. */
  foreign: boolean;
}

/**
 * A FunctionName as Lambda accepts it: `my-function`, `123456789012:function:my-function`,
 * `arn:aws:lambda:us-east-1:123456789012:function:my-function`, each with an optional `:qualifier`.
 */
export function functionReference(raw: string, arn: ArnContext, member = 'functionName', maxLength = 170): FunctionReference {
  if (raw.length < 1 || raw.length > maxLength) {
    throw constraintError(member, raw, `Member must have length less than or equal to ${maxLength}`);
  }
  const match = FUNCTION_NAME_PATTERN.exec(raw);
  const name = match?.[7];
  if (!match || !name || name.length > 64) {
    throw constraintError(member, raw, `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN.source.slice(1, -1)}`);
  }
  const region = match[3]?.slice(0, -1);
  const account = match[5]?.slice(0, -1);
  return {
    name,
    qualifier: match[9],
    foreign: (region !== undefined && region !== arn.region) || (account !== undefined && account !== arn.accountId),
  };
}

/** Lambda's message for a missing function, naming its ARN (with the qualifier asked for). */
export function functionNotFound(arn: ArnContext, name: string, qualifier?: string): SluiceError {
  return new SluiceError(
    'ResourceNotFoundException',
    `Function not found: arn:aws:lambda:${arn.region}:${arn.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`,
    { field: 'FunctionName' },
  );
}

/** Lambda's timestamps in FunctionConfiguration: `2026-12-03T18:55:00.000+0000`. */
export function lambdaTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

export { queryValue };

/** MaxItems: 1-10,000 in Lambda's list operations. */
export function maxItems(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 10_000) {
    throw constraintError('maxItems', raw, 'Member must have value between 1 and 10000');
  }
  return value;
}

/** Paging through a sorted list with an opaque marker (the last key returned, base64url). */
export function page<T>(items: readonly T[], key: (item: T) => string, marker: string | undefined, limit: number): { items: T[]; nextMarker?: string } {
  let start = 0;
  if (marker !== undefined) {
    let after: string;
    try {
      after = Buffer.from(marker, 'base64url').toString('utf8');
    } catch {
      throw new SluiceError('InvalidParameterValue', 'Marker: the marker is not one this API returned', { field: 'Marker' });
    }
    start = items.findIndex((item) => key(item) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + limit);
  const last = slice[slice.length - 1];
  return start + limit < items.length && last !== undefined
    ? { items: slice, nextMarker: Buffer.from(key(last), 'utf8').toString('base64url') }
    : { items: slice };
}
