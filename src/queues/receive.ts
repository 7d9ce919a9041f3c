/**
 * Receiving: one claim in the store, and, for a long poll, a wait that is woken by the queue's channel
 * or by the instant the next message becomes visible. Nothing polls: a waiting receive runs no query
 * until something happens to its queue.
 */
import type { Clock } from '../model/clock.js';
import { queueChannel, type Notifier } from '../store/notifier.js';
import type { ClaimedMessage, ReceiveOutcome } from '../store/queue-store.js';
import { md5OfBody, md5OfMessageAttributes } from './md5.js';
import type { StoredMessageAttributes } from './message-attributes.js';
import { encodeReceiptHandle } from './receipt-handle.js';
import { formatSequenceNumber } from './send.js';
import type { ReceivedMessage } from './types.js';

export function shapeReceivedMessage(
  message: ClaimedMessage,
  context: { queueId: number; fifo: boolean; receiptToken: string; senderId: string },
): ReceivedMessage {
  const attributes = message.messageAttributes ? (JSON.parse(message.messageAttributes) as StoredMessageAttributes) : null;
  const shaped: ReceivedMessage = {
    messageId: message.messageId,
    receiptHandle: encodeReceiptHandle({ queueId: context.queueId, seq: message.seq, token: context.receiptToken }),
    body: message.body,
    md5OfBody: md5OfBody(message.body),
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: context.senderId,
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
    },
    messageAttributes: attributes ?? {},
  };
  const md5Attributes = md5OfMessageAttributes(attributes);
  if (md5Attributes) shaped.md5OfMessageAttributes = md5Attributes;
  if (message.groupId !== null) shaped.attributes.MessageGroupId = message.groupId;
  if (context.fifo) {
    if (message.deduplicationId !== null) shaped.attributes.MessageDeduplicationId = message.deduplicationId;
    shaped.attributes.SequenceNumber = formatSequenceNumber(message.seq);
  }
  if (message.deadLetterSource) shaped.attributes.DeadLetterQueueSourceArn = message.deadLetterSource;
  return shaped;
}

/**
 * Calls `attempt` until it returns messages or the deadline passes. Between attempts it sleeps until the
 * queue's channel fires, the next message is due, the deadline passes, or `signal` aborts. It subscribes
 * before the first attempt, so a send that lands between an empty attempt and the wait is not missed.
 */
function deadlinePassedQuietly(clock: Clock, deadline: number, nextVisibleAt: number | null): boolean {
  return clock.now() >= deadline && (nextVisibleAt === null || nextVisibleAt > deadline);
}

export async function receiveWithWait(params: {
  queueId: number;
  deadline: number;
  clock: Clock;
  notifier: Notifier;
  signal?: AbortSignal;
  attempt: () => Promise<ReceiveOutcome>;
}): Promise<ReceiveOutcome> {
  const { clock, notifier, signal } = params;
  let woken: boolean;
  let wake: (() => void) | undefined;
  const unsubscribe = notifier.subscribe(queueChannel(params.queueId), () => {
    woken = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      woken = false;
      const outcome = await params.attempt();
      if (outcome.messages.length > 0 || signal?.aborted) return outcome;
      const now = clock.now();
      if (now >= params.deadline) return outcome;
      if (woken) continue; // something happened while we were querying: look again at once
      const wakeAt = Math.min(params.deadline, outcome.nextVisibleAt ?? Number.POSITIVE_INFINITY);
      await new Promise<void>((resolve) => {
        const cancelTimer = clock.setTimer(wakeAt - now, () => wake?.());
        wake = () => {
          wake = undefined;
          cancelTimer();
          resolve();
        };
        if (signal?.aborted) wake();
      });
      if (signal?.aborted) return { messages: [], deadLettered: 0, nextVisibleAt: null };
      // The poll ran out with nothing new on the channel and nothing due before it: no last query.
      if (!woken && deadlinePassedQuietly(clock, params.deadline, outcome.nextVisibleAt)) return outcome;
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
