/**
 * The native API's queue contract: every request body and response body of /v1/queues, as zod
 * schemas. Routes parse requests with these; tests check responses against them; docs/http-api.md
 * describes the same shapes. Names are the library's (camelCase); queue attributes keep SQS's names.
 */
import { z } from 'zod';
import { batchResult } from './common.js';

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.record(z.string(), z.unknown())]);
/** Queue attributes by SQS's names, typed (`VisibilityTimeout: 30`) or in wire form (`'30'`). */
export const queueAttributes = z.record(z.string(), attributeValue);
export const tags = z.record(z.string(), z.string());

export const messageAttribute = z.strictObject({
  dataType: z.string(),
  stringValue: z.string().optional(),
  /** base64 */
  binaryValue: z.string().optional(),
});

const sendFields = {
  body: z.string(),
  delaySeconds: z.number().int().optional(),
  messageAttributes: z.record(z.string(), messageAttribute).optional(),
  messageGroupId: z.string().optional(),
  messageDeduplicationId: z.string().optional(),
};

export const queueRequests = {
  listQuery: z.strictObject({ prefix: z.string().optional(), counts: z.enum(['true', 'false']).optional() }),
  create: z.strictObject({ name: z.string(), attributes: queueAttributes.optional(), tags: tags.optional() }),
  setAttributes: z.strictObject({ attributes: queueAttributes }),
  send: z.strictObject(sendFields),
  sendBatch: z.strictObject({ entries: z.array(z.strictObject({ id: z.string(), ...sendFields })) }),
  receive: z.strictObject({
    maxNumberOfMessages: z.number().int().optional(),
    visibilityTimeout: z.number().int().optional(),
    waitTimeSeconds: z.number().int().optional(),
  }),
  deleteMessage: z.strictObject({ receiptHandle: z.string() }),
  deleteBatch: z.strictObject({ entries: z.array(z.strictObject({ id: z.string(), receiptHandle: z.string() })) }),
  changeVisibility: z.strictObject({ receiptHandle: z.string(), visibilityTimeout: z.number().int() }),
  changeVisibilityBatch: z.strictObject({
    entries: z.array(z.strictObject({ id: z.string(), receiptHandle: z.string(), visibilityTimeout: z.number().int() })),
  }),
  startMove: z.strictObject({
    /** Default: each message goes back to the queue it was dead-lettered from. */
    destination: z.string().optional(),
    maxNumberOfMessagesPerSecond: z.number().int().optional(),
  }),
  listMovesQuery: z.strictObject({ maxResults: z.string().regex(/^\d{1,3}$/, 'must be an integer').optional() }),
  peekQuery: z.strictObject({ limit: z.string().regex(/^\d{1,3}$/, 'must be an integer').optional() }),
  tag: z.strictObject({ tags }),
} as const;

export const counts = z.object({ visible: z.number(), inFlight: z.number(), delayed: z.number(), oldestAgeSeconds: z.number() });

export const queueView = z.object({
  name: z.string(),
  arn: z.string(),
  fifo: z.boolean(),
  createdAt: z.number(),
  modifiedAt: z.number(),
});

const sendResult = {
  messageId: z.string(),
  md5OfMessageBody: z.string(),
  md5OfMessageAttributes: z.string().optional(),
  sequenceNumber: z.string().optional(),
};

export const receivedMessage = z.object({
  messageId: z.string(),
  receiptHandle: z.string(),
  body: z.string(),
  md5OfBody: z.string(),
  md5OfMessageAttributes: z.string().optional(),
  attributes: z.record(z.string(), z.string()),
  messageAttributes: z.record(z.string(), z.object({ dataType: z.string(), stringValue: z.string().optional(), binaryValue: z.string().optional() })),
});

export const moveTask = z.object({
  taskHandle: z.string(),
  status: z.string(),
  sourceArn: z.string(),
  destinationArn: z.string().optional(),
  maxNumberOfMessagesPerSecond: z.number().optional(),
  approximateNumberOfMessagesMoved: z.number(),
  approximateNumberOfMessagesToMove: z.number(),
  failureReason: z.string().optional(),
  startedTimestamp: z.number(),
});

export const queueResponses = {
  list: z.object({ queues: z.array(queueView.extend({ counts: counts.optional() })) }),
  created: z.object({ queue: queueView }),
  detail: z.object({ queue: queueView, attributes: z.record(z.string(), z.string()), counts, tags }),
  attributes: z.object({ attributes: z.record(z.string(), z.string()) }),
  sent: z.object(sendResult),
  sentBatch: batchResult(sendResult),
  received: z.object({ messages: z.array(receivedMessage) }),
  batch: batchResult({}),
  counts,
  deadLetterSources: z.object({ queues: z.array(z.string()) }),
  moveStarted: z.object({ taskHandle: z.string() }),
  moveTasks: z.object({ tasks: z.array(moveTask) }),
  moveCancelled: z.object({ approximateNumberOfMessagesMoved: z.number() }),
  tags: z.object({ tags }),
} as const;
