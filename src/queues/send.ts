/**
 * Turns a caller's send request into a stored message: validates the body, delay, attributes and FIFO
 * identifiers against the queue's settings and SQS's limits, and computes the digests SQS returns.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SluiceError } from '../model/errors.js';
import type { NewMessage, StoredQueue } from '../store/queue-store.js';
import { isXmlSafe, normalizeMessageAttributes } from './message-attributes.js';
import { md5OfBody, md5OfMessageAttributes } from './md5.js';
import type { SendMessageInput } from './types.js';

const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

export interface PreparedMessage {
  message: NewMessage;
  size: number;
  md5OfMessageBody: string;
  md5OfMessageAttributes: string | undefined;
}

function fail(field: string, rule: string, code: 'InvalidParameterValue' | 'MissingParameter' = 'InvalidParameterValue'): never {
  throw new SluiceError(code, `${field}: ${rule}`, { field });
}

export function prepareMessage(queue: StoredQueue, input: SendMessageInput, now: number, prefix = ''): PreparedMessage {
  if (!input || typeof input !== 'object') fail(`${prefix}MessageBody`, 'a message needs a body', 'MissingParameter');
  const { body } = input;
  if (typeof body !== 'string') fail(`${prefix}MessageBody`, 'must be a string', 'MissingParameter');
  if (body.length === 0) fail(`${prefix}MessageBody`, 'must contain at least one character');
  if (!isXmlSafe(body)) {
    throw new SluiceError(
      'InvalidMessageContents',
      `${prefix}MessageBody: contains characters outside the allowed set (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF)`,
      { field: `${prefix}MessageBody` },
    );
  }
  const { attributes, size: attributesSize } = normalizeMessageAttributes(input.messageAttributes, `${prefix}MessageAttributes`);
  const size = Buffer.byteLength(body, 'utf8') + attributesSize;
  const limit = queue.settings.MaximumMessageSize;
  if (size > limit) {
    fail(`${prefix}MessageBody`, `the message is ${size} bytes (body plus attributes); this queue's MaximumMessageSize is ${limit} bytes`);
  }

  let delaySeconds = queue.settings.DelaySeconds;
  if (input.delaySeconds !== undefined) {
    if (queue.fifo) {
      fail(`${prefix}DelaySeconds`, "per-message delay is not supported on FIFO queues; set the queue's DelaySeconds instead");
    }
    if (!Number.isInteger(input.delaySeconds) || input.delaySeconds < 0 || input.delaySeconds > 900) {
      fail(`${prefix}DelaySeconds`, `${JSON.stringify(input.delaySeconds)} is invalid; must be an integer from 0 to 900 seconds`);
    }
    delaySeconds = input.delaySeconds;
  }

  let groupId: string | null = null;
  let deduplicationId: string | null = null;
  if (input.messageGroupId !== undefined) {
    if (typeof input.messageGroupId !== 'string' || !FIFO_ID.test(input.messageGroupId)) {
      fail(`${prefix}MessageGroupId`, 'must be 1-128 characters of letters, digits and punctuation');
    }
    groupId = input.messageGroupId;
  }
  if (queue.fifo) {
    if (groupId === null) fail(`${prefix}MessageGroupId`, 'is required for FIFO queues', 'MissingParameter');
    if (input.messageDeduplicationId !== undefined) {
      if (typeof input.messageDeduplicationId !== 'string' || !FIFO_ID.test(input.messageDeduplicationId)) {
        fail(`${prefix}MessageDeduplicationId`, 'must be 1-128 characters of letters, digits and punctuation');
      }
      deduplicationId = input.messageDeduplicationId;
    } else if (queue.settings.ContentBasedDeduplication) {
      deduplicationId = createHash('sha256').update(body, 'utf8').digest('hex');
    } else {
      fail(
        `${prefix}MessageDeduplicationId`,
        'the queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    }
  } else if (input.messageDeduplicationId !== undefined) {
    fail(`${prefix}MessageDeduplicationId`, 'is only valid for FIFO queues');
  }

  return {
    message: {
      messageId: randomUUID(),
      body,
      messageAttributes: attributes ? JSON.stringify(attributes) : null,
      groupId,
      deduplicationId,
      visibleAt: now + delaySeconds * 1000,
    },
    size,
    md5OfMessageBody: md5OfBody(body),
    md5OfMessageAttributes: md5OfMessageAttributes(attributes),
  };
}

/** SQS's FIFO sequence numbers are large decimal strings that grow within a queue. */
export function formatSequenceNumber(seq: number): string {
  return String(seq).padStart(20, '0');
}
