/**
 * The outbox: deliveries that a domain transaction decided on and that must reach a target (a function
 * or a queue) even if the process dies right after deciding. A schedule tick claim and a batch's
 * finalization insert their delivery in the same transaction as the decision (see schedule-store.ts and
 * batch-store.ts); a relay then claims due entries with a lease, delivers them and marks them delivered.
 *
 * One column, `dueAt`, serves both retries and leases: claiming an entry moves its `dueAt` to the end
 * of the lease, so an entry whose claimer died becomes due again when the lease ends, and a failed
 * delivery is retried by moving `dueAt` to the next attempt. Inserts publish `outboxChannel`.
 */

export type OutboxTopic = 'schedule' | 'batch-finalizer';

export interface OutboxEntry {
  id: number;
  /** Unique: `schedule:<name>:<tick>` or `batch:<id>`; a second insert with the same key is ignored. */
  key: string;
  topic: OutboxTopic;
  /** JSON: what to deliver and where (the topic's module reads it). */
  payload: string;
  createdAt: number;
  dueAt: number;
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
}

/** An outbox entry a domain operation asks to insert in its own transaction. */
export interface NewOutboxEntry {
  key: string;
  topic: OutboxTopic;
  payload: string;
  /** When it may first be delivered (a flexible time window's spread); default: at once. */
  dueAt?: number;
}

export interface OutboxStore {
  /**
   * Claims up to `limit` undelivered entries due at `now`: each gets `claimToken`, one more attempt and
   * `dueAt = now + leaseMs`. Returns them in due order.
   */
  outboxClaim(p: { now: number; leaseMs: number; claimToken: string; limit: number }): Promise<OutboxEntry[]>;
  /**
   * Marks a claimed entry done; false when the claim was lost (the lease ended and another took it).
   * `error`: it was given up after its last attempt, and why.
   */
  outboxComplete(p: { id: number; claimToken: string; now: number; error?: string }): Promise<boolean>;
  /**
   * Moves the end of a claim's lease to `dueAt` while its delivery is still under way (a function that
   * runs longer than the lease); false when the claim was lost.
   */
  outboxExtend(p: { id: number; claimToken: string; dueAt: number }): Promise<boolean>;
  /** Gives a claimed entry back for a later attempt at `dueAt`, recording why it failed. */
  outboxRetry(p: { id: number; claimToken: string; dueAt: number; error: string }): Promise<boolean>;
  /** The earliest `dueAt` among undelivered entries (due now, retrying, or leased), or null. */
  outboxNextDue(p: Record<string, never>): Promise<number | null>;
  outboxGet(p: { key: string }): Promise<OutboxEntry | undefined>;
}

export const outboxChannel = 'outbox';
