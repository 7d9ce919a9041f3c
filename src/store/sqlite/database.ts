/**
 * Opens a SQLite database the way Sluice needs it: WAL so readers never block the writer, NORMAL
 * synchronisation (a committed transaction survives a process crash; an OS crash or power loss may lose
 * the last transactions, use `synchronous: 'full'` to rule that out), and the schema migrated.
 */
import Database from 'better-sqlite3';
import { prepareFileSize } from './file-size.js';
import type { Migration } from './migrations.js';

export type SqliteDatabase = Database.Database;

export interface SqliteOpenOptions {
  /** A file path, or ':memory:'. */
  path: string;
  synchronous?: 'normal' | 'full';
}

export function openSqliteDatabase(options: SqliteOpenOptions, migrations: Migration[]): SqliteDatabase {
  const db = new Database(options.path);
  beginImmediately(db);
  if (options.path !== ':memory:' && options.path !== '')
    prepareFileSize(db, (error) => process.emitWarning(`sluice: ${options.path} was not converted to incremental vacuum: ${String(error)}`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = MEMORY');
  // Bounded page cache (64 MiB): memory stays flat however deep the backlog grows.
  db.pragma('cache_size = -65536');
  migrate(db, migrations);
  return db;
}

/**
 * Every `db.transaction(...)` of the store begins IMMEDIATE (takes the write lock at BEGIN). A deferred
 * transaction that reads and then writes, while another process committed in between, fails at once
 * with SQLITE_BUSY: SQLite cannot upgrade a stale snapshot, and does not call the busy handler for it.
 * Taken at BEGIN, the lock is waited for (busy_timeout) like any other. Nested calls are savepoints either way.
 */
function beginImmediately(db: SqliteDatabase): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: Parameters<typeof transaction>[0]) => transaction(fn).immediate) as typeof db.transaction;
}

/** Applies pending migrations; safe to run twice and from two processes (IMMEDIATE takes the write lock). */
export function migrate(db: SqliteDatabase, migrations: Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = db.prepare('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const apply = db.transaction((migration: Migration) => {
    if (applied.get(migration.version)) return;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, Date.now());
  });
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    apply.immediate(migration);
  }
}
