/**
 * The one catalog of error codes Sluice raises. Where AWS has a code for the situation we use AWS's
 * name, so a client written against AWS recognises it. Each entry says who is at fault (the sender or
 * the service) and, where the AWS query protocol had one, the legacy code SDKs surface.
 */
export const errorCatalog = {
  // Generic input errors
  InvalidParameterValue: { status: 400, sender: true, description: 'A parameter is outside its allowed range or format.' },
  MissingParameter: { status: 400, sender: true, description: 'A required parameter is missing.' },
  InvalidAttributeName: { status: 400, sender: true, description: 'An attribute name is not recognised.' },
  InvalidAttributeValue: { status: 400, sender: true, description: 'An attribute value is outside its range or format.' },
  UnknownOperationException: { status: 400, sender: true, description: 'The operation named by the request is not known.' },
  ValidationException: { status: 400, sender: true, description: 'The request failed validation.' },
  SerializationException: { status: 400, sender: true, description: 'The request body is not well-formed JSON (or form data) of the expected shape.' },
  RequestEntityTooLarge: { status: 413, sender: true, description: 'The request body is larger than the node accepts.' },
  RequestEntityTooLargeException: { status: 413, sender: true, description: 'A Lambda code package (CreateFunction, UpdateFunctionCode) is over the 50 MB of a direct upload.' },
  RequestTimeout: { status: 408, sender: true, description: 'The request (headers and body) did not arrive in full within the node\'s request timeout.' },
  RequestHeaderFieldsTooLarge: { status: 431, sender: true, description: 'The request headers are larger than the node accepts.' },
  UnsupportedOperation: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.UnsupportedOperation', description: 'The operation is not supported in this context.' },
  // Queues
  QueueDoesNotExist: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.NonExistentQueue', description: 'The queue does not exist.' },
  QueueNameExists: { status: 400, sender: true, legacy: 'QueueAlreadyExists', description: 'A queue with this name exists with different attributes.' },
  QueueDeletedRecently: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.QueueDeletedRecently', description: 'A queue of this name was deleted less than 60 seconds ago.' },
  PurgeQueueInProgress: { status: 403, sender: true, legacy: 'AWS.SimpleQueueService.PurgeQueueInProgress', description: 'The queue was purged less than 60 seconds ago.' },
  ReceiptHandleIsInvalid: { status: 404, sender: true, legacy: 'ReceiptHandleIsInvalid', description: 'The receipt handle is malformed, from another queue, or no longer current.' },
  MessageNotInflight: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.MessageNotInflight', description: 'The message is not in flight.' },
  InvalidMessageContents: { status: 400, sender: true, legacy: 'InvalidMessageContents', description: 'The message body contains characters outside the allowed set.' },
  OverLimit: { status: 403, sender: true, legacy: 'OverLimit', description: 'A limit on in-flight messages or similar was reached.' },
  TooManyEntriesInBatchRequest: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', description: 'A batch has more than 10 entries.' },
  EmptyBatchRequest: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.EmptyBatchRequest', description: 'A batch has no entries.' },
  BatchEntryIdsNotDistinct: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', description: 'Two batch entries share an Id.' },
  InvalidBatchEntryId: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.InvalidBatchEntryId', description: 'A batch entry Id is malformed.' },
  BatchRequestTooLong: { status: 400, sender: true, legacy: 'AWS.SimpleQueueService.BatchRequestTooLong', description: 'The batch payload exceeds the maximum message size.' },
  ResourceNotFoundException: { status: 404, sender: true, description: 'The resource does not exist.' },
  // Authentication (AWS SigV4 and bearer tokens)
  MissingAuthenticationToken: { status: 403, sender: true, description: 'The request is not signed and carries no credentials.' },
  IncompleteSignature: { status: 403, sender: true, description: 'The request signature is missing parts.' },
  InvalidClientTokenId: { status: 403, sender: true, description: 'The access key is not known.' },
  SignatureDoesNotMatch: { status: 403, sender: true, description: 'The signature does not match the one computed for the request.' },
  RequestExpired: { status: 403, sender: true, description: 'The request date is too far from the server time.' },
  AccessDenied: { status: 403, sender: true, description: 'The credentials are not allowed to do this.' },
  // Task tokens (Step Functions)
  TaskTimedOut: { status: 400, sender: true, description: 'The task token has finished or timed out.' },
  InvalidToken: { status: 400, sender: true, description: 'The task token is malformed.' },
  TaskDoesNotExist: { status: 400, sender: true, description: 'The task token is not known.' },
  InvalidOutput: { status: 400, sender: true, description: 'The task output is not valid JSON.' },
  // State machines (Step Functions)
  InvalidDefinition: { status: 400, sender: true, description: 'The state machine definition is not valid Amazon States Language; the message names each problem and its location.' },
  InvalidName: { status: 400, sender: true, description: 'A state machine or execution name is not valid (1-80 characters, no whitespace, brackets, wildcards or control characters).' },
  InvalidArn: { status: 400, sender: true, description: 'The ARN is malformed or names another service.' },
  InvalidExecutionInput: { status: 400, sender: true, description: 'The execution input is not JSON, or is larger than 256 KiB.' },
  StateMachineDoesNotExist: { status: 400, sender: true, description: 'The state machine does not exist.' },
  StateMachineAlreadyExists: { status: 400, sender: true, description: 'A state machine of this name exists with a different definition.' },
  StateMachineTypeNotSupported: { status: 400, sender: true, description: 'The operation is not supported for this type of state machine.' },
  ExecutionDoesNotExist: { status: 400, sender: true, description: 'The execution does not exist.' },
  ActivityDoesNotExist: { status: 400, sender: true, description: 'The activity does not exist.' },
  ExecutionNotRedrivable: { status: 400, sender: true, description: 'The execution cannot be redriven: it is running or succeeded, ended more than 14 days ago, ran for over a year, or its history is full.' },
  ConflictException: { status: 409, sender: true, description: 'The request conflicts with the resource: a revision that is no longer current, a version an alias routes to, or an alias of that name with another configuration (Step Functions).' },
  ResourceNotFound: { status: 404, sender: true, description: 'The state machine alias or version does not exist (Step Functions).' },
  ServiceQuotaExceededException: { status: 402, sender: true, description: 'A quota is reached: 1,000 versions or 100 aliases per state machine (Step Functions).' },
  ExecutionAlreadyExists: { status: 400, sender: true, description: 'An execution of this name exists with a different input, or has finished more than 90 days ago.' },
  // Generic
  ResourceInUseException: { status: 409, sender: true, description: 'The resource is in use or already exists.' },
  ResourceConflictException: { status: 409, sender: true, description: 'The resource exists with a different definition.' },
  PreconditionFailedException: { status: 412, sender: true, description: 'The RevisionId given does not match the function\'s latest RevisionId (Lambda).' },
  ConditionalCheckFailedException: { status: 400, sender: true, description: 'A write condition was not met.' },
  TransactionCanceledException: { status: 400, sender: true, description: 'A transactional write was cancelled.' },
  IdempotentParameterMismatchException: { status: 400, sender: true, description: 'A ClientRequestToken was used again, within 10 minutes, for a different request.' },
  LimitExceededException: { status: 400, sender: true, description: 'A per-table limit on operations in progress was reached (DynamoDB: one online index created or deleted at a time per table).' },
  ItemCollectionSizeLimitExceededException: { status: 400, sender: true, description: 'A write would grow an item collection (the items of one partition key and their local secondary index entries, in a table with local secondary indexes) past 10 GB.' },
  TransactionInProgressException: { status: 400, sender: true, description: 'A transaction with the same ClientRequestToken is still being applied.' },
  // DynamoDB Streams
  ExpiredIteratorException: { status: 400, sender: true, description: 'The shard iterator is older than 15 minutes.' },
  TrimmedDataAccessException: { status: 400, sender: true, description: 'The records a stream read asks for were trimmed (older than 24 hours).' },
  TooManyRequestsException: { status: 429, sender: true, description: 'A concurrency or rate limit was reached.' },
  ServiceUnavailable: { status: 503, sender: false, description: 'The service is shutting down or not ready.' },
  InternalFailure: { status: 500, sender: false, description: 'An unexpected internal error.' },
} as const satisfies Record<string, { status: number; sender: boolean; legacy?: string; description: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export interface SluiceErrorDetails {
  /** The input field that is at fault, as the caller named it (e.g. `Attributes.DelaySeconds`). */
  field?: string;
  cause?: unknown;
}

/** Every failure Sluice reports on purpose. `code` is stable; `message` names the field and the limit. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, details: SluiceErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = code;
    this.code = code;
    this.field = details.field;
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }

  get senderFault(): boolean {
    return errorCatalog[this.code].sender;
  }
}

export function isSluiceError(error: unknown, code?: ErrorCode): error is SluiceError {
  return error instanceof SluiceError && (code === undefined || error.code === code);
}

/** Shorthand for the most common input error: a value outside its range. */
export function invalidValue(field: string, message: string): SluiceError {
  return new SluiceError('InvalidParameterValue', `${field}: ${message}`, { field });
}
