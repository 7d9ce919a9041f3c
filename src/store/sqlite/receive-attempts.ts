/**
 * What a receive leaves behind on SQLite, read back: ReceiveRequestAttemptId records (a retried receive
 * gets the same messages), the messages a queue holds (peek, for the console) and its in-flight count
 * (the OverLimit check).
 */
import { claimedMessageOf } from '../queue-store.js';
import type { QueueStore, ReceiveAttempt } from '../queue-store.js';
import type { SqliteDatabase } from './database.js';
import { MESSAGE_COLUMNS, type MessageRow } from './messages.js';

export function createSqliteReceiveAttempts(
  db: SqliteDatabase,
): Pick<QueueStore, 'messageInFlightCount' | 'messagePeek' | 'receiveAttemptGet' | 'receiveAttemptPut'> {
  const sql = {
    peek: db.prepare<[number, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND sent_at >= ? ORDER BY visible_at LIMIT ?`,
    ),
    inFlightCount: db.prepare<[number, number, number, number], { n: number }>(
      `SELECT COUNT(*) AS n FROM (
         SELECT 1 FROM messages WHERE queue_id = ? AND visible_at > ? AND receive_count > 0 AND sent_at >= ? LIMIT ?)`,
    ),
    attemptGet: db.prepare<
      [number, string, number],
      { receipt_token: string; seqs: string; visible_at: number; created_at: number }
    >(
      'SELECT receipt_token, seqs, visible_at, created_at FROM receive_attempts WHERE queue_id = ? AND attempt_id = ? AND created_at > ?',
    ),
    attemptMessage: db.prepare<[number, number], MessageRow & { receipt_token: string | null }>(
      `SELECT ${MESSAGE_COLUMNS}, receipt_token FROM messages WHERE seq = ? AND queue_id = ?`,
    ),
    attemptPut: db.prepare(
      `INSERT INTO receive_attempts (queue_id, attempt_id, receipt_token, seqs, visible_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (queue_id, attempt_id) DO UPDATE SET receipt_token = excluded.receipt_token, seqs = excluded.seqs,
         visible_at = excluded.visible_at, created_at = excluded.created_at`,
    ),
    attemptsForget: db.prepare('DELETE FROM receive_attempts WHERE queue_id = ? AND created_at <= ?'),
  };

  const getAttempt = db.transaction(
    (p: Parameters<QueueStore['receiveAttemptGet']>[0]): ReceiveAttempt | undefined => {
      const row = sql.attemptGet.get(p.queueId, p.attemptId, p.createdAfter);
      if (!row) return undefined;
      const seqs = JSON.parse(row.seqs) as number[];
      const messages: ReceiveAttempt['messages'] = [];
      for (const seq of seqs) {
        const message = sql.attemptMessage.get(seq, p.queueId);
        if (!message) continue;
        messages.push({
          ...claimedMessageOf(message), // receive_count already counts the receive being retried
          visibleAt: message.visible_at,
          receiptToken: message.receipt_token,
        });
      }
      return {
        receiptToken: row.receipt_token,
        seqs,
        visibleAt: row.visible_at,
        createdAt: row.created_at,
        messages,
      };
    },
  );

  const putAttempt = db.transaction((p: Parameters<QueueStore['receiveAttemptPut']>[0]) => {
    sql.attemptsForget.run(p.queueId, p.forgetBefore);
    sql.attemptPut.run(
      p.queueId,
      p.attemptId,
      p.receiptToken,
      JSON.stringify(p.seqs),
      p.visibleAt,
      p.createdAt,
    );
  });

  return {
    async messagePeek(p) {
      return sql.peek.all(p.queueId, p.expiredBefore, p.limit).map((row) => ({
        seq: row.seq,
        messageId: row.message_id,
        body: row.body,
        messageAttributes: row.message_attributes,
        groupId: row.group_id,
        sentAt: row.sent_at,
        visibleAt: row.visible_at,
        receiveCount: row.receive_count,
        deadLetterSource: row.dead_letter_source,
      }));
    },
    async messageInFlightCount(p) {
      return sql.inFlightCount.get(p.queueId, p.now, p.expiredBefore, p.atMost)?.n ?? 0;
    },
    async receiveAttemptGet(p) {
      return getAttempt(p);
    },
    async receiveAttemptPut(p) {
      putAttempt(p);
    },
  };
}
