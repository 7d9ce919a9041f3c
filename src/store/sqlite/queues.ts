/**
 * The queue catalog on SQLite: create, read, list, update, delete and purge queues, and their counts.
 * Messages are in messages.ts, receives in receive.ts (grouped claims in groups.ts), receive attempts and
 * peeks in receive-attempts.ts, redrives in move-tasks.ts: the same files as the PostgreSQL store.
 */
import type { QueueSettings } from '../queue-settings.js';
import type { Notifier } from '../notifier.js';
import { queueCatalogChannel, queueChannel } from '../notifier.js';
import type { QueueCounts, QueueStore, StoredQueue } from '../queue-store.js';
import type { CatalogQueueWrites } from '../catalog-store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteFifoGroups } from './fifo-groups.js';
import type { SqliteGroupHooks } from './groups.js';
import { createSqliteMessages } from './messages.js';
import { createSqliteMoveTasks } from './move-tasks.js';
import { createSqliteReceive } from './receive.js';
import { createSqliteReceiveAttempts } from './receive-attempts.js';

interface QueueRow {
  id: number;
  name: string;
  fifo: number;
  settings: string;
  tags: string;
  created_at: number;
  modified_at: number;
  purged_at: number | null;
}

function toQueue(row: QueueRow): StoredQueue {
  return {
    id: row.id,
    name: row.name,
    fifo: row.fifo === 1,
    settings: JSON.parse(row.settings) as QueueSettings,
    tags: JSON.parse(row.tags) as Record<string, string>,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    purgedAt: row.purged_at,
  };
}

type QueueCatalog = Pick<
  QueueStore,
  'queueCreate' | 'queueGet' | 'queueGetById' | 'queueList' | 'queueUpdate' | 'queueDelete' | 'queuePurge' | 'queueCounts'
>;

/** Every queue operation: the catalog here, and the message operations of the modules beside it. */
export function createSqliteQueueStore(
  db: SqliteDatabase,
  notifier: Notifier,
  groups: SqliteGroupHooks,
  fifoGroups: SqliteFifoGroups,
): QueueStore {
  return {
    ...createSqliteQueueCatalog(db, notifier, groups, fifoGroups),
    ...createSqliteMessages(db, notifier, groups, fifoGroups),
    ...createSqliteReceive(db, notifier, groups, fifoGroups),
    ...createSqliteReceiveAttempts(db),
    ...createSqliteMoveTasks(db, notifier, groups, fifoGroups),
  };
}

function createSqliteQueueCatalog(
  db: SqliteDatabase,
  notifier: Notifier,
  groups: SqliteGroupHooks,
  fifoGroups: SqliteFifoGroups,
): QueueCatalog {
  const sql = {
    queueByName: db.prepare<[string], QueueRow>('SELECT * FROM queues WHERE name = ?'),
    queueById: db.prepare<[number], QueueRow>('SELECT * FROM queues WHERE id = ?'),
    queueList: db.prepare<[string], QueueRow>(
      "SELECT * FROM queues WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
    ),
    setPurged: db.prepare('UPDATE queues SET purged_at = ? WHERE id = ?'),
    deleteQueueMessages: db.prepare('DELETE FROM messages WHERE queue_id = ?'),
    counts: db.prepare<[number, number, number, number, number], QueueCounts>(
      `SELECT
         COALESCE(SUM(visible_at <= ?), 0) AS visible,
         COALESCE(SUM(visible_at > ? AND receive_count > 0), 0) AS inFlight,
         COALESCE(SUM(visible_at > ? AND receive_count = 0), 0) AS delayed,
         MIN(sent_at) AS oldestSentAt
       FROM messages WHERE queue_id = ? AND sent_at >= ?`,
    ),
  };

  const { createQueue, updateQueue, deleteQueue } = sqliteQueueRowWrites(db, groups, fifoGroups);

  const purge = db.transaction((p: { queueId: number; now: number; minIntervalMs: number }) => {
    const queue = sql.queueById.get(p.queueId);
    if (!queue) return 'gone' as const;
    if (queue.purged_at !== null && p.now - queue.purged_at < p.minIntervalMs) return 'tooSoon' as const;
    sql.deleteQueueMessages.run(p.queueId);
    fifoGroups.clearQueue(p.queueId);
    groups.clearQueue(p.queueId);
    sql.setPurged.run(p.now, p.queueId);
    return 'purged' as const;
  });

  const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

  return {
    async queueCreate(p) {
      const result = createQueue(p);
      if (result.outcome === 'created') notifier.publish(queueCatalogChannel);
      return result;
    },
    async queueGet(p) {
      const row = sql.queueByName.get(p.name);
      return row ? toQueue(row) : undefined;
    },
    async queueGetById(p) {
      const row = sql.queueById.get(p.id);
      return row ? toQueue(row) : undefined;
    },
    async queueList(p) {
      return sql.queueList.all(`${escapeLike(p.prefix ?? '')}%`).map(toQueue);
    },
    async queueUpdate(p) {
      const queue = updateQueue(p);
      if (queue) notifier.publish(queueCatalogChannel);
      return queue;
    },
    async queueDelete(p) {
      const existing = sql.queueByName.get(p.name);
      const deleted = deleteQueue(p);
      if (deleted) {
        notifier.publish(queueCatalogChannel);
        if (existing) notifier.publish(queueChannel(existing.id));
      }
      return deleted;
    },
    async queuePurge(p) {
      return purge(p);
    },
    async queueCounts(p) {
      const row = sql.counts.get(p.now, p.now, p.now, p.queueId, p.expiredBefore);
      return row ?? { visible: 0, inFlight: 0, delayed: 0, oldestSentAt: null };
    },
  };
}

/**
 * A queue's row writes (create, change, delete with everything it owns), each one synchronous
 * transaction, shared by the queue catalog and `catalogWrite` (`sluice apply`, where they nest as
 * savepoints of its transaction).
 */
export interface SqliteQueueRowWrites {
  createQueue(p: Parameters<QueueStore['queueCreate']>[0]): { outcome: 'created' | 'exists'; queue: StoredQueue } | { outcome: 'deletedRecently' };
  updateQueue(p: Parameters<QueueStore['queueUpdate']>[0]): StoredQueue | undefined;
  deleteQueue(p: { name: string; now: number }): boolean;
  /** `catalogWrite`'s queue writes: the name of the first whose condition fails, or undefined when all were made. */
  writeAll(writes: CatalogQueueWrites): string | undefined;
}

export function sqliteQueueRowWrites(db: SqliteDatabase, groups: SqliteGroupHooks, fifoGroups: SqliteFifoGroups): SqliteQueueRowWrites {
  const sql = {
    queueByName: db.prepare<[string], QueueRow>('SELECT * FROM queues WHERE name = ?'),
    queueInsert: db.prepare(`INSERT INTO queues (name, fifo, settings, tags, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)`),
    queueUpdate: db.prepare('UPDATE queues SET settings = ?, tags = ?, modified_at = ? WHERE name = ?'),
    queueDelete: db.prepare('DELETE FROM queues WHERE id = ?'),
    tombstone: db.prepare<[string], { deleted_at: number }>('SELECT deleted_at FROM queue_tombstones WHERE name = ?'),
    tombstoneUpsert: db.prepare(
      'INSERT INTO queue_tombstones (name, deleted_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET deleted_at = excluded.deleted_at',
    ),
    deleteQueueMessages: db.prepare('DELETE FROM messages WHERE queue_id = ?'),
    deleteQueueDedup: db.prepare('DELETE FROM deduplication WHERE queue_id = ?'),
    deleteQueueMoveTasks: db.prepare('DELETE FROM move_tasks WHERE source_queue_id = ?'),
    deleteQueueAttempts: db.prepare('DELETE FROM receive_attempts WHERE queue_id = ?'),
  };

  const createQueue = db.transaction((p: Parameters<QueueStore['queueCreate']>[0]) => {
    const existing = sql.queueByName.get(p.name);
    if (existing) return { outcome: 'exists' as const, queue: toQueue(existing) };
    const tomb = sql.tombstone.get(p.name);
    if (tomb && p.now - tomb.deleted_at < p.nameReuseDelayMs) return { outcome: 'deletedRecently' as const };
    sql.queueInsert.run(p.name, p.fifo ? 1 : 0, JSON.stringify(p.settings), JSON.stringify(p.tags), p.now, p.now);
    return { outcome: 'created' as const, queue: toQueue(sql.queueByName.get(p.name)!) };
  });

  const updateQueue = db.transaction((p: Parameters<QueueStore['queueUpdate']>[0]) => {
    const existing = sql.queueByName.get(p.name);
    if (!existing) return undefined;
    const settings = p.settings ? JSON.stringify(p.settings) : existing.settings;
    const tags = p.tags ? JSON.stringify(p.tags) : existing.tags;
    sql.queueUpdate.run(settings, tags, p.now, p.name);
    return toQueue(sql.queueByName.get(p.name)!);
  });

  const deleteQueue = db.transaction((p: { name: string; now: number }) => {
    const existing = sql.queueByName.get(p.name);
    if (!existing) return false;
    sql.deleteQueueMessages.run(existing.id);
    fifoGroups.clearQueue(existing.id);
    groups.clearQueue(existing.id);
    sql.deleteQueueDedup.run(existing.id);
    sql.deleteQueueMoveTasks.run(existing.id);
    sql.deleteQueueAttempts.run(existing.id);
    sql.queueDelete.run(existing.id);
    sql.tombstoneUpsert.run(p.name, p.now);
    return true;
  });

  const writeAll = (writes: CatalogQueueWrites): string | undefined => {
    const common = { now: writes.now, nameReuseDelayMs: writes.nameReuseDelayMs };
    for (const q of writes.creates) if (createQueue({ ...q, ...common }).outcome !== 'created') return q.name;
    for (const q of writes.updates) if (!updateQueue({ ...q, now: writes.now })) return q.name;
    for (const name of writes.deletes) if (!deleteQueue({ name, now: writes.now })) return name;
    return undefined;
  };

  return { createQueue, updateQueue, deleteQueue, writeAll };
}
