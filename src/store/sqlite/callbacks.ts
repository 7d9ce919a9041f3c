/**
 * Task tokens on SQLite. Each transition reads the row and decides with rules/callback-deadline.ts inside one
 * synchronous transaction, so no other writer can slip between the read and the write.
 */
import { callbackDeadline, timeoutCause, timeoutErrorAt } from '../rules/callback-deadline.js';
import {
  callbackChannel,
  type CallbackStore,
  type CallbackTransition,
  type StoredCallback,
} from '../callback-store.js';
import type { Notifier } from '../notifier.js';
import { executionsChannel } from '../state-machine-store.js';
import type { SqliteDatabase } from './database.js';

interface CallbackRow {
  id: string;
  status: StoredCallback['status'];
  created_at: number;
  timeout_at: number | null;
  heartbeat_ms: number | null;
  heartbeat_at: number | null;
  settled_at: number | null;
  output: string | null;
  error: string | null;
  cause: string | null;
  context: string | null;
  started_at: number | null;
  worker_name: string | null;
}

function toCallback(row: CallbackRow): StoredCallback {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at,
    timeoutAt: row.timeout_at,
    heartbeatMs: row.heartbeat_ms,
    heartbeatAt: row.heartbeat_at,
    settledAt: row.settled_at,
    output: row.output,
    error: row.error,
    cause: row.cause,
    context: row.context,
    startedAt: row.started_at,
    workerName: row.worker_name,
  };
}

export function createSqliteCallbackStore(db: SqliteDatabase, notifier: Notifier): CallbackStore {
  const sql = {
    insert: db.prepare(
      `INSERT INTO callbacks (id, status, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
       VALUES (?, 'WAITING', ?, ?, ?, ?, ?, ?)`,
    ),
    get: db.prepare<[string], CallbackRow>('SELECT * FROM callbacks WHERE id = ?'),
    settle: db.prepare(
      `UPDATE callbacks SET status = ?, settled_at = ?, output = ?, error = ?, cause = ?, deadline_at = NULL
       WHERE id = ? AND status = 'WAITING'`,
    ),
    heartbeat: db.prepare(
      `UPDATE callbacks SET heartbeat_at = ?, deadline_at = ? WHERE id = ? AND status = 'WAITING'`,
    ),
    purge: db.prepare(
      `DELETE FROM callbacks WHERE id IN (
         SELECT id FROM callbacks WHERE settled_at IS NOT NULL AND settled_at < ? LIMIT ?)`,
    ),
    // A state machine execution waiting for this token wakes now, or when its holder releases it.
    wakeExecution: db.prepare(
      `UPDATE executions SET woken = 1, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE ? END
       WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id = ?)`,
    ),
  };

  /** Reads a WAITING row; if a deadline has passed, times it out first. Undefined when missing. */
  function current(id: string, now: number): { row: CallbackRow; timedOutNow: boolean } | undefined {
    const row = sql.get.get(id);
    if (!row) return undefined;
    if (row.status !== 'WAITING') return { row, timedOutNow: false };
    const error = timeoutErrorAt({ timeoutAt: row.timeout_at, heartbeatAt: row.heartbeat_at }, now);
    if (!error) return { row, timedOutNow: false };
    sql.settle.run('TIMED_OUT', now, null, error, timeoutCause(error), id);
    sql.wakeExecution.run(now, id);
    return { row: sql.get.get(id)!, timedOutNow: true };
  }

  const complete = db.transaction(
    (p: Parameters<CallbackStore['callbackComplete']>[0]): CallbackTransition => {
      const found = current(p.id, p.now);
      if (!found) return { outcome: 'missing' };
      if (found.row.status !== 'WAITING') return { outcome: 'finished', callback: toCallback(found.row) };
      const c = p.completion;
      sql.settle.run(
        c.status,
        p.now,
        c.status === 'SUCCEEDED' ? c.output : null,
        c.status === 'FAILED' ? c.error : null,
        c.status === 'FAILED' ? c.cause : null,
        p.id,
      );
      sql.wakeExecution.run(p.now, p.id);
      return { outcome: 'applied', callback: toCallback(sql.get.get(p.id)!) };
    },
  );

  const heartbeat = db.transaction((p: { id: string; now: number }): CallbackTransition => {
    const found = current(p.id, p.now);
    if (!found) return { outcome: 'missing' };
    if (found.row.status !== 'WAITING') return { outcome: 'finished', callback: toCallback(found.row) };
    const row = found.row;
    if (row.heartbeat_ms !== null) {
      const heartbeatAt = p.now + row.heartbeat_ms;
      sql.heartbeat.run(heartbeatAt, callbackDeadline({ timeoutAt: row.timeout_at, heartbeatAt }), p.id);
    }
    return { outcome: 'applied', callback: toCallback(sql.get.get(p.id)!) };
  });

  const expire = db.transaction((p: { id: string; now: number }): CallbackTransition => {
    const found = current(p.id, p.now);
    if (!found) return { outcome: 'missing' };
    const callback = toCallback(found.row);
    if (found.timedOutNow) return { outcome: 'applied', callback };
    return { outcome: callback.status === 'WAITING' ? 'pending' : 'finished', callback };
  });

  /** Publishes when the row changed (a waiter elsewhere re-reads). */
  function announce(id: string, transition: CallbackTransition, changed: boolean): CallbackTransition {
    if (changed) notifier.publish(callbackChannel(id));
    if (changed && transition.outcome !== 'missing' && transition.callback.status !== 'WAITING') notifier.publish(executionsChannel);
    return transition;
  }

  return {
    async callbackCreate({ callback: c }) {
      const heartbeatAt = c.heartbeatMs === null ? null : c.createdAt + c.heartbeatMs;
      sql.insert.run(
        c.id,
        c.createdAt,
        c.timeoutAt,
        c.heartbeatMs,
        heartbeatAt,
        callbackDeadline({ timeoutAt: c.timeoutAt, heartbeatAt }),
        c.context,
      );
    },
    async callbackGet({ id }) {
      const row = sql.get.get(id);
      return row ? toCallback(row) : undefined;
    },
    async callbackComplete(p) {
      const result = complete(p);
      // 'finished' may also be a change: a WAITING row found past its deadline was timed out just now.
      return announce(p.id, result, result.outcome !== 'missing');
    },
    async callbackHeartbeat(p) {
      const result = heartbeat(p);
      return announce(p.id, result, result.outcome !== 'missing');
    },
    async callbackExpire(p) {
      const result = expire(p);
      return announce(p.id, result, result.outcome === 'applied');
    },
    async callbackPurge(p) {
      return sql.purge.run(p.settledBefore, p.limit).changes;
    },
  };
}
