/**
 * How one trigger's pollers get their batches from a queue whose messages may go to any batch (a plain
 * standard queue): claims made together, and, for fast handlers, claimed a little ahead.
 *
 * Made together: a trigger's pollers finish their batches close to each other (their acknowledgements
 * are coalesced too, see ack-coalescer.ts) and then each claims its next batch. With batch size 1 and
 * sixteen pollers that was sixteen claims, each a round trip and a transaction of its own, and on
 * PostgreSQL the round trips, not the rows, were the cost. A claim asked for while no other is asked
 * for or under way is made at once; the claims asked for meanwhile, during one turn of the event loop
 * or while a claim is under way, are one store call of their sum, dealt out in claim order.
 *
 * Claimed ahead: even made together, every cycle of a poller waited for a claim's round trip while the
 * node and the database idled (a profile of a PostgreSQL drain: 71% idle). When the trigger's batches
 * finish quickly, a claim also takes up to AHEAD_MAX_BATCHES more batches per poller (about 50 ms of
 * work at their recent duration), kept here for the
 * next poller that asks, and the next claim is made while pollers still have messages to take. A
 * message claimed ahead waits for about one batch's run time before a poller takes it, so claiming ahead
 * is on only while batches take at most AHEAD_MAX_BATCH_MS and a tenth of the visibility timeout on
 * average; a message that has waited half its visibility timeout is handed back to the queue instead of
 * to a poller, and everything held is handed back when the trigger pauses. Its visibility timeout runs
 * from its claim, as for any claimed message: held too long it comes back, never lost.
 *
 * Not for FIFO queues (a message group's claimed messages must stay in one batch, in order). A grouped
 * queue's claims are made together (one plan within the group limits covers them all) and ahead as well:
 * a held message holds its group's slot, but only for about AHEAD_HOLD_MS, while every poller is busy
 * (1,000 groups limited to 1, batch size 1: 102-119 µs of CPU per message without, 73-78 with). Held
 * messages never come from groups with a rate limit: a claim takes at most as many of those as its
 * waiting callers take at once (`pacedMax`), and they are dealt first, so each starts at its claim's
 * instant and starts keep to the rate the claims kept to.
 */
import type { Clock } from '../../model/clock.js';
import type { ClaimedMessage, ReceiptRef, ReceiveOutcome } from '../../store/queue-store.js';

export interface ClaimShare {
  messages: ClaimedMessage[];
  receiptToken: string;
  /** When the claim found nothing: the next instant a message becomes visible, if any. */
  nextVisibleAt: number | null;
}

/** Claiming ahead pays only while a batch is not much longer than a claim's round trip. */
export const AHEAD_MAX_BATCH_MS = 50;
/**
 * How much is held ahead: enough batches per poller for about AHEAD_HOLD_MS of work at the recent
 * batch duration, from 1 to AHEAD_MAX_BATCHES. Larger claims cost the database less per message
 * (PostgreSQL, batch size 1, 16 pollers: 12,500-13,500 msg/s holding one batch per poller, 16,200-18,100
 * holding 4, 19,500-21,700 holding 16), and a held message waits about AHEAD_HOLD_MS at most.
 */
export const AHEAD_HOLD_MS = 50;
export const AHEAD_MAX_BATCHES = 16;
/** Running average of batch durations: weight of the latest one. */
const DURATION_WEIGHT = 0.2;

interface ClaimQueue {
  id: number;
  settings: { VisibilityTimeout: number };
}

interface Request {
  maxMessages: number;
  resolve: (share: ClaimShare) => void;
  reject: (error: unknown) => void;
}

/** Messages of one claim not yet handed to a poller. */
interface HeldChunk {
  messages: ClaimedMessage[];
  receiptToken: string;
  /** After this instant they are handed back rather than out: half their visibility timeout is gone. */
  staleAt: number;
}

interface QueueState<Q> {
  queue: Q;
  waiting: Request[];
  held: HeldChunk[];
  heldCount: number;
  claiming: boolean;
  flushScheduled: boolean;
  capacity: number;
}

export interface ClaimCoalescerDeps<Q> {
  /**
   * One claim of up to `maxMessages`, of which at most `pacedMax` may be marked `paced` (grouped queues:
   * from groups with a rate limit); those must not be held.
   */
  claimAll: (queue: Q, maxMessages: number, receiptToken: string, pacedMax: number) => Promise<ReceiveOutcome>;
  /** Makes messages visible again at once. */
  handBack: (queue: Q, receipts: ReceiptRef[]) => Promise<void>;
  newReceiptToken: () => string;
  clock: Clock;
  onError: (error: unknown) => void;
}

export class ClaimCoalescer<Q extends ClaimQueue> {
  private readonly states = new Map<number, QueueState<Q>>();
  private averageBatchMs: number | undefined;
  private readonly handingBack = new Set<Promise<void>>();

  constructor(private readonly deps: ClaimCoalescerDeps<Q>) {}

  /**
   * This caller's next batch: up to `maxMessages`, taken from what is held, or from the claim made for
   * everyone who asked during this turn. `capacity` is how many messages the trigger's pollers take at
   * once (pollers times batch size); at most AHEAD_MAX_BATCHES times that is held ahead.
   */
  take(queue: Q, maxMessages: number, capacity: number): Promise<ClaimShare> {
    const state = this.stateOf(queue);
    state.capacity = capacity;
    this.dropStale(state);
    const share = this.fromHeld(state, maxMessages);
    if (share) {
      this.claimAheadIfLow(state);
      return Promise.resolve(share);
    }
    return new Promise<ClaimShare>((resolve, reject) => {
      state.waiting.push({ maxMessages, resolve, reject });
      if (state.waiting.length === 1 && !state.claiming && !state.flushScheduled) {
        // Nobody else is asking or claiming: claim now rather than a turn later (a woken trigger's
        // first claim is on the send -> handler path). Whoever asks meanwhile waits for this claim and
        // is served from what it held, or by the next claim, made for all of them.
        this.claimIfWaiting(state);
        return;
      }
      if (!state.flushScheduled) {
        state.flushScheduled = true;
        setImmediate(() => {
          state.flushScheduled = false;
          this.claimIfWaiting(state);
        });
      }
    });
  }

  /** A batch ran for `ms` (claim to acknowledgement): decides whether claiming ahead pays. */
  noteBatchDuration(ms: number): void {
    this.averageBatchMs =
      this.averageBatchMs === undefined ? ms : this.averageBatchMs + DURATION_WEIGHT * (ms - this.averageBatchMs);
  }

  /** Hands every held message back to its queue (the trigger pauses or stops). */
  handBackAll(): void {
    for (const state of this.states.values()) {
      const chunks = state.held;
      state.held = [];
      state.heldCount = 0;
      for (const chunk of chunks) this.handBack(state.queue, chunk);
    }
  }

  /** Resolves once the messages handed back are visible again (or the attempt failed). */
  async settled(): Promise<void> {
    while (this.handingBack.size > 0) await Promise.allSettled([...this.handingBack]);
  }

  private stateOf(queue: Q): QueueState<Q> {
    let state = this.states.get(queue.id);
    if (!state) {
      state = { queue, waiting: [], held: [], heldCount: 0, claiming: false, flushScheduled: false, capacity: 0 };
      this.states.set(queue.id, state);
    }
    state.queue = queue;
    return state;
  }

  private aheadPays(queue: Q): boolean {
    const average = this.averageBatchMs;
    return (
      average !== undefined &&
      average <= AHEAD_MAX_BATCH_MS &&
      average <= (queue.settings.VisibilityTimeout * 1000) / 10
    );
  }

  /** Batches per poller held ahead: about AHEAD_HOLD_MS of work (see above). */
  private aheadBatches(): number {
    const average = Math.max(this.averageBatchMs ?? AHEAD_MAX_BATCH_MS, 0.001);
    return Math.min(AHEAD_MAX_BATCHES, Math.max(1, Math.floor(AHEAD_HOLD_MS / average)));
  }

  /** Up to `maxMessages` from the oldest held chunk (one receipt token per batch). */
  private fromHeld(state: QueueState<Q>, maxMessages: number): ClaimShare | undefined {
    const chunk = state.held[0];
    if (!chunk) return undefined;
    const messages = chunk.messages.length <= maxMessages ? chunk.messages : chunk.messages.slice(0, maxMessages);
    if (messages === chunk.messages) state.held.shift();
    else chunk.messages = chunk.messages.slice(maxMessages);
    state.heldCount -= messages.length;
    return { messages, receiptToken: chunk.receiptToken, nextVisibleAt: null };
  }

  private dropStale(state: QueueState<Q>): void {
    const now = this.deps.clock.now();
    while (state.held[0] && state.held[0].staleAt <= now) {
      const chunk = state.held.shift()!;
      state.heldCount -= chunk.messages.length;
      this.handBack(state.queue, chunk);
    }
  }

  private claimAheadIfLow(state: QueueState<Q>): void {
    if (state.claiming || !this.aheadPays(state.queue)) return;
    if (state.heldCount * 2 > state.capacity * this.aheadBatches()) return;
    void this.claim(state, 0);
  }

  private claimIfWaiting(state: QueueState<Q>): void {
    if (state.claiming || state.waiting.length === 0) return;
    const wanted = state.waiting.reduce((sum, request) => sum + request.maxMessages, 0);
    void this.claim(state, wanted);
  }

  /** One claim for the callers waiting (`wanted`) and, when it pays, the capacity held ahead. */
  private async claim(state: QueueState<Q>, wanted: number): Promise<void> {
    const ahead = this.aheadPays(state.queue)
      ? Math.max(0, state.capacity * this.aheadBatches() - state.heldCount)
      : 0;
    const size = wanted + ahead;
    if (size === 0) return;
    state.claiming = true;
    const receiptToken = this.deps.newReceiptToken();
    const claimedAt = this.deps.clock.now();
    let outcome: ReceiveOutcome;
    try {
      outcome = await this.deps.claimAll(state.queue, size, receiptToken, wanted);
    } catch (error) {
      state.claiming = false;
      const waiting = state.waiting;
      state.waiting = [];
      for (const request of waiting) request.reject(error);
      if (waiting.length === 0) this.deps.onError(error);
      return;
    }
    state.claiming = false;
    let next = 0;
    const waiting = state.waiting;
    state.waiting = [];
    let served = 0;
    const claimed = outcome.messages.length > wanted ? pacedFirst(outcome.messages) : outcome.messages;
    for (const request of waiting) {
      const messages = claimed.slice(next, next + request.maxMessages);
      if (messages.length === 0) break;
      next += messages.length;
      served++;
      request.resolve({ messages, receiptToken, nextVisibleAt: null });
    }
    const unserved = waiting.slice(served);
    if (next < claimed.length) {
      const messages = claimed.slice(next);
      const staleAt = claimedAt + (state.queue.settings.VisibilityTimeout * 1000) / 2;
      state.held.push({ messages, receiptToken, staleAt });
      state.heldCount += messages.length;
    }
    if (unserved.length === 0) return;
    if (outcome.messages.length < size) {
      // The queue had no more: whoever is left finds nothing this time.
      for (const request of unserved)
        request.resolve({ messages: [], receiptToken, nextVisibleAt: outcome.nextVisibleAt });
      return;
    }
    // Callers that asked while this claim was under way: serve them from what is held, or claim again.
    state.waiting = unserved.concat(state.waiting);
    while (state.waiting.length > 0 && state.held.length > 0) {
      const request = state.waiting.shift()!;
      request.resolve(this.fromHeld(state, request.maxMessages)!);
    }
    this.claimIfWaiting(state);
  }

  private handBack(queue: Q, chunk: HeldChunk): void {
    const receipts = chunk.messages.map((message) => ({ seq: message.seq, token: chunk.receiptToken }));
    const handing: Promise<void> = this.deps.handBack(queue, receipts).then(
      () => {
        this.handingBack.delete(handing);
      },
      (error: unknown) => {
        this.handingBack.delete(handing);
        this.deps.onError(error);
      },
    );
    this.handingBack.add(handing);
  }
}

/** Paced messages before the others, each part in claim order, when some are held: the waiting callers take them at once. */
function pacedFirst(messages: ClaimedMessage[]): ClaimedMessage[] {
  if (!messages.some((message) => message.paced)) return messages;
  return [...messages.filter((message) => message.paced), ...messages.filter((message) => !message.paced)];
}
