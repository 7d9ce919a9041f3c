/**
 * Retention: messages older than MessageRetentionPeriod are dropped. A receive already skips them; this
 * sweeper frees their space. It is armed for the instant the oldest message expires, never on a fixed
 * interval, so an idle queue costs no queries.
 */
import type { Clock } from '../model/clock.js';
import type { Store } from '../store/store.js';
import type { StoredQueue } from '../store/queue-store.js';

export class RetentionSweeper {
  private readonly timers = new Map<number, { dueAt: number; cancel: () => void }>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lookup: (queueId: number) => Promise<StoredQueue | undefined>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** A message was just sent: make sure a sweep is due no later than its expiry. */
  noteSend(queue: StoredQueue, sentAt: number): void {
    this.arm(queue.id, sentAt + queue.settings.MessageRetentionPeriod * 1000);
  }

  /** Sweeps now (at start-up, or after the retention period changed) and arms the next sweep. */
  async sweep(queueId: number): Promise<number> {
    const queue = await this.lookup(queueId);
    if (!queue || this.stopped) return 0;
    const retentionMs = queue.settings.MessageRetentionPeriod * 1000;
    const now = this.clock.now();
    const { expired, oldestSentAt } = await this.store.messageExpire({
      queueId,
      fifo: queue.fifo,
      expiredBefore: now - retentionMs,
      now,
    });
    const current = this.timers.get(queueId);
    current?.cancel();
    this.timers.delete(queueId);
    if (oldestSentAt !== null) this.arm(queueId, oldestSentAt + retentionMs);
    return expired;
  }

  forget(queueId: number): void {
    this.timers.get(queueId)?.cancel();
    this.timers.delete(queueId);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  private arm(queueId: number, dueAt: number): void {
    if (this.stopped) return;
    const current = this.timers.get(queueId);
    if (current && current.dueAt <= dueAt) return;
    current?.cancel();
    const cancel = this.clock.setTimer(Math.max(0, dueAt - this.clock.now()) + 1, () => {
      this.timers.delete(queueId);
      this.sweep(queueId).catch(this.onError);
    }, { background: true });
    this.timers.set(queueId, { dueAt, cancel });
  }
}
