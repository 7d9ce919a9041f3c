/**
 * Shapes a claimed message as the record Lambda hands a function (`SQSRecord` of @types/aws-lambda),
 * straight from the stored row: one object per message and no intermediate copy, since this runs for
 * every message a trigger delivers. The attribute rules are those of queues/receive.ts, plus the two
 * list fields Lambda always sends empty.
 */
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { md5OfBody, md5OfMessageAttributes } from '../../queues/md5.js';
import type { StoredMessageAttributes } from '../../queues/message-attributes.js';
import { encodeReceiptHandle } from '../../queues/receipt-handle.js';
import { formatSequenceNumber } from '../../queues/send.js';
import type { ClaimedMessage } from '../../store/queue-store.js';

export interface RecordSource {
  queueId: number;
  fifo: boolean;
  queueArn: string;
  region: string;
  senderId: string;
}

export function toSqsRecord(message: ClaimedMessage, source: RecordSource, receiptToken: string): SQSRecord {
  const stored = message.messageAttributes
    ? (JSON.parse(message.messageAttributes) as StoredMessageAttributes)
    : null;
  const messageAttributes: SQSMessageAttributes = {};
  if (stored) {
    for (const name in stored) {
      const value = stored[name]!;
      messageAttributes[name] =
        value.binaryValue !== undefined
          ? {
              binaryValue: value.binaryValue,
              stringListValues: [],
              binaryListValues: [],
              dataType: value.dataType,
            }
          : {
              stringValue: value.stringValue,
              stringListValues: [],
              binaryListValues: [],
              dataType: value.dataType,
            };
    }
  }
  const record: SQSRecord = {
    messageId: message.messageId,
    receiptHandle: encodeReceiptHandle({ queueId: source.queueId, seq: message.seq, token: receiptToken }),
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: source.senderId,
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
    },
    messageAttributes,
    md5OfBody: md5OfBody(message.body),
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  };
  const md5Attributes = md5OfMessageAttributes(stored);
  if (md5Attributes) record.md5OfMessageAttributes = md5Attributes;
  if (message.groupId !== null) record.attributes.MessageGroupId = message.groupId;
  if (source.fifo) {
    if (message.deduplicationId !== null) record.attributes.MessageDeduplicationId = message.deduplicationId;
    record.attributes.SequenceNumber = formatSequenceNumber(message.seq);
  }
  if (message.deadLetterSource) record.attributes.DeadLetterQueueSourceArn = message.deadLetterSource;
  return record;
}
