/**
 * Acknowledgements of one trigger's concurrent batches, committed together. A trigger's pollers finish
 * their batches close to each other; each used to delete its messages in a transaction of its own, and
 * on SQLite the commit, not the deletes, was the larger cost. Receipts handed in during one turn of the
 * event loop are deleted by one store call at the end of it (setImmediate), and every caller's promise
 * settles with that call. A caller still waits for its own messages to be deleted before it claims
 * again, so at-least-once and FIFO order are unchanged: a crash before the flush redelivers, as a crash
 * before a delete always did.
 */
import type { ReceiptRef } from '../../store/queue-store.js';

export interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface PendingAcks<Q> {
  queue: Q;
  receipts: ReceiptRef[];
  waiters: Waiter[];
}

export class AckCoalescer<Q extends { id: number }> {
  /** Per queue id: a trigger's queue may be replaced while batches of the old one finish. */
  private readonly pending = new Map<number, PendingAcks<Q>>();
  private scheduled = false;

  constructor(private readonly deleteAll: (queue: Q, receipts: ReceiptRef[]) => Promise<unknown>) {}

  /** Resolves once `receipts` are deleted, together with those of the batches that finished alongside. */
  ack(queue: Q, receipts: ReceiptRef[]): Promise<void> {
    return new Promise<void>((resolve, reject) => this.enqueue(queue, receipts, { resolve, reject }));
  }

  /** As `ack`, telling `waiter` instead of a promise (no allocation per batch for a caller that does not wait). */
  enqueue(queue: Q, receipts: ReceiptRef[], waiter: Waiter): void {
    let entry = this.pending.get(queue.id);
    if (!entry) {
      entry = { queue, receipts: [], waiters: [] };
      this.pending.set(queue.id, entry);
    }
    for (const receipt of receipts) entry.receipts.push(receipt);
    entry.waiters.push(waiter);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      this.deleteAll(entry.queue, entry.receipts).then(
        () => {
          for (const waiter of entry.waiters) waiter.resolve();
        },
        (error: unknown) => {
          for (const waiter of entry.waiters) waiter.reject(error);
        },
      );
    }
  }
}
