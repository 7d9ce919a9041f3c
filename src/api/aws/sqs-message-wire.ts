/**
 * Messages between SQS's wire form and the queue service's: message attributes (`DataType`,
 * `StringValue`, `BinaryValue` in base64), and the attribute-name filters of ReceiveMessage
 * (`All`, exact names, and `prefix.*` for message attributes).
 */
import { SluiceError } from '../../model/errors.js';
import { md5OfMessageAttributes } from '../../queues/md5.js';
import type { MessageAttributeInput, StoredMessageAttribute } from '../../queues/message-attributes.js';
import type { ReceivedMessage, SendMessageInput } from '../../queues/types.js';
import type { MessageAttributeValueWire } from './sqs-wire-schemas.js';

export function messageAttributesFromWire(
  wire: Record<string, MessageAttributeValueWire> | undefined,
): Record<string, MessageAttributeInput> | undefined {
  if (wire === undefined) return undefined;
  const attributes: Record<string, MessageAttributeInput> = {};
  for (const [name, value] of Object.entries(wire)) {
    attributes[name] = {
      dataType: value.DataType,
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
    };
  }
  return attributes;
}

function attributeToWire(value: StoredMessageAttribute): Record<string, string> {
  return value.binaryValue !== undefined
    ? { DataType: value.dataType, BinaryValue: value.binaryValue }
    : { DataType: value.dataType, StringValue: value.stringValue ?? '' };
}

export interface SendFieldsWire {
  MessageBody: string;
  DelaySeconds?: number | undefined;
  MessageAttributes?: Record<string, MessageAttributeValueWire> | undefined;
  MessageDeduplicationId?: string | undefined;
  MessageGroupId?: string | undefined;
}

export function sendInputFromWire(wire: SendFieldsWire): SendMessageInput {
  const messageAttributes = messageAttributesFromWire(wire.MessageAttributes);
  return {
    body: wire.MessageBody,
    ...(wire.DelaySeconds !== undefined ? { delaySeconds: wire.DelaySeconds } : {}),
    ...(messageAttributes ? { messageAttributes } : {}),
    ...(wire.MessageGroupId !== undefined ? { messageGroupId: wire.MessageGroupId } : {}),
    ...(wire.MessageDeduplicationId !== undefined ? { messageDeduplicationId: wire.MessageDeduplicationId } : {}),
  };
}

/** The system attributes a receive may ask for (AttributeNames / MessageSystemAttributeNames). */
export const MESSAGE_SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const;

/**
 * The deprecated AttributeNames list also accepted queue attribute names; SQS ignores those on a
 * receive, so do we, rather than failing clients that send them.
 */
const QUEUE_ATTRIBUTE_NAMES = new Set([
  'Policy', 'VisibilityTimeout', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible', 'CreatedTimestamp', 'LastModifiedTimestamp', 'QueueArn',
  'ApproximateNumberOfMessagesDelayed', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'RedrivePolicy', 'FifoQueue',
  'ContentBasedDeduplication', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'DeduplicationScope',
  'FifoThroughputLimit', 'RedriveAllowPolicy', 'SqsManagedSseEnabled',
]);

/** SQS's limit on a message attribute name, which also bounds the names a receive asks for. */
const MAX_ATTRIBUTE_NAME_LENGTH = 256;

export interface ReceiveFilters {
  systemAttributes: 'all' | ReadonlySet<string>;
  messageAttributes: { all: boolean; exact: ReadonlySet<string>; prefixes: readonly string[] };
}

export function receiveFilters(params: {
  attributeNames: readonly string[] | undefined;
  systemAttributeNames: readonly string[] | undefined;
  messageAttributeNames: readonly string[] | undefined;
}): ReceiveFilters {
  const requested = [...(params.attributeNames ?? []), ...(params.systemAttributeNames ?? [])];
  const known = new Set<string>(MESSAGE_SYSTEM_ATTRIBUTES);
  for (const name of requested) {
    if (name !== 'All' && !known.has(name) && !QUEUE_ATTRIBUTE_NAMES.has(name)) {
      throw new SluiceError('InvalidAttributeName', `MessageSystemAttributeNames: '${name.slice(0, 100)}' is not a message system attribute`, {
        field: 'MessageSystemAttributeNames',
      });
    }
  }
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let all = false;
  for (const name of params.messageAttributeNames ?? []) {
    if (name.length > MAX_ATTRIBUTE_NAME_LENGTH) {
      throw new SluiceError(
        'InvalidParameterValue',
        `MessageAttributeNames: '${name.slice(0, 60)}…' is ${name.length} characters; a name has at most ${MAX_ATTRIBUTE_NAME_LENGTH}`,
        { field: 'MessageAttributeNames' },
      );
    }
    if (name === 'All' || name === '.*') all = true;
    else if (name.endsWith('.*')) prefixes.push(name.slice(0, -1)); // keep the dot: 'order.*' matches 'order.id'
    else exact.add(name);
  }
  return {
    systemAttributes: requested.includes('All') ? 'all' : new Set(requested.filter((name) => known.has(name))),
    messageAttributes: { all, exact, prefixes },
  };
}

function wantsMessageAttribute(filters: ReceiveFilters['messageAttributes'], name: string): boolean {
  return filters.all || filters.exact.has(name) || filters.prefixes.some((prefix) => name.startsWith(prefix));
}

/** A received message in SQS's wire form, holding only the attributes the receive asked for. */
export function receivedMessageToWire(message: ReceivedMessage, filters: ReceiveFilters): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
  };
  const system: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.attributes)) {
    if (value === undefined) continue;
    if (filters.systemAttributes === 'all' || filters.systemAttributes.has(name)) system[name] = value;
  }
  if (Object.keys(system).length > 0) wire.Attributes = system;
  const selected: Record<string, StoredMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    if (wantsMessageAttribute(filters.messageAttributes, name)) selected[name] = value;
  }
  // The digest covers the attributes returned, which is what a client can check it against.
  const digest = md5OfMessageAttributes(selected);
  if (digest !== undefined) {
    wire.MD5OfMessageAttributes = digest;
    wire.MessageAttributes = Object.fromEntries(Object.entries(selected).map(([name, value]) => [name, attributeToWire(value)]));
  }
  return wire;
}
