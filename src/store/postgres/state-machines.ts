/**
 * State machines and executions on PostgreSQL, the same operations as SQLite's file of this name. A
 * transition is a compare-and-set on the execution's version (`WHERE arn = $1 AND version = $2`, which
 * a concurrent claim or stop makes fail); its events, callbacks and links commit in the same
 * transaction. Claims take due rows with `FOR UPDATE SKIP LOCKED`, so nodes share the work.
 */
import type pg from 'pg';
import { callbackChannel, type NewCallback } from '../callback-store.js';
import { callbackDeadline } from '../rules/callback-deadline.js';
import type { Notifier } from '../notifier.js';
import {
  executionChannel,
  executionsChannel,
  EXPRESS_ARN_PATTERN,
  type StateMachineStore,
  type StoredEvent,
} from '../state-machine-store.js';
import { toEvent, toExecution, toMachine, toSummary, wakeAt } from '../state-machine-rows.js';
import { run, transaction } from './connection.js';
import { createPostgresVersionCalls } from './state-machine-versions.js';

type Row = Record<string, unknown>;

const MACHINE = `SELECT m.name, m.arn, m.type, m.revision_id, r.definition, r.role_arn, m.description, m.tags, m.managed_by,
  m.created_at, m.updated_at FROM state_machines m JOIN state_machine_revisions r ON r.id = m.revision_id`;
const SUMMARY = 'arn, state_machine_arn, name, revision_id, status, started_at, stopped_at, version_arn, alias_arn';
const EXECUTION = `${SUMMARY}, input, output, error, cause, state, version, last_event_id`;

/** A step's events as the arrays `unnest` reads (id, previous id, type, timestamp, details). */
function eventColumns(events: StoredEvent[]): unknown[] {
  return [events.map((e) => e.id), events.map((e) => e.previousEventId), events.map((e) => e.type), events.map((e) => e.timestamp), events.map((e) => e.details)];
}

/** New callbacks as the arrays `unnest` reads (id, created, timeout, heartbeat ms, heartbeat at, deadline, context). */
function callbackColumns(callbacks: NewCallback[]): unknown[] {
  const rows = callbacks.map((c) => {
    const heartbeatAt = c.heartbeatMs === null ? null : c.createdAt + c.heartbeatMs;
    return { ...c, heartbeatAt, deadlineAt: callbackDeadline({ timeoutAt: c.timeoutAt, heartbeatAt }) };
  });
  return [rows.map((c) => c.id), rows.map((c) => c.createdAt), rows.map((c) => c.timeoutAt), rows.map((c) => c.heartbeatMs), rows.map((c) => c.heartbeatAt), rows.map((c) => c.deadlineAt), rows.map((c) => c.context)];
}

export function createPostgresStateMachineStore(pool: pg.Pool, notifier: Notifier): StateMachineStore {
  const getMachine = async (client: pg.ClientBase | pg.Pool, name: string) =>
    (await client.query<Row>(`${MACHINE} WHERE m.name = $1`, [name])).rows[0];

  return {
    async stateMachineCreate({ machine: m }) {
      return transaction(pool, async (client) => {
        // The name's row lock (or its absence) decides: a concurrent create of the same name waits here.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`state-machine:${m.name}`]);
        const existing = await getMachine(client, m.name);
        if (existing) return { outcome: 'exists' as const, machine: toMachine(existing as never) };
        const { rows } = await client.query<{ id: string }>(
          'INSERT INTO state_machine_revisions (state_machine_arn, definition, role_arn, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
          [m.arn, m.definition, m.roleArn, m.now],
        );
        await client.query(
          `INSERT INTO state_machines (name, arn, type, revision_id, description, tags, managed_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
          [m.name, m.arn, m.type, rows[0]!.id, m.description, JSON.stringify(m.tags), m.managedBy, m.now],
        );
        return { outcome: 'created' as const, machine: toMachine((await getMachine(client, m.name)) as never) };
      });
    },
    async stateMachineGet({ name }) {
      const row = await getMachine(pool, name);
      return row ? toMachine(row as never) : undefined;
    },
    async stateMachineList({ after, limit }) {
      const { rows } = await pool.query<Row>(`${MACHINE} WHERE m.name > $1 ORDER BY m.name LIMIT $2`, [after ?? '', limit]);
      return rows.map((row) => toMachine(row as never));
    },
    async stateMachineUpdate(p) {
      return transaction(pool, async (client) => {
        const { rows } = await client.query<Row>(`${MACHINE} WHERE m.name = $1 FOR UPDATE OF m`, [p.name]);
        const row = rows[0] as Record<string, string | number | null> | undefined;
        if (!row) return undefined;
        let revision = row.revision_id;
        const definition = p.definition ?? (row.definition as string);
        const roleArn = p.roleArn ?? (row.role_arn as string);
        if (definition !== row.definition || roleArn !== row.role_arn) {
          const inserted = await client.query<{ id: string }>(
            'INSERT INTO state_machine_revisions (state_machine_arn, definition, role_arn, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
            [row.arn, definition, roleArn, p.now],
          );
          revision = inserted.rows[0]!.id;
        }
        await client.query(
          'UPDATE state_machines SET revision_id = $1, description = $2, tags = $3, managed_by = $4, updated_at = $5 WHERE name = $6',
          [revision, p.description ?? row.description, p.tags === undefined ? row.tags : JSON.stringify(p.tags), p.managedBy === undefined ? row.managed_by : p.managedBy, p.now, p.name],
        );
        return toMachine((await getMachine(client, p.name)) as never);
      });
    },
    async stateMachineDelete({ name }) {
      // Its versions and aliases go with it. The machine's row is locked first, as a publish locks it: a
      // publish committed meanwhile is seen and deleted, not left behind for a machine of the same name.
      return transaction(pool, async (client) => {
        const { rowCount } = await client.query('SELECT 1 FROM state_machines WHERE name = $1 FOR UPDATE', [name]);
        if (rowCount !== 1) return false;
        await client.query('DELETE FROM state_machine_versions WHERE machine_name = $1', [name]);
        await client.query('DELETE FROM state_machine_aliases WHERE machine_name = $1', [name]);
        await client.query('DELETE FROM state_machines WHERE name = $1', [name]);
        return true;
      });
    },
    ...createPostgresVersionCalls(pool),
    async stateMachineRevision({ id }) {
      const { rows } = await pool.query<Row>('SELECT id, state_machine_arn, definition, role_arn, created_at FROM state_machine_revisions WHERE id = $1', [id]);
      const row = rows[0];
      return row
        ? { id: Number(row.id), stateMachineArn: row.state_machine_arn as string, definition: row.definition as string, roleArn: row.role_arn as string, createdAt: Number(row.created_at) }
        : undefined;
    },
    async executionStart(p) {
      const e = p.execution;
      const wake = e.status === 'RUNNING' ? wakeAt({ leaseUntil: e.leaseUntil, dueAt: e.dueAt, woken: false, now: e.startedAt }) : null;
      // One statement: the row, its first events and callbacks, only if the name is new (durable: the
      // caller is told the execution started).
      const rows = await run<{ created: string }>(
        pool,
        {
          name: 'sluice_execution_start',
          text: `WITH inserted AS (
                   INSERT INTO executions (arn, state_machine_arn, name, revision_id, status, input, output, error, cause, state, version,
                     last_event_id, started_at, stopped_at, lease_until, due_at, woken, wake_at, version_arn, alias_arn)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $14, $15, false, $16, $34, $35)
                   ON CONFLICT (state_machine_arn, name) DO NOTHING
                   RETURNING arn
                 ), events AS (
                   INSERT INTO execution_events (execution_arn, id, previous_id, type, timestamp, details)
                   SELECT $1, e.* FROM unnest($17::bigint[], $18::bigint[], $19::text[], $20::bigint[], $21::text[]) AS e
                   WHERE EXISTS (SELECT 1 FROM inserted)
                 ), created AS (
                   INSERT INTO callbacks (id, status, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
                   SELECT c.id, 'WAITING', c.created_at, c.timeout_at, c.heartbeat_ms, c.heartbeat_at, c.deadline_at, c.context
                   FROM unnest($22::text[], $23::bigint[], $24::bigint[], $25::bigint[], $26::bigint[], $27::bigint[], $28::text[])
                     AS c(id, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
                   WHERE EXISTS (SELECT 1 FROM inserted)
                 ), linked AS (
                   INSERT INTO execution_callbacks (callback_id, execution_arn)
                   SELECT id, $1 FROM unnest($22::text[]) AS id WHERE EXISTS (SELECT 1 FROM inserted)
                 ), answered AS (
                   -- A nested execution that ended in its first step answers its parent's .sync task (the parent wakes).
                   UPDATE callbacks SET status = $30, settled_at = $12, output = $31, error = $32, cause = $33, deadline_at = NULL
                   WHERE id = $29 AND status = 'WAITING' AND EXISTS (SELECT 1 FROM inserted)
                   RETURNING id
                 ), woke AS (
                   UPDATE executions SET woken = true, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE $12::bigint END
                   WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id IN (SELECT id FROM answered))
                 )
                 SELECT count(*) AS created FROM inserted`,
        },
        [
          e.arn, e.stateMachineArn, e.name, e.revisionId, e.status, e.input, e.output, e.error, e.cause, e.state, e.lastEventId,
          e.startedAt, e.stoppedAt, e.leaseUntil, e.dueAt, wake,
          ...eventColumns(p.events),
          ...callbackColumns(p.callbacks),
          p.answer?.callbackId ?? null,
          p.answer?.completion.status ?? null,
          p.answer?.completion.status === 'SUCCEEDED' ? p.answer.completion.output : null,
          p.answer?.completion.status === 'FAILED' ? p.answer.completion.error : null,
          p.answer?.completion.status === 'FAILED' ? p.answer.completion.cause : null,
          e.versionArn ?? null,
          e.aliasArn ?? null,
        ],
      );
      if (Number(rows[0]?.created ?? 0) !== 1) {
        const { rows: existing } = await pool.query<Row>(`SELECT ${EXECUTION} FROM executions WHERE state_machine_arn = $1 AND name = $2`, [e.stateMachineArn, e.name]);
        if (existing[0]) return { outcome: 'exists' as const, execution: toExecution(existing[0] as never) };
        throw new Error(`execution ${e.arn}: neither inserted nor found`);
      }
      notifier.publish(executionsChannel);
      if (p.answer) notifier.publish(callbackChannel(p.answer.callbackId));
      return { outcome: 'created' as const };
    },
    async executionGet({ arn }) {
      const { rows } = await pool.query<Row>(`SELECT ${EXECUTION} FROM executions WHERE arn = $1`, [arn]);
      return rows[0] ? toExecution(rows[0] as never) : undefined;
    },
    async executionList(p) {
      const after = p.after ?? { startedAt: Number.MAX_SAFE_INTEGER, arn: '' };
      const { rows } = await pool.query<Row>(
        `SELECT ${SUMMARY} FROM executions WHERE state_machine_arn = $1 AND ($2::text IS NULL OR status = $2)
           AND ($6::boolean IS NULL OR (redrive_count > 0) = $6)
           AND ($7::text IS NULL OR version_arn = $7) AND ($8::text IS NULL OR alias_arn = $8)
           AND (started_at, arn) < ($3::bigint, $4::text) ORDER BY started_at DESC, arn DESC LIMIT $5`,
        [p.stateMachineArn, p.status ?? null, after.startedAt, after.arn, p.limit, p.redriven ?? null, p.versionArn ?? null, p.aliasArn ?? null],
      );
      return rows.map((row) => toSummary(row as never));
    },
    async executionTransition(p) {
      const running = p.status === 'RUNNING';
      const held = running && p.leaseUntil !== null;
      // One statement, one round trip. A step of a running execution commits without waiting for the WAL
      // flush (as claims do, connection.ts): one lost in a server crash leaves the execution at its previous
      // step, whose tasks then run again (at least once). Durable: the last step (an end, a stop), and a
      // step that creates task tokens (their worker may answer once the message is out).
      const rows = await run<{ applied: string }>(
        pool,
        {
          name: 'sluice_execution_transition',
          text: `WITH updated AS (
                   UPDATE executions SET state = $3, status = $4, output = $5, error = $6, cause = $7, stopped_at = $8,
                     last_event_id = $9, version = version + 1, lease_until = $10, due_at = $11,
                     redrive_count = COALESCE($32::integer, redrive_count),
                     wake_at = CASE WHEN NOT $13::boolean THEN NULL WHEN $10::bigint IS NOT NULL THEN $10::bigint
                                    WHEN woken THEN $12::bigint ELSE $11::bigint END,
                     woken = CASE WHEN $10::bigint IS NOT NULL THEN woken ELSE false END
                   WHERE arn = $1 AND version = $2
                   RETURNING arn
                 ), events AS (
                   INSERT INTO execution_events (execution_arn, id, previous_id, type, timestamp, details)
                   SELECT $1, e.* FROM unnest($14::bigint[], $15::bigint[], $16::text[], $17::bigint[], $18::text[]) AS e
                   WHERE EXISTS (SELECT 1 FROM updated)
                 ), created AS (
                   INSERT INTO callbacks (id, status, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
                   SELECT c.id, 'WAITING', c.created_at, c.timeout_at, c.heartbeat_ms, c.heartbeat_at, c.deadline_at, c.context
                   FROM unnest($19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[], $24::bigint[], $25::text[])
                     AS c(id, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
                   WHERE EXISTS (SELECT 1 FROM updated)
                 ), linked AS (
                   INSERT INTO execution_callbacks (callback_id, execution_arn)
                   SELECT id, $1 FROM unnest($19::text[]) AS id WHERE EXISTS (SELECT 1 FROM updated)
                   ON CONFLICT DO NOTHING
                 ), unlinked AS (
                   DELETE FROM execution_callbacks
                   WHERE EXISTS (SELECT 1 FROM updated) AND (callback_id = ANY($26::text[]) OR (NOT $13::boolean AND execution_arn = $1))
                   RETURNING callback_id
                 ), answered AS (
                   -- A finished nested execution answers its parent's .sync task (the parent wakes).
                   UPDATE callbacks SET status = $28, settled_at = $12, output = $29, error = $30, cause = $31, deadline_at = NULL
                   WHERE id = $27 AND status = 'WAITING' AND EXISTS (SELECT 1 FROM updated)
                   RETURNING id
                 ), woke AS (
                   UPDATE executions SET woken = true, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE $12::bigint END
                   WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id IN (SELECT id FROM answered))
                 ), settled AS (
                   -- A token its execution no longer waits for is over: a late answer gets TaskTimedOut.
                   UPDATE callbacks SET status = 'TIMED_OUT', settled_at = $12, error = 'States.Timeout',
                     cause = 'A task token of a state that no longer waits (its execution moved on, was stopped or ended)', deadline_at = NULL
                   WHERE id IN (SELECT callback_id FROM unlinked) AND status = 'WAITING'
                 )
                 SELECT count(*) AS applied, set_config('synchronous_commit', CASE WHEN $13::boolean AND cardinality($19::text[]) = 0 THEN 'off' ELSE 'on' END, true) AS durability FROM updated`,
        },
        [
          p.arn, p.version, p.state, p.status, p.output, p.error, p.cause, p.stoppedAt, p.lastEventId,
          held ? p.leaseUntil : null, running ? p.dueAt : null, p.now, running,
          ...eventColumns(p.events),
          ...callbackColumns(p.callbacks),
          p.releasedCallbacks,
          p.answer?.callbackId ?? null,
          p.answer?.completion.status ?? null,
          p.answer?.completion.status === 'SUCCEEDED' ? p.answer.completion.output : null,
          p.answer?.completion.status === 'FAILED' ? p.answer.completion.error : null,
          p.answer?.completion.status === 'FAILED' ? p.answer.completion.cause : null,
          p.redriveCount ?? null,
        ],
      );
      const applied = Number(rows[0]?.applied ?? 0) === 1;
      if (applied) {
        if (!running) notifier.publish(executionChannel(p.arn));
        if (!held || p.answer) notifier.publish(executionsChannel);
        if (p.answer) notifier.publish(callbackChannel(p.answer.callbackId));
      }
      return applied;
    },
    async executionRenew(p) {
      const result = await pool.query('UPDATE executions SET lease_until = $1, wake_at = $1 WHERE arn = $2 AND version = $3', [p.leaseUntil, p.arn, p.version]);
      return result.rowCount === 1;
    },
    async executionClaimDue(p) {
      const rows = await run<Row>(
        pool,
        {
          name: 'sluice_executions_claim',
          text: `UPDATE executions SET version = version + 1, lease_until = $2, wake_at = $2, woken = false
                 WHERE arn IN (SELECT arn FROM executions WHERE wake_at IS NOT NULL AND wake_at <= $1 AND status = 'RUNNING'
                               ORDER BY wake_at LIMIT $3 FOR UPDATE SKIP LOCKED)
                 RETURNING ${EXECUTION}`,
        },
        [p.now, p.leaseUntil, p.limit],
      );
      return rows.map((row) => toExecution(row as never));
    },
    async executionNextWake() {
      const { rows } = await pool.query<{ next: string | null }>('SELECT min(wake_at) AS next FROM executions WHERE wake_at IS NOT NULL');
      const next = rows[0]?.next;
      return next === null || next === undefined ? null : Number(next);
    },
    async executionPurge(p) {
      const rows = await run<{ purged: string }>(
        pool,
        {
          name: 'sluice_executions_purge',
          // $3: an ARN pattern (Express executions only) or NULL (every finished execution).
          text: `WITH doomed AS (
                   SELECT arn FROM executions WHERE stopped_at IS NOT NULL AND stopped_at < $1 AND status <> 'RUNNING'
                     AND ($3::text IS NULL OR arn LIKE $3) LIMIT $2
                 ), events AS (
                   DELETE FROM execution_events WHERE execution_arn IN (SELECT arn FROM doomed)
                 ), gone AS (
                   DELETE FROM executions WHERE arn IN (SELECT arn FROM doomed) RETURNING arn
                 )
                 SELECT count(*) AS purged FROM gone`,
        },
        [p.stoppedBefore, p.limit, p.expressOnly ? EXPRESS_ARN_PATTERN : null],
      );
      return Number(rows[0]?.purged ?? 0);
    },
    async executionHistory(p) {
      const { rows } = p.reverse
        ? await pool.query<Row>(
            'SELECT id, previous_id, type, timestamp, details FROM execution_events WHERE execution_arn = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
            [p.arn, p.afterId ?? Number.MAX_SAFE_INTEGER, p.limit],
          )
        : await pool.query<Row>(
            'SELECT id, previous_id, type, timestamp, details FROM execution_events WHERE execution_arn = $1 AND id > $2 ORDER BY id LIMIT $3',
            [p.arn, p.afterId ?? 0, p.limit],
          );
      return rows.map((row) => toEvent(row as never));
    },
  };
}
