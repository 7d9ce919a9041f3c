/**
 * Task tokens on PostgreSQL. Each transition reads the row, decides with rules/callback-deadline.ts, and
 * writes with a compare-and-set on what it read: a WAITING row changes only by a heartbeat (which moves
 * `heartbeat_at`) or by finishing (which leaves WAITING), so `status = 'WAITING' AND heartbeat_at IS
 * NOT DISTINCT FROM <read>` matches only the row the decision was made on. A lost race reads again; the
 * token is finished exactly once whichever node completes, heartbeats or times it out. Two round trips,
 * no explicit transaction.
 */
import type pg from 'pg';
import { callbackDeadline, timeoutCause, timeoutErrorAt } from '../rules/callback-deadline.js';
import {
  callbackChannel,
  type CallbackStore,
  type CallbackTransition,
  type StoredCallback,
} from '../callback-store.js';
import type { Notifier } from '../notifier.js';
import { executionsChannel } from '../state-machine-store.js';
import { run } from './connection.js';

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
  started_at: string | number | null;
  worker_name: string | null;
}

const COLUMNS =
  'id, status, created_at, timeout_at, heartbeat_ms, heartbeat_at, settled_at, output, error, cause, context, started_at, worker_name';

const sql = {
  insert: {
    text: `INSERT INTO callbacks (id, status, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
           VALUES ($1, 'WAITING', $2, $3, $4, $5, $6, $7)`,
  },
  get: { name: 'sluice_callback_get', text: `SELECT ${COLUMNS} FROM callbacks WHERE id = $1` },
  // $2: the heartbeat_at the decision read.
  settle: {
    name: 'sluice_callback_settle',
    // A state machine execution waiting for this token wakes now, or when its holder releases it.
    text: `WITH settled AS (
             UPDATE callbacks SET status = $3, settled_at = $4, output = $5, error = $6, cause = $7, deadline_at = NULL
             WHERE id = $1 AND status = 'WAITING' AND heartbeat_at IS NOT DISTINCT FROM $2::bigint RETURNING ${COLUMNS}
           ), woke AS (
             UPDATE executions SET woken = true, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE $4::bigint END
             WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id = $1)
               AND EXISTS (SELECT 1 FROM settled)
           )
           SELECT * FROM settled`,
  },
  heartbeat: {
    name: 'sluice_callback_heartbeat',
    text: `UPDATE callbacks SET heartbeat_at = $3, deadline_at = $4
           WHERE id = $1 AND status = 'WAITING' AND heartbeat_at IS NOT DISTINCT FROM $2::bigint RETURNING ${COLUMNS}`,
  },
  purge: {
    text: `DELETE FROM callbacks WHERE id IN (
             SELECT id FROM callbacks WHERE settled_at IS NOT NULL AND settled_at < $1 LIMIT $2)`,
  },
};

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
    startedAt: row.started_at === null ? null : Number(row.started_at),
    workerName: row.worker_name,
  };
}

/** What a transition decided on the row it read: a result, or a write to try first (null: lost the race). */
type Step =
  | { done: CallbackTransition }
  | { write: () => Promise<CallbackRow | undefined>; then: (row: CallbackRow) => CallbackTransition };

export function createPostgresCallbackStore(pool: pg.Pool, notifier: Notifier): CallbackStore {
  const settle =
    (
      row: CallbackRow,
      now: number,
      status: StoredCallback['status'],
      output: string | null,
      error: string | null,
      cause: string | null,
    ) =>
    async () =>
      (
        await run<CallbackRow>(pool, sql.settle, [
          row.id,
          row.heartbeat_at,
          status,
          now,
          output,
          error,
          cause,
        ])
      )[0];

  /** A WAITING row past a deadline times out first, whatever the transition was (as SQLite's `current`). */
  function timeOut(
    row: CallbackRow,
    now: number,
    then: (row: CallbackRow) => CallbackTransition,
  ): Step | undefined {
    const error = timeoutErrorAt({ timeoutAt: row.timeout_at, heartbeatAt: row.heartbeat_at }, now);
    return error
      ? { write: settle(row, now, 'TIMED_OUT', null, error, timeoutCause(error)), then }
      : undefined;
  }

  /** Reads, decides and compare-and-sets until the decision is made on the current row. */
  async function transition(id: string, decide: (row: CallbackRow) => Step): Promise<CallbackTransition> {
    for (;;) {
      const [row] = await run<CallbackRow>(pool, sql.get, [id]);
      if (!row) return { outcome: 'missing' };
      const step = decide(row);
      if ('done' in step) return step.done;
      const written = await step.write();
      if (written) return step.then(written);
    }
  }

  const finished = (row: CallbackRow): CallbackTransition => ({
    outcome: 'finished',
    callback: toCallback(row),
  });
  const applied = (row: CallbackRow): CallbackTransition => ({
    outcome: 'applied',
    callback: toCallback(row),
  });

  function announce(id: string, result: CallbackTransition, changed: boolean): CallbackTransition {
    if (changed) notifier.publish(callbackChannel(id));
    if (changed && result.outcome !== 'missing' && result.callback.status !== 'WAITING') notifier.publish(executionsChannel);
    return result;
  }

  return {
    async callbackCreate({ callback: c }) {
      const heartbeatAt = c.heartbeatMs === null ? null : c.createdAt + c.heartbeatMs;
      await run(pool, sql.insert, [
        c.id,
        c.createdAt,
        c.timeoutAt,
        c.heartbeatMs,
        heartbeatAt,
        callbackDeadline({ timeoutAt: c.timeoutAt, heartbeatAt }),
        c.context,
      ]);
    },
    async callbackGet({ id }) {
      const [row] = await run<CallbackRow>(pool, sql.get, [id]);
      return row ? toCallback(row) : undefined;
    },
    async callbackComplete(p) {
      const c = p.completion;
      const result = await transition(p.id, (row) => {
        if (row.status !== 'WAITING') return { done: finished(row) };
        return (
          timeOut(row, p.now, finished) ?? {
            write: settle(
              row,
              p.now,
              c.status,
              c.status === 'SUCCEEDED' ? c.output : null,
              c.status === 'FAILED' ? c.error : null,
              c.status === 'FAILED' ? c.cause : null,
            ),
            then: applied,
          }
        );
      });
      // 'finished' may also be a change: a WAITING row found past its deadline was timed out just now.
      return announce(p.id, result, result.outcome !== 'missing');
    },
    async callbackHeartbeat(p) {
      const result = await transition(p.id, (row) => {
        if (row.status !== 'WAITING') return { done: finished(row) };
        const timedOut = timeOut(row, p.now, finished);
        if (timedOut) return timedOut;
        if (row.heartbeat_ms === null) return { done: applied(row) };
        const heartbeatAt = p.now + row.heartbeat_ms;
        const deadlineAt = callbackDeadline({ timeoutAt: row.timeout_at, heartbeatAt });
        return {
          write: async () =>
            (
              await run<CallbackRow>(pool, sql.heartbeat, [row.id, row.heartbeat_at, heartbeatAt, deadlineAt])
            )[0],
          then: applied,
        };
      });
      return announce(p.id, result, result.outcome !== 'missing');
    },
    async callbackExpire(p) {
      const result = await transition(p.id, (row) => {
        if (row.status !== 'WAITING') return { done: finished(row) };
        return timeOut(row, p.now, applied) ?? { done: { outcome: 'pending', callback: toCallback(row) } };
      });
      return announce(p.id, result, result.outcome === 'applied');
    },
    async callbackPurge(p) {
      const result = await pool.query(sql.purge.text, [p.settledBefore, p.limit]);
      return result.rowCount ?? 0;
    },
  };
}
