/**
 * The outbox on SQLite. `insertOutboxEntry` is for the domain modules (schedules, batches) to call inside
 * their own transactions; the OutboxStore operations are the relay's.
 */
import type { NewOutboxEntry, OutboxEntry, OutboxStore } from '../outbox-store.js';
import type { SqliteDatabase } from './database.js';

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

/** Prepares the insert once per database; returns whether a row was added (false: the key exists). */
export function outboxInserter(db: SqliteDatabase): (entry: NewOutboxEntry, now: number) => boolean {
  const insert = db.prepare(
    `INSERT INTO outbox (key, topic, payload, created_at, due_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
  );
  return (entry, now) => insert.run(entry.key, entry.topic, entry.payload, now, entry.dueAt ?? now).changes === 1;
}

export function createSqliteOutboxStore(db: SqliteDatabase): OutboxStore {
  const sql = {
    due: db.prepare<[number, number], OutboxRow>(
      'SELECT * FROM outbox WHERE delivered_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?',
    ),
    claim: db.prepare('UPDATE outbox SET claim_token = ?, due_at = ?, attempts = attempts + 1 WHERE id = ?'),
    complete: db.prepare(
      `UPDATE outbox SET delivered_at = ?, claim_token = NULL, last_error = COALESCE(?, last_error)
       WHERE id = ? AND claim_token = ? AND delivered_at IS NULL`,
    ),
    extend: db.prepare(
      'UPDATE outbox SET due_at = ? WHERE id = ? AND claim_token = ? AND delivered_at IS NULL',
    ),
    retry: db.prepare(
      'UPDATE outbox SET due_at = ?, last_error = ?, claim_token = NULL WHERE id = ? AND claim_token = ? AND delivered_at IS NULL',
    ),
    nextDue: db.prepare<[], { next: number | null }>(
      'SELECT MIN(due_at) AS next FROM outbox WHERE delivered_at IS NULL',
    ),
    get: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE key = ?'),
  };
  const claim = db.transaction((p: Parameters<OutboxStore['outboxClaim']>[0]): OutboxEntry[] => {
    const rows = sql.due.all(p.now, p.limit);
    for (const row of rows) sql.claim.run(p.claimToken, p.now + p.leaseMs, row.id);
    return rows.map((row) => ({ ...toEntry(row), dueAt: p.now + p.leaseMs, attempts: row.attempts + 1 }));
  });
  return {
    async outboxClaim(p) {
      return claim(p);
    },
    async outboxComplete(p) {
      return sql.complete.run(p.now, p.error?.slice(0, 2000) ?? null, p.id, p.claimToken).changes === 1;
    },
    async outboxExtend(p) {
      return sql.extend.run(p.dueAt, p.id, p.claimToken).changes === 1;
    },
    async outboxRetry(p) {
      return sql.retry.run(p.dueAt, p.error.slice(0, 2000), p.id, p.claimToken).changes === 1;
    },
    async outboxNextDue() {
      return sql.nextDue.get()?.next ?? null;
    },
    async outboxGet({ key }) {
      const row = sql.get.get(key);
      return row ? toEntry(row) : undefined;
    },
  };
}
