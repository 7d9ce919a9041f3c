/**
 * FIFO message groups on PostgreSQL. A `fifo_groups` row records a group's head (lowest seq) and when
 * that head can be delivered; its row lock is the group's mutex:
 * - a receive locks available group rows FOR UPDATE SKIP LOCKED, so two nodes never take messages of
 *   one group at once and never wait for each other;
 * - every other change to a group's existing messages (delete, visibility change, expiry, move) first
 *   locks the group rows it touches, in group order, and only then the messages. Taking groups before
 *   messages everywhere is what keeps these transactions free of deadlocks with receives.
 * - a send only adds messages with higher sequence numbers; it serializes with other sends of the same
 *   group through an advisory lock (see messages.ts) and corrects the head with an upsert.
 */
import type pg from 'pg';
import { query, BY_SEQ_IN_QUEUE } from './connection.js';

const sql = {
  lockGroupsOfMessages: {
    name: 'sluice_lock_groups_of_messages',
    text: `SELECT group_id FROM fifo_groups
           WHERE queue_id = $1 AND group_id IN (SELECT group_id FROM messages WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY($2::bigint[]))
           ORDER BY group_id FOR UPDATE`,
  },
  // Recomputes heads after messages of the groups changed. It runs as its own statement so its snapshot
  // includes this transaction's earlier changes; the group rows are already locked by the caller. A group
  // is available once its head is visible and none of its received messages is still invisible. A group
  // with no message left loses its row; a group without a row (never expected) gets one.
  refresh: {
    name: 'sluice_refresh_groups',
    text: `WITH heads AS (
             SELECT g.group_id, h.seq,
                    GREATEST(h.visible_at, (
                      SELECT max(r.visible_at) FROM messages r
                      WHERE r.queue_id = $1 AND r.group_id = g.group_id AND r.group_key IS NULL AND r.receive_count > 0
                    )) AS available_at
             FROM unnest($2::text[]) AS g(group_id)
             LEFT JOIN LATERAL (
               SELECT seq, visible_at FROM messages WHERE queue_id = $1 AND group_id = g.group_id AND group_key IS NULL ORDER BY seq LIMIT 1
             ) h ON true
           ), emptied AS (
             DELETE FROM fifo_groups f USING heads
             WHERE f.queue_id = $1 AND f.group_id = heads.group_id AND heads.seq IS NULL
           )
           INSERT INTO fifo_groups (queue_id, group_id, head_seq, available_at)
           SELECT $1, group_id, seq, available_at FROM heads WHERE seq IS NOT NULL
           ON CONFLICT (queue_id, group_id) DO UPDATE SET head_seq = excluded.head_seq, available_at = excluded.available_at`,
  },
};

/**
 * The upsert for messages entering FIFO groups (sends, dead-letter copies, redrives), as a CTE body over
 * `relation`, which has (queue_id, group_id, seq, visible_at): a missing group gets a row, an existing one
 * keeps its head unless the newcomer is older. It locks existing group rows, so it waits for a receive
 * of that group to commit. `relation` is always a CTE name written in this module's callers, never input.
 */
export function enterGroupsSql(relation: string): string {
  return `INSERT INTO fifo_groups (queue_id, group_id, head_seq, available_at)
    SELECT DISTINCT ON (queue_id, group_id) queue_id, group_id, seq, visible_at FROM ${relation}
    WHERE group_id IS NOT NULL ORDER BY queue_id, group_id, seq
    ON CONFLICT (queue_id, group_id) DO UPDATE SET head_seq = excluded.head_seq, available_at = excluded.available_at
    WHERE excluded.head_seq < fifo_groups.head_seq`;
}

/** Locks the group rows of the given messages, in group order; returns the groups locked. */
export async function lockGroupsOfMessages(
  client: pg.PoolClient,
  queueId: number,
  seqs: number[],
): Promise<string[]> {
  if (seqs.length === 0) return [];
  const rows = await query<{ group_id: string }>(client, sql.lockGroupsOfMessages, [queueId, seqs]);
  return rows.map((row) => row.group_id);
}

export async function refreshGroups(
  client: pg.PoolClient,
  queueId: number,
  groupIds: Iterable<string>,
): Promise<void> {
  const distinct = [...new Set(groupIds)];
  if (distinct.length === 0) return;
  await query(client, sql.refresh, [queueId, distinct]);
}
