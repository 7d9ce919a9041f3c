/**
 * Other processes writing to the same SQLite file (a producer script sending into a node's file, a CLI
 * command, a cron's batcher). Their commits do not pass through this process's notifier, so without
 * this their messages would wait for a due time or a visibility timeout that may never come.
 *
 * Every commit appends to the write-ahead log, so a file-system watch of `<file>-wal` fires on each one,
 * with no polling: an idle file fires nothing and this queries nothing. The watch also fires on this
 * process's own commits, so on each burst of events (coalesced to one per turn of the event loop) it
 * reads `PRAGMA data_version`, which changes only when another connection has committed. When it has,
 * every channel with a waiter fires (which channels the other process wrote is not known), and the group
 * commit is turned off for good (see group-commit.ts: holding the write lock across turns of the event
 * loop would starve the other process's writers).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { SqliteDatabase } from './database.js';

export interface OtherProcessesOptions {
  db: SqliteDatabase;
  /** The database file (not ':memory:'). */
  path: string;
  /** Another process committed: wake every waiter. */
  onForeignCommit: () => void;
  onError: (error: unknown) => void;
}

export class OtherProcessWatch {
  private watcher: FSWatcher | undefined;
  private scheduled = false;
  private closed = false;
  private dataVersion: number;
  private readonly readVersion;

  constructor(private readonly options: OtherProcessesOptions) {
    this.readVersion = options.db.prepare('PRAGMA data_version').pluck();
    this.dataVersion = this.version();
    this.watch();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Looks now (tests, and after the watch had to be set up again). */
  check(): void {
    if (this.closed || !this.options.db.open) return;
    const version = this.version();
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.options.onForeignCommit();
  }

  private version(): number {
    return this.readVersion.get() as number;
  }

  private watch(): void {
    try {
      // Not persistent: a watch must not keep a process alive that has nothing else to do.
      this.watcher = watch(`${this.options.path}-wal`, { persistent: false }, (event) => {
        if (event === 'rename') this.rewatch(); // the log was replaced: follow the new file
        this.schedule();
      });
      this.watcher.on('error', () => this.rewatch());
    } catch (error) {
      // No log file (yet): SQLite creates it with the first connection in WAL mode, which this one is.
      this.options.onError(error);
    }
  }

  private rewatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (!this.closed) this.watch();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // Inside a transaction (a group being filled) the version is the snapshot's: look after its COMMIT.
      if (this.options.db.open && this.options.db.inTransaction) return this.schedule();
      try {
        this.check();
      } catch (error) {
        this.options.onError(error);
      }
    });
  }
}
