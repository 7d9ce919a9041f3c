/**
 * The outbox on PostgreSQL. `insertOutboxEntries` is for the domain modules (schedules, batches) inside
 * their own transactions; the OutboxStore operations are the relay's. A claim is one statement: it
 * locks due entries with SKIP LOCKED, so relays on several nodes take disjoint entries, and moves their
 * `due_at` to the end of the lease (see outbox-store.ts).
 */
import type pg from 'pg';
import type { NewOutboxEntry, OutboxEntry, OutboxStore } from '../outbox-store.js';
import { query, run, type Queryable } from './connection.js';

interface OutboxRow {
  id: number;
  key: string;
  topic: OutboxEntry['topic'];
  payload: string;
  created_at: number;
  due_at: number;
  attempts: number;
  last_error: string | null;
  delivered_at: number | null;
}

const COLUMNS = 'id, key, topic, payload, created_at, due_at, attempts, last_error, delivered_at';

const sql = {
  insert: {
    name: 'sluice_outbox_insert',
    text: `INSERT INTO outbox (key, topic, payload, created_at, due_at)
           SELECT e.key, e.topic, e.payload, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(key, topic, payload, ord)
           ORDER BY e.ord
           ON CONFLICT (key) DO NOTHING`,
  },
  claim: {
    name: 'sluice_outbox_claim',
    text: `WITH due AS (
             SELECT id, due_at FROM outbox WHERE delivered_at IS NULL AND due_at <= $1
             ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
           ),
           claimed AS (
             UPDATE outbox o SET claim_token = $3, due_at = $2, attempts = o.attempts + 1 FROM due
             WHERE o.id = due.id RETURNING ${COLUMNS.split(', ')
               .map((c) => `o.${c}`)
               .join(', ')}, due.due_at AS was_due_at
           )
           SELECT ${COLUMNS} FROM claimed ORDER BY was_due_at, id`,
  },
  complete: {
    text: `UPDATE outbox SET delivered_at = $1, claim_token = NULL, last_error = COALESCE($2, last_error)
           WHERE id = $3 AND claim_token = $4 AND delivered_at IS NULL`,
  },
  extend: {
    text: 'UPDATE outbox SET due_at = $1 WHERE id = $2 AND claim_token = $3 AND delivered_at IS NULL',
  },
  retry: {
    text: `UPDATE outbox SET due_at = $1, last_error = $2, claim_token = NULL
           WHERE id = $3 AND claim_token = $4 AND delivered_at IS NULL`,
  },
  nextDue: { text: 'SELECT min(due_at) AS next FROM outbox WHERE delivered_at IS NULL' },
  get: { text: `SELECT ${COLUMNS} FROM outbox WHERE key = $1` },
};

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    key: row.key,
    topic: row.topic,
    payload: row.payload,
    createdAt: row.created_at,
    dueAt: row.due_at,
    attempts: row.attempts,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

/** Inserts entries in one statement; an entry whose key exists is skipped. */
export async function insertOutboxEntries(
  db: Queryable,
  entries: NewOutboxEntry[],
  now: number,
): Promise<void> {
  if (entries.length === 0) return;
  await query(db, sql.insert, [
    entries.map((e) => e.key),
    entries.map((e) => e.topic),
    entries.map((e) => e.payload),
    now,
  ]);
}

async function changed(pool: pg.Pool, text: string, values: unknown[]): Promise<boolean> {
  return ((await pool.query(text, values)).rowCount ?? 0) === 1;
}

export function createPostgresOutboxStore(pool: pg.Pool): OutboxStore {
  return {
    async outboxClaim(p) {
      const rows = await run<OutboxRow>(pool, sql.claim, [p.now, p.now + p.leaseMs, p.claimToken, p.limit]);
      return rows.map(toEntry);
    },
    async outboxComplete(p) {
      return changed(pool, sql.complete.text, [p.now, p.error?.slice(0, 2000) ?? null, p.id, p.claimToken]);
    },
    async outboxExtend(p) {
      return changed(pool, sql.extend.text, [p.dueAt, p.id, p.claimToken]);
    },
    async outboxRetry(p) {
      return changed(pool, sql.retry.text, [p.dueAt, p.error.slice(0, 2000), p.id, p.claimToken]);
    },
    async outboxNextDue() {
      const [row] = await run<{ next: number | null }>(pool, sql.nextDue, []);
      return row?.next ?? null;
    },
    async outboxGet({ key }) {
      const [row] = await run<OutboxRow>(pool, sql.get, [key]);
      return row ? toEntry(row) : undefined;
    },
  };
}
