/**
 * Index backfills under leases, so that one a node leaves (it stopped, died or froze) is finished by a
 * node that runs, not only by the next one to start. Each backfilling index has a lease row
 * (store/table-store.ts BackfillLease):
 * - the node that adds an index takes its lease in the same update and runs the backfill, renewing the
 *   lease every third of its duration and saving the last key it indexed;
 * - a node that stops frees its leases (keeping the progress), which wakes the others at once;
 * - every node watches the leases it does not hold: it reads them when the store announces a change
 *   (a lease created, freed or ended) and arms one timer for the earliest expiry. At that instant it
 *   takes whatever expired and resumes it after the saved key. With no backfill anywhere, it holds no
 *   timer and reads nothing: an idle node stays idle.
 * A former owner that comes back (a frozen process) fails its next renewal and stops; two owners at once
 * would still leave a complete index, since backfill batches are idempotent.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import type { Unsubscribe } from '../store/notifier.js';
import type { Store } from '../store/store.js';
import type { EncodedKey } from '../store/table-definition.js';
import { indexBackfillChannel, type BackfillLease, type StoredTable } from '../store/table-store.js';
import { fillIndex, markIndexReady } from './index-backfill.js';

/** How long a backfill lease lasts without renewal, by default. */
export const DEFAULT_BACKFILL_LEASE_MS = 30_000;

export interface IndexBackfillsOptions {
  store: Store;
  clock: Clock;
  leaseMs?: number;
  /** A backfill ended here (the index is ready, or gone): cached definitions of the table are stale. */
  onFinished(tableId: number): void;
  onError(error: unknown): void;
}

const keyOf = (tableId: number, index: string) => `${tableId}/${index}`;

export class IndexBackfills {
  /** This node's identity as a lease owner (one per engine). */
  readonly owner = randomUUID();
  readonly leaseMs: number;
  private readonly running = new Map<string, Promise<StoredTable | undefined>>();
  private unsubscribe: Unsubscribe | undefined;
  private cancelWatch: (() => void) | undefined;
  private reading = false;
  private readAgain = false;
  private stopping = false;

  constructor(private readonly options: IndexBackfillsOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_BACKFILL_LEASE_MS;
  }

  /** The lease fields of a table update that adds an index: this node holds the new index's lease. */
  ownerOfNew(): { owner: string; leaseUntil: number } {
    return { owner: this.owner, leaseUntil: this.options.clock.now() + this.leaseMs };
  }

  /** Starts watching the leases of other nodes' backfills. */
  watch(): void {
    if (this.stopping || this.unsubscribe) return;
    this.unsubscribe = this.options.store.notifier.subscribe(indexBackfillChannel, () => this.readLeases());
    this.readLeases();
  }

  /**
   * Runs an index's backfill on this node, taking its lease (already held when this node added the
   * index); at most one run per index here. Resolves with the table once the index is ready, or
   * undefined when another node holds the lease or this one stopped first.
   */
  run(tableId: number, index: string): Promise<StoredTable | undefined> {
    const key = keyOf(tableId, index);
    const running = this.running.get(key);
    if (running) return running;
    const run = this.acquireAndRun(tableId, index)
      .catch((error: unknown) => {
        // The lease stays ours until it expires; this node's watch (or another's) takes it again then.
        this.options.onError(error);
        return undefined;
      })
      .finally(() => {
        this.running.delete(key);
        this.readLeases();
      });
    this.running.set(key, run);
    return run;
  }

  /** Resolves once every backfill this node runs has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Stops watching; backfills under way end after their batch and free their leases for other nodes. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.cancelWatch?.();
    await this.settled();
  }

  private async acquireAndRun(tableId: number, index: string): Promise<StoredTable | undefined> {
    const { store, clock } = this.options;
    const now = clock.now();
    const lease = await store.backfillAcquire({ tableId, index, owner: this.owner, now, leaseUntil: now + this.leaseMs });
    if (!lease) return undefined;
    const table = await store.tableGetById({ id: tableId });
    if (!table?.definition.indexes?.some((candidate) => candidate.name === index && candidate.backfilling)) {
      await store.backfillEnd({ tableId, index });
      return table;
    }
    return this.fillUnderLease(table, lease);
  }

  private async fillUnderLease(table: StoredTable, lease: BackfillLease): Promise<StoredTable | undefined> {
    const { store, clock } = this.options;
    let after: EncodedKey | null = lease.after;
    let lost = false;
    let cancelRenew: (() => void) | undefined;
    let renewing: Promise<void> = Promise.resolve();
    const renew = (release: boolean) =>
      store
        .backfillRenew({ tableId: table.id, index: lease.index, owner: this.owner, token: lease.token, leaseUntil: clock.now() + this.leaseMs, after, release })
        .then((held) => {
          if (!held) lost = true;
        });
    const armRenew = () => {
      cancelRenew = clock.setTimer(
        this.leaseMs / 3,
        () => {
          renewing = renew(false)
            .catch((error: unknown) => this.options.onError(error))
            .finally(() => {
              if (!lost && cancelRenew) armRenew();
            });
        },
        { background: true },
      );
    };
    armRenew();
    let complete: boolean;
    try {
      complete = await fillIndex(store, table, lease.index, {
        from: after,
        progress: (key) => (after = key),
        stopped: () => this.stopping || lost,
      });
    } finally {
      cancelRenew?.();
      cancelRenew = undefined;
      await renewing;
    }
    if (lost) return undefined;
    if (!complete) {
      // Stopping: the lease is freed with the progress, and the nodes watching take it over at once.
      await renew(true);
      return undefined;
    }
    // The update that marks the index ready deletes its lease (the store keeps them in step).
    const ready = await markIndexReady(store, table.id, lease.index, () => clock.now());
    await store.backfillEnd({ tableId: table.id, index: lease.index });
    this.options.onFinished(table.id);
    return ready;
  }

  /** Reads the leases (one read at a time; changes meanwhile make one more), takes expired ones, re-arms. */
  private readLeases(): void {
    if (this.stopping || !this.unsubscribe) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.options.store
      .backfillList()
      .then((leases) => this.takeExpired(leases))
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.reading = false;
        if (this.readAgain) {
          this.readAgain = false;
          this.readLeases();
        }
      });
  }

  private takeExpired(leases: BackfillLease[]): void {
    if (this.stopping) return;
    const now = this.options.clock.now();
    let next: number | undefined;
    for (const lease of leases) {
      if (this.running.has(keyOf(lease.tableId, lease.index))) continue;
      if (lease.owner === null || lease.leaseUntil <= now) void this.run(lease.tableId, lease.index);
      else next = Math.min(next ?? Infinity, lease.leaseUntil);
    }
    this.cancelWatch?.();
    this.cancelWatch = undefined;
    if (next === undefined) return;
    this.cancelWatch = this.options.clock.setTimer(next - now, () => this.readLeases(), { background: true });
  }
}
