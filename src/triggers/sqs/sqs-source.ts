/**
 * The queue side of a trigger: claim a batch, delete what succeeded, hand back what was claimed but not
 * used. Each is one store call. A claim may take more than SQS's 10 messages a receive allows (Lambda's
 * pollers do the same on the service side), and applies the queue's redrive policy as a receive does.
 */
import { AckCoalescer } from './ack-coalescer.js';
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
}

export class SqsSource {
  private abandoned = false;
  private readonly acks = new AckCoalescer<StoredQueue>((queue, receipts) => this.deleteNow(queue, receipts));

  constructor(
    private readonly deps: SqsSourceDeps,
    readonly queueName: string,
  ) {}

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
   */
  async ack(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> {
    if (receipts.length === 0 || this.abandoned) return;
    await this.acks.ack(queue, receipts);
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
