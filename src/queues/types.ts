import type { MessageAttributeInput, StoredMessageAttribute } from './message-attributes.js';

export interface SendMessageInput {
  body: string;
  /** Standard queues only: 0-900 seconds, overrides the queue's DelaySeconds. */
  delaySeconds?: number;
  messageAttributes?: Record<string, MessageAttributeInput>;
  /** Required on FIFO queues; on standard queues it marks the message's fair-queue group. */
  messageGroupId?: string;
  /** FIFO only; required unless the queue has ContentBasedDeduplication. */
  messageDeduplicationId?: string;
}

export interface SendMessageResult {
  messageId: string;
  md5OfMessageBody: string;
  md5OfMessageAttributes?: string;
  /** FIFO queues only. */
  sequenceNumber?: string;
}

export interface BatchResultError {
  id: string;
  code: string;
  message: string;
  senderFault: boolean;
}

export interface BatchResult<T> {
  successful: Array<T & { id: string }>;
  failed: BatchResultError[];
}

export interface MessageSystemAttributes {
  ApproximateReceiveCount: string;
  SentTimestamp: string;
  SenderId: string;
  ApproximateFirstReceiveTimestamp: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  SequenceNumber?: string;
  DeadLetterQueueSourceArn?: string;
}

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  attributes: MessageSystemAttributes;
  messageAttributes: Record<string, StoredMessageAttribute>;
}

export interface ReceiveMessageOptions {
  /** 1-10, default 1. */
  maxNumberOfMessages?: number;
  /** 0-43,200 seconds; defaults to the queue's VisibilityTimeout. */
  visibilityTimeout?: number;
  /** 0-20 seconds; defaults to the queue's ReceiveMessageWaitTimeSeconds. */
  waitTimeSeconds?: number;
  /** Ends a long poll early (returns what it has, usually nothing). */
  signal?: AbortSignal;
  /**
   * FIFO queues only (ignored on standard queues, as in SQS): 1-128 letters, digits and punctuation. A
   * retry with the same id within 5 minutes returns the same messages with the same receipt handles, and
   * restarts their visibility timeout, as long as they are still in flight under that receive and were
   * neither deleted nor had their visibility changed; otherwise it fails with InvalidParameterValue.
   */
  receiveRequestAttemptId?: string;
}

export interface QueueDescription {
  name: string;
  arn: string;
  fifo: boolean;
  createdAt: number;
  modifiedAt: number;
}

export interface QueueCountsView {
  visible: number;
  inFlight: number;
  delayed: number;
  /** Age in seconds of the oldest message, 0 when empty. */
  oldestAgeSeconds: number;
}

export interface MessageMoveTaskView {
  taskHandle: string;
  status: string;
  sourceArn: string;
  destinationArn?: string;
  maxNumberOfMessagesPerSecond?: number;
  approximateNumberOfMessagesMoved: number;
  approximateNumberOfMessagesToMove: number;
  failureReason?: string;
  startedTimestamp: number;
}

/** A message as `queues.peek` shows it, unchanged by the reading. */
export interface PeekedMessageView {
  messageId: string;
  body: string;
  messageAttributes: Record<string, StoredMessageAttribute>;
  messageGroupId?: string;
  sentTimestamp: number;
  receiveCount: number;
  state: 'visible' | 'inFlight' | 'delayed';
  /** For a message moved to a dead-letter queue: the queue it came from. */
  deadLetterSourceArn?: string;
}
