/**
 * SQS's operations over the queue service, in wire terms: each takes the operation's input (already
 * decoded from the JSON or query protocol) and returns its output with SQS's member names. The
 * protocols only decode, dispatch here and encode, so both behave identically.
 */
import type { z } from 'zod';
import { SluiceError } from '../../model/errors.js';
import type { QueueService } from '../../queues/service.js';
import type { BatchResult } from '../../queues/types.js';
import { parseInput } from '../validation.js';
import { paginateNames } from './pagination.js';
import { queueNameFromUrl, queueUrl } from './queue-url.js';
import { receiveFilters, receivedMessageToWire, sendInputFromWire } from './sqs-message-wire.js';
import { sqsWire, type SqsInput, type SqsOperationName } from './sqs-wire-schemas.js';

export interface SqsCallContext {
  queues: QueueService;
  accountId: string;
  /** Scheme, host and port the client reached the node at; queue URLs are built on it. */
  baseUrl: string;
  /** Aborted when the client goes away or the node shuts down: a long poll returns what it has. */
  signal: AbortSignal;
}

type Handler<N extends SqsOperationName> = (input: SqsInput<N>, ctx: SqsCallContext) => Promise<object>;

function batchToWire<T extends object>(result: BatchResult<T>, entry: (item: T & { id: string }) => object) {
  return {
    Successful: result.successful.map(entry),
    Failed: result.failed.map((failure) => ({
      Id: failure.id,
      SenderFault: failure.senderFault,
      Code: failure.code,
      Message: failure.message,
    })),
  };
}

const name = (ctx: SqsCallContext, url: string) => queueNameFromUrl(url, ctx.accountId);
const urlOf = (ctx: SqsCallContext, queueName: string) => queueUrl(ctx.baseUrl, ctx.accountId, queueName);

const handlers: { [N in SqsOperationName]: Handler<N> } = {
  async CreateQueue(input, ctx) {
    const queue = await ctx.queues.create(input.QueueName, input.Attributes ?? {}, { tags: input.tags ?? {} });
    return { QueueUrl: urlOf(ctx, queue.name) };
  },
  async GetQueueUrl(input, ctx) {
    if (input.QueueOwnerAWSAccountId !== undefined && input.QueueOwnerAWSAccountId !== ctx.accountId) {
      throw new SluiceError('QueueDoesNotExist', `QueueOwnerAWSAccountId: this node serves account ${ctx.accountId} only`, {
        field: 'QueueOwnerAWSAccountId',
      });
    }
    await ctx.queues.get(input.QueueName);
    return { QueueUrl: urlOf(ctx, input.QueueName) };
  },
  async ListQueues(input, ctx) {
    const page = paginateNames({
      names: await ctx.queues.list(input.QueueNamePrefix ?? ''),
      maxResults: input.MaxResults,
      nextToken: input.NextToken,
    });
    return {
      ...(page.items.length > 0 ? { QueueUrls: page.items.map((queueName) => urlOf(ctx, queueName)) } : {}),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  },
  async GetQueueAttributes(input, ctx) {
    const names = input.AttributeNames ?? [];
    if (names.length === 0) {
      await ctx.queues.get(name(ctx, input.QueueUrl));
      return {};
    }
    const attributes = await ctx.queues.getAttributes(name(ctx, input.QueueUrl), names);
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  },
  async SetQueueAttributes(input, ctx) {
    await ctx.queues.setAttributes(name(ctx, input.QueueUrl), input.Attributes);
    return {};
  },
  async DeleteQueue(input, ctx) {
    await ctx.queues.delete(name(ctx, input.QueueUrl));
    return {};
  },
  async PurgeQueue(input, ctx) {
    await ctx.queues.purge(name(ctx, input.QueueUrl));
    return {};
  },
  async SendMessage(input, ctx) {
    const result = await ctx.queues.send(name(ctx, input.QueueUrl), sendInputFromWire(input));
    return {
      MessageId: result.messageId,
      MD5OfMessageBody: result.md5OfMessageBody,
      ...(result.md5OfMessageAttributes ? { MD5OfMessageAttributes: result.md5OfMessageAttributes } : {}),
      ...(result.sequenceNumber ? { SequenceNumber: result.sequenceNumber } : {}),
    };
  },
  async SendMessageBatch(input, ctx) {
    const entries = input.Entries.map((entry) => ({ id: entry.Id, ...sendInputFromWire(entry) }));
    const result = await ctx.queues.sendBatch(name(ctx, input.QueueUrl), entries);
    return batchToWire(result, (entry) => ({
      Id: entry.id,
      MessageId: entry.messageId,
      MD5OfMessageBody: entry.md5OfMessageBody,
      ...(entry.md5OfMessageAttributes ? { MD5OfMessageAttributes: entry.md5OfMessageAttributes } : {}),
      ...(entry.sequenceNumber ? { SequenceNumber: entry.sequenceNumber } : {}),
    }));
  },
  async ReceiveMessage(input, ctx) {
    const filters = receiveFilters({
      attributeNames: input.AttributeNames,
      systemAttributeNames: input.MessageSystemAttributeNames,
      messageAttributeNames: input.MessageAttributeNames,
    });
    const messages = await ctx.queues.receive(name(ctx, input.QueueUrl), {
      ...(input.MaxNumberOfMessages !== undefined ? { maxNumberOfMessages: input.MaxNumberOfMessages } : {}),
      ...(input.VisibilityTimeout !== undefined ? { visibilityTimeout: input.VisibilityTimeout } : {}),
      ...(input.WaitTimeSeconds !== undefined ? { waitTimeSeconds: input.WaitTimeSeconds } : {}),
      ...(input.ReceiveRequestAttemptId !== undefined ? { receiveRequestAttemptId: input.ReceiveRequestAttemptId } : {}),
      signal: ctx.signal,
    });
    return messages.length > 0 ? { Messages: messages.map((message) => receivedMessageToWire(message, filters)) } : {};
  },
  async DeleteMessage(input, ctx) {
    await ctx.queues.deleteMessage(name(ctx, input.QueueUrl), input.ReceiptHandle);
    return {};
  },
  async DeleteMessageBatch(input, ctx) {
    const entries = input.Entries.map((entry) => ({ id: entry.Id, receiptHandle: entry.ReceiptHandle }));
    const result = await ctx.queues.deleteMessageBatch(name(ctx, input.QueueUrl), entries);
    return batchToWire(result, (entry) => ({ Id: entry.id }));
  },
  async ChangeMessageVisibility(input, ctx) {
    await ctx.queues.changeMessageVisibility(name(ctx, input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
    return {};
  },
  async ChangeMessageVisibilityBatch(input, ctx) {
    const entries = input.Entries.map((entry) => ({
      id: entry.Id,
      receiptHandle: entry.ReceiptHandle,
      // A missing timeout fails that entry (as out of range), not the whole batch.
      visibilityTimeout: entry.VisibilityTimeout ?? Number.NaN,
    }));
    const result = await ctx.queues.changeMessageVisibilityBatch(name(ctx, input.QueueUrl), entries);
    return batchToWire(result, (entry) => ({ Id: entry.id }));
  },
  async ListDeadLetterSourceQueues(input, ctx) {
    const page = paginateNames({
      names: await ctx.queues.listDeadLetterSourceQueues(name(ctx, input.QueueUrl)),
      maxResults: input.MaxResults,
      nextToken: input.NextToken,
    });
    return { queueUrls: page.items.map((queueName) => urlOf(ctx, queueName)), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  },
  async StartMessageMoveTask(input, ctx) {
    const task = await ctx.queues.startMessageMoveTask({
      sourceArn: input.SourceArn,
      ...(input.DestinationArn !== undefined ? { destinationArn: input.DestinationArn } : {}),
      ...(input.MaxNumberOfMessagesPerSecond !== undefined ? { maxNumberOfMessagesPerSecond: input.MaxNumberOfMessagesPerSecond } : {}),
    });
    return { TaskHandle: task.taskHandle };
  },
  async ListMessageMoveTasks(input, ctx) {
    const tasks = await ctx.queues.listMessageMoveTasks({
      sourceArn: input.SourceArn,
      ...(input.MaxResults !== undefined ? { maxResults: input.MaxResults } : {}),
    });
    return {
      Results: tasks.map((task) => ({
        // SQS hands out a TaskHandle only for a running task.
        ...(task.status === 'RUNNING' ? { TaskHandle: task.taskHandle } : {}),
        Status: task.status,
        SourceArn: task.sourceArn,
        ...(task.destinationArn ? { DestinationArn: task.destinationArn } : {}),
        ...(task.maxNumberOfMessagesPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: task.maxNumberOfMessagesPerSecond } : {}),
        ApproximateNumberOfMessagesMoved: task.approximateNumberOfMessagesMoved,
        ApproximateNumberOfMessagesToMove: task.approximateNumberOfMessagesToMove,
        ...(task.failureReason ? { FailureReason: task.failureReason } : {}),
        StartedTimestamp: task.startedTimestamp,
      })),
    };
  },
  async CancelMessageMoveTask(input, ctx) {
    const result = await ctx.queues.cancelMessageMoveTask(input.TaskHandle);
    return { ApproximateNumberOfMessagesMoved: result.approximateNumberOfMessagesMoved };
  },
  async TagQueue(input, ctx) {
    await ctx.queues.tag(name(ctx, input.QueueUrl), input.Tags);
    return {};
  },
  async UntagQueue(input, ctx) {
    await ctx.queues.untag(name(ctx, input.QueueUrl), input.TagKeys);
    return {};
  },
  async ListQueueTags(input, ctx) {
    const tags = await ctx.queues.listTags(name(ctx, input.QueueUrl));
    return Object.keys(tags).length > 0 ? { Tags: tags } : {};
  },
};

export const sqsOperationNames = Object.keys(handlers) as SqsOperationName[];

export function isSqsOperation(operation: string): operation is SqsOperationName {
  return Object.hasOwn(handlers, operation);
}

/** Validates `input` against the operation's wire shape, then runs it. */
export async function callSqsOperation(operation: string, input: unknown, ctx: SqsCallContext): Promise<object> {
  if (!isSqsOperation(operation)) {
    throw new SluiceError('UnknownOperationException', `X-Amz-Target: '${operation.slice(0, 100)}' is not an operation of this SQS endpoint`);
  }
  const schema = sqsWire[operation] as z.ZodType;
  const handler = handlers[operation] as (input: unknown, ctx: SqsCallContext) => Promise<object>;
  return handler(parseInput(schema, input), ctx);
}
