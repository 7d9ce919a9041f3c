/**
 * Group limits on PostgreSQL: the claim by group, grouped sends, deletes and visibility changes that
 * keep `queue_groups` rows fresh, the limits table. Same plan as SQLite (limits/claim-plan.ts); what
 * PostgreSQL adds is the cluster:
 * - a claim locks the ready group rows it takes FOR UPDATE SKIP LOCKED, so two nodes never serve one
 *   group at once and never wait for each other; it then reads the groups' in-flight counts, buckets and
 *   oldest visible messages in a *second* statement, whose snapshot includes every claim that held those
 *   rows before (READ COMMITTED: one snapshot per statement). In-flight is derived from message rows, so
 *   a group's limit holds across nodes;
 * - candidate messages are locked FOR UPDATE SKIP LOCKED too, so a claim never waits on a delete or a
 *   visibility change; a visible message it skipped keeps the group ready (never "empty");
 * - writers that touch existing messages take message locks first and group rows second, in group key
 *   order; the claim never waits on a message lock. That order keeps them free of deadlocks.
 */
import type pg from 'pg';
import {
  effectiveLimit,
  NEVER,
  planClaim,
  readBound,
  type ClaimPlan,
  type GroupMessages,
  type LockedGroup,
} from '../rules/claim-plan.js';
import type { GroupLimit } from '../group-limit.js';
import {
  groupInspectionOf,
  groupRowOf,
  type GroupClaimParams,
  type GroupRowColumns,
  type GroupStore,
  type StoredGroupLimit,
} from '../group-store.js';
import { queueChannel, type Notifier } from '../notifier.js';
import { claimedMessageOf, type ClaimedRow, type QueueStore, type ReceiveOutcome, type SendOutcome } from '../queue-store.js';
import { namedParameters, query, run, transaction, BY_SEQ_IN_QUEUE } from './connection.js';
import { changeVisibility, deleteOutcomes, type DeleteRow } from './messages.js';

const MAX_PAGES_PER_CLAIM = 32;

/**
 * The upsert of task groups entered by new messages (sends, dead-letter copies, redrives), as a CTE body
 * over `relation` with (queue_id, group_key, visible_at); `relation` is always a CTE name written in code.
 */
export function enterQueueGroupsSql(relation: string): string {
  return `INSERT INTO queue_groups AS g (queue_id, group_key, next_visible_at, ready_at)
    SELECT queue_id, group_key, min(visible_at), min(visible_at) FROM ${relation}
    WHERE group_key IS NOT NULL GROUP BY queue_id, group_key ORDER BY queue_id, group_key
    ON CONFLICT (queue_id, group_key) DO UPDATE SET
      next_visible_at = LEAST(g.next_visible_at, excluded.next_visible_at),
      ready_at = GREATEST(LEAST(g.next_visible_at, excluded.next_visible_at), g.slot_at, g.token_at)
    -- Only when a value changes: a group that already has visible messages is left alone, so a bulk send
    -- does not leave a dead row version and index entries per batch for every claim to step over.
    WHERE excluded.next_visible_at < g.next_visible_at
       OR g.ready_at <> GREATEST(LEAST(g.next_visible_at, excluded.next_visible_at), g.slot_at, g.token_at)`;
}

const LIMIT_COLUMNS = 'max_concurrency, rate_limit, rate_interval_ms, rate_burst';
/**
 * A claim's apply: the messages it expires, dead-letters and claims, and one array per group update
 * column, in the order of `keys`. queueId is $1, as BY_SEQ_IN_QUEUE expects.
 */
const applyParams = namedParameters([
  'queueId',
  'now',
  'deadLetterQueueId',
  'deadLetterSourceArn',
  'deadLetterGrouped',
  'visibleAt',
  'receiptToken',
  'expired',
  'deadLettered',
  'claimed',
  'keys',
  'remove',
  'served',
  'nextVisibleAt',
  'slotAt',
  'tokenAt',
  'readyAt',
  'tokens',
  'refilledAt',
  'fullAt',
] as const);
const $ = applyParams.at;
/** The position of group row `g` in the keys array, for reading its new values by position. */
const KEY_ORD = `array_position(${$('keys')}::text[], g.group_key)`;
/** Group row `g` still has messages. */
/**
 * An array parameter the planner cannot look into. Given a bound array of 200 keys, PostgreSQL costed
 * 200 primary-key probes against reading "the few" group rows of the queue (on a never-analyzed
 * queue_groups it believes a queue has a handful) and read all 10,000 of them, three times per delete.
 * An array computed by a subquery has no size at plan time, so `group_key = ANY(...)` stays an index
 * condition beside `queue_id`: one probe per key, whatever the statistics.
 */
function opaqueArray(parameter: string): string {
  return `ARRAY(SELECT unnest(${parameter}))`;
}

const GROUP_BUSY = '(EXISTS (SELECT 1 FROM messages m WHERE m.queue_id = $1 AND m.group_key = g.group_key))';

const sql = {
  // $1 queue, $2 now, $3 groups wanted, $4 queue name, $5 groups already reached by this claim, $6 DLQ id.
  lockReady: {
    name: 'sluice_group_lock_ready',
    text: `SELECT g.group_key, g.ready_at, g.tokens, g.refilled_at, l.queue_name IS NOT NULL AS has_own,
                  l.max_concurrency, l.rate_limit, l.rate_interval_ms, l.rate_burst,
                  d.queue_name IS NOT NULL AS has_default, d.max_concurrency AS d_max_concurrency,
                  d.rate_limit AS d_rate_limit, d.rate_interval_ms AS d_rate_interval_ms, d.rate_burst AS d_rate_burst,
                  (SELECT count(*) FROM queues WHERE id = $6::bigint) AS dead_letter_queues
           FROM (SELECT group_key, ready_at, turn, tokens, refilled_at FROM queue_groups
                 WHERE queue_id = $1 AND ready_at <= $2::bigint AND group_key <> ALL($5::text[])
                 ORDER BY ready_at, turn LIMIT $3 FOR UPDATE SKIP LOCKED) g
           LEFT JOIN group_limits l ON l.queue_name = $4 AND NOT l.is_default AND l.group_key = g.group_key
           LEFT JOIN group_limits d ON d.queue_name = $4 AND d.is_default AND d.group_key = ''
           ORDER BY g.ready_at, g.turn`,
  },
  // After the lock: $2 keys, $3 concurrency caps (0: none), $4 read bounds, $5 now.
  readGroups: {
    name: 'sluice_group_read',
    text: `SELECT k.ord, f.in_flight, h.next_hidden_at, v.visible, c.seq, c.sent_at, c.receive_count
           FROM unnest($2::text[], $3::integer[], $4::integer[]) WITH ORDINALITY AS k(group_key, cap, bound, ord)
           CROSS JOIN LATERAL (
             SELECT count(*) AS in_flight FROM (SELECT 1 FROM messages
               WHERE queue_id = $1 AND group_key = k.group_key AND visible_at > $5::bigint AND receive_count > 0 LIMIT k.cap) x
           ) f
           CROSS JOIN LATERAL (
             SELECT min(visible_at) AS next_hidden_at FROM messages
             WHERE queue_id = $1 AND group_key = k.group_key AND visible_at > $5::bigint
           ) h
           CROSS JOIN LATERAL (
             SELECT count(*) AS visible FROM (SELECT 1 FROM messages
               WHERE queue_id = $1 AND group_key = k.group_key AND visible_at <= $5::bigint LIMIT k.bound + 1) y
           ) v
           LEFT JOIN LATERAL (
             SELECT seq, sent_at, receive_count, visible_at FROM messages
             WHERE queue_id = $1 AND group_key = k.group_key AND visible_at <= $5::bigint
             ORDER BY visible_at, seq LIMIT k.bound FOR UPDATE SKIP LOCKED
           ) c ON true
           ORDER BY k.ord, c.visible_at, c.seq`,
  },
  // $1 queue, $2 now, $3 DLQ id, $4 source ARN, $5 DLQ grouped, $6 visible_at, $7 receipt token,
  // $8 expired, $9 dead, $10 claimed, then one array per group update column ($11 the keys). Group rows
  // are found by `group_key = ANY(keys)` and their values by position, with no join: joined to the
  // unnested arrays, a table without statistics was read whole through the readiness index (every group
  // of the queue per claim) instead of probed by primary key.
  apply: {
    name: 'sluice_group_apply',
    text: `WITH expired AS (DELETE FROM messages WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY(${$('expired')}::bigint[])),
           dead AS (
             DELETE FROM messages WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY(${$('deadLettered')}::bigint[])
             RETURNING seq, message_id, body, message_attributes, group_id, dedup_id, sent_at, receive_count,
                       first_received_at, group_key
           ),
           dead_copies AS (
             INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, dedup_id, sent_at, visible_at,
                                   receive_count, first_received_at, dead_letter_source, group_key)
             SELECT ${$('deadLetterQueueId')}::bigint, message_id, body, message_attributes, group_id, dedup_id, sent_at, ${$('now')}::bigint,
                    receive_count, first_received_at, ${$('deadLetterSourceArn')}::text,
                    CASE WHEN ${$('deadLetterGrouped')}::boolean THEN COALESCE(group_key, '') ELSE group_key END
             FROM dead ORDER BY seq
             RETURNING queue_id, group_key, visible_at
           ),
           dead_grouped AS (SELECT * FROM dead_copies WHERE ${$('deadLetterGrouped')}::boolean),
           dead_groups AS (${enterQueueGroupsSql('dead_grouped')}),
           claimed AS (
             UPDATE messages m SET visible_at = ${$('visibleAt')}::bigint, receive_count = m.receive_count + 1,
               first_received_at = COALESCE(m.first_received_at, ${$('now')}::bigint), received_at = ${$('now')}::bigint, receipt_token = ${$('receiptToken')}::text
             WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY(${$('claimed')}::bigint[])
             RETURNING m.seq, m.message_id, m.body, m.message_attributes, m.group_id, m.dedup_id, m.sent_at,
                       m.first_received_at, m.receive_count, m.dead_letter_source
           ),
           updated AS (
             -- The row's position in the keys array is looked up once (array_position is a linear scan).
             UPDATE queue_groups g SET (next_visible_at, slot_at, token_at, ready_at, tokens, refilled_at, full_at, turn) = (
               SELECT (${$('nextVisibleAt')}::bigint[])[o.i], (${$('slotAt')}::bigint[])[o.i], (${$('tokenAt')}::bigint[])[o.i],
                 (${$('readyAt')}::bigint[])[o.i], (${$('tokens')}::double precision[])[o.i], (${$('refilledAt')}::bigint[])[o.i],
                 (${$('fullAt')}::bigint[])[o.i],
                 CASE WHEN (${$('served')}::boolean[])[o.i] THEN nextval('queue_group_turn') ELSE g.turn END
               FROM (SELECT ${KEY_ORD} AS i) o
             )
             WHERE g.queue_id = ${$('queueId')} AND g.group_key = ANY(${opaqueArray(`${$('keys')}::text[]`)}) AND NOT (${$('remove')}::boolean[])[${KEY_ORD}]
           ),
           removed AS (
             DELETE FROM queue_groups g
             WHERE g.queue_id = ${$('queueId')} AND g.group_key = ANY(${opaqueArray(`${$('keys')}::text[]`)}) AND (${$('remove')}::boolean[])[${KEY_ORD}]
           )
           SELECT * FROM claimed ORDER BY array_position(${$('claimed')}::bigint[], seq)`,
  },
  // Ordered and stopped at the first group with messages: no scan of the queue's group rows.
  nextReady: {
    name: 'sluice_group_next_ready',
    text: `SELECT ready_at AS next FROM queue_groups WHERE queue_id = $1 AND next_visible_at < ${NEVER}
           ORDER BY ready_at, turn LIMIT 1`,
  },
  // Standard messages with group keys: one statement, like a plain send, entering their groups.
  send: {
    name: 'sluice_group_send',
    text: `WITH queue AS (SELECT id FROM queues WHERE id = $1 FOR KEY SHARE),
           inserted AS (
             INSERT INTO messages (queue_id, message_id, body, message_attributes, group_id, sent_at, visible_at, group_key)
             SELECT queue.id, i.message_id, i.body, i.message_attributes, i.group_id, $2::bigint, i.visible_at, i.group_key
             FROM queue, unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
               WITH ORDINALITY AS i(message_id, body, message_attributes, group_id, visible_at, group_key, ord)
             ORDER BY i.ord
             RETURNING queue_id, seq, message_id, group_key, visible_at
           ),
           entered AS (${enterQueueGroupsSql('inserted')})
           SELECT seq, message_id FROM inserted ORDER BY seq`,
  },
  // Deletes, then locks the groups of what it deleted (messages first, groups second).
  delete: {
    name: 'sluice_group_delete',
    text: `WITH r AS (SELECT * FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS r(seq, token, ord)),
           deleted AS (
             DELETE FROM messages m USING r WHERE m.${BY_SEQ_IN_QUEUE} AND m.seq = r.seq AND m.receipt_token = r.token
             RETURNING m.seq, m.group_id, m.group_key, m.receipt_token AS token
           ),
           locked AS (
             SELECT group_key FROM queue_groups
             WHERE queue_id = $1 AND group_key = ANY(ARRAY(SELECT group_key FROM deleted))
             ORDER BY group_key FOR UPDATE
           )
           SELECT r.seq, d.group_id, d.group_key, d.seq IS NOT NULL AS deleted,
                  CASE WHEN d.seq IS NOT NULL THEN true ELSE EXISTS (SELECT 1 FROM messages x WHERE x.seq = r.seq AND x.${BY_SEQ_IN_QUEUE}) END AS present,
                  (SELECT count(*) FROM locked) AS locked
           FROM r LEFT JOIN (SELECT DISTINCT seq, group_id, group_key, token FROM deleted) d ON d.seq = r.seq AND d.token = r.token
           ORDER BY r.ord`,
  },
  // After the delete (a fresh snapshot, groups locked): free a slot, or empty or drop the row. Whether a
  // group still has messages is read once per group (`state`), not once per outcome.
  freed: {
    name: 'sluice_group_freed',
    text: `WITH state AS MATERIALIZED (
             SELECT g.group_key, ${GROUP_BUSY} AS busy, g.full_at <= $3::bigint AS refilled FROM queue_groups g
             WHERE g.queue_id = $1 AND g.group_key = ANY(${opaqueArray('$2::text[]')})
           ),
           dropped AS (
             DELETE FROM queue_groups g USING state s
             WHERE g.queue_id = $1 AND g.group_key = ANY(${opaqueArray('$2::text[]')}) AND g.group_key = s.group_key
               AND NOT s.busy AND s.refilled
           )
           UPDATE queue_groups g SET
             next_visible_at = CASE WHEN s.busy THEN g.next_visible_at ELSE ${NEVER} END,
             slot_at = LEAST(g.slot_at, $3::bigint),
             ready_at = CASE WHEN s.busy THEN GREATEST(g.next_visible_at, LEAST(g.slot_at, $3::bigint), g.token_at)
                             ELSE g.full_at END
           FROM state s
           WHERE g.queue_id = $1 AND g.group_key = ANY(${opaqueArray('$2::text[]')}) AND g.group_key = s.group_key
             AND (s.busy OR NOT s.refilled)`,
  },
  // After visibility changes: the changed messages' groups, lowered (upserted: a claim may have just
  // emptied a row while a message it skipped was being released). $2 seqs, $3 now.
  moved: {
    name: 'sluice_group_moved',
    text: `WITH changed AS (
             SELECT queue_id, group_key, visible_at FROM messages WHERE ${BY_SEQ_IN_QUEUE} AND seq = ANY($2::bigint[]) AND group_key IS NOT NULL
           )
           INSERT INTO queue_groups AS g (queue_id, group_key, next_visible_at, slot_at, ready_at)
           SELECT queue_id, group_key, min(visible_at), LEAST(GREATEST(min(visible_at), $3::bigint), $3::bigint), min(visible_at)
           FROM changed GROUP BY queue_id, group_key ORDER BY queue_id, group_key
           ON CONFLICT (queue_id, group_key) DO UPDATE SET
             next_visible_at = LEAST(g.next_visible_at, excluded.next_visible_at),
             slot_at = LEAST(g.slot_at, GREATEST(excluded.next_visible_at, $3::bigint)),
             ready_at = GREATEST(LEAST(g.next_visible_at, excluded.next_visible_at),
                                 LEAST(g.slot_at, GREATEST(excluded.next_visible_at, $3::bigint)), g.token_at)`,
  },
  keysRead: {
    text: 'SELECT seq, group_id, message_attributes, body FROM messages WHERE queue_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
  },
  // $2 seqs, $3 keys, $4 now. A message entering now at the latest: an in-flight one must not hide its group.
  keysWrite: {
    text: `WITH keyed AS (
             UPDATE messages m SET group_key = k.group_key FROM unnest($2::bigint[], $3::text[]) AS k(seq, group_key)
             WHERE m.${BY_SEQ_IN_QUEUE} AND m.seq = k.seq
             RETURNING m.queue_id, m.group_key, LEAST(m.visible_at, $4::bigint) AS visible_at
           )
           ${enterQueueGroupsSql('keyed')}`,
  },
  keysClear: {
    text: `WITH cleared AS (UPDATE messages SET group_key = NULL WHERE queue_id = $1 AND group_key IS NOT NULL)
           DELETE FROM queue_groups WHERE queue_id = $1`,
  },
  // One statement: set (or, when $9 is false, delete) the limit, and let the groups it may unblock run
  // at once by lowering their limit-set bounds to now. $3 the group key, $10 the group or null for all.
  limitPut: {
    text: `WITH put AS (
             INSERT INTO group_limits (queue_name, is_default, group_key, ${LIMIT_COLUMNS}, modified_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE $9::boolean
             ON CONFLICT (queue_name, is_default, group_key) DO UPDATE SET max_concurrency = excluded.max_concurrency,
               rate_limit = excluded.rate_limit, rate_interval_ms = excluded.rate_interval_ms,
               rate_burst = excluded.rate_burst, modified_at = excluded.modified_at
             RETURNING 1
           ),
           removed AS (
             DELETE FROM group_limits WHERE NOT $9::boolean AND queue_name = $1 AND is_default = $2 AND group_key = $3
             RETURNING 1
           ),
           named AS (SELECT id FROM queues WHERE name = $1),
           rechecked AS (
             UPDATE queue_groups g SET slot_at = LEAST(g.slot_at, $8::bigint), token_at = LEAST(g.token_at, $8::bigint),
               ready_at = GREATEST(g.next_visible_at, LEAST(g.slot_at, $8::bigint), LEAST(g.token_at, $8::bigint))
             FROM named q WHERE g.queue_id = q.id AND g.next_visible_at < ${NEVER}
               AND g.ready_at > $8::bigint AND ($10::text IS NULL OR g.group_key = $10::text)
           )
           SELECT (SELECT count(*) FROM put) + (SELECT count(*) FROM removed) AS changed,
                  (SELECT array_agg(id) FROM named) AS queue_ids`,
  },
  limitGet: {
    text: `SELECT queue_name, is_default, group_key, ${LIMIT_COLUMNS}, modified_at FROM group_limits
           WHERE queue_name = $1 AND is_default = $2 AND group_key = $3`,
  },
  limitList: {
    text: `SELECT queue_name, is_default, group_key, ${LIMIT_COLUMNS}, modified_at FROM group_limits
           WHERE queue_name = $1 AND NOT is_default AND ($2::text IS NULL OR group_key > $2::text)
           ORDER BY group_key LIMIT $3`,
  },
  rows: {
    text: `SELECT group_key, ready_at, next_visible_at, slot_at, token_at, tokens FROM queue_groups
           WHERE queue_id = $1 ORDER BY ready_at, turn LIMIT $2`,
  },
  inspectMessages: {
    text: `SELECT count(*) FILTER (WHERE visible_at <= $3)::int AS waiting,
             count(*) FILTER (WHERE visible_at > $3 AND receive_count > 0)::int AS in_flight,
             count(*) FILTER (WHERE visible_at > $3 AND receive_count = 0)::int AS delayed,
             min(sent_at) FILTER (WHERE visible_at <= $3) AS oldest
           FROM messages WHERE queue_id = $1 AND group_key = $2`,
  },
  inspectRow: {
    text: `SELECT group_key, ready_at, next_visible_at, slot_at, token_at, tokens, refilled_at FROM queue_groups
           WHERE queue_id = $1 AND group_key = $2`,
  },
};

interface LimitColumns {
  max_concurrency: number | null;
  rate_limit: number | null;
  rate_interval_ms: number | null;
  rate_burst: number | null;
}

interface LimitRow extends LimitColumns {
  queue_name: string;
  is_default: boolean;
  group_key: string;
  modified_at: number;
}

interface LockedRow extends LimitColumns {
  group_key: string;
  ready_at: number;
  tokens: number | null;
  refilled_at: number;
  has_own: boolean;
  has_default: boolean;
  d_max_concurrency: number | null;
  d_rate_limit: number | null;
  d_rate_interval_ms: number | null;
  d_rate_burst: number | null;
  dead_letter_queues: number;
}

interface ReadRow {
  ord: number;
  in_flight: number;
  next_hidden_at: number | null;
  visible: number;
  seq: number | null;
  sent_at: number;
  receive_count: number;
}

function limitOf(row: LimitColumns): GroupLimit {
  return {
    maxConcurrency: row.max_concurrency,
    rate:
      row.rate_limit === null || row.rate_interval_ms === null
        ? null
        : {
            limit: row.rate_limit,
            intervalMs: row.rate_interval_ms,
            burst: row.rate_burst ?? row.rate_limit,
          },
  };
}

function toStoredLimit(row: LimitRow): StoredGroupLimit {
  return {
    queueName: row.queue_name,
    groupKey: row.is_default ? null : row.group_key,
    limit: limitOf(row),
    modifiedAt: row.modified_at,
  };
}

/** Reads the locked groups' messages and shapes them for the planner. */
async function readGroups(
  client: pg.PoolClient,
  p: GroupClaimParams,
  locked: LockedGroup[],
  remaining: number,
): Promise<Array<LockedGroup & GroupMessages>> {
  const bounds = locked.map((g) => readBound(g.limit, remaining, p.onPlan !== undefined));
  const rows = await query<ReadRow>(client, sql.readGroups, [
    p.queueId,
    locked.map((g) => g.groupKey),
    locked.map((g) => g.limit.maxConcurrency ?? 0),
    bounds,
    p.now,
  ]);
  const groups = locked.map((g) => ({
    ...g,
    inFlight: 0,
    nextHiddenAt: null as number | null,
    candidates: [] as GroupMessages['candidates'],
    truncated: false,
  }));
  const visible = new Array<number>(locked.length).fill(0);
  for (const row of rows) {
    const index = row.ord - 1;
    const group = groups[index]!;
    group.inFlight = row.in_flight;
    group.nextHiddenAt = row.next_hidden_at;
    visible[index] = row.visible;
    if (row.seq !== null)
      group.candidates.push({ seq: row.seq, sentAt: row.sent_at, receiveCount: row.receive_count });
  }
  // More visible than handed to us (beyond the bound, or locked by another writer): the group stays ready.
  groups.forEach((group, index) => {
    group.truncated = visible[index]! > group.candidates.length;
  });
  return groups;
}

async function claimPage(
  client: pg.PoolClient,
  p: GroupClaimParams,
  remaining: number,
  visited: string[],
  outcome: ReceiveOutcome,
  deadLetter: { current: GroupClaimParams['deadLetter'] },
  pacing: { remaining: number },
): Promise<boolean> {
  const rows = await query<LockedRow>(client, sql.lockReady, [
    p.queueId,
    p.now,
    remaining,
    p.queueName,
    visited,
    p.deadLetter?.queueId ?? null,
  ]);
  if (rows.length === 0) return false;
  if (rows[0]!.dead_letter_queues === 0) deadLetter.current = null; // the DLQ is gone: keep redelivering, as SQS does
  const locked: LockedGroup[] = rows.map((row) => {
    visited.push(row.group_key);
    const fallback = row.has_default
      ? limitOf({
          max_concurrency: row.d_max_concurrency,
          rate_limit: row.d_rate_limit,
          rate_interval_ms: row.d_rate_interval_ms,
          rate_burst: row.d_rate_burst,
        })
      : null;
    return {
      groupKey: row.group_key,
      readyAt: row.ready_at,
      limit: effectiveLimit(row.has_own ? limitOf(row) : null, fallback),
      bucket: { tokens: row.tokens, refilledAt: row.refilled_at },
    };
  });
  const groups = await readGroups(client, p, locked, remaining);
  const target = deadLetter.current;
  const plan: ClaimPlan = planClaim(groups, {
    now: p.now,
    visibleAt: p.visibleAt,
    expiredBefore: p.expiredBefore,
    maxReceiveCount: target?.maxReceiveCount ?? null,
    remaining,
    pacedRemaining: pacing.remaining,
    observer: p.onPlan,
  });
  pacing.remaining -= plan.paced.length;
  const u = plan.updates;
  const claimed = await query<ClaimedRow>(
    client,
    sql.apply,
    applyParams.values({
      queueId: p.queueId,
      now: p.now,
      deadLetterQueueId: target?.queueId ?? null,
      deadLetterSourceArn: target?.sourceArn ?? null,
      deadLetterGrouped: target?.grouped ?? false,
      visibleAt: p.visibleAt,
      receiptToken: p.receiptToken,
      expired: plan.expired,
      deadLettered: plan.deadLettered,
      claimed: plan.claimed,
      keys: u.map((x) => x.groupKey),
      remove: u.map((x) => x.remove),
      served: u.map((x) => x.served),
      nextVisibleAt: u.map((x) => x.nextVisibleAt),
      slotAt: u.map((x) => x.slotAt),
      tokenAt: u.map((x) => x.tokenAt),
      readyAt: u.map((x) => x.readyAt),
      tokens: u.map((x) => x.tokens),
      refilledAt: u.map((x) => x.refilledAt),
      fullAt: u.map((x) => x.fullAt),
    }),
  );
  const paced = plan.paced.length > 0 ? new Set(plan.paced) : null;
  for (const row of claimed) {
    const message = claimedMessageOf(row);
    if (paced?.has(row.seq)) message.paced = true;
    outcome.messages.push(message);
  }
  outcome.deadLettered += plan.deadLettered.length;
  return true;
}

export type PostgresGroupOperations = GroupStore & {
  /** Sends on a grouped queue (every message carries a key). */
  groupedSend: QueueStore['messageSend'];
  groupedDelete: QueueStore['messageDelete'];
  groupedChangeVisibility: QueueStore['messageChangeVisibility'];
};

export function createPostgresGroups(pool: pg.Pool, notifier: Notifier): PostgresGroupOperations {
  return {
    async messageClaimByGroup(p) {
      const outcome = await transaction(
        pool,
        async (client) => {
          const result: ReceiveOutcome = { messages: [], deadLettered: 0, nextVisibleAt: null };
          const visited: string[] = [];
          const deadLetter = { current: p.deadLetter };
          const pacing = { remaining: p.pacedMax ?? Infinity };
          for (let page = 0; page < MAX_PAGES_PER_CLAIM; page++) {
            const remaining = p.maxMessages - result.messages.length;
            if (remaining <= 0 || !(await claimPage(client, p, remaining, visited, result, deadLetter, pacing)))
              break;
          }
          if (result.messages.length === 0) {
            const [next] = await query<{ next: number | null }>(client, sql.nextReady, [p.queueId]);
            result.nextVisibleAt = next?.next ?? null;
          }
          return result;
        },
        { durable: false },
      );
      if (outcome.deadLettered > 0 && p.deadLetter) notifier.publish(queueChannel(p.deadLetter.queueId));
      return outcome;
    },

    async groupedSend(p) {
      if (p.fifo || p.messages.some((m) => m.deduplicationId !== null)) {
        throw new Error('store: grouped sends are for standard queues, without deduplication ids');
      }
      const m = p.messages;
      const rows = await run<{ seq: number; message_id: string }>(pool, sql.send, [
        p.queueId,
        p.now,
        m.map((x) => x.messageId),
        m.map((x) => x.body),
        m.map((x) => x.messageAttributes),
        m.map((x) => x.groupId),
        m.map((x) => x.visibleAt),
        m.map((x) => x.groupKey ?? ''),
      ]);
      if (rows.length === 0) return 'queueGone';
      const seqs = new Map<string, number[]>();
      for (const row of rows) seqs.set(row.message_id, [...(seqs.get(row.message_id) ?? []), row.seq]);
      const results: SendOutcome[] = m.map((x) => ({
        kind: 'sent',
        messageId: x.messageId,
        seq: seqs.get(x.messageId)!.shift()!,
      }));
      notifier.publish(queueChannel(p.queueId));
      return results;
    },

    async groupedDelete(p) {
      if (p.receipts.length === 0) return [];
      const outcomes = await transaction(
        pool,
        async (client) => {
          const rows = await query<DeleteRow & { group_key: string | null }>(client, sql.delete, [
            p.queueId,
            p.receipts.map((r) => r.seq),
            p.receipts.map((r) => r.token),
          ]);
          const keys = [
            ...new Set(rows.filter((r) => r.deleted && r.group_key !== null).map((r) => r.group_key!)),
          ].sort();
          if (keys.length > 0) await query(client, sql.freed, [p.queueId, keys, p.now ?? 0]);
          return deleteOutcomes(rows);
        },
        { durable: false },
      );
      if (outcomes.includes('deleted')) notifier.publish(queueChannel(p.queueId));
      return outcomes;
    },

    async groupedChangeVisibility(p) {
      if (p.changes.length === 0) return [];
      const outcomes = await transaction(
        pool,
        async (client) => {
          const results = await changeVisibility(client, p);
          const changed = p.changes.filter((_, index) => results[index] === 'changed').map((c) => c.seq);
          if (changed.length > 0) await query(client, sql.moved, [p.queueId, changed, p.now]);
          return results;
        },
        { durable: false },
      );
      if (outcomes.includes('changed') && p.changes.some((c) => c.visibleAt <= p.now)) {
        notifier.publish(queueChannel(p.queueId));
      }
      return outcomes;
    },

    async groupKeysRead(p) {
      const rows = await run<{
        seq: number;
        group_id: string | null;
        message_attributes: string | null;
        body: string;
      }>(pool, sql.keysRead, [p.queueId, p.afterSeq, p.limit]);
      return rows.map((row) => ({
        seq: row.seq,
        groupId: row.group_id,
        messageAttributes: row.message_attributes,
        body: row.body,
      }));
    },

    async groupKeysWrite(p) {
      if (p.keys === null) await run(pool, sql.keysClear, [p.queueId]);
      else if (p.keys.length > 0) {
        await run(pool, sql.keysWrite, [
          p.queueId,
          p.keys.map((k) => k.seq),
          p.keys.map((k) => k.groupKey),
          p.now,
        ]);
      }
      notifier.publish(queueChannel(p.queueId));
    },

    async groupLimitPut(p) {
      const rate = p.limit?.rate ?? null;
      const [row] = await run<{ changed: number; queue_ids: number[] | null }>(pool, sql.limitPut, [
        p.queueName,
        p.groupKey === null,
        p.groupKey ?? '',
        p.limit?.maxConcurrency ?? null,
        rate?.limit ?? null,
        rate?.intervalMs ?? null,
        rate?.burst ?? null,
        p.now,
        p.limit !== null,
        p.groupKey,
      ]);
      for (const id of row?.queue_ids ?? []) notifier.publish(queueChannel(id));
      return (row?.changed ?? 0) > 0;
    },

    async groupLimitGet(p) {
      const [row] = await run<LimitRow>(pool, sql.limitGet, [
        p.queueName,
        p.groupKey === null,
        p.groupKey ?? '',
      ]);
      return row ? toStoredLimit(row) : undefined;
    },

    async groupLimitList(p) {
      const rows = await run<LimitRow>(pool, sql.limitList, [p.queueName, p.after, p.limit]);
      return rows.map(toStoredLimit);
    },

    async groupInspect(p) {
      const [counts] = await run<{
        waiting: number;
        in_flight: number;
        delayed: number;
        oldest: number | null;
      }>(pool, sql.inspectMessages, [p.queueId, p.groupKey, p.now]);
      const [row] = await run<GroupRowColumns & { refilled_at: number }>(pool, sql.inspectRow, [
        p.queueId,
        p.groupKey,
      ]);
      return groupInspectionOf(counts, row);
    },
    async groupRows(p) {
      const rows = await run<GroupRowColumns>(pool, sql.rows, [p.queueId, p.limit]);
      return rows.map(groupRowOf);
    },
  };
}
