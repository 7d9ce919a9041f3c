/**
 * How long a finished task (succeeded, failed, timed out) is remembered: its outcome stays readable
 * (`wait`, `describe`) and a late answer gets TaskTimedOut rather than TaskDoesNotExist. After that it is
 * purged. Nothing polls: a timer is armed only when a task finishes, for the instant it becomes due,
 * and the purge takes every finished task due by then (those of other nodes and earlier runs too).
 * A task is purged between one and two retention periods after it finished.
 */
import type { Clock } from '../model/clock.js';

export interface FinishedRetentionOptions {
  clock: Clock;
  retentionMs: number;
  /** Deletes every finished task settled before `settledBefore`. */
  purge: (settledBefore: number) => Promise<unknown>;
  onError: (error: unknown) => void;
}

export class FinishedTaskRetention {
  private cancelTimer: (() => void) | undefined;
  /** A task finished after the timer was armed: its purge needs another timer. */
  private finishedSinceArmed = false;
  private stopped = false;
  /** When the armed timer is due. */
  private dueAt = 0;

  constructor(private readonly options: FinishedRetentionOptions) {}

  noteFinished(settledAt: number): void {
    if (this.stopped) return;
    if (this.cancelTimer) {
      this.finishedSinceArmed = true;
      return;
    }
    this.arm(settledAt + this.options.retentionMs);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private arm(dueAt: number): void {
    const { clock } = this.options;
    this.finishedSinceArmed = false;
    this.dueAt = dueAt;
    this.cancelTimer = clock.setTimer(dueAt - clock.now(), () => void this.sweep());
  }

  private async sweep(): Promise<void> {
    this.cancelTimer = undefined;
    // A timer longer than the clock can hold (Node caps them at about 24.8 days) fires early: wait on.
    if (this.options.clock.now() < this.dueAt) {
      const more = this.finishedSinceArmed;
      this.arm(this.dueAt);
      this.finishedSinceArmed = more;
      return;
    }
    const more = this.finishedSinceArmed;
    this.finishedSinceArmed = false;
    const { clock, retentionMs } = this.options;
    try {
      // +1: a task settled exactly one retention period ago is due now (the purge takes "settled before").
      await this.options.purge(clock.now() - retentionMs + 1);
    } catch (error) {
      this.options.onError(error);
    }
    // Tasks that finished since the timer was armed are due by now + retention at the latest.
    if (more && !this.cancelTimer && !this.stopped) this.arm(clock.now() + retentionMs);
  }
}
