/**
 * Message operations on PostgreSQL other than the claim (receive.ts) and redrive (move-tasks.ts): send,
 * delete, change visibility, expiry. The hot paths are a constant number of round trips whatever the
 * batch size: a standard send is one INSERT ... SELECT FROM unnest(...), a standard delete one DELETE.
 *
 * Sends hold the queue row FOR KEY SHARE so a concurrent queue delete or purge waits for them (and then
 * removes what they wrote) instead of leaving orphans behind. FIFO sends also take a transaction-scoped
 * advisory lock per message group before they allocate sequence numbers, so within a group sequence
 * order is commit order and a receiver never sees a later message before an earlier one has landed.
 */
import type pg from 'pg';
import { queueChannel, type Notifier } from '../notifier.js';
import type {
  DeleteOutcome,
  NewMessage,
  QueueStore,
  SendOutcome,
  VisibilityOutcome,
} from '../queue-store.js';
import { NOT_DURABLE, query, run, transaction, BY_SEQ_IN_QUEUE } from './connection.js';
import { enterGroupsSql, lockGroupsOfMessages, refreshGroups } from './fifo-groups.js';

const sql = {
  // $1 queue, $2 now, then one array per column.
  sendPlain: {
    name: 'sluice_send_plain',
    text: `WITH queue AS (SELECT id FROM queues WHERE id = $1 FOR KEY SHARE)
           INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, sent_at, visible_at)
           SELECT queue.id, i.message_id, i.body, i.message_attributes, i.group_id, $2::bigint, i.visible_at
           FROM queue, unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
             WITH ORDINALITY AS i(message_id, body, message_attributes, group_id, visible_at, ord)
           ORDER BY i.ord
           RETURNING seq, message_id`,
  },
  // Locks the queue row and, in a fixed order (so two senders never deadlock), one advisory lock per
  // message group. The first key names the schema and queue, the second the group.
  sendLock: {
    name: 'sluice_send_lock',
    text: `WITH queue AS (SELECT id FROM queues WHERE id = $1 FOR KEY SHARE),
           locks AS (
             SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || $1::text), k)
             FROM (SELECT DISTINCT hashtext(g) AS k FROM unnest($2::text[]) AS g) AS keys
             ORDER BY k
           )
           SELECT (SELECT count(*) FROM queue) AS queues, (SELECT count(*) FROM locks) AS locks`,
  },
  // Sequence numbers are allocated first (in entry order) because a deduplication record names the
  // message it admitted. The upsert admits an entry when its id is new or its record expired; a live
  // record wins, and the entry is not stored. $3 record expiry, $4 whether groups are FIFO groups.
  sendDeduplicated: {
    name: 'sluice_send_deduplicated',
    text: `WITH input AS (
             SELECT i.*, nextval('message_seq') AS seq
             FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::boolean[])
               WITH ORDINALITY AS i(message_id, body, message_attributes, group_id, dedup_id, scope, visible_at, candidate, ord)
             ORDER BY i.ord
           ),
           admitted AS (
             INSERT INTO deduplication (queue_id, scope, dedup_id, message_id, seq, expires_at)
             SELECT $1, scope, dedup_id, message_id, seq, $3::bigint FROM input WHERE candidate
             ON CONFLICT (queue_id, scope, dedup_id) DO UPDATE
               SET message_id = excluded.message_id, seq = excluded.seq, expires_at = excluded.expires_at
               WHERE deduplication.expires_at <= $2::bigint
             RETURNING seq
           ),
           inserted AS (
             INSERT INTO messages (seq, queue_id, message_id, body, message_attributes, group_id, dedup_id, sent_at, visible_at)
             SELECT seq, $1, message_id, body, message_attributes, group_id, dedup_id, $2::bigint, visible_at FROM input
             WHERE dedup_id IS NULL OR seq IN (SELECT seq FROM admitted)
             ORDER BY seq
             RETURNING queue_id, group_id, seq, visible_at
           ),
           entered AS (SELECT queue_id, group_id, seq, visible_at FROM inserted WHERE $4::boolean),
           groups AS (${enterGroupsSql('entered')})
           SELECT i.seq, EXISTS (SELECT 1 FROM inserted s WHERE s.seq = i.seq) AS stored FROM input i ORDER BY i.ord`,
  },
  duplicatesOf: {
    text: `SELECT scope, dedup_id, message_id, seq FROM deduplication
           WHERE queue_id = $1 AND (scope, dedup_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
  },
  // A receipt deletes only while its token is the message's latest; `present` (read from the statement's
  // snapshot) tells a stale receipt from a message that is gone.
  delete: {
    name: 'sluice_delete',
    text: `WITH r AS (SELECT * FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS r(seq, token, ord)),
           deleted AS (
             DELETE FROM messages m USING r WHERE m.${BY_SEQ_IN_QUEUE} AND m.seq = r.seq AND m.receipt_token = r.token
             RETURNING m.seq, m.group_id, m.receipt_token AS token
           )
           SELECT r.seq, d.group_id, d.seq IS NOT NULL AS deleted,
                  CASE WHEN d.seq IS NOT NULL THEN true ELSE EXISTS (SELECT 1 FROM messages x WHERE x.seq = r.seq AND x.${BY_SEQ_IN_QUEUE}) END AS present,
                  (SELECT ${NOT_DURABLE}) AS not_durable
           FROM r LEFT JOIN (SELECT DISTINCT seq, group_id, token FROM deleted) d ON d.seq = r.seq AND d.token = r.token
           ORDER BY r.ord`,
  },
  lockForVisibility: {
    name: 'sluice_lock_for_visibility',
    text: `SELECT seq, receipt_token, visible_at, received_at, group_id FROM messages
           WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY($2::bigint[]) ORDER BY seq FOR UPDATE`,
  },
  setVisibleAt: {
    name: 'sluice_set_visible_at',
    text: `UPDATE messages m SET visible_at = u.visible_at
           FROM unnest($2::bigint[], $3::bigint[]) AS u(seq, visible_at) WHERE m.${BY_SEQ_IN_QUEUE} AND m.seq = u.seq`,
  },
  expireStandard: {
    text: `WITH expired AS (DELETE FROM messages WHERE queue_id = $1 AND sent_at < $2 RETURNING 1),
           dedup AS (DELETE FROM deduplication WHERE queue_id = $1 AND expires_at <= $3)
           SELECT (SELECT count(*) FROM expired) AS expired, (SELECT ${NOT_DURABLE}) AS not_durable,
                  (SELECT min(sent_at) FROM messages WHERE queue_id = $1 AND sent_at >= $2) AS oldest_sent_at`,
  },
  lockExpiringGroups: {
    text: `SELECT group_id FROM fifo_groups
           WHERE queue_id = $1 AND group_id IN (SELECT group_id FROM messages WHERE queue_id = $1 AND sent_at < $2)
           ORDER BY group_id FOR UPDATE`,
  },
  // Messages of the groups we locked, plus any whose group row is missing (never expected; without
  // this they would stay forever and re-arm the sweeper at once, again and again).
  expireInGroups: {
    text: `DELETE FROM messages m WHERE queue_id = $1 AND sent_at < $2
             AND (group_id = ANY($3::text[])
                  OR NOT EXISTS (SELECT 1 FROM fifo_groups g WHERE g.queue_id = $1 AND g.group_id = m.group_id))
           RETURNING group_id`,
  },
  expireDeduplication: {
    text: `WITH dedup AS (DELETE FROM deduplication WHERE queue_id = $1 AND expires_at <= $2)
           SELECT min(sent_at) AS oldest_sent_at FROM messages WHERE queue_id = $1`,
  },
  lastSeq: { text: 'SELECT max(seq) AS last, count(*) AS n FROM messages WHERE queue_id = $1' },
};

type SendParams = Parameters<QueueStore['messageSend']>[0];

/** Standard messages without deduplication ids: one statement, one round trip for the whole batch. */
async function sendPlain(pool: pg.Pool, p: SendParams): Promise<SendOutcome[] | 'queueGone'> {
  const m = p.messages;
  const rows = await run<{ seq: number; message_id: string }>(pool, sql.sendPlain, [
    p.queueId,
    p.now,
    m.map((x) => x.messageId),
    m.map((x) => x.body),
    m.map((x) => x.messageAttributes),
    m.map((x) => x.groupId),
    m.map((x) => x.visibleAt),
  ]);
  if (rows.length === 0) return 'queueGone';
  // Sequence numbers follow entry order; match them by id all the same, not by row order.
  const seqs = new Map<string, number[]>();
  for (const row of rows.sort((a, b) => a.seq - b.seq))
    seqs.set(row.message_id, [...(seqs.get(row.message_id) ?? []), row.seq]);
  return m.map((x) => ({ kind: 'sent', messageId: x.messageId, seq: seqs.get(x.messageId)!.shift()! }));
}

/** Where each entry's deduplication key first appears in the batch: later copies are its duplicates. */
function firstOccurrences(messages: NewMessage[], scopeOf: (m: NewMessage) => string): Array<number | null> {
  const first = new Map<string, number>();
  return messages.map((m, index) => {
    if (m.deduplicationId === null) return null;
    const key = `${scopeOf(m)}\u0000${m.deduplicationId}`;
    const seen = first.get(key);
    if (seen !== undefined) return seen;
    first.set(key, index);
    return index;
  });
}

async function sendDeduplicated(client: pg.PoolClient, p: SendParams): Promise<SendOutcome[] | 'queueGone'> {
  const m = p.messages;
  const groups = p.fifo ? [...new Set(m.map((x) => x.groupId).filter((g): g is string => g !== null))] : [];
  const [lock] = await query<{ queues: number }>(client, sql.sendLock, [p.queueId, groups]);
  if (!lock || lock.queues === 0) return 'queueGone';
  const scopeOf = (x: NewMessage) => (p.deduplicationByGroup ? (x.groupId ?? '') : '');
  const first = firstOccurrences(m, scopeOf);
  const rows = await query<{ seq: number; stored: boolean }>(client, sql.sendDeduplicated, [
    p.queueId,
    p.now,
    p.now + p.deduplicationWindowMs,
    p.fifo,
    m.map((x) => x.messageId),
    m.map((x) => x.body),
    m.map((x) => x.messageAttributes),
    m.map((x) => x.groupId),
    m.map((x) => x.deduplicationId),
    m.map(scopeOf),
    m.map((x) => x.visibleAt),
    first.map((f, index) => f === index),
  ]);
  // Candidates turned away by a live record are duplicates of that record's message: read them now
  // (this statement's snapshot includes records committed while the upsert waited for them).
  const refused = m.filter((_, index) => first[index] === index && !rows[index]!.stored);
  const live = new Map<string, { message_id: string; seq: number }>();
  if (refused.length > 0) {
    const records = await query<{ scope: string; dedup_id: string; message_id: string; seq: number }>(
      client,
      sql.duplicatesOf,
      [p.queueId, refused.map(scopeOf), refused.map((x) => x.deduplicationId)],
    );
    for (const record of records) live.set(`${record.scope}\u0000${record.dedup_id}`, record);
  }
  return m.map((x, index): SendOutcome => {
    const row = rows[index]!;
    if (row.stored) return { kind: 'sent', messageId: x.messageId, seq: row.seq };
    const original = first[index]!;
    if (rows[original]!.stored)
      return { kind: 'duplicate', messageId: m[original]!.messageId, seq: rows[original]!.seq };
    const record = live.get(`${scopeOf(x)}\u0000${x.deduplicationId}`);
    if (!record)
      throw new Error(`deduplication record of ${x.deduplicationId} vanished inside its transaction`);
    return { kind: 'duplicate', messageId: record.message_id, seq: record.seq };
  });
}

type DeleteParams = Parameters<QueueStore['messageDelete']>[0];

export interface DeleteRow {
  seq: number;
  group_id: string | null;
  deleted: boolean;
  present: boolean;
}

const deleteValues = (p: DeleteParams) => [
  p.queueId,
  p.receipts.map((r) => r.seq),
  p.receipts.map((r) => r.token),
];

/** Per-receipt outcomes in request order; a message named twice is deleted once, as SQLite's loop would. */
export function deleteOutcomes(rows: DeleteRow[]): DeleteOutcome[] {
  const done = new Set<number>();
  return rows.map((row) => {
    if (done.has(row.seq)) return 'gone';
    if (row.deleted) {
      done.add(row.seq);
      return 'deleted';
    }
    return row.present ? 'staleReceipt' : 'gone';
  });
}

type VisibilityParams = Parameters<QueueStore['messageChangeVisibility']>[0];

interface VisibilityRow {
  seq: number;
  receipt_token: string | null;
  visible_at: number;
  received_at: number | null;
  group_id: string | null;
}

export async function changeVisibility(client: pg.PoolClient, p: VisibilityParams): Promise<VisibilityOutcome[]> {
  const seqs = [...new Set(p.changes.map((c) => c.seq))];
  if (p.fifo) await lockGroupsOfMessages(client, p.queueId, seqs);
  const rows = await query<VisibilityRow>(client, sql.lockForVisibility, [p.queueId, seqs]);
  const current = new Map(rows.map((row) => [row.seq, row]));
  // The rules run on the locked rows in request order, so a batch naming one message twice behaves as
  // two changes in sequence; only the final visible_at of each message is written.
  const changed = new Map<number, number>();
  const outcomes = p.changes.map((change): VisibilityOutcome => {
    const row = current.get(change.seq);
    if (!row) return 'gone';
    if (row.receipt_token !== change.token) return 'staleReceipt';
    if (row.visible_at <= p.now) return 'notInflight';
    if (row.received_at !== null && change.visibleAt > row.received_at + p.maxInvisibleMs)
      return 'beyondMaximum';
    row.visible_at = change.visibleAt;
    changed.set(change.seq, change.visibleAt);
    return 'changed';
  });
  if (changed.size > 0) {
    await query(client, sql.setVisibleAt, [p.queueId, [...changed.keys()], [...changed.values()]]);
    if (p.fifo) {
      const groups = [...changed.keys()]
        .map((seq) => current.get(seq)!.group_id)
        .filter((g): g is string => g !== null);
      await refreshGroups(client, p.queueId, groups);
    }
  }
  return outcomes;
}

type ExpireParams = Parameters<QueueStore['messageExpire']>[0];

async function expireFifo(client: pg.PoolClient, p: ExpireParams): Promise<number> {
  const locked = await query<{ group_id: string }>(client, sql.lockExpiringGroups, [
    p.queueId,
    p.expiredBefore,
  ]);
  // Only messages of groups we hold: a group locked by nobody here is left for the next sweep.
  const gone = await query<{ group_id: string }>(client, sql.expireInGroups, [
    p.queueId,
    p.expiredBefore,
    locked.map((row) => row.group_id),
  ]);
  await refreshGroups(
    client,
    p.queueId,
    gone.map((row) => row.group_id),
  );
  return gone.length;
}

export function createPostgresMessages(
  pool: pg.Pool,
  notifier: Notifier,
): Pick<
  QueueStore,
  'messageSend' | 'messageDelete' | 'messageChangeVisibility' | 'messageExpire' | 'messageLastSeq'
> {
  return {
    async messageSend(p) {
      const plain = !p.fifo && p.messages.every((m) => m.deduplicationId === null);
      const results = plain
        ? await sendPlain(pool, p)
        : await transaction(pool, (client) => sendDeduplicated(client, p));
      if (results !== 'queueGone' && results.some((r) => r.kind === 'sent'))
        notifier.publish(queueChannel(p.queueId));
      return results;
    },
    async messageDelete(p) {
      if (p.receipts.length === 0) return [];
      if (!p.fifo) return deleteOutcomes(await run<DeleteRow>(pool, sql.delete, deleteValues(p)));
      const outcomes = await transaction(
        pool,
        async (client) => {
          await lockGroupsOfMessages(
            client,
            p.queueId,
            p.receipts.map((r) => r.seq),
          );
          const rows = await query<DeleteRow>(client, sql.delete, deleteValues(p));
          const groups = rows
            .filter((row) => row.deleted && row.group_id !== null)
            .map((row) => row.group_id!);
          await refreshGroups(client, p.queueId, groups);
          return deleteOutcomes(rows);
        },
        { durable: false },
      );
      // Deleting a FIFO group's head can make the next message of the group deliverable.
      if (outcomes.includes('deleted')) notifier.publish(queueChannel(p.queueId));
      return outcomes;
    },
    async messageChangeVisibility(p) {
      if (p.changes.length === 0) return [];
      const outcomes = await transaction(pool, (client) => changeVisibility(client, p), { durable: false });
      if (outcomes.includes('changed') && p.changes.some((c) => c.visibleAt <= p.now)) {
        notifier.publish(queueChannel(p.queueId));
      }
      return outcomes;
    },
    async messageExpire(p) {
      if (!p.fifo) {
        const [row] = await run<{ expired: number; oldest_sent_at: number | null }>(
          pool,
          sql.expireStandard,
          [p.queueId, p.expiredBefore, p.now],
        );
        return { expired: row?.expired ?? 0, oldestSentAt: row?.oldest_sent_at ?? null };
      }
      return transaction(
        pool,
        async (client) => {
          const expired = await expireFifo(client, p);
          const [row] = await query<{ oldest_sent_at: number | null }>(client, sql.expireDeduplication, [
            p.queueId,
            p.now,
          ]);
          return { expired, oldestSentAt: row?.oldest_sent_at ?? null };
        },
        { durable: false },
      );
    },
    async messageLastSeq(p) {
      const [row] = await run<{ last: number | null; n: number }>(pool, sql.lastSeq, [p.queueId]);
      return { lastSeq: row?.last ?? 0, count: row?.n ?? 0 };
    },
  };
}
