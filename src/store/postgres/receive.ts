/**
 * Receiving on PostgreSQL: the claim path. Receivers on any number of nodes run concurrently and never
 * hand out the same message, because every claim locks its candidates with FOR UPDATE SKIP LOCKED: a row
 * another receiver is claiming is skipped, not waited for, and a row it claimed and committed no longer
 * qualifies when re-checked at lock time.
 *
 * Same semantics as SQLite's receive: candidates are taken in visibility order (FIFO: available groups in
 * availability order, each group's messages in sequence order); a candidate past the retention period is
 * dropped, one received maxReceiveCount times already moves to the dead-letter queue (if that queue still
 * exists), the rest are claimed; removals ahead of the last claim do not count against MaxNumberOfMessages.
 */
import type pg from 'pg';
import { queueChannel, type Notifier } from '../notifier.js';
import { claimedMessageOf, type ClaimedMessage, type ClaimedRow, type ReceiveOutcome, type ReceiveParams } from '../queue-store.js';
import { NOT_DURABLE, query, run, transaction, BY_SEQ_IN_QUEUE } from './connection.js';
import { enterGroupsSql, refreshGroups } from './fifo-groups.js';

// Parameters shared by both claim statements, so the dead-letter fragment is written once:
// $1 queue id, $2 now, $3 dead-letter queue id, $4 source ARN recorded on dead-lettered copies,
// $5 whether the dead-letter queue is FIFO, $6 the claimed messages' new visible_at, $7 receipt token.
// A copy keeps sent_at (its retention clock) on a standard dead-letter queue; on a FIFO one the enqueue
// timestamp starts again at the move, as SQS documents.
const DEAD_LETTER_CTES = `
  dead_copies AS (
    INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, dedup_id, sent_at, visible_at,
                          receive_count, first_received_at, dead_letter_source)
    SELECT $3::bigint, message_id, body, message_attributes, group_id, dedup_id,
           CASE WHEN $5::boolean THEN $2::bigint ELSE sent_at END, $2::bigint,
           receive_count, first_received_at, $4::text
    FROM dead ORDER BY seq
    RETURNING queue_id, group_id, seq, visible_at
  ),
  dead_fifo AS (SELECT queue_id, group_id, seq, visible_at FROM dead_copies WHERE $5::boolean),
  dead_groups AS (${enterGroupsSql('dead_fifo')})`;

const DEAD_COLUMNS =
  'm.seq, m.message_id, m.body, m.message_attributes, m.group_id, m.dedup_id, m.sent_at, m.receive_count, m.first_received_at';

const CLAIM_SET = `visible_at = $6::bigint, receive_count = m.receive_count + 1,
  first_received_at = COALESCE(m.first_received_at, $2::bigint), received_at = $2::bigint, receipt_token = $7::text`;

// RETURNING gives the values after the claim: receive_count already counts this receive.
const CLAIMED_COLUMNS = `m.seq, m.message_id, m.body, m.message_attributes, m.group_id, m.dedup_id, m.sent_at,
  m.first_received_at, m.receive_count, m.dead_letter_source`;

/**
 * A receive removes at most this many expired or dead-letter-bound messages ahead of what it claims; a
 * longer run of them is removed by the following receives (and, for expired ones, the retention sweep).
 * The bound keeps one receive's work (and the rows it locks) small.
 */
const MAX_REMOVED_PER_RECEIVE = 100;

const sql = {
  // Standard queues: one statement per round. `candidates` locks the first MaxNumberOfMessages visible
  // messages in visibility order: an ordered scan of the visibility index that stops after that many
  // rows, whatever the backlog (the pool turns bitmap scans off, see connection.ts, so the planner cannot
  // trade it for a scan of every visible row and a sort when the table has no statistics). Each candidate
  // is then dropped (past retention), moved to the dead-letter queue (received maxReceiveCount times) or
  // claimed. Removed candidates do not count against MaxNumberOfMessages: the caller runs another round
  // for the rest, so a receive reads O(messages claimed + messages removed) rows. A message claimed by an
// earlier round of the same receive with a visibility timeout of 0 is visible again: its receipt token
// ($7) keeps it out of the next round.
  // $8 expired-before instant, $9 MaxNumberOfMessages, $10 maxReceiveCount.
  receiveStandard: {
    name: 'sluice_receive_standard',
    text: `WITH limits AS (
             SELECT COALESCE((SELECT $10::integer FROM queues WHERE id = $3::bigint), 2147483647) AS max_receives,
                    ${NOT_DURABLE} AS not_durable
           ),
           candidates AS (
             SELECT seq, visible_at, sent_at, receive_count FROM messages
             WHERE queue_id = $1 AND visible_at <= $2::bigint AND receipt_token IS DISTINCT FROM $7::text
             ORDER BY visible_at, seq LIMIT $9
             FOR UPDATE SKIP LOCKED
           ),
           fates AS (
             SELECT c.seq, c.visible_at,
                    CASE WHEN c.sent_at < $8::bigint THEN 'expired'
                         WHEN c.receive_count >= l.max_receives THEN 'dead'
                         ELSE 'claimed' END AS fate
             FROM candidates c CROSS JOIN limits l
           ),
           expired AS (DELETE FROM messages m USING fates f WHERE m.seq = f.seq AND f.fate = 'expired'),
           dead AS (DELETE FROM messages m USING fates f WHERE m.seq = f.seq AND f.fate = 'dead' RETURNING ${DEAD_COLUMNS}),
           ${DEAD_LETTER_CTES},
           claimed AS (
             UPDATE messages m SET ${CLAIM_SET} FROM fates f WHERE m.seq = f.seq AND f.fate = 'claimed'
             RETURNING ${CLAIMED_COLUMNS}, f.visible_at AS was_visible_at
           )
           SELECT c.*, (SELECT count(*) FROM dead_copies) AS dead_lettered,
                  (SELECT count(*) FROM fates WHERE fate <> 'claimed') AS removed,
                  CASE WHEN NOT EXISTS (SELECT 1 FROM claimed) THEN
                    (SELECT min(visible_at) FROM messages WHERE queue_id = $1 AND visible_at > $2::bigint)
                  END AS next_visible_at
           FROM (SELECT 1) AS one LEFT JOIN claimed c ON true
           ORDER BY c.was_visible_at, c.seq`,
  },
  // FIFO, step 1: lock available groups, skipping those another receiver holds. Also reports when the
  // next group becomes available and whether the dead-letter queue exists. $3 groups wanted, $4 groups
  // already visited by this receive, $5 dead-letter queue id.
  fifoLockGroups: {
    name: 'sluice_receive_fifo_lock_groups',
    text: `SELECT n.next_available, (SELECT count(*) FROM queues WHERE id = $5::bigint) AS dead_letter_queues, g.group_id
           FROM (SELECT min(available_at) AS next_available FROM fifo_groups WHERE queue_id = $1 AND available_at > $2::bigint) n
           LEFT JOIN (
             SELECT group_id, available_at FROM fifo_groups
             WHERE queue_id = $1 AND available_at <= $2::bigint AND group_id <> ALL($4::text[])
             ORDER BY available_at, group_id LIMIT $3
             FOR UPDATE SKIP LOCKED
           ) g ON true
           ORDER BY g.available_at, g.group_id`,
  },
  // FIFO, step 2: the first messages of each locked group, without their bodies. A statement of its own,
  // so its snapshot is taken after the locks were granted and includes whatever the group's previous
  // holder committed (read in step 1's statement, the messages could be stale). $2 groups, $3 per group.
  fifoCandidates: {
    name: 'sluice_receive_fifo_candidates',
    text: `SELECT g.group_id, m.seq, m.visible_at, m.sent_at, m.receive_count
           FROM unnest($2::text[]) WITH ORDINALITY AS g(group_id, ord)
           LEFT JOIN LATERAL (
             SELECT seq, visible_at, sent_at, receive_count FROM messages
             WHERE queue_id = $1 AND group_id = g.group_id AND group_key IS NULL ORDER BY seq LIMIT $3
           ) m ON true
           ORDER BY g.ord, m.seq`,
  },
  // FIFO, step 3: apply what the caller decided. $8 expired seqs, $9 dead-letter seqs, $10 claimed seqs.
  fifoApply: {
    name: 'sluice_receive_fifo_apply',
    text: `WITH expired AS (DELETE FROM messages WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY($8::bigint[])),
           dead AS (DELETE FROM messages m WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY($9::bigint[]) RETURNING ${DEAD_COLUMNS}),
           ${DEAD_LETTER_CTES},
           claimed AS (
             UPDATE messages m SET ${CLAIM_SET} WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY($10::bigint[])
             RETURNING ${CLAIMED_COLUMNS}
           )
           SELECT * FROM claimed ORDER BY array_position($10::bigint[], seq)`,
  },
  fifoNextAvailable: {
    name: 'sluice_receive_fifo_next',
    text: 'SELECT min(available_at) AS next_available FROM fifo_groups WHERE queue_id = $1 AND available_at > $2::bigint',
  },
};


interface LockedGroupRow {
  next_available: number | null;
  dead_letter_queues: number;
  group_id: string | null;
}

interface CandidateRow {
  group_id: string;
  seq: number | null;
  visible_at: number;
  sent_at: number;
  receive_count: number;
}


function sharedValues(p: ReceiveParams): unknown[] {
  return [
    p.queueId,
    p.now,
    p.deadLetter?.queueId ?? null,
    p.deadLetter?.sourceArn ?? null,
    p.deadLetter?.fifo ?? false,
    p.visibleAt,
    p.receiptToken,
  ];
}

async function receiveStandard(pool: pg.Pool, p: ReceiveParams): Promise<ReceiveOutcome> {
  const messages: ClaimedMessage[] = [];
  let deadLettered = 0;
  let removed = 0;
  for (;;) {
    const wanted = p.maxMessages - messages.length;
    const rows = await run<ClaimedRow & { dead_lettered: number; removed: number; next_visible_at: number | null }>(
      pool,
      sql.receiveStandard,
      [...sharedValues(p), p.expiredBefore, wanted, p.deadLetter?.maxReceiveCount ?? null],
    );
    for (const row of rows) if (row.seq !== null) messages.push(claimedMessageOf(row));
    const first = rows[0];
    deadLettered += first?.dead_lettered ?? 0;
    removed += first?.removed ?? 0;
    // Candidates that were removed leave room: look further, within the bound on removals per receive.
    const more = (first?.removed ?? 0) > 0 && messages.length < p.maxMessages && removed < MAX_REMOVED_PER_RECEIVE;
    if (!more) {
      return {
        messages,
        deadLettered,
        nextVisibleAt: messages.length === 0 ? (first?.next_visible_at ?? null) : null,
      };
    }
  }
}

/** What a FIFO receive decided, before it is applied. */
interface FifoPlan {
  expired: number[];
  dead: number[];
  claimed: number[];
  touchedGroups: string[];
}

async function receiveFifo(pool: pg.Pool, p: ReceiveParams): Promise<ReceiveOutcome> {
  return transaction(
    pool,
    async (client) => {
      const plan: FifoPlan = { expired: [], dead: [], claimed: [], touchedGroups: [] };
      let nextAvailable: number | null = null;
      let deadLetter = p.deadLetter;
      for (let page = 0; ; page++) {
        const locked = await query<LockedGroupRow>(client, sql.fifoLockGroups, [
          p.queueId,
          p.now,
          p.maxMessages,
          plan.touchedGroups,
          p.deadLetter?.queueId ?? null,
        ]);
        if (page === 0) {
          nextAvailable = locked[0]?.next_available ?? null;
          // The dead-letter queue is gone: keep redelivering, as SQS does.
          if (locked[0]?.dead_letter_queues === 0) deadLetter = null;
        }
        const groups = locked.map((row) => row.group_id).filter((g): g is string => g !== null);
        if (groups.length === 0) break;
        const rows = await query<CandidateRow>(client, sql.fifoCandidates, [
          p.queueId,
          groups,
          p.maxMessages + 10,
        ]);
        planFifoPage(rows, p, deadLetter, plan);
        if (plan.claimed.length >= p.maxMessages || groups.length < p.maxMessages) break;
      }
      let messages: ClaimedMessage[] = [];
      if (plan.expired.length + plan.dead.length + plan.claimed.length > 0) {
        const claimed = await query<ClaimedRow>(client, sql.fifoApply, [
          ...sharedValues({ ...p, deadLetter }),
          plan.expired,
          plan.dead,
          plan.claimed,
        ]);
        messages = claimed.map((row) => claimedMessageOf(row));
      }
      await refreshGroups(client, p.queueId, plan.touchedGroups);
      if (messages.length === 0 && plan.touchedGroups.length > 0) {
        const [next] = await query<{ next_available: number | null }>(client, sql.fifoNextAvailable, [
          p.queueId,
          p.now,
        ]);
        nextAvailable = next?.next_available ?? null;
      }
      return {
        messages,
        deadLettered: plan.dead.length,
        nextVisibleAt: messages.length === 0 ? nextAvailable : null,
      };
    },
    { durable: false },
  );
}

/**
 * Decides, for one page of locked groups, which messages are dropped, dead-lettered or claimed: groups
 * in order, and within a group messages in sequence order until one is not yet visible (the rest of the
 * group waits behind it). Takes as many as possible from one group before the next, as SQS does.
 */
function planFifoPage(
  rows: CandidateRow[],
  p: ReceiveParams,
  deadLetter: ReceiveParams['deadLetter'],
  plan: FifoPlan,
): void {
  let current: string | null = null;
  let open = false; // whether the current group can still yield messages
  for (const row of rows) {
    if (row.group_id !== current) {
      current = row.group_id;
      open = plan.claimed.length < p.maxMessages;
      if (open) plan.touchedGroups.push(current);
    }
    if (!open || row.seq === null) continue;
    if (plan.claimed.length >= p.maxMessages || row.visible_at > p.now) {
      open = false; // in flight or delayed: the rest of the group waits behind it
      continue;
    }
    if (row.sent_at < p.expiredBefore) plan.expired.push(row.seq);
    else if (deadLetter && row.receive_count >= deadLetter.maxReceiveCount) plan.dead.push(row.seq);
    else plan.claimed.push(row.seq);
  }
}

export function createPostgresReceive(
  pool: pg.Pool,
  notifier: Notifier,
): (p: ReceiveParams) => Promise<ReceiveOutcome> {
  return async (p) => {
    const outcome = p.fifo ? await receiveFifo(pool, p) : await receiveStandard(pool, p);
    if (outcome.deadLettered > 0 && p.deadLetter) notifier.publish(queueChannel(p.deadLetter.queueId));
    return outcome;
  };
}
