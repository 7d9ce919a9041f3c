/**
 * The one claim path: how a queue's messages are claimed, acknowledged, released and have their
 * visibility changed, for SQS receives (QueueService), triggers (triggers/sqs-source.ts) and group
 * limits alike. It builds the store's parameters from the queue's definition (visibility timeout,
 * retention, the redrive policy's dead-letter queue) and chooses the plain or the grouped claim, so no
 * caller repeats those rules. One store call per operation; what each costs is in
 * docs/design/claim-path.md (O(rows claimed), whatever the backlog).
 */
import { isGrouped } from '../limits/grouping.js';
import { parseArn } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import type {
  DeadLetterTarget,
  DeleteOutcome,
  ReceiptRef,
  ReceiveOutcome,
  StoredQueue,
  VisibilityOutcome,
} from '../store/queue-store.js';
import type { Store } from '../store/store.js';
import type { PlanObserver } from '../store/rules/claim-plan.js';
import type { EngineEvents } from '../observability/events.js';

/** SQS's maximum: a message may stay invisible at most 12 hours after it was received. */
export const MAX_VISIBILITY_SECONDS = 43_200;

export interface MessageClaimsDeps {
  store: Store;
  clock: Clock;
  /** The queue's definition by name, or undefined when it does not exist (cached by the caller). */
  lookup: (name: string) => Promise<StoredQueue | undefined>;
  arnOf: (name: string) => string;
  events?: EngineEvents | undefined;
}

export interface ClaimRequest {
  /** Any positive count: SQS's 1-10 is the receive's rule; a trigger claims up to 10,000 in one call. */
  maxMessages: number;
  visibilitySeconds: number;
  receiptToken: string;
  /** A grouped queue's claim takes at most this many from groups with a rate limit (GroupClaimParams.pacedMax). */
  pacedMax?: number;
  /** A grouped queue's claim tells this each plan it makes (GroupClaimParams.onPlan). */
  onPlan?: PlanObserver;
}

export class MessageClaims {
  constructor(private readonly deps: MessageClaimsDeps) {}

  /**
   * Claims up to `maxMessages` visible messages (a grouped queue within its group limits), dropping
   * those past retention and moving to the dead-letter queue those received maxReceiveCount times.
   * `visibleAt` is when the claimed messages become visible again.
   */
  async claim(queue: StoredQueue, request: ClaimRequest): Promise<ReceiveOutcome & { visibleAt: number }> {
    const deadLetter = await this.deadLetterTarget(queue);
    const now = this.deps.clock.now();
    const params = {
      queueId: queue.id,
      fifo: queue.fifo,
      maxMessages: request.maxMessages,
      now,
      visibleAt: now + request.visibilitySeconds * 1000,
      expiredBefore: now - queue.settings.MessageRetentionPeriod * 1000,
      receiptToken: request.receiptToken,
      deadLetter,
    };
    const outcome = isGrouped(queue)
      ? await this.deps.store.messageClaimByGroup({
          ...params,
          queueName: queue.name,
          ...(request.pacedMax !== undefined ? { pacedMax: request.pacedMax } : {}),
          ...(request.onPlan !== undefined ? { onPlan: request.onPlan } : {}),
        })
      : await this.deps.store.messageReceive(params);
    if (outcome.deadLettered > 0 && deadLetter && this.deps.events?.active) {
      this.deps.events.emit({
        type: 'dead-letter',
        queue: queue.name,
        deadLetterQueue: parseArn(queue.settings.RedrivePolicy!.deadLetterTargetArn)?.resource ?? '?',
        messages: outcome.deadLettered,
        at: now,
      });
    }
    return { ...outcome, visibleAt: params.visibleAt };
  }

  /** Deletes claimed messages; a receipt that is stale (claimed again since) or gone deletes nothing. */
  acknowledge(queue: StoredQueue, receipts: ReceiptRef[]): Promise<DeleteOutcome[]> {
    return this.deps.store.messageDelete({
      queueId: queue.id,
      fifo: queue.fifo,
      receipts,
      // A grouped queue's deletes free their groups' slots, at this instant.
      ...(isGrouped(queue) ? { grouped: true, now: this.deps.clock.now() } : {}),
    });
  }

  /** Sets claimed messages' visibility; each change is judged against its receipt (see VisibilityOutcome). */
  changeVisibility(queue: StoredQueue, changes: Array<ReceiptRef & { visibleAt: number }>): Promise<VisibilityOutcome[]> {
    return this.deps.store.messageChangeVisibility({
      queueId: queue.id,
      fifo: queue.fifo,
      grouped: isGrouped(queue),
      now: this.deps.clock.now(),
      changes,
      maxInvisibleMs: MAX_VISIBILITY_SECONDS * 1000,
    });
  }

  /** Makes claimed messages visible again at once. */
  release(queue: StoredQueue, receipts: ReceiptRef[]): Promise<VisibilityOutcome[]> {
    const now = this.deps.clock.now();
    return this.changeVisibility(
      queue,
      receipts.map((receipt) => ({ ...receipt, visibleAt: now })),
    );
  }

  /**
   * Where the queue's redrive policy sends a message received maxReceiveCount times, or null: no policy,
   * or its dead-letter queue no longer exists (then, as SQS does, the message keeps being redelivered).
   */
  async deadLetterTarget(queue: StoredQueue): Promise<DeadLetterTarget | null> {
    const policy = queue.settings.RedrivePolicy;
    if (!policy) return null;
    const name = parseArn(policy.deadLetterTargetArn)?.resource;
    const dlq = name ? await this.deps.lookup(name) : undefined;
    if (!dlq) return null;
    return {
      queueId: dlq.id,
      fifo: dlq.fifo,
      maxReceiveCount: policy.maxReceiveCount,
      sourceArn: this.deps.arnOf(queue.name),
      grouped: isGrouped(dlq),
    };
  }
}
