/**
 * Moving messages on SQLite: a redrive (StartMessageMoveTask) copies a page of a dead-letter queue's
 * messages to their source queues or a chosen destination and deletes the originals in one transaction;
 * the move task's own row records its progress.
 */
import type { Notifier } from '../notifier.js';
import { queueChannel } from '../notifier.js';
import { moveTaskOf, type MoveDestination, type MoveTask, type MoveTaskRow, type QueueStore } from '../queue-store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteFifoGroups } from './fifo-groups.js';
import type { SqliteGroupHooks } from './groups.js';
import { MESSAGE_COLUMNS, type MessageRow } from './messages.js';

export function createSqliteMoveTasks(
  db: SqliteDatabase,
  notifier: Notifier,
  groups: SqliteGroupHooks,
  fifoGroups: SqliteFifoGroups,
): Pick<QueueStore, 'messageMove' | 'moveTaskCreate' | 'moveTaskUpdate' | 'moveTaskList' | 'moveTaskGet'> {
  const sql = {
    queueExists: db.prepare<[number], { id: number }>('SELECT id FROM queues WHERE id = ?'),
    // A redriven message keeps its sent_at, so its retention period runs from when it was first sent.
    redriveToQueue: db.prepare<
      [{ queue: number; now: number; seq: number; grouped: number }],
      { seq: number; group_key: string | null }
    >(
      `INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, dedup_id, sent_at, visible_at, group_key)
       SELECT @queue, message_id, body, message_attributes, group_id, dedup_id, sent_at, @now, CASE WHEN @grouped THEN COALESCE(group_key, '') ELSE group_key END
       FROM messages WHERE seq = @seq
       RETURNING seq, group_key`,
    ),
    deleteMessage: db.prepare('DELETE FROM messages WHERE seq = ?'),
    movable: db.prepare<[number, number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND seq <= ? AND visible_at <= ? ORDER BY seq LIMIT ?`,
    ),
    movableCount: db.prepare<[number, number, number], { n: number }>(
      'SELECT COUNT(*) AS n FROM messages WHERE queue_id = ? AND seq <= ? AND visible_at <= ?',
    ),
    moveTaskInsert: db.prepare(
      `INSERT INTO move_tasks (task_handle, source_queue_id, source_arn, destination_arn, max_per_second, status,
         moved, to_move, last_seq, started_at, failure_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    moveTaskRunning: db.prepare<[number], { n: number }>(
      "SELECT COUNT(*) AS n FROM move_tasks WHERE source_queue_id = ? AND status IN ('RUNNING', 'CANCELLING')",
    ),
    moveTaskGet: db.prepare<[string], MoveTaskRow>('SELECT * FROM move_tasks WHERE task_handle = ?'),
    moveTaskList: db.prepare<[number, number], MoveTaskRow>(
      'SELECT * FROM move_tasks WHERE source_queue_id = ? ORDER BY started_at DESC LIMIT ?',
    ),
    moveTaskUpdate: db.prepare(
      `UPDATE move_tasks SET status = COALESCE(?, status), moved = moved + ?,
         failure_reason = COALESCE(?, failure_reason) WHERE task_handle = ?`,
    ),
  };

  const move = db.transaction((p: Parameters<QueueStore['messageMove']>[0]) => {
    const rows = sql.movable.all(p.fromQueueId, p.lastSeq, p.now, p.limit);
    let moved = 0;
    let unresolvedSource: string | undefined;
    for (const row of rows) {
      const destination: MoveDestination | undefined =
        p.destination ?? (row.dead_letter_source ? p.resolveSource[row.dead_letter_source] : undefined);
      if (!destination || !sql.queueExists.get(destination.queueId)) {
        unresolvedSource = row.dead_letter_source ?? 'unknown';
        break;
      }
      const copy = sql.redriveToQueue.get({
        queue: destination.queueId,
        now: p.now,
        seq: row.seq,
        grouped: destination.grouped ? 1 : 0,
      })!;
      if (destination.fifo && row.group_id !== null) {
        fifoGroups.enter(destination.queueId, row.group_id, copy.seq, p.now);
      }
      if (destination.grouped) groups.enter(destination.queueId, copy.group_key ?? '', p.now);
      sql.deleteMessage.run(row.seq);
      if (p.fromFifo && row.group_id !== null) fifoGroups.refresh(p.fromQueueId, row.group_id);
      moved++;
    }
    const remaining = sql.movableCount.get(p.fromQueueId, p.lastSeq, p.now)?.n ?? 0;
    return { moved, remaining, unresolvedSource };
  });

  const createMoveTask = db.transaction((task: MoveTask) => {
    if ((sql.moveTaskRunning.get(task.sourceQueueId)?.n ?? 0) > 0) return 'alreadyRunning' as const;
    sql.moveTaskInsert.run(
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
    );
    return 'created' as const;
  });

  const updateMoveTask = db.transaction((p: Parameters<QueueStore['moveTaskUpdate']>[0]) => {
    sql.moveTaskUpdate.run(p.status ?? null, p.movedIncrement ?? 0, p.failureReason ?? null, p.taskHandle);
    const row = sql.moveTaskGet.get(p.taskHandle);
    return row ? moveTaskOf(row) : undefined;
  });

  return {
    async messageMove(p) {
      const result = move(p);
      if (result.moved > 0) {
        if (p.destination) notifier.publish(queueChannel(p.destination.queueId));
        else
          for (const target of Object.values(p.resolveSource)) notifier.publish(queueChannel(target.queueId));
      }
      return result;
    },
    async moveTaskCreate(p) {
      return createMoveTask(p.task);
    },
    async moveTaskUpdate(p) {
      return updateMoveTask(p);
    },
    async moveTaskList(p) {
      return sql.moveTaskList.all(p.sourceQueueId, p.limit).map(moveTaskOf);
    },
    async moveTaskGet(p) {
      const row = sql.moveTaskGet.get(p.taskHandle);
      return row ? moveTaskOf(row) : undefined;
    },
  };
}
