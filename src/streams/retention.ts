/**
 * Stream retention: records are kept 24 hours, then trimmed. The trimmer is armed for the instant the
 * oldest record turns 24 hours old, never on a fixed interval.
 */
import type { Clock } from '../model/clock.js';
import type { Store } from '../store/store.js';
import { tableLimits } from '../tables/definition.js';
import { DueTimers } from '../tables/due-timers.js';

export class StreamTrimmer {
  private readonly timers: DueTimers<number>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
    private readonly retentionMs: number = tableLimits.streamRetentionMs,
  ) {
    this.timers = new DueTimers(clock, (tableId) => this.trim(tableId).catch(this.onError));
  }

  /** A record was written at `createdAt`: make sure a trim is due when it expires. */
  noteRecord(tableId: number, createdAt: number): void {
    this.timers.arm(tableId, createdAt + this.retentionMs + 1);
  }

  async trim(tableId: number): Promise<number> {
    const { trimmed, oldestCreatedAt } = await this.store.streamTrim({
      tableId,
      createdBefore: this.clock.now() - this.retentionMs,
    });
    // A record is trimmed once strictly older than the retention period: due one millisecond after.
    if (oldestCreatedAt !== null) this.timers.arm(tableId, oldestCreatedAt + this.retentionMs + 1);
    return trimmed;
  }

  forget(tableId: number): void {
    this.timers.cancel(tableId);
  }

  stop(): void {
    this.timers.stop();
  }
}
