/**
 * Gathers one batch from the queue: one claim of up to batchSize messages and, with a batching window,
 * more claims as wake-ups arrive until the batch is full or the window (counted from the first message)
 * closes, and at the latest halfway through the claimed messages' visibility timeout. A batch is cut at Lambda's 6 MB payload limit; what is cut goes straight back to the queue.
 */
import { isGrouped } from '../../limits/grouping.js';
import type { Clock } from '../../model/clock.js';
import type { ClaimedMessage, StoredQueue } from '../../store/queue-store.js';
import { triggerLimits } from '../definition.js';
import type { SqsSource } from './sqs-source.js';

export interface CollectedBatch {
  queue: StoredQueue;
  messages: ClaimedMessage[];
  receiptToken: string;
  /** When the batch is empty: the next instant a message becomes visible, if any. */
  nextVisibleAt: number | null;
  /** The batch reached batchSize: more messages are probably waiting. */
  full: boolean;
}

export async function collectBatch(params: {
  source: SqsSource;
  queue: StoredQueue;
  batchSize: number;
  /** How many messages the trigger's pollers take at once (pollers times batch size). */
  capacity: number;
  windowSeconds: number;
  clock: Clock;
  /**
   * Resolves at the next wake-up of the queue's channel, or at `until`, whichever is first; at once if a
   * wake-up came after `wakes()` returned `since` (it arrived during a claim, which may have missed it).
   */
  waitForWake: (until: number, since: number) => Promise<void>;
  /** Counts the queue's wake-ups. */
  wakes: () => number;
  isActive: () => boolean;
}): Promise<CollectedBatch> {
  const { source, queue, batchSize, clock } = params;
  let since = params.wakes();
  const first = await source.claimBatch(queue, batchSize, params.capacity);
  const { messages, receiptToken } = first;
  if (messages.length === 0)
    return { queue, messages, receiptToken, nextVisibleAt: first.nextVisibleAt, full: false };
  // A grouped queue's claims are invoked at once: held in a window, they would keep their groups' slots
  // and rate tokens idle and start late (triggers with GroupBy have no window; see limits/).
  if (params.windowSeconds > 0 && messages.length < batchSize && !isGrouped(queue)) {
    // The messages in hand are in flight only for the queue's visibility timeout: a window that outlasted
    // it would see them come back (and claim them twice). Close it halfway through at the latest.
    const closesAt =
      clock.now() + Math.min(params.windowSeconds * 1000, (queue.settings.VisibilityTimeout * 1000) / 2);
    while (messages.length < batchSize && clock.now() < closesAt && params.isActive()) {
      await params.waitForWake(closesAt, since);
      if (!params.isActive()) break;
      since = params.wakes();
      const more = await source.claim(queue, batchSize - messages.length, receiptToken);
      for (const message of more.messages) messages.push(message);
    }
  }
  // A promise only when something is cut (rare): the common round of a poller costs none here.
  const releasing = cutAtPayloadLimit({ source, queue, messages, receiptToken });
  if (releasing) await releasing;
  return { queue, messages, receiptToken, nextVisibleAt: null, full: messages.length >= batchSize };
}

/** Cuts `messages` at the payload limit; the release of what was cut, if anything was. */
function cutAtPayloadLimit(params: {
  source: SqsSource;
  queue: StoredQueue;
  messages: ClaimedMessage[];
  receiptToken: string;
}): Promise<void> | undefined {
  const { messages } = params;
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    // Characters, not bytes: close enough for a cut that only guards against a pathological batch.
    bytes += message.body.length + (message.messageAttributes?.length ?? 0);
    if (bytes > triggerLimits.maxBatchBytes && i > 0) {
      const cut = messages.splice(i);
      return params.source.release(
        params.queue,
        cut.map((m) => ({ seq: m.seq, token: params.receiptToken })),
      );
    }
  }
  return undefined;
}
