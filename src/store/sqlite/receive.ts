/**
 * Receiving on SQLite: the claim path of standard and FIFO queues (a grouped queue's claim is in
 * groups.ts). One synchronous transaction per receive, so no other claim interleaves: candidates are
 * read in visibility order (FIFO: available groups in availability order, each group's messages in
 * sequence order); a candidate past the retention period is dropped, one received maxReceiveCount times
 * moves to the dead-letter queue (if that queue still exists), the rest are claimed.
 */
import type { Notifier } from '../notifier.js';
import { queueChannel } from '../notifier.js';
import { claimedMessageOf } from '../queue-store.js';
import type { QueueStore, ReceiveOutcome, ReceiveParams } from '../queue-store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteFifoGroups } from './fifo-groups.js';
import type { SqliteGroupHooks } from './groups.js';
import { MESSAGE_COLUMNS, type MessageRow } from './messages.js';
import { StatementsByLimit } from './statements-by-limit.js';

export function createSqliteReceive(
  db: SqliteDatabase,
  notifier: Notifier,
  groups: SqliteGroupHooks,
  fifoGroups: SqliteFifoGroups,
): Pick<QueueStore, 'messageReceive'> {
  const sql = {
    queueExists: db.prepare<[number], { id: number }>('SELECT id FROM queues WHERE id = ?'),
    nextVisible: db.prepare<[number, number], { next: number | null }>(
      'SELECT MIN(visible_at) AS next FROM messages WHERE queue_id = ? AND visible_at > ?',
    ),
    groupMessages: db.prepare<[number, string, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND group_id = ? AND group_key IS NULL ORDER BY seq LIMIT ?`,
    ),
    claim: db.prepare(
      `UPDATE messages SET visible_at = ?, receive_count = receive_count + 1,
         first_received_at = COALESCE(first_received_at, ?), received_at = ?, receipt_token = ?
       WHERE seq = ?`,
    ),
    // A copy keeps the message's group key (a redrive takes it home); a grouped destination (last
    // parameter) puts a message without one in group ''.
    // The copy keeps sent_at (its retention clock) on a standard dead-letter queue; on a FIFO one (@fifo)
    // the enqueue timestamp starts again at the move, as SQS documents.
    copyToQueue: db.prepare<
      [{ queue: number; visibleAt: number; source: string; seq: number; grouped: number; fifo: number }],
      { seq: number; group_key: string | null }
    >(
      `INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, dedup_id, sent_at, visible_at,
         receive_count, first_received_at, dead_letter_source, group_key)
       SELECT @queue, message_id, body, message_attributes, group_id, dedup_id, CASE WHEN @fifo THEN @visibleAt ELSE sent_at END,
         @visibleAt, receive_count,
         first_received_at, @source, CASE WHEN @grouped THEN COALESCE(group_key, '') ELSE group_key END FROM messages WHERE seq = @seq
       RETURNING seq, group_key`,
    ),
    deleteMessage: db.prepare('DELETE FROM messages WHERE seq = ?'),
  };

  // A message this receive already claimed with a visibility timeout of 0 is still visible: the receipt
  // token keeps a second round from claiming it again. The page size is written into the statement.
  const visibleMessages = new StatementsByLimit<[number, number, string], MessageRow>(
    db,
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND visible_at <= ? AND receipt_token IS NOT ?
     ORDER BY visible_at`,
  );

  /** What happens to one candidate in a receive: dropped as expired, dead-lettered, or handed out. */
  function settleCandidate(
    p: ReceiveParams,
    row: MessageRow,
    outcome: ReceiveOutcome,
  ): 'claimed' | 'removed' {
    if (row.sent_at < p.expiredBefore) {
      sql.deleteMessage.run(row.seq);
      return 'removed';
    }
    if (p.deadLetter && row.receive_count >= p.deadLetter.maxReceiveCount) {
      const target = p.deadLetter;
      const copy = sql.copyToQueue.get({
        queue: target.queueId,
        visibleAt: p.now,
        source: target.sourceArn,
        seq: row.seq,
        grouped: target.grouped ? 1 : 0,
        fifo: target.fifo ? 1 : 0,
      })!;
      if (target.fifo && row.group_id !== null) {
        fifoGroups.enter(target.queueId, row.group_id, copy.seq, p.now);
      }
      if (target.grouped) groups.enter(target.queueId, copy.group_key ?? '', p.now);
      sql.deleteMessage.run(row.seq);
      outcome.deadLettered++;
      return 'removed';
    }
    sql.claim.run(p.visibleAt, p.now, p.now, p.receiptToken, row.seq);
    outcome.messages.push(claimedMessageOf(row, p.now));
    return 'claimed';
  }

  function receiveStandard(p: ReceiveParams, outcome: ReceiveOutcome): void {
    for (;;) {
      const wanted = p.maxMessages - outcome.messages.length;
      const rows = visibleMessages.limitedTo(wanted).all(p.queueId, p.now, p.receiptToken);
      for (const row of rows) settleCandidate(p, row, outcome);
      // Rows that were expired or dead-lettered leave room; look again only if the page was full.
      if (rows.length < wanted || outcome.messages.length >= p.maxMessages) return;
    }
  }

  function receiveFifo(p: ReceiveParams, outcome: ReceiveOutcome): void {
    const visited = new Set<string>();
    for (;;) {
      const pageSize = p.maxMessages + visited.size;
      const available = fifoGroups.available(p.queueId, p.now, pageSize);
      let fresh = 0;
      for (const { group_id: groupId } of available) {
        if (visited.has(groupId)) continue;
        visited.add(groupId);
        fresh++;
        // Take as many as possible from one group before the next: SQS returns as few groups as it can.
        const rows = sql.groupMessages.all(p.queueId, groupId, p.maxMessages - outcome.messages.length + 10);
        for (const row of rows) {
          if (outcome.messages.length >= p.maxMessages) break;
          if (row.visible_at > p.now) break; // in flight or delayed: the rest of the group waits
          settleCandidate(p, row, outcome);
        }
        fifoGroups.refresh(p.queueId, groupId);
        if (outcome.messages.length >= p.maxMessages) return;
      }
      if (fresh === 0 || available.length < pageSize) return;
    }
  }

  const receive = db.transaction((p: ReceiveParams): ReceiveOutcome => {
    const outcome: ReceiveOutcome = { messages: [], deadLettered: 0, nextVisibleAt: null };
    if (p.deadLetter && !sql.queueExists.get(p.deadLetter.queueId)) {
      p = { ...p, deadLetter: null }; // the dead-letter queue is gone: keep redelivering, as SQS does
    }
    if (p.fifo) receiveFifo(p, outcome);
    else receiveStandard(p, outcome);
    if (outcome.messages.length === 0) {
      outcome.nextVisibleAt = p.fifo
        ? fifoGroups.nextAvailable(p.queueId, p.now)
        : (sql.nextVisible.get(p.queueId, p.now)?.next ?? null);
    }
    return outcome;
  });

  return {
    async messageReceive(p) {
      const outcome = receive(p);
      if (outcome.deadLettered > 0 && p.deadLetter) notifier.publish(queueChannel(p.deadLetter.queueId));
      return outcome;
    },
  };
}
