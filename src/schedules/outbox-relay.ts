/**
 * Delivers what the outbox holds: schedule ticks and batch finalizers, each inserted by the transaction
 * that decided it (see store/outbox-store.ts). The relay claims due entries with a lease, hands each to
 * its topic's handler, and marks it delivered; a handler that throws is retried with backoff (1 s, 2 s,
 * 4 s, ... up to 5 minutes), and given up after `maxAttempts` unless it was throttled. A handler that
 * applies its own limit (a schedule target's RetryPolicy) throws `RetryDelivery` to be retried anyway, or
 * `AbandonDelivery` to give up at once.
 *
 * A delivery that outlasts its lease (a function running up to 15 minutes) renews the lease every third
 * of it, so no other node takes the entry while the handler still runs.
 *
 * It never polls: it runs when an outbox insert is announced (on any node, through the notifier), and
 * otherwise sleeps until the earliest due instant, which is a retry or the end of a lease another node
 * took and may have died holding. An empty outbox arms no timer.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { isSluiceError } from '../model/errors.js';
import type { Unsubscribe } from '../store/notifier.js';
import { outboxChannel, type OutboxEntry, type OutboxTopic } from '../store/outbox-store.js';
import type { Store } from '../store/store.js';
import type { Service } from '../model/service.js';

export type OutboxHandler = (entry: OutboxEntry) => Promise<void>;

/** Attempts of an entry whose handler applies no limit of its own (`maxAttempts` by default). */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** Thrown by a handler that applies its own retry limit: retry with backoff, whatever `maxAttempts` says. */
export class RetryDelivery extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason), { cause: reason });
    this.name = reason instanceof Error ? reason.name : 'RetryDelivery';
  }
}

/** Thrown by a handler that gives up now: the entry is done, with this as its error. */
export class AbandonDelivery extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AbandonDelivery';
  }
}

export interface OutboxRelayOptions {
  store: Store;
  clock: Clock;
  handlers: Record<OutboxTopic, OutboxHandler>;
  onError: (error: unknown) => void;
  /** How long a claimed entry is ours before another node may take it. Default 5 minutes. */
  leaseMs?: number;
  /** Default 3, as Lambda's asynchronous invocations (one try and two retries). */
  maxAttempts?: number;
}

const CLAIM_LIMIT = 16;
const MAX_BACKOFF_MS = 5 * 60_000;

export class OutboxRelay implements Service {
  private readonly claimToken = randomUUID();
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private unsubscribe: Unsubscribe | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: OutboxRelayOptions) {
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  /** Delivers whatever is due (left by a crash, say) and follows the outbox channel. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.options.store.notifier.subscribe(outboxChannel, () => this.kick());
    this.kick();
  }

  /** Stops claiming; resolves when the delivery under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.cancelTimer?.();
    await this.running;
  }

  /** Something may be due: run now, or once more after the run under way. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .catch(this.options.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once nothing is running (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    const store = this.options.store;
    const { clock } = this.options;
    for (;;) {
      if (this.stopped) return;
      const entries = await store.outboxClaim({
        now: clock.now(),
        leaseMs: this.leaseMs,
        claimToken: this.claimToken,
        limit: CLAIM_LIMIT,
      });
      for (const entry of entries) {
        if (this.stopped) return; // the lease runs out and another node (or our restart) takes it
        await this.deliver(entry);
      }
      if (entries.length < CLAIM_LIMIT) break;
    }
    this.arm(await store.outboxNextDue({}));
  }

  /** Extends the claim's lease every third of it until the returned function is called. */
  private renewWhileDelivering(entry: OutboxEntry): () => void {
    const { clock, onError } = this.options;
    let cancel: (() => void) | undefined;
    let delivering = true;
    const schedule = () => {
      cancel = clock.setTimer(this.leaseMs / 3, () => {
        if (!delivering) return;
        this.options
          .store
          .outboxExtend({ id: entry.id, claimToken: this.claimToken, dueAt: clock.now() + this.leaseMs })
          .then((held) => {
            // A lost claim (another node took the entry after a stall here) is not renewed: delivery
            // is at least once, and this node's completion will be refused.
            if (held && delivering) schedule();
          }, onError);
      });
    };
    schedule();
    return () => {
      delivering = false;
      cancel?.();
    };
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const store = this.options.store;
    const { clock } = this.options;
    const stopRenewing = this.renewWhileDelivering(entry);
    try {
      await this.options.handlers[entry.topic](entry).finally(stopRenewing);
      await store.outboxComplete({ id: entry.id, claimToken: this.claimToken, now: clock.now() });
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      // A throttle, or a handler applying its own retry limit, is retried whatever maxAttempts says.
      const retryAnyway = isSluiceError(error, 'TooManyRequestsException') || error instanceof RetryDelivery;
      if (error instanceof AbandonDelivery || (!retryAnyway && entry.attempts >= this.maxAttempts)) {
        this.options.onError(
          new Error(`outbox: gave up delivering ${entry.key} after ${entry.attempts} attempts: ${reason}`, {
            cause: error,
          }),
        );
        await store.outboxComplete({
          id: entry.id,
          claimToken: this.claimToken,
          now: clock.now(),
          error: reason,
        });
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, entry.attempts - 1));
      await store.outboxRetry({
        id: entry.id,
        claimToken: this.claimToken,
        dueAt: clock.now() + backoff,
        error: reason,
      });
    }
  }

  private arm(dueAt: number | null): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (dueAt === null || this.stopped) return;
    // A retry or a lease of a possibly dead node: housekeeping, it does not keep the process alive.
    this.cancelTimer = this.options.clock.setTimer(
      dueAt - this.options.clock.now(),
      () => {
        this.cancelTimer = undefined;
        this.kick();
      },
      { background: true },
    );
  }
}
