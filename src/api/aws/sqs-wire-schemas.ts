/**
 * The input shapes of SQS's operations as they arrive on the wire (JSON protocol member names; the query
 * protocol is decoded into the same shapes). These check presence and types only: ranges and formats
 * are the queue service's rules, so a request is judged the same way from every entry point. Unknown
 * members are ignored, as AWS does.
 */
import { z } from 'zod';

const text = z.string();
const integer = z.number().int();
const stringMap = z.record(z.string(), z.string());
const names = z.array(z.string());

export const messageAttributeValueWire = z.object({
  DataType: z.string(),
  StringValue: z.string().optional(),
  BinaryValue: z.string().optional(),
  // Reserved by SQS ("not implemented"); accepted and ignored.
  StringListValues: z.array(z.string()).optional(),
  BinaryListValues: z.array(z.string()).optional(),
});
export type MessageAttributeValueWire = z.infer<typeof messageAttributeValueWire>;

const messageAttributes = z.record(z.string(), messageAttributeValueWire);

const sendFields = {
  MessageBody: text,
  DelaySeconds: integer.optional(),
  MessageAttributes: messageAttributes.optional(),
  MessageSystemAttributes: messageAttributes.optional(),
  MessageDeduplicationId: text.optional(),
  MessageGroupId: text.optional(),
};

const queueUrl = { QueueUrl: text };
const pagination = { NextToken: text.optional(), MaxResults: integer.optional() };

export const sqsWire = {
  CreateQueue: z.object({ QueueName: text, Attributes: stringMap.optional(), tags: stringMap.optional() }),
  GetQueueUrl: z.object({ QueueName: text, QueueOwnerAWSAccountId: text.optional() }),
  ListQueues: z.object({ QueueNamePrefix: text.optional(), ...pagination }),
  GetQueueAttributes: z.object({ ...queueUrl, AttributeNames: names.optional() }),
  SetQueueAttributes: z.object({ ...queueUrl, Attributes: stringMap }),
  DeleteQueue: z.object(queueUrl),
  PurgeQueue: z.object(queueUrl),
  SendMessage: z.object({ ...queueUrl, ...sendFields }),
  SendMessageBatch: z.object({ ...queueUrl, Entries: z.array(z.object({ Id: text, ...sendFields })) }),
  ReceiveMessage: z.object({
    ...queueUrl,
    AttributeNames: names.optional(),
    MessageSystemAttributeNames: names.optional(),
    MessageAttributeNames: names.optional(),
    MaxNumberOfMessages: integer.optional(),
    VisibilityTimeout: integer.optional(),
    WaitTimeSeconds: integer.optional(),
    ReceiveRequestAttemptId: text.optional(),
  }),
  DeleteMessage: z.object({ ...queueUrl, ReceiptHandle: text }),
  DeleteMessageBatch: z.object({ ...queueUrl, Entries: z.array(z.object({ Id: text, ReceiptHandle: text })) }),
  ChangeMessageVisibility: z.object({ ...queueUrl, ReceiptHandle: text, VisibilityTimeout: integer }),
  ChangeMessageVisibilityBatch: z.object({
    ...queueUrl,
    Entries: z.array(z.object({ Id: text, ReceiptHandle: text, VisibilityTimeout: integer.optional() })),
  }),
  ListDeadLetterSourceQueues: z.object({ ...queueUrl, ...pagination }),
  StartMessageMoveTask: z.object({ SourceArn: text, DestinationArn: text.optional(), MaxNumberOfMessagesPerSecond: integer.optional() }),
  ListMessageMoveTasks: z.object({ SourceArn: text, MaxResults: integer.optional() }),
  CancelMessageMoveTask: z.object({ TaskHandle: text }),
  TagQueue: z.object({ ...queueUrl, Tags: stringMap }),
  UntagQueue: z.object({ ...queueUrl, TagKeys: names }),
  ListQueueTags: z.object(queueUrl),
} as const;

export type SqsOperationName = keyof typeof sqsWire;
export type SqsInput<N extends SqsOperationName> = z.output<(typeof sqsWire)[N]>;
