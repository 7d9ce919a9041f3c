/**
 * Group commit for the embedded store. Each store operation is still atomic (its `db.transaction`
 * becomes a savepoint) and still durable before its promise settles, but operations started together
 * share one SQLite transaction, committed at the end of the event-loop turn (setImmediate). An operation
 * started alone runs in a transaction of its own and settles at once, so a caller making one call at a
 * time waits for nothing. A trigger's pollers, concurrent HTTP requests and their acknowledgements arrive
 * in bursts; on a profile of a trigger draining a queue, BEGIN and COMMIT were a quarter of the time, most
 * of it writing the same index pages to the WAL once per operation.
 *
 * "Together" is either of:
 * - started while another operation's result is on its way to its caller (callers resumed by one event);
 * - a write started in a later callback of the same turn as a write that ran alone: concurrent HTTP
 *   requests each arrive in a callback of their own, after the previous one's result was delivered, so
 *   the first rule alone left each of them a transaction of its own (half of the PutItem benchmark's
 *   store operations). A caller that goes on from one result to its next call within the same
 *   microtask run (an `await` loop) is not "later": it still runs alone and waits for nothing.
 *
 * Read-only operations never open a group (a transaction that writes nothing buys nothing); they join
 * one that is open, so they never report writes that are not committed yet.
 *
 * What a caller sees does not change: an operation's promise resolves only after the COMMIT that made its
 * writes durable, and rejects if that COMMIT fails (everything in the group is rolled back then). Inside
 * the process every reader uses this one connection, so an operation sees the writes of the operations
 * before it in the same group, exactly as if they had committed.
 */
import type { SqliteDatabase } from './database.js';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private open = false;
  private enabled = true;
  private sharedInProcess = false;
  private otherProcess = false;
  private waiters: Waiter[] = [];
  private db: SqliteDatabase | undefined;
  /** Operations run on their own whose result has not reached its caller yet. */
  private delivering = 0;
  /** A write ran alone in this event-loop turn (cleared by a setImmediate). */
  private aloneThisTurn = false;
  /**
   * A result was delivered in the microtask run under way (cleared by a nextTick, which runs only once
   * that run is over): a call made now is its caller going on, not a request that arrived separately.
   */
  private justDelivered = false;
  private readonly endTurn = () => void (this.aloneThisTurn = false);
  private readonly endDelivery = () => void (this.justDelivered = false);
  private readonly delivered = () => {
    this.delivering--;
    if (this.justDelivered) return;
    this.justDelivered = true;
    process.nextTick(this.endDelivery);
  };

  /** The connection to group; until then (while it opens and migrates) operations run on their own. */
  attach(db: SqliteDatabase): void {
    this.db = db;
  }

  /**
   * Runs one store operation: on its own when nothing else is under way, else inside the current
   * group, settling once the group has committed.
   */
  run<T>(operation: () => Promise<T>, readOnly = false): Promise<T> {
    if (!this.enabled || !this.db) return operation();
    if (!this.open && (readOnly || this.startsAlone())) {
      this.delivering++;
      let result: Promise<T>;
      try {
        result = operation();
      } catch (error) {
        // Its caller gets the failure now, as it would a result.
        this.delivered();
        return Promise.reject(error);
      }
      result.then(this.delivered, this.delivered);
      return result;
    }
    return this.runGrouped(this.db, operation);
  }

  /** Whether a write with no group open runs in a transaction of its own (see the rules above). */
  private startsAlone(): boolean {
    // A caller making one call at a time sees each result before it makes the next call (our reaction
    // runs before the caller's), so its operations always find `delivering` at 0 and `justDelivered` set.
    // Callers that are ready together (pollers resumed by one event) start theirs while the first result
    // is still being delivered: that is a burst, and it is grouped.
    if (this.delivering !== 0) return false;
    if (this.aloneThisTurn && !this.justDelivered) return false;
    if (!this.aloneThisTurn) {
      this.aloneThisTurn = true;
      setImmediate(this.endTurn);
    }
    return true;
  }

  private async runGrouped<T>(db: SqliteDatabase, operation: () => Promise<T>): Promise<T> {
    this.begin(db);
    const value = await operation();
    await this.committed();
    return value;
  }

  /** Commits what is pending now (before the database is closed). */
  flush(): void {
    if (!this.open) return;
    this.finish();
  }

  /**
   * Back to one transaction per operation. For a file another connection of this process also opened:
   * its BEGIN would wait (busy_timeout, blocking the event loop) for a COMMIT that only this same event
   * loop can run. Connections in other processes just wait for the end of this one's turn.
   */
  setEnabled(enabled: boolean): void {
    this.sharedInProcess = !enabled;
    this.update();
  }

  /**
   * Another process writes to this file: back to one transaction per operation, for good. A group holds
   * the write lock from its first operation to the end of the event-loop turn; the other process's
   * writers wait for it in SQLite's busy handler, which sleeps and retries, and under load would find the
   * lock taken again by the next group nearly every time until their busy timeout ran out.
   */
  noteOtherProcess(): void {
    this.otherProcess = true;
    this.update();
  }

  private update(): void {
    const enabled = !this.sharedInProcess && !this.otherProcess;
    if (!enabled) this.flush();
    this.enabled = enabled;
  }

  private begin(db: SqliteDatabase): void {
    if (this.open) return;
    if (db.inTransaction) return; // a caller's own transaction (migrations, tests): leave it alone
    // IMMEDIATE: the write lock is taken now, so an operation's savepoint never meets SQLITE_BUSY half-way
    // when several processes share the file.
    db.exec('BEGIN IMMEDIATE');
    this.open = true;
    setImmediate(() => this.finish());
  }

  /** Resolves when the group this operation joined has committed (at once if none is open). */
  private committed(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private finish(): void {
    const db = this.db;
    if (!this.open || !db) return;
    this.open = false;
    const waiters = this.waiters;
    this.waiters = [];
    try {
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  }
}
