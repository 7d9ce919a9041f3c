/**
 * Group commit for the embedded store. Each store operation is still atomic (its `db.transaction`
 * becomes a savepoint) and still durable before its promise settles, but operations started together
 * (while another one's result is on its way to its caller) share one SQLite transaction, committed at
 * the end of the event-loop turn (setImmediate). An operation started alone runs in a transaction of its
 * own and settles at once, so a caller making one call at a time waits for nothing. A trigger's pollers, concurrent HTTP requests and their acknowledgements arrive in
 * bursts; on a profile of a trigger draining a queue, BEGIN and COMMIT were a quarter of the time, most
 * of it writing the same index pages to the WAL once per operation.
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

  /** The connection to group; until then (while it opens and migrates) operations run on their own. */
  attach(db: SqliteDatabase): void {
    this.db = db;
  }

  /**
   * Runs one store operation: on its own when nothing else is under way, else inside the current
   * group, settling once the group has committed.
   */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.enabled || !this.db) return operation();
    // A caller making one call at a time sees each result before it makes the next call (our reaction
    // below runs before the caller's), so its operations always find `delivering` at 0 and never wait.
    // Callers that are ready together (pollers resumed by one event) start theirs while the first result
    // is still being delivered: that is a burst, and it is grouped.
    if (!this.open && this.delivering === 0) {
      this.delivering++;
      let result: Promise<T>;
      try {
        result = operation();
      } catch (error) {
        this.delivering--;
        return Promise.reject(error);
      }
      const delivered = () => void this.delivering--;
      result.then(delivered, delivered);
      return result;
    }
    return this.runGrouped(this.db, operation);
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
