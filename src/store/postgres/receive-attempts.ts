/**
 * The in-flight count behind SQS's in-flight limits, the record of FIFO receives made with a
 * ReceiveRequestAttemptId (the decisions are made in queues/service.ts), and the read-only peek an
 * operator browses a queue with.
 */
import type pg from 'pg';
import { claimedMessageOf, type ClaimedRow, type QueueStore, type ReceiveAttempt } from '../queue-store.js';
import { run, transaction, query } from './connection.js';

const sql = {
  // Bounded: the caller only needs to know whether the count reached the limit.
  inFlightCount: {
    name: 'sluice_in_flight_count',
    text: `SELECT count(*) AS n FROM (
             SELECT 1 FROM messages
             WHERE queue_id = $1 AND visible_at > $2::bigint AND receive_count > 0 AND sent_at >= $3::bigint
             LIMIT $4) AS in_flight`,
  },
  attemptGet: {
    text: `SELECT a.receipt_token AS attempt_token, a.seqs, a.visible_at AS attempt_visible_at, a.created_at, a.ord,
                  m.seq, m.message_id, m.body, m.message_attributes, m.group_id, m.dedup_id, m.sent_at, m.visible_at,
                  m.first_received_at, m.receive_count, m.dead_letter_source, m.receipt_token
           FROM (SELECT receipt_token, seqs, visible_at, created_at, s.seq AS wanted, s.ord
                 FROM receive_attempts, unnest(seqs) WITH ORDINALITY AS s(seq, ord)
                 WHERE queue_id = $1 AND attempt_id = $2 AND created_at > $3::bigint) a
           LEFT JOIN messages m ON m.seq = a.wanted AND m.queue_id = $1
           ORDER BY a.ord`,
  },
  peek: {
    name: 'sluice_message_peek',
    text: `SELECT seq, message_id, body, message_attributes, group_id, sent_at, visible_at, receive_count, dead_letter_source
           FROM messages WHERE queue_id = $1 AND sent_at >= $2::bigint ORDER BY visible_at, seq LIMIT $3`,
  },
  attemptsForget: { text: 'DELETE FROM receive_attempts WHERE queue_id = $1 AND created_at <= $2::bigint' },
  attemptPut: {
    text: `INSERT INTO receive_attempts (queue_id, attempt_id, receipt_token, seqs, visible_at, created_at)
           VALUES ($1, $2, $3, $4::bigint[], $5, $6)
           ON CONFLICT (queue_id, attempt_id) DO UPDATE SET receipt_token = excluded.receipt_token, seqs = excluded.seqs,
             visible_at = excluded.visible_at, created_at = excluded.created_at`,
  },
};

/** A row per seq of the attempt; the message columns are null when the message is gone. */
type AttemptRow = (ClaimedRow | { [K in keyof ClaimedRow]: null }) & {
  attempt_token: string;
  seqs: Array<number | string>;
  attempt_visible_at: number;
  created_at: number;
  visible_at: number;
  receipt_token: string | null;
};

export function createPostgresReceiveAttempts(
  pool: pg.Pool,
): Pick<QueueStore, 'messageInFlightCount' | 'messagePeek' | 'receiveAttemptGet' | 'receiveAttemptPut'> {
  return {
    async messagePeek(p) {
      const rows = await run<{
        seq: number | string;
        message_id: string;
        body: string;
        message_attributes: string | null;
        group_id: string | null;
        sent_at: number | string;
        visible_at: number | string;
        receive_count: number;
        dead_letter_source: string | null;
      }>(pool, sql.peek, [p.queueId, p.expiredBefore, p.limit]);
      return rows.map((row) => ({
        seq: Number(row.seq),
        messageId: row.message_id,
        body: row.body,
        messageAttributes: row.message_attributes,
        groupId: row.group_id,
        sentAt: Number(row.sent_at),
        visibleAt: Number(row.visible_at),
        receiveCount: row.receive_count,
        deadLetterSource: row.dead_letter_source,
      }));
    },
    async messageInFlightCount(p) {
      const [row] = await run<{ n: number }>(pool, sql.inFlightCount, [
        p.queueId,
        p.now,
        p.expiredBefore,
        p.atMost,
      ]);
      return Number(row?.n ?? 0);
    },
    async receiveAttemptGet(p) {
      const rows = await run<AttemptRow>(pool, sql.attemptGet, [p.queueId, p.attemptId, p.createdAfter]);
      const first = rows[0];
      if (!first) return undefined;
      const messages: ReceiveAttempt['messages'] = rows
        .filter((row): row is ClaimedRow & AttemptRow => row.seq !== null)
        .map((row) => ({
          ...claimedMessageOf(row),
          seq: Number(row.seq),
          sentAt: Number(row.sent_at),
          firstReceivedAt: Number(row.first_received_at),
          visibleAt: Number(row.visible_at),
          receiptToken: row.receipt_token,
        }));
      return {
        receiptToken: first.attempt_token,
        seqs: first.seqs.map(Number),
        visibleAt: Number(first.attempt_visible_at),
        createdAt: Number(first.created_at),
        messages,
      };
    },
    async receiveAttemptPut(p) {
      await transaction(
        pool,
        async (client) => {
          await query(client, sql.attemptsForget, [p.queueId, p.forgetBefore]);
          await query(client, sql.attemptPut, [
            p.queueId,
            p.attemptId,
            p.receiptToken,
            p.seqs,
            p.visibleAt,
            p.createdAt,
          ]);
        },
        { durable: false },
      );
    },
  };
}
