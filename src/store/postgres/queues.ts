/**
 * The queue catalog on PostgreSQL: create, read, change, delete, purge and count queues. Deleting or
 * purging a queue takes its row FOR UPDATE, which waits for sends in progress (they hold it FOR KEY
 * SHARE), so no message or FIFO group row is left behind by a send racing the delete.
 */
import type pg from 'pg';
import type { QueueSettings } from '../queue-settings.js';
import { queueCatalogChannel, queueChannel, type Notifier } from '../notifier.js';
import type { QueueCounts, QueueStore, StoredQueue } from '../queue-store.js';
import type { CatalogQueueWrites } from '../catalog-store.js';
import { query, run, transaction } from './connection.js';

interface QueueRow {
  id: number;
  name: string;
  fifo: boolean;
  settings: QueueSettings;
  tags: Record<string, string>;
  created_at: number;
  modified_at: number;
  purged_at: number | null;
}

const QUEUE_COLUMNS = 'id, name, fifo, settings, tags, created_at, modified_at, purged_at';

const sql = {
  byName: { name: 'sluice_queue_by_name', text: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = $1` },
  byId: { name: 'sluice_queue_by_id', text: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE id = $1` },
  list: { text: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE name LIKE $1 ESCAPE '\\' ORDER BY name` },
  lockByName: { text: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = $1 FOR UPDATE` },
  lockById: { text: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE id = $1 FOR UPDATE` },
  tombstone: { text: 'SELECT deleted_at FROM queue_tombstones WHERE name = $1' },
  insert: {
    text: `INSERT INTO queues (name, fifo, settings, tags, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (name) DO NOTHING RETURNING ${QUEUE_COLUMNS}`,
  },
  update: {
    text: `UPDATE queues SET settings = COALESCE($2::json, settings), tags = COALESCE($3::json, tags), modified_at = $4
           WHERE name = $1 RETURNING ${QUEUE_COLUMNS}`,
  },
  // One statement removes everything a queue owns; the CTEs run on the same snapshot, and the queue row
  // is already locked, so no send can add to it meanwhile.
  deleteQueue: {
    text: `WITH messages_gone AS (DELETE FROM messages WHERE queue_id = $1),
                groups_gone AS (DELETE FROM fifo_groups WHERE queue_id = $1),
                task_groups_gone AS (DELETE FROM queue_groups WHERE queue_id = $1),
                dedup_gone AS (DELETE FROM deduplication WHERE queue_id = $1),
                tasks_gone AS (DELETE FROM move_tasks WHERE source_queue_id = $1),
                attempts_gone AS (DELETE FROM receive_attempts WHERE queue_id = $1),
                queue_gone AS (DELETE FROM queues WHERE id = $1)
           INSERT INTO queue_tombstones (name, deleted_at) VALUES ($2, $3)
           ON CONFLICT (name) DO UPDATE SET deleted_at = excluded.deleted_at`,
  },
  purge: {
    text: `WITH messages_gone AS (DELETE FROM messages WHERE queue_id = $1),
                groups_gone AS (DELETE FROM fifo_groups WHERE queue_id = $1),
                task_groups_gone AS (DELETE FROM queue_groups WHERE queue_id = $1)
           UPDATE queues SET purged_at = $2 WHERE id = $1`,
  },
  counts: {
    name: 'sluice_queue_counts',
    text: `SELECT count(*) FILTER (WHERE visible_at <= $1) AS visible,
                  count(*) FILTER (WHERE visible_at > $1 AND receive_count > 0) AS in_flight,
                  count(*) FILTER (WHERE visible_at > $1 AND receive_count = 0) AS delayed,
                  min(sent_at) AS oldest_sent_at
           FROM messages WHERE queue_id = $2 AND sent_at >= $3`,
  },
};

function toQueue(row: QueueRow): StoredQueue {
  return {
    id: row.id,
    name: row.name,
    fifo: row.fifo,
    settings: row.settings,
    tags: row.tags,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    purgedAt: row.purged_at,
  };
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

type QueueCatalog = Pick<
  QueueStore,
  | 'queueCreate'
  | 'queueGet'
  | 'queueGetById'
  | 'queueList'
  | 'queueUpdate'
  | 'queueDelete'
  | 'queuePurge'
  | 'queueCounts'
>;

/**
 * The queue writes of `catalogWrite` (`sluice apply`), on the client of its transaction: the name of the
 * first queue whose condition fails (a create of an existing or recently deleted name, an update or a
 * delete of a missing one), or undefined when all were made. The SQL is the queue catalog's own.
 */
export async function writeQueuesIn(client: pg.PoolClient, writes: CatalogQueueWrites): Promise<string | undefined> {
  for (const q of writes.creates) {
    const [tomb] = await query<{ deleted_at: number }>(client, sql.tombstone, [q.name]);
    if (tomb && writes.now - tomb.deleted_at < writes.nameReuseDelayMs) return q.name;
    const [created] = await query<QueueRow>(client, sql.insert, [q.name, q.fifo, JSON.stringify(q.settings), JSON.stringify(q.tags), writes.now]);
    if (!created) return q.name;
  }
  for (const q of writes.updates) {
    const [updated] = await query<QueueRow>(client, sql.update, [q.name, JSON.stringify(q.settings), JSON.stringify(q.tags), writes.now]);
    if (!updated) return q.name;
  }
  for (const name of writes.deletes) {
    const [queue] = await query<QueueRow>(client, sql.lockByName, [name]);
    if (!queue) return name;
    await query(client, sql.deleteQueue, [queue.id, name, writes.now]);
  }
  return undefined;
}

export function createPostgresQueueCatalog(pool: pg.Pool, notifier: Notifier): QueueCatalog {
  async function create(p: Parameters<QueueStore['queueCreate']>[0]) {
    return transaction(pool, async (client) => {
      for (;;) {
        const [existing] = await query<QueueRow>(client, sql.byName, [p.name]);
        if (existing) return { outcome: 'exists' as const, queue: toQueue(existing) };
        const [tomb] = await query<{ deleted_at: number }>(client, sql.tombstone, [p.name]);
        if (tomb && p.now - tomb.deleted_at < p.nameReuseDelayMs)
          return { outcome: 'deletedRecently' as const };
        const [created] = await query<QueueRow>(client, sql.insert, [
          p.name,
          p.fifo,
          JSON.stringify(p.settings),
          JSON.stringify(p.tags),
          p.now,
        ]);
        if (created) return { outcome: 'created' as const, queue: toQueue(created) };
        // Another node created it between our read and our insert: read its row (now committed).
      }
    });
  }

  return {
    async queueCreate(p) {
      const result = await create(p);
      if (result.outcome === 'created') notifier.publish(queueCatalogChannel);
      return result;
    },
    async queueGet(p) {
      const [row] = await run<QueueRow>(pool, sql.byName, [p.name]);
      return row ? toQueue(row) : undefined;
    },
    async queueGetById(p) {
      const [row] = await run<QueueRow>(pool, sql.byId, [p.id]);
      return row ? toQueue(row) : undefined;
    },
    async queueList(p) {
      return (await run<QueueRow>(pool, sql.list, [`${escapeLike(p.prefix ?? '')}%`])).map(toQueue);
    },
    async queueUpdate(p) {
      const [row] = await run<QueueRow>(pool, sql.update, [
        p.name,
        p.settings ? JSON.stringify(p.settings) : null,
        p.tags ? JSON.stringify(p.tags) : null,
        p.now,
      ]);
      if (row) notifier.publish(queueCatalogChannel);
      return row ? toQueue(row) : undefined;
    },
    async queueDelete(p) {
      const deleted = await transaction(pool, async (client) => {
        const [queue] = await query<QueueRow>(client, sql.lockByName, [p.name]);
        if (!queue) return undefined;
        await query(client, sql.deleteQueue, [queue.id, p.name, p.now]);
        return queue;
      });
      if (!deleted) return false;
      notifier.publish(queueCatalogChannel);
      notifier.publish(queueChannel(deleted.id));
      return true;
    },
    async queuePurge(p) {
      return transaction(pool, async (client) => {
        const [queue] = await query<QueueRow>(client, sql.lockById, [p.queueId]);
        if (!queue) return 'gone' as const;
        if (queue.purged_at !== null && p.now - queue.purged_at < p.minIntervalMs) return 'tooSoon' as const;
        await query(client, sql.purge, [p.queueId, p.now]);
        return 'purged' as const;
      });
    },
    async queueCounts(p): Promise<QueueCounts> {
      const [row] = await run<{
        visible: number;
        in_flight: number;
        delayed: number;
        oldest_sent_at: number | null;
      }>(pool, sql.counts, [p.now, p.queueId, p.expiredBefore]);
      return {
        visible: row?.visible ?? 0,
        inFlight: row?.in_flight ?? 0,
        delayed: row?.delayed ?? 0,
        oldestSentAt: row?.oldest_sent_at ?? null,
      };
    },
  };
}
