import { InProcessNotifier } from '../notifier.js';
import type { Store } from '../store.js';
import { createSqliteBatchStore } from './batches.js';
import { createSqliteCallbackStore } from './callbacks.js';
import { createSqliteClusterStore } from './cluster.js';
import { openSqliteDatabase, type SqliteOpenOptions } from './database.js';
import { createSqliteGroupHooks, createSqliteGroupStore } from './groups.js';
import { sqliteMigrations } from './migrations.js';
import { createSqliteOutboxStore } from './outbox.js';
import { createSqliteQueueStore } from './queues.js';
import { createSqliteScheduleStore } from './schedules.js';
import { createSqliteStreamStore } from './streams.js';
import { createSqliteTableStore } from './tables.js';

/** The embedded store: one SQLite file (or memory), one process, wake-ups delivered in-process. */
export function createSqliteStore(options: SqliteOpenOptions): Store {
  const db = openSqliteDatabase(options, sqliteMigrations);
  const notifier = new InProcessNotifier();
  const groupHooks = createSqliteGroupHooks(db);
  let closed = false;
  return {
    kind: 'sqlite',
    notifier,
    ...createSqliteQueueStore(db, notifier, groupHooks),
    ...createSqliteGroupStore(db, notifier, groupHooks),
    ...createSqliteCallbackStore(db, notifier),
    ...createSqliteScheduleStore(db, notifier),
    ...createSqliteBatchStore(db, notifier),
    ...createSqliteOutboxStore(db),
    ...createSqliteTableStore(db, notifier),
    ...createSqliteStreamStore(db),
    ...createSqliteClusterStore(db, notifier),
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
