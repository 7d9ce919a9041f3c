/**
 * Time to live: items whose TTL attribute (epoch seconds) has passed are deleted in the background,
 * each deletion a conditional delete (still expired?) whose REMOVE stream record carries DynamoDB's
 * service identity. The sweeper is armed for the next expiry; reads still return an expired item until
 * it is deleted, as in DynamoDB.
 */
import type { Clock } from '../model/clock.js';
import type { StoredTable } from '../store/table-store.js';
import type { Store } from '../store/store.js';
import { DueTimers } from './due-timers.js';
import { expiresAtOf, toItemWrite } from './writes.js';

const sweepBatch = 100;

export class TtlSweeper {
  private readonly timers: DueTimers<number>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lookup: (tableId: number) => Promise<StoredTable | undefined>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timers = new DueTimers(clock, (tableId) => this.sweep(tableId).catch(this.onError));
  }

  /** An item was written with this expiry: make sure a sweep is due by then. */
  noteExpiry(tableId: number, expiresAt: number): void {
    this.timers.arm(tableId, expiresAt);
  }

  /** Deletes every expired item of the table, then arms the timer for the next expiry. */
  async sweep(tableId: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const table = await this.lookup(tableId);
      if (!table || table.definition.ttlAttribute === null) return deleted;
      const now = this.clock.now();
      const { keys, nextExpiresAt } = await this.store.itemExpiredKeys({ tableId, now, limit: sweepBatch });
      if (keys.length === 0) {
        if (nextExpiresAt !== null) this.timers.arm(tableId, nextExpiresAt);
        return deleted;
      }
      const writes = keys.map((key) =>
        toItemWrite(
          {
            table,
            key,
            condition: undefined,
            // Still expired inside the transaction? A write since the listing may have extended it.
            change: (current) => {
              const expiresAt = current ? expiresAtOf(table, current, now) : null;
              return expiresAt !== null && expiresAt <= now ? null : undefined;
            },
            byService: true,
          },
          now,
        ),
      );
      const outcome = await this.store.itemWrite({ writes: writes.map((w) => w.write), now });
      // The table's indexes changed since it was read: read it again and redo the round.
      if (outcome.outcome === 'tableChanged') continue;
      if (outcome.outcome !== 'written') return deleted;
      const round = writes.filter((w) => w.result.old !== undefined && w.result.new === undefined).length;
      // Listed but no longer expired by the table's rule (its TTL attribute changed): stop, or we would spin.
      if (round === 0) return deleted;
      deleted += round;
    }
  }

  forget(tableId: number): void {
    this.timers.cancel(tableId);
  }

  stop(): void {
    this.timers.stop();
  }
}
