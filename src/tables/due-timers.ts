/**
 * One background timer per key, armed for the earliest due time asked for: TTL deletion and stream
 * trimming wake exactly when something is due, never on a fixed interval, so idle tables cost nothing.
 */
import type { Clock } from '../model/clock.js';

export class DueTimers<K> {
  private readonly timers = new Map<K, { dueAt: number; cancel: () => void }>();
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (key: K) => void,
  ) {}

  /** Makes sure `key` fires no later than `dueAt`; a timer already due earlier is kept. */
  arm(key: K, dueAt: number): void {
    if (this.stopped) return;
    const current = this.timers.get(key);
    if (current && current.dueAt <= dueAt) return;
    current?.cancel();
    const cancel = this.clock.setTimer(
      Math.max(0, dueAt - this.clock.now()),
      () => {
        this.timers.delete(key);
        this.fire(key);
      },
      { background: true },
    );
    this.timers.set(key, { dueAt, cancel });
  }

  cancel(key: K): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
