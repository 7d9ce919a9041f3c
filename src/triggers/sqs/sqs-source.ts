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
import type { ArnContext } from '../../model/arn.js';
import type { Clock } from '../../model/clock.js';
import { isSluiceError } from '../../model/errors.js';
import type { QueueService } from '../../queues/service.js';
import type { ReceiptRef, ReceiveOutcome, StoredQueue } from '../../store/queue-store.js';
import type { Store } from '../../store/store.js';

/** Pauses between retries of a failed acknowledgement: 100 ms, doubling, at most 5 s. */
const ACK_RETRY_FIRST_MS = 100;
const ACK_RETRY_MAX_MS = 5000;

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
  /**
   * A grouped claim's messages not yet settled or handed back, by receipt token: the claim's group
   * activity settles when the last of them does, whichever batches (or hand-backs) they went to.
   */
  private readonly unsettled = new Map<string, number>();
  /** Acknowledgements under way that no poller waits for (see `ack`), and who waits for none to be left. */
  private unawaitedAcks = 0;
  private ackWaiters: Array<() => void> = [];
  /** Told when an acknowledgement no poller waits for ends (one object for all: no allocation per batch). */
  private readonly unawaitedAckEnded = {
    resolve: () => this.unawaitedAckDone(),
    reject: (error: unknown) => {
      this.unawaitedAckDone();
      this.deps.onError?.(error);
    },
  };
  /** Counts acknowledgements that no poller waited for and that have ended (see `acksEnded`). */
  private acksEndedCount = 0;
  private readonly acks = new AckCoalescer<StoredQueue>((queue, receipts) => this.deleteNow(queue, receipts));
  private readonly claims: ClaimCoalescer<StoredQueue>;

  constructor(
    private readonly deps: SqsSourceDeps,
    readonly queueName: string,
  ) {
    this.claims = new ClaimCoalescer<StoredQueue>({
      claimAll: (queue, maxMessages, receiptToken, pacedMax) =>
        this.claim(queue, maxMessages, receiptToken, pacedMax),
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

  /** The queue's definition if the queue service has it cached: no promise on a poller's every round. */
  cached(): StoredQueue | undefined {
    return this.deps.queues.cachedDefinition(this.queueName);
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
   * The first claim of a batch. On a standard queue the first claims of this trigger's batches made
   * during one turn are one store call, and fast batches are claimed a little ahead (`capacity`:
   * pollers times batch size; claim-coalescer.ts says how a grouped queue's limits are kept meanwhile).
   * A FIFO queue is claimed for each batch alone.
   */
  async claimBatch(queue: StoredQueue, maxMessages: number, capacity: number): Promise<ClaimShare> {
    if (!queue.fifo) return this.claims.take(queue, maxMessages, capacity);
    const receiptToken = newReceiptToken();
    const outcome = await this.claim(queue, maxMessages, receiptToken);
    return { messages: outcome.messages, receiptToken, nextVisibleAt: outcome.nextVisibleAt };
  }

  /**
   * Claims under `receiptToken`: a batch's first claim (through the coalescer), or more for a batch in
   * hand (a batching window). A grouped queue's claim takes at most `pacedMax` messages from groups with
   * a rate limit.
   */
  async claim(
    queue: StoredQueue,
    maxMessages: number,
    receiptToken: string,
    pacedMax?: number,
  ): Promise<ReceiveOutcome> {
    const claims = this.deps.queues.claims;
    const request = { maxMessages, visibilitySeconds: queue.settings.VisibilityTimeout, receiptToken };
    if (!isGrouped(queue)) return claims.claim(queue, request);
    // What a grouped claim decided per group feeds the group activity metrics until its messages settle.
    const expiresAt = this.deps.clock.now() + queue.settings.VisibilityTimeout * 1000;
    const outcome = await groupActivityOf(this.deps.store).claim(
      { queue: queue.name, batchId: receiptToken, expiresAt },
      (onPlan) => claims.claim(queue, { ...request, onPlan, ...(pacedMax === undefined ? {} : { pacedMax }) }),
    );
    if (outcome.messages.length > 0)
      this.unsettled.set(receiptToken, (this.unsettled.get(receiptToken) ?? 0) + outcome.messages.length);
    return outcome;
  }

  /** A batch of `messages` claimed with `receiptToken` is over (group activity metrics: no longer in flight). */
  settle(receiptToken: string, messages: number): void {
    this.settleMessages(receiptToken, messages);
  }

  private settleMessages(receiptToken: string, messages: number): void {
    const left = this.unsettled.get(receiptToken);
    if (left === undefined) return;
    if (left > messages) {
      this.unsettled.set(receiptToken, left - messages);
      return;
    }
    this.unsettled.delete(receiptToken);
    groupActivityOf(this.deps.store).settle(receiptToken);
  }

  /**
   * Deletes the messages of a batch that are done (succeeded or filtered out); the batches of this
   * trigger that finish in the same turn of the event loop are deleted by one store call.
   *
   * On a standard queue the poller does not wait for the delete: it claims its next batch while the
   * delete is under way, so a poller's cycle costs one round trip instead of two. Nothing orders a
   * standard queue's messages, and a delete that fails (or never runs: a crash) leaves its messages to
   * come back after their visibility timeout, as a failed delete always did: at-least-once holds. On a
   * grouped queue a message's group slot stays taken until its delete commits, so a claim made meanwhile
   * sees the group busy and serves other groups: the limits hold, and a claim that finds nothing while
   * deletes are under way waits for them and looks again (sqs-poller.ts). Waiting for every delete cost
   * PostgreSQL most of its throughput there (1,000 groups, 16 pollers: 3.2k msg/s awaited, 4.0-5.4k
   * not). A FIFO queue's poller waits: its batch must end before the group's next message is claimed.
   */
  ack(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> | undefined {
    if (receipts.length === 0 || this.abandoned) return undefined;
    if (queue.fifo) return this.acks.ack(queue, receipts);
    this.unawaitedAcks++;
    this.acks.enqueue(queue, receipts, this.unawaitedAckEnded);
    return undefined;
  }

  private unawaitedAckDone(): void {
    this.unawaitedAcks--;
    this.acksEndedCount++;
    if (this.unawaitedAcks > 0 || this.ackWaiters.length === 0) return;
    const waiters = this.ackWaiters;
    this.ackWaiters = [];
    for (const wake of waiters) wake();
  }

  /** A batch took `ms` from its claim to its acknowledgement. */
  noteBatchDuration(ms: number): void {
    this.claims.noteBatchDuration(ms);
  }

  /** Messages claimed ahead go back to the queue (the trigger pauses). */
  handBackHeld(): void {
    if (!this.abandoned) this.claims.handBackAll();
  }

  /**
   * How many acknowledgements that no poller waited for have ended so far: a claim that ran while one
   * ended may have seen its messages still in flight (on PostgreSQL a claim's snapshot can predate the
   * delete's commit), so its "next visible" instant may be a deleted message's.
   */
  acksEnded(): number {
    return this.acksEndedCount;
  }

  /** Whether acknowledgements that no poller waits for are under way. */
  acknowledging(): boolean {
    return this.unawaitedAcks > 0;
  }

  /** Resolves once every acknowledgement and hand-back started so far has been made (or has failed). */
  async settled(): Promise<void> {
    if (this.unawaitedAcks > 0) await new Promise<void>((resolve) => this.ackWaiters.push(resolve));
    await this.claims.settled();
  }

  /**
   * Deletes done messages, retrying a failure that is not a refusal (the store's connection was lost:
   * a database restart) with growing pauses for as long as the messages could still be in flight under
   * these receipts, their visibility timeout. Giving up sooner redelivered work that had succeeded and
   * held a FIFO group for a whole visibility timeout. A retry is safe: a receipt deletes its message
   * only while the message is still claimed under it, never a later claim's.
   */
  private async deleteNow(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> {
    const clock = this.deps.clock;
    const until = clock.now() + queue.settings.VisibilityTimeout * 1000;
    for (let attempt = 0; ; attempt++) {
      if (this.abandoned) return;
      try {
        await this.deps.queues.claims.acknowledge(queue, receipts);
        return;
      } catch (error) {
        if (isSluiceError(error) || this.abandoned) throw error;
        const pause = Math.min(ACK_RETRY_FIRST_MS * 2 ** attempt, ACK_RETRY_MAX_MS);
        if (clock.now() + pause >= until) throw error;
        this.deps.onError?.(error);
        await new Promise<void>((resolve) => clock.setTimer(pause, resolve));
      }
    }
  }

  /** Makes claimed messages visible again at once (a batch cut short by the payload limit). */
  async release(queue: StoredQueue, receipts: ReceiptRef[]): Promise<void> {
    if (receipts.length === 0 || this.abandoned) return;
    if (this.unsettled.size > 0) for (const receipt of receipts) this.settleMessages(receipt.token, 1);
    await this.deps.queues.claims.release(queue, receipts);
  }
}
