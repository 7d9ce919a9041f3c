/**
 * Keeps the SQLite files in proportion to what they hold.
 *
 * - The database file: deleted messages leave free pages, which SQLite reuses but never returns; after
 *   a large backlog drains the file stays at its high-water mark (an attack left 66 MiB, 99.7% free).
 *   The file is in `auto_vacuum = INCREMENTAL` mode (set on creation; an older file is converted once by
 *   a VACUUM at open), and free pages are handed back in steps by `PRAGMA incremental_vacuum`.
 * - The write-ahead log: SQLite checkpoints it every 1,000 pages and starts it over, but never makes the
 *   file smaller, so one burst (a group commit of thousands of 4 KB bodies) fixes its size for good.
 *   `journal_size_limit` truncates it back to WAL_LIMIT_BYTES each time it starts over, and the step
 *   below checkpoints and truncates it when it is past that size.
 *
 * The step runs on a one-shot timer armed by store activity (never by an idle store: no polling), a
 * second after the first operation since the last step; a step with work left arms the next one.
 */
import { statSync } from 'node:fs';
import type { SqliteDatabase } from './database.js';

/** The write-ahead log is cut back to this size after a checkpoint. */
export const WAL_LIMIT_BYTES = 16 * 1024 * 1024;
/** Free pages are handed back once they are this share of the file... */
const FREE_SHARE = 0.25;
/** ...and at least this many pages (4 MiB of 4 KiB pages): a small file is left alone. */
const MIN_FREE_PAGES = 1024;
/** Pages handed back per step (32 MiB): one step blocks the event loop briefly. */
const PAGES_PER_STEP = 8192;
const STEP_DELAY_MS = 1000;

/** Settings for a file opened now, before its first table exists (auto_vacuum is fixed by then). */
export function prepareFileSize(db: SqliteDatabase, onError: (error: unknown) => void): void {
  db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
  if (db.pragma('auto_vacuum', { simple: true }) === 2) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  const tables = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
  if (tables === 0) return; // a new file: the mode holds from its first table on
  try {
    db.exec('VACUUM'); // an existing file: rebuilt once in the new mode
  } catch (error) {
    // Another process is reading it: stays as it is, converted at a later open.
    onError(error);
  }
}

export class FileSizeKeeper {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly freePages;
  private readonly pageCount;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly path: string,
    private readonly onError: (error: unknown) => void,
  ) {
    this.freePages = db.prepare('PRAGMA freelist_count').pluck();
    this.pageCount = db.prepare('PRAGMA page_count').pluck();
  }

  /** The store did something: look at the files in a while. */
  noteActivity(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.step();
    }, STEP_DELAY_MS);
    // Never what keeps a process alive.
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One step: hands back up to PAGES_PER_STEP free pages and cuts the log; true when work is left. */
  step(): boolean {
    if (this.closed || !this.db.open) return false;
    if (this.db.inTransaction) {
      this.noteActivity(); // a group is open: after its commit
      return true;
    }
    let more = false;
    try {
      const free = this.freePages.get() as number;
      const pages = this.pageCount.get() as number;
      let vacuumed = false;
      if (free >= MIN_FREE_PAGES && free >= pages * FREE_SHARE) {
        this.db.pragma(`incremental_vacuum(${PAGES_PER_STEP})`);
        vacuumed = true;
        more = free > PAGES_PER_STEP;
      }
      if (this.walBytes() > WAL_LIMIT_BYTES) {
        // TRUNCATE waits for readers of other processes (busy_timeout); whatever it could not copy stays
        // in the log and the next step tries again.
        const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
        if (result?.busy) more = true;
      } else if (vacuumed) {
        // The file itself shrinks when the log is copied into it; do not wait for the next 1,000 pages.
        this.db.pragma('wal_checkpoint(PASSIVE)');
      }
    } catch (error) {
      this.onError(error);
    }
    if (more) this.noteActivity();
    return more;
  }

  private walBytes(): number {
    try {
      return statSync(`${this.path}-wal`).size;
    } catch {
      return 0;
    }
  }
}
