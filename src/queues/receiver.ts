/**
 * ReceiveMessage: the parameters checked, the in-flight limit kept without a count per receive, the claim
 * with its long poll, and a FIFO ReceiveRequestAttemptId replayed within its 5 minutes (queues/claims.ts
 * owns the claim itself).
 */
import { SluiceError } from '../model/errors.js';
import type { Clock } from '../model/clock.js';
import type { StoredQueue } from '../store/queue-store.js';
import type { Store } from '../store/store.js';
import { MAX_VISIBILITY_SECONDS, type MessageClaims } from './claims.js';
import { integerInRange } from './integer-in-range.js';
import { newReceiptToken } from './receipt-handle.js';
import { receiveWithWait, shapeReceivedMessage } from './receive.js';
import type { ReceivedMessage, ReceiveMessageOptions } from './types.js';

/** A ReceiveRequestAttemptId can be retried for 5 minutes after its receive. */
export const RECEIVE_ATTEMPT_WINDOW_MS = 5 * 60 * 1000;
/**
 * How long a service trusts its own tally of a queue's in-flight messages (the last exact count plus
 * what it claimed since) before counting again; receives by other nodes or triggers show up then.
 */
const IN_FLIGHT_RECOUNT_MS = 1000;
/** 1-128 letters, digits and ASCII punctuation, as SQS allows in a ReceiveRequestAttemptId. */
const ATTEMPT_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/** SQS's in-flight limits per queue kind: a receive past them fails with OverLimit. */
export interface InFlightLimits {
  standard: number;
  fifo: number;
}

export interface QueueReceiverDeps {
  store: Store;
  clock: Clock;
  claims: MessageClaims;
  inFlightLimits: InFlightLimits;
  /** The account id SQS reports as SenderId. */
  senderId: string;
}

export class QueueReceiver {
  private readonly inFlightTally = new Map<number, { count: number; countedAt: number }>();

  constructor(private readonly deps: QueueReceiverDeps) {}

  /** The queue is gone: forget its tally. */
  forget(queueId: number): void {
    this.inFlightTally.delete(queueId);
  }

  async receive(queue: StoredQueue, options: ReceiveMessageOptions = {}): Promise<ReceivedMessage[]> {
    const maxMessages = integerInRange(
      'MaxNumberOfMessages',
      options.maxNumberOfMessages ?? 1,
      1,
      10,
      'messages',
    );
    const visibilitySeconds = integerInRange(
      'VisibilityTimeout',
      options.visibilityTimeout ?? queue.settings.VisibilityTimeout,
      0,
      MAX_VISIBILITY_SECONDS,
      'seconds',
    );
    const waitSeconds = integerInRange(
      'WaitTimeSeconds',
      options.waitTimeSeconds ?? queue.settings.ReceiveMessageWaitTimeSeconds,
      0,
      20,
      'seconds',
    );
    // SQS uses the attempt id on FIFO queues only and ignores it on standard queues.
    const attemptId = queue.fifo ? validateAttemptId(options.receiveRequestAttemptId) : undefined;
    if (attemptId !== undefined) {
      const replayed = await this.replayAttempt(queue, attemptId, visibilitySeconds);
      if (replayed) return replayed;
    }
    const room = await this.inFlightRoom(queue, maxMessages);
    const receiptToken = newReceiptToken();
    let claimedVisibleAt = 0;
    const outcome = await receiveWithWait({
      queueId: queue.id,
      deadline: this.deps.clock.now() + waitSeconds * 1000,
      clock: this.deps.clock,
      notifier: this.deps.store.notifier,
      ...(options.signal ? { signal: options.signal } : {}),
      attempt: async () => {
        const claimed = await this.deps.claims.claim(queue, {
          maxMessages: room,
          visibilitySeconds,
          receiptToken,
        });
        claimedVisibleAt = claimed.visibleAt;
        return claimed;
      },
    });
    const tally = this.inFlightTally.get(queue.id);
    if (tally) tally.count += outcome.messages.length;
    if (attemptId !== undefined && outcome.messages.length > 0) {
      const now = this.deps.clock.now();
      await this.deps.store.receiveAttemptPut({
        queueId: queue.id,
        attemptId,
        receiptToken,
        seqs: outcome.messages.map((message) => message.seq),
        visibleAt: claimedVisibleAt,
        createdAt: now,
        forgetBefore: now - RECEIVE_ATTEMPT_WINDOW_MS,
      });
    }
    const context = {
      queueId: queue.id,
      fifo: queue.fifo,
      receiptToken,
      senderId: this.deps.senderId,
    };
    return outcome.messages.map((message) => shapeReceivedMessage(message, context));
  }

  /**
   * How many messages a receive may claim under the queue's in-flight limit, or OverLimit. The exact
   * count (a bounded index range) runs only when this service's tally (the last count plus what it has
   * claimed since, an upper bound as long as it is the only receiver) could reach the limit, or is over
   * a second old; otherwise a receive costs one comparison.
   */
  private async inFlightRoom(queue: StoredQueue, wanted: number): Promise<number> {
    const limit = queue.fifo ? this.deps.inFlightLimits.fifo : this.deps.inFlightLimits.standard;
    const now = this.deps.clock.now();
    const tally = this.inFlightTally.get(queue.id);
    if (tally && now - tally.countedAt < IN_FLIGHT_RECOUNT_MS && tally.count + wanted <= limit) return wanted;
    const count = await this.deps.store.messageInFlightCount({
      queueId: queue.id,
      now,
      expiredBefore: now - queue.settings.MessageRetentionPeriod * 1000,
      atMost: limit,
    });
    this.inFlightTally.set(queue.id, { count, countedAt: now });
    if (count >= limit) {
      throw new SluiceError(
        'OverLimit',
        `QueueName: too many messages have been received without being deleted: '${queue.name}' has ${limit} messages in flight, ` +
          `the limit of a ${queue.fifo ? 'FIFO' : 'standard'} queue. Delete received messages or let their visibility timeout expire before receiving more`,
        { field: 'QueueName' },
      );
    }
    return Math.min(wanted, limit - count);
  }

  /**
   * A retry of a FIFO receive with a ReceiveRequestAttemptId recorded in the last 5 minutes: the same
   * messages with the same receipt handles and a fresh visibility timeout, if every one of them is still
   * in flight under that receive exactly as it left them (not deleted, visibility not changed, not
   * received again, timeout not expired). Otherwise the id cannot be retried: InvalidParameterValue, as
   * SQS answers ("not valid anymore since the receive call is not retryable"). Undefined when the id is
   * not recorded (never used, used over 5 minutes ago, or its receive returned nothing).
   */
  private async replayAttempt(
    queue: StoredQueue,
    attemptId: string,
    visibilitySeconds: number,
  ): Promise<ReceivedMessage[] | undefined> {
    const now = this.deps.clock.now();
    const attempt = await this.deps.store.receiveAttemptGet({
      queueId: queue.id,
      attemptId,
      createdAfter: now - RECEIVE_ATTEMPT_WINDOW_MS,
    });
    if (!attempt) return undefined;
    const expiredBefore = now - queue.settings.MessageRetentionPeriod * 1000;
    const notRetryable = () =>
      new SluiceError(
        'InvalidParameterValue',
        `ReceiveRequestAttemptId: ${JSON.stringify(attemptId)} is not valid anymore since the receive call is not retryable: ` +
          'its messages were deleted, had their visibility changed, or became visible again; use a new id',
        { field: 'ReceiveRequestAttemptId' },
      );
    const intact =
      attempt.messages.length === attempt.seqs.length &&
      attempt.messages.every(
        (m) =>
          m.receiptToken === attempt.receiptToken &&
          m.visibleAt === attempt.visibleAt &&
          m.visibleAt > now &&
          m.sentAt >= expiredBefore,
      );
    if (!intact) throw notRetryable();
    const visibleAt = now + visibilitySeconds * 1000;
    const outcomes = await this.deps.claims.changeVisibility(
      queue,
      attempt.seqs.map((seq) => ({ seq, token: attempt.receiptToken, visibleAt })),
    );
    if (outcomes.some((outcome) => outcome !== 'changed')) throw notRetryable();
    await this.deps.store.receiveAttemptPut({
      queueId: queue.id,
      attemptId,
      receiptToken: attempt.receiptToken,
      seqs: attempt.seqs,
      visibleAt,
      createdAt: attempt.createdAt,
      forgetBefore: now - RECEIVE_ATTEMPT_WINDOW_MS,
    });
    const context = {
      queueId: queue.id,
      fifo: queue.fifo,
      receiptToken: attempt.receiptToken,
      senderId: this.deps.senderId,
    };
    return attempt.messages.map((message) => shapeReceivedMessage(message, context));
  }
}

function validateAttemptId(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ATTEMPT_ID.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 140)) : typeof value;
    throw new SluiceError(
      'InvalidParameterValue',
      `ReceiveRequestAttemptId: ${shown} is invalid; must be 1 to 128 characters of letters, digits and punctuation (!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~)`,
      { field: 'ReceiveRequestAttemptId' },
    );
  }
  return value;
}
