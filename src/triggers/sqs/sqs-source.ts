/**
 * The queue side of a trigger: claim a batch, delete what succeeded, hand back what was claimed but not
 * used. Each is one store call. A claim may take more than SQS's 10 messages a receive allows (Lambda's
 * pollers do the same on the service side), and applies the queue's redrive policy as a receive does.
 */
import { AckCoalescer } from './ack-coalescer.js';
import { ClaimCoalescer, type ClaimShare } from './claim-coalescer.js';
import { newReceiptToken } from '../../queues/receipt-handle.js';
import { groupActivityOf } from '../../limits/group-activity.js';
import { isGrouped } from '../../limits/grouping.js';
import { parseArn, type ArnContext } from '../../model/arn.js';
import type { Clock } from '../../model/clock.js';
import { isSluiceError } from '../../model/errors.js';
import { MAX_VISIBILITY_SECONDS, type QueueService } from '../../queues/service.js';
import type { DeadLetterTarget, ReceiptRef, ReceiveOutcome, StoredQueue } from '../../store/queue-store.js';
import type { Store } from '../../store/store.js';

export interface SqsSourceDeps {
  store: Store;
  clock: Clock;
  queues: QueueService;
  arn: ArnContext;
  /** Where a failed acknowledgement that no batch waits for is reported. */
  onError?: (error: unknown) => void;
}

export class SqsSource {
  private abandoned = false;
  /** Acknowledgements under way that no poller waits for (see `ack`). */
  private readonly unawaitedAcks = new Set<Promise<void>>();
  private readonly acks = new AckCoalescer<StoredQueue>((queue, receipts) => this.deleteNow(queue, receipts));
  private readonly claims: ClaimCoalescer<StoredQueue>;

  constructor(
    private readonly deps: SqsSourceDeps,
    readonly queueName: string,
  ) {
    this.claims = new ClaimCoalescer<StoredQueue>({
      claimAll: (queue, maxMessages, receiptToken) => this.claim(queue, maxMessages, receiptToken),
      handBack: (queue, receipts) => this.release(queue, receipts),
      newReceiptToken,
      clock: deps.clock,
      onError: (error) => deps.onError?.(error),
    });
  }

  /**
   * After the engine's stop deadline the store is closing: batches still running end without touching
   * it, and their messages come back through the visibility timeout (at-least-once holds).
   */
  abandon(): void {
    this.abandoned = true;
  }

  /** The queue's definition (cached by the queue service), or undefined when it does not exist. */
  async resolve(): Promise<StoredQueue | undefined> {
    try {
      return await this.deps.queues.definition(this.queueName);
    } catch (error) {
      if (isSluiceError(error, 'QueueDoesNotExist')) return undefined;
      throw error;
    }
  }

  /**
   * The first claim of a batch, under a receipt token of its own. On a queue whose messages may go to
   * any batch, the first claims of this trigger's batches made during one turn are one store call, and
   * fast batches are claimed a little ahead (claim-coalescer.ts; `capacity`: pollers times batch size);
   * a FIFO or grouped queue is claimed for each batch alone.
   */
  async claimBatch(queue: StoredQueue, maxMessages: number, capacity: number): Promise<ClaimShare> {
    if (!queue.fifo && !isGrouped(queue)) return this.claims.take(queue, maxMessages, capacity);
    const receiptToken = newReceiptToken();
    const outcome = await this.claim(queue, maxMessages, receiptToken);
    return { messages: outcome.messages, receiptToken, nextVisibleAt: outcome.nextVisibleAt };
  }

  /** Claims more for a batch in hand (a batching window), under that batch's receipt token. */
  async claim(queue: StoredQueue, maxMessages: number, receiptToken: string): Promise<ReceiveOutcome> {
    const deadLetter = await this.deadLetterTarget(queue);
    const now = this.deps.clock.now();
    const params = {
      queueId: queue.id,
      fifo: queue.fifo,
      maxMessages,
      now,
      visibleAt: now + queue.settings.VisibilityTimeout * 1000,
      expiredBefore: now - queue.settings.MessageRetentionPeriod * 1000,
      receiptToken,
      deadLetter,
    };
    if (!isGrouped(queue)) return this.deps.store.messageReceive(params);
    // A grouped queue is claimed within its group limits, round robin over ready groups (limits/), and
    // what the claim decided per group feeds the group activity metrics until the batch settles.
    return groupActivityOf(this.deps.store).claim(
      { queue: queue.name, batchId: receiptToken, expiresAt: params.visibleAt },
      () => this.deps.store.messageClaimByGroup({ ...params, queueName: queue.name }),
    );
  }

  /** The batch claimed with `receiptToken` is over (group activity metrics: no longer in flight). */
  settle(receiptToken: string): void {
    groupActivityOf(this.deps.store).settle(receiptToken);
  }

  /**
   * Deletes the messages of a batch that are done (succeeded or filtered out); the batches of this
   * trigger that finish in the same turn of the event loop are deleted by one store call.
   *
   * On a plain standard queue the poller does not wait for the delete: it claims its next batch while
   * the delete is under way, so a poller's cycle costs one round trip instead of two. Nothing orders a
   * standard queue's messages, and a delete that fails (or never runs: a crash) leaves its messages to
   * come back after their visibility timeout, as a failed delete always did: at-least-once holds. A FIFO
   * queue's group stays blocked until its delete commits, and a grouped queue's delete frees the group
   * slots the next claim needs, so there the poller waits.
   */
  async ack(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> {
    if (receipts.length === 0 || this.abandoned) return;
    const deleting = this.acks.ack(queue, receipts);
    if (queue.fifo || isGrouped(queue)) return deleting;
    const tracked: Promise<void> = deleting.then(
      () => {
        this.unawaitedAcks.delete(tracked);
      },
      (error: unknown) => {
        this.unawaitedAcks.delete(tracked);
        this.deps.onError?.(error);
      },
    );
    this.unawaitedAcks.add(tracked);
  }

  /** A batch took `ms` from its claim to its acknowledgement. */
  noteBatchDuration(ms: number): void {
    this.claims.noteBatchDuration(ms);
  }

  /** Messages claimed ahead go back to the queue (the trigger pauses). */
  handBackHeld(): void {
    if (!this.abandoned) this.claims.handBackAll();
  }

  /** Resolves once every acknowledgement and hand-back started so far has been made (or has failed). */
  async settled(): Promise<void> {
    while (this.unawaitedAcks.size > 0) await Promise.allSettled([...this.unawaitedAcks]);
    await this.claims.settled();
  }

  private async deleteNow(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> {
    if (this.abandoned) return;
    const grouped = isGrouped(queue);
    await this.deps.store.messageDelete({
      queueId: queue.id,
      fifo: queue.fifo,
      receipts,
      ...(grouped ? { grouped, now: this.deps.clock.now() } : {}),
    });
  }

  /** Makes claimed messages visible again at once (a batch cut short by the payload limit). */
  async release(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> {
    if (receipts.length === 0 || this.abandoned) return;
    const now = this.deps.clock.now();
    await this.deps.store.messageChangeVisibility({
      queueId: queue.id,
      fifo: queue.fifo,
      grouped: isGrouped(queue),
      now,
      changes: receipts.map((receipt) => ({ ...receipt, visibleAt: now })),
      maxInvisibleMs: MAX_VISIBILITY_SECONDS * 1000,
    });
  }

  private async deadLetterTarget(queue: StoredQueue): Promise<DeadLetterTarget | null> {
    const policy = queue.settings.RedrivePolicy;
    if (!policy) return null;
    const name = parseArn(policy.deadLetterTargetArn)?.resource;
    if (!name) return null;
    let dlq: StoredQueue;
    try {
      dlq = await this.deps.queues.definition(name);
    } catch (error) {
      if (isSluiceError(error, 'QueueDoesNotExist')) return null; // as SQS: keep redelivering
      throw error;
    }
    return {
      queueId: dlq.id,
      fifo: dlq.fifo,
      maxReceiveCount: policy.maxReceiveCount,
      sourceArn: this.deps.queues.arnOf(queue.name),
      grouped: isGrouped(dlq),
    };
  }
}
