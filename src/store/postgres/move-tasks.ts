/**
 * Message move tasks (redrive from a dead-letter queue) on PostgreSQL: the task rows, and the move of
 * one page of messages. A page takes visible messages in sequence order with SKIP LOCKED, so a move
 * running beside receivers (on any node) never touches a message being claimed. At most one unfinished
 * task per source queue is enforced by a partial unique index, so two nodes cannot both start one.
 */
import type pg from 'pg';
import { queueChannel, type Notifier } from '../notifier.js';
import { moveTaskOf, type MoveDestination, type MoveTaskRow, type QueueStore } from '../queue-store.js';
import { query, run, transaction } from './connection.js';
import { enterGroupsSql, refreshGroups } from './fifo-groups.js';
import { enterQueueGroupsSql } from './groups.js';

const TASK_COLUMNS = `task_handle, source_queue_id, source_arn, destination_arn, max_per_second, status, moved, to_move,
  last_seq, started_at, failure_reason`;

const sql = {
  // FIFO sources: the groups of the page's candidates are locked first, like every other change to
  // existing FIFO messages (see fifo-groups.ts). $5 whether the source is FIFO.
  lockSourceGroups: {
    text: `SELECT group_id FROM fifo_groups
           WHERE queue_id = $1 AND group_id IN (
             SELECT group_id FROM messages WHERE queue_id = $1 AND seq <= $2 AND visible_at <= $3 ORDER BY seq LIMIT $4)
           ORDER BY group_id FOR UPDATE`,
  },
  // $5 restricts a FIFO source to the groups locked above (null: a standard source, no restriction).
  candidates: {
    text: `SELECT seq, group_id, dead_letter_source FROM messages
           WHERE queue_id = $1 AND seq <= $2 AND visible_at <= $3 AND ($5::text[] IS NULL OR group_id = ANY($5::text[]))
           ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED`,
  },
  // Destinations are held FOR KEY SHARE, as a send holds its queue, so a destination deleted meanwhile
  // waits for the move instead of being left with orphans.
  lockDestinations: { text: 'SELECT id FROM queues WHERE id = ANY($1::bigint[]) FOR KEY SHARE' },
  // A moved message starts over in its destination: new sequence number, visible now, never received,
  // but it keeps sent_at, so its retention period runs from when it was first sent (as in SQS). It
  // keeps its task group key; a grouped destination ($5) puts one without a key in group '' and enters
  // the groups (store/postgres/groups.ts).
  move: {
    text: `WITH moving AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS mv(seq, queue_id, ord)),
           copies AS (
             INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, dedup_id, sent_at, visible_at, group_key)
             SELECT mv.queue_id, m.message_id, m.body, m.message_attributes, m.group_id, m.dedup_id, m.sent_at, $3::bigint,
                    CASE WHEN mv.queue_id = ANY($5::bigint[]) THEN COALESCE(m.group_key, '') ELSE m.group_key END
             FROM moving mv JOIN messages m ON m.seq = mv.seq ORDER BY mv.ord
             RETURNING queue_id, group_id, group_key, seq, visible_at
           ),
           entered AS (SELECT queue_id, group_id, seq, visible_at FROM copies WHERE queue_id = ANY($4::bigint[])),
           groups AS (${enterGroupsSql('entered')}),
           task_entered AS (SELECT queue_id, group_key, visible_at FROM copies WHERE queue_id = ANY($5::bigint[])),
           task_groups AS (${enterQueueGroupsSql('task_entered')}),
           gone AS (DELETE FROM messages WHERE seq = ANY($1::bigint[]))
           SELECT count(*) AS moved FROM copies`,
  },
  remaining: {
    text: 'SELECT count(*) AS n FROM messages WHERE queue_id = $1 AND seq <= $2 AND visible_at <= $3',
  },
  taskInsert: {
    text: `INSERT INTO move_tasks (${TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (source_queue_id) WHERE status IN ('RUNNING', 'CANCELLING') DO NOTHING
           RETURNING task_handle`,
  },
  taskUpdate: {
    text: `UPDATE move_tasks SET status = COALESCE($2, status), moved = moved + $3, failure_reason = COALESCE($4, failure_reason)
           WHERE task_handle = $1 RETURNING ${TASK_COLUMNS}`,
  },
  taskGet: { text: `SELECT ${TASK_COLUMNS} FROM move_tasks WHERE task_handle = $1` },
  taskList: {
    text: `SELECT ${TASK_COLUMNS} FROM move_tasks WHERE source_queue_id = $1 ORDER BY started_at DESC LIMIT $2`,
  },
};

type MoveParams = Parameters<QueueStore['messageMove']>[0];

async function movePage(
  client: pg.PoolClient,
  p: MoveParams,
): Promise<{ moved: number; remaining: number; unresolvedSource?: string }> {
  const window = [p.fromQueueId, p.lastSeq, p.now, p.limit];
  const groups = p.fromFifo
    ? (await query<{ group_id: string }>(client, sql.lockSourceGroups, window)).map((r) => r.group_id)
    : null;
  const rows = await query<{ seq: number; group_id: string | null; dead_letter_source: string | null }>(
    client,
    sql.candidates,
    [...window, groups],
  );
  const wanted = [
    ...new Set(
      [p.destination, ...Object.values(p.resolveSource)]
        .filter((d): d is MoveDestination => !!d)
        .map((d) => d.queueId),
    ),
  ];
  const existing = new Set(
    (await query<{ id: number }>(client, sql.lockDestinations, [wanted])).map((r) => r.id),
  );
  const moving: Array<{ seq: number; destination: MoveDestination; groupId: string | null }> = [];
  let unresolvedSource: string | undefined;
  for (const row of rows) {
    const destination =
      p.destination ?? (row.dead_letter_source ? p.resolveSource[row.dead_letter_source] : undefined);
    if (!destination || !existing.has(destination.queueId)) {
      unresolvedSource = row.dead_letter_source ?? 'unknown';
      break;
    }
    moving.push({ seq: row.seq, destination, groupId: row.group_id });
  }
  let moved = 0;
  if (moving.length > 0) {
    const fifoDestinations = [
      ...new Set(moving.filter((m) => m.destination.fifo).map((m) => m.destination.queueId)),
    ];
    const groupedDestinations = [
      ...new Set(moving.filter((m) => m.destination.grouped).map((m) => m.destination.queueId)),
    ];
    const [result] = await query<{ moved: number }>(client, sql.move, [
      moving.map((m) => m.seq),
      moving.map((m) => m.destination.queueId),
      p.now,
      fifoDestinations,
      groupedDestinations,
    ]);
    moved = result?.moved ?? 0;
    if (p.fromFifo)
      await refreshGroups(
        client,
        p.fromQueueId,
        moving.map((m) => m.groupId).filter((g): g is string => g !== null),
      );
  }
  const [left] = await query<{ n: number }>(client, sql.remaining, [p.fromQueueId, p.lastSeq, p.now]);
  return { moved, remaining: left?.n ?? 0, ...(unresolvedSource !== undefined ? { unresolvedSource } : {}) };
}

type MoveTaskOps = Pick<
  QueueStore,
  'messageMove' | 'moveTaskCreate' | 'moveTaskUpdate' | 'moveTaskList' | 'moveTaskGet'
>;

export function createPostgresMoveTasks(pool: pg.Pool, notifier: Notifier): MoveTaskOps {
  return {
    async messageMove(p) {
      const result = await transaction(pool, (client) => movePage(client, p));
      if (result.moved > 0) {
        if (p.destination) notifier.publish(queueChannel(p.destination.queueId));
        else
          for (const target of Object.values(p.resolveSource)) notifier.publish(queueChannel(target.queueId));
      }
      return result;
    },
    async moveTaskCreate({ task }) {
      const rows = await run(pool, sql.taskInsert, [
        task.taskHandle,
        task.sourceQueueId,
        task.sourceArn,
        task.destinationArn,
        task.maxPerSecond,
        task.status,
        task.moved,
        task.toMove,
        task.lastSeq,
        task.startedAt,
        task.failureReason,
      ]);
      return rows.length > 0 ? 'created' : 'alreadyRunning';
    },
    async moveTaskUpdate(p) {
      const [row] = await run<MoveTaskRow>(pool, sql.taskUpdate, [
        p.taskHandle,
        p.status ?? null,
        p.movedIncrement ?? 0,
        p.failureReason ?? null,
      ]);
      return row ? moveTaskOf(row) : undefined;
    },
    async moveTaskList(p) {
      return (await run<MoveTaskRow>(pool, sql.taskList, [p.sourceQueueId, p.limit])).map(moveTaskOf);
    },
    async moveTaskGet(p) {
      const [row] = await run<MoveTaskRow>(pool, sql.taskGet, [p.taskHandle]);
      return row ? moveTaskOf(row) : undefined;
    },
  };
}
