/**
 * FIFO queues' group rows on SQLite (`fifo_groups`): one row per message group with messages, holding
 * the group's head and when the group can next be served. Every queue operation that adds, claims, moves
 * or removes a FIFO message keeps its group's row current inside the operation's own transaction.
 */
import type { SqliteDatabase } from './database.js';

export interface SqliteFifoGroups {
  /** A message was stored in the group: the row is created if the group had none. */
  enter(queueId: number, groupId: string, seq: number, visibleAt: number): void;
  /** Recomputes the group's head after its first message changed, was claimed or was removed. */
  refresh(queueId: number, groupId: string): void;
  /** Up to `limit` groups that can be served at `now`, earliest first. */
  available(queueId: number, now: number, limit: number): Array<{ group_id: string }>;
  /** The next instant after `now` a group can be served, or null. */
  nextAvailable(queueId: number, now: number): number | null;
  /** Rebuilds the queue's rows from its messages (after removals that bypass the per-group rules). */
  rebuild(queueId: number): void;
  clearQueue(queueId: number): void;
}

export function createSqliteFifoGroups(db: SqliteDatabase): SqliteFifoGroups {
  const sql = {
    insertIfAbsent: db.prepare(
      `INSERT INTO fifo_groups (queue_id, group_id, head_seq, available_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (queue_id, group_id) DO NOTHING`,
    ),
    // Received messages of a FIFO group are always a prefix of it (a receive takes consecutive messages
    // from the head), at most one receive's worth; 32 rows cover it with room to spare.
    head: db.prepare<[number, string], { seq: number; visible_at: number; receive_count: number }>(
      'SELECT seq, visible_at, receive_count FROM messages WHERE queue_id = ? AND group_id = ? AND group_key IS NULL ORDER BY seq LIMIT 32',
    ),
    update: db.prepare('UPDATE fifo_groups SET head_seq = ?, available_at = ? WHERE queue_id = ? AND group_id = ?'),
    delete: db.prepare('DELETE FROM fifo_groups WHERE queue_id = ? AND group_id = ?'),
    available: db.prepare<[number, number, number], { group_id: string }>(
      'SELECT group_id FROM fifo_groups WHERE queue_id = ? AND available_at <= ? ORDER BY available_at LIMIT ?',
    ),
    nextAvailable: db.prepare<[number, number], { next: number | null }>(
      'SELECT MIN(available_at) AS next FROM fifo_groups WHERE queue_id = ? AND available_at > ?',
    ),
    clear: db.prepare('DELETE FROM fifo_groups WHERE queue_id = ?'),
    rebuild: db.prepare(
      `INSERT INTO fifo_groups (queue_id, group_id, head_seq, available_at)
       SELECT m.queue_id, m.group_id, m.seq, m.visible_at FROM messages m
       WHERE m.queue_id = ? AND m.group_id IS NOT NULL
         AND m.seq = (SELECT MIN(h.seq) FROM messages h WHERE h.queue_id = m.queue_id AND h.group_id = m.group_id AND h.group_key IS NULL)`,
    ),
  };
  return {
    enter: (queueId, groupId, seq, visibleAt) => void sql.insertIfAbsent.run(queueId, groupId, seq, visibleAt),
    /**
     * A group can be served once its head is visible and none of its received messages is still
     * invisible: a visibility change to 0 on the head must not release a group whose later messages are
     * still in flight.
     */
    refresh(queueId, groupId) {
      const rows = sql.head.all(queueId, groupId);
      const head = rows[0];
      if (!head) {
        sql.delete.run(queueId, groupId);
        return;
      }
      let availableAt = head.visible_at;
      for (const row of rows) {
        if (row.receive_count === 0) break;
        availableAt = Math.max(availableAt, row.visible_at);
      }
      sql.update.run(head.seq, availableAt, queueId, groupId);
    },
    available: (queueId, now, limit) => sql.available.all(queueId, now, limit),
    nextAvailable: (queueId, now) => sql.nextAvailable.get(queueId, now)?.next ?? null,
    rebuild(queueId) {
      sql.clear.run(queueId);
      sql.rebuild.run(queueId);
    },
    clearQueue: (queueId) => void sql.clear.run(queueId),
  };
}
