/**
 * State machines and executions on SQLite: each operation one synchronous transaction. A transition is
 * a compare-and-set on the execution's version; the events, the callback rows and their links commit
 * with it.
 */
import { callbackChannel, type NewCallback } from '../callback-store.js';
import { callbackDeadline } from '../rules/callback-deadline.js';
import type { Notifier } from '../notifier.js';
import {
  executionChannel,
  executionsChannel,
  EXPRESS_ARN_PATTERN,
  type ExecutionChange,
  type StateMachineStore,
  type StoredEvent,
  type StoredExecution,
} from '../state-machine-store.js';
import type { SqliteDatabase } from './database.js';
import { createSqliteVersionCalls } from './state-machine-versions.js';
import { toEvent, toExecution, toMachine, toSummary, wakeAt, type EventRow, type ExecutionRow, type MachineRow } from '../state-machine-rows.js';

const MACHINE = `SELECT m.name, m.arn, m.type, m.revision_id, r.definition, r.role_arn, m.description, m.tags, m.managed_by,
  m.created_at, m.updated_at FROM state_machines m JOIN state_machine_revisions r ON r.id = m.revision_id`;
const SUMMARY = 'arn, state_machine_arn, name, revision_id, status, started_at, stopped_at, version_arn, alias_arn';

export function createSqliteStateMachineStore(db: SqliteDatabase, notifier: Notifier): StateMachineStore {
  const sql = {
    insertRevision: db.prepare<[string, string, string, number]>(
      'INSERT INTO state_machine_revisions (state_machine_arn, definition, role_arn, created_at) VALUES (?, ?, ?, ?)',
    ),
    insertMachine: db.prepare(
      `INSERT INTO state_machines (name, arn, type, revision_id, description, tags, managed_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getMachine: db.prepare<[string], MachineRow>(`${MACHINE} WHERE m.name = ?`),
    listMachines: db.prepare<[string, number], MachineRow>(`${MACHINE} WHERE m.name > ? ORDER BY m.name LIMIT ?`),
    updateMachine: db.prepare(
      'UPDATE state_machines SET revision_id = ?, description = ?, tags = ?, managed_by = ?, updated_at = ? WHERE name = ?',
    ),
    deleteMachine: db.prepare('DELETE FROM state_machines WHERE name = ?'),
    revision: db.prepare<[number], { id: number; state_machine_arn: string; definition: string; role_arn: string; created_at: number }>(
      'SELECT * FROM state_machine_revisions WHERE id = ?',
    ),
    insertExecution: db.prepare(
      `INSERT INTO executions (arn, state_machine_arn, name, revision_id, status, input, output, error, cause, state, version,
         last_event_id, started_at, stopped_at, lease_until, due_at, woken, wake_at, version_arn, alias_arn)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
    ),
    byName: db.prepare<[string, string], ExecutionRow>('SELECT * FROM executions WHERE state_machine_arn = ? AND name = ?'),
    getExecution: db.prepare<[string], ExecutionRow & { woken: number; lease_until: number | null }>('SELECT * FROM executions WHERE arn = ?'),
    // The redrive filter: NULL (any), 1 (redriven) or 0 (never redriven); the version and alias filters:
    // NULL (any) or the ARN. Each filter's value is bound twice.
    list: db.prepare<[string, number | null, number | null, string | null, string | null, string | null, string | null, number, string, number], ExecutionRow>(
      `SELECT ${SUMMARY} FROM executions WHERE state_machine_arn = ? AND (? IS NULL OR (redrive_count > 0) = ?)
         AND (? IS NULL OR version_arn = ?) AND (? IS NULL OR alias_arn = ?)
         AND (started_at, arn) < (?, ?)
       ORDER BY started_at DESC, arn DESC LIMIT ?`,
    ),
    listByStatus: db.prepare<[string, string, number | null, number | null, string | null, string | null, string | null, string | null, number, string, number], ExecutionRow>(
      `SELECT ${SUMMARY} FROM executions WHERE state_machine_arn = ? AND status = ? AND (? IS NULL OR (redrive_count > 0) = ?)
         AND (? IS NULL OR version_arn = ?) AND (? IS NULL OR alias_arn = ?)
         AND (started_at, arn) < (?, ?)
       ORDER BY started_at DESC, arn DESC LIMIT ?`,
    ),
    update: db.prepare(
      `UPDATE executions SET state = @state, status = @status, output = @output, error = @error, cause = @cause,
         stopped_at = @stoppedAt, last_event_id = @lastEventId, version = version + 1, lease_until = @leaseUntil, due_at = @dueAt,
         redrive_count = COALESCE(@redriveCount, redrive_count),
         wake_at = CASE WHEN @running = 0 THEN NULL WHEN @leaseUntil IS NOT NULL THEN @leaseUntil WHEN woken = 1 THEN @now ELSE @dueAt END,
         woken = CASE WHEN @running = 1 AND @leaseUntil IS NOT NULL THEN woken ELSE 0 END
       WHERE arn = @arn AND version = @version`,
    ),
    renew: db.prepare('UPDATE executions SET lease_until = ?, wake_at = ? WHERE arn = ? AND version = ?'),
    due: db.prepare<[number, number], { arn: string }>(
      `SELECT arn FROM executions WHERE wake_at IS NOT NULL AND wake_at <= ? AND status = 'RUNNING' ORDER BY wake_at LIMIT ?`,
    ),
    claim: db.prepare(
      'UPDATE executions SET version = version + 1, lease_until = ?, wake_at = ?, woken = 0 WHERE arn = ?',
    ),
    nextWake: db.prepare<[], { next: number | null }>(
      `SELECT MIN(wake_at) AS next FROM executions WHERE wake_at IS NOT NULL`,
    ),
    insertEvent: db.prepare(
      'INSERT INTO execution_events (execution_arn, id, previous_id, type, timestamp, details) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    historyAsc: db.prepare<[string, number, number], EventRow>(
      'SELECT id, previous_id, type, timestamp, details FROM execution_events WHERE execution_arn = ? AND id > ? ORDER BY id LIMIT ?',
    ),
    historyDesc: db.prepare<[string, number, number], EventRow>(
      'SELECT id, previous_id, type, timestamp, details FROM execution_events WHERE execution_arn = ? AND id < ? ORDER BY id DESC LIMIT ?',
    ),
    insertCallback: db.prepare(
      `INSERT INTO callbacks (id, status, created_at, timeout_at, heartbeat_ms, heartbeat_at, deadline_at, context)
       VALUES (?, 'WAITING', ?, ?, ?, ?, ?, ?)`,
    ),
    link: db.prepare('INSERT INTO execution_callbacks (callback_id, execution_arn) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    unlink: db.prepare('DELETE FROM execution_callbacks WHERE callback_id = ?'),
    unlinkAll: db.prepare('DELETE FROM execution_callbacks WHERE execution_arn = ?'),
    // A token its execution no longer waits for is over: a late answer gets TaskTimedOut, as AWS answers.
    settle: db.prepare(
      `UPDATE callbacks SET status = 'TIMED_OUT', settled_at = ?, error = 'States.Timeout', cause = 'A task token of a state that no longer waits (its execution moved on, was stopped or ended)', deadline_at = NULL
       WHERE id = ? AND status = 'WAITING'`,
    ),
    doomed: db.prepare<[number, number], { arn: string }>(
      `SELECT arn FROM executions WHERE stopped_at IS NOT NULL AND stopped_at < ? AND status <> 'RUNNING' LIMIT ?`,
    ),
    doomedExpress: db.prepare<[number, string, number], { arn: string }>(
      `SELECT arn FROM executions WHERE stopped_at IS NOT NULL AND stopped_at < ? AND status <> 'RUNNING' AND arn LIKE ? LIMIT ?`,
    ),
    deleteEvents: db.prepare('DELETE FROM execution_events WHERE execution_arn = ?'),
    deleteExecution: db.prepare('DELETE FROM executions WHERE arn = ?'),
    linked: db.prepare<[string], { callback_id: string }>('SELECT callback_id FROM execution_callbacks WHERE execution_arn = ?'),
    answer: db.prepare(
      `UPDATE callbacks SET status = ?, settled_at = ?, output = ?, error = ?, cause = ?, deadline_at = NULL WHERE id = ? AND status = 'WAITING'`,
    ),
    wakeWaiter: db.prepare(
      `UPDATE executions SET woken = 1, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE ? END
       WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id = ?)`,
    ),
  };

  const insertEvents = (arn: string, events: StoredEvent[]) => {
    for (const e of events) sql.insertEvent.run(arn, e.id, e.previousEventId, e.type, e.timestamp, e.details);
  };
  const insertCallbacks = (arn: string, callbacks: NewCallback[]) => {
    for (const c of callbacks) {
      const heartbeatAt = c.heartbeatMs === null ? null : c.createdAt + c.heartbeatMs;
      sql.insertCallback.run(c.id, c.createdAt, c.timeoutAt, c.heartbeatMs, heartbeatAt, callbackDeadline({ timeoutAt: c.timeoutAt, heartbeatAt }), c.context);
      sql.link.run(c.id, arn);
    }
  };

  /** A finished nested execution answers its parent's `.sync` task; the parent wakes. */
  const answerParent = (answer: NonNullable<ExecutionChange['answer']>, now: number) => {
    const c = answer.completion;
    const ok = c.status === 'SUCCEEDED';
    if (sql.answer.run(c.status, now, ok ? c.output : null, ok ? null : c.error, ok ? null : c.cause, answer.callbackId).changes === 1)
      sql.wakeWaiter.run(now, answer.callbackId);
  };

  const create = db.transaction((p: Parameters<StateMachineStore['stateMachineCreate']>[0]) => {
    const existing = sql.getMachine.get(p.machine.name);
    if (existing) return { outcome: 'exists' as const, machine: toMachine(existing) };
    const m = p.machine;
    const revision = Number(sql.insertRevision.run(m.arn, m.definition, m.roleArn, m.now).lastInsertRowid);
    sql.insertMachine.run(m.name, m.arn, m.type, revision, m.description, JSON.stringify(m.tags), m.managedBy, m.now, m.now);
    return { outcome: 'created' as const, machine: toMachine(sql.getMachine.get(m.name)!) };
  });

  const update = db.transaction((p: Parameters<StateMachineStore['stateMachineUpdate']>[0]) => {
    const row = sql.getMachine.get(p.name);
    if (!row) return undefined;
    let revision = row.revision_id;
    const definition = p.definition ?? row.definition;
    const roleArn = p.roleArn ?? row.role_arn;
    if (definition !== row.definition || roleArn !== row.role_arn)
      revision = Number(sql.insertRevision.run(row.arn, definition, roleArn, p.now).lastInsertRowid);
    sql.updateMachine.run(
      revision,
      p.description ?? row.description,
      p.tags === undefined ? row.tags : JSON.stringify(p.tags),
      p.managedBy === undefined ? row.managed_by : p.managedBy,
      p.now,
      p.name,
    );
    return toMachine(sql.getMachine.get(p.name)!);
  });

  const versionCalls = createSqliteVersionCalls(db);
  const removeMachine = db.transaction((name: string) => {
    versionCalls.deleteVersionsAndAliases(name);
    return sql.deleteMachine.run(name).changes === 1;
  });

  const start = db.transaction((p: Parameters<StateMachineStore['executionStart']>[0]) => {
    const e = p.execution;
    const existing = sql.byName.get(e.stateMachineArn, e.name);
    if (existing) return { outcome: 'exists' as const, execution: toExecution(existing) };
    const wake = e.status === 'RUNNING' ? wakeAt({ leaseUntil: e.leaseUntil, dueAt: e.dueAt, woken: false, now: e.startedAt }) : null;
    sql.insertExecution.run(e.arn, e.stateMachineArn, e.name, e.revisionId, e.status, e.input, e.output, e.error, e.cause, e.state, e.lastEventId, e.startedAt, e.stoppedAt, e.leaseUntil, e.dueAt, wake, e.versionArn ?? null, e.aliasArn ?? null);
    insertEvents(e.arn, p.events);
    insertCallbacks(e.arn, p.callbacks);
    if (p.answer) answerParent(p.answer, e.startedAt);
    return { outcome: 'created' as const };
  });

  const transition = db.transaction((p: Parameters<StateMachineStore['executionTransition']>[0]): boolean => {
    const running = p.status === 'RUNNING';
    const held = running && p.leaseUntil !== null;
    // wake_at: held → the lease end; released → now if a token was answered meanwhile, else the due instant.
    const changes = sql.update.run({
      arn: p.arn,
      version: p.version,
      state: p.state,
      status: p.status,
      output: p.output,
      error: p.error,
      cause: p.cause,
      stoppedAt: p.stoppedAt,
      lastEventId: p.lastEventId,
      leaseUntil: held ? p.leaseUntil : null,
      dueAt: running ? p.dueAt : null,
      now: p.now,
      running: running ? 1 : 0,
      redriveCount: p.redriveCount ?? null,
    }).changes;
    if (changes !== 1) return false;
    insertEvents(p.arn, p.events);
    insertCallbacks(p.arn, p.callbacks);
    for (const id of p.releasedCallbacks) {
      sql.settle.run(p.now, id);
      sql.unlink.run(id);
    }
    if (!running) {
      for (const { callback_id: id } of sql.linked.all(p.arn)) sql.settle.run(p.now, id);
      sql.unlinkAll.run(p.arn);
    }
    if (p.answer) answerParent(p.answer, p.now);
    return true;
  });

  const purge = db.transaction((p: { stoppedBefore: number; limit: number; expressOnly?: boolean }): number => {
    const doomed = p.expressOnly ? sql.doomedExpress.all(p.stoppedBefore, EXPRESS_ARN_PATTERN, p.limit) : sql.doomed.all(p.stoppedBefore, p.limit);
    for (const { arn } of doomed) {
      sql.deleteEvents.run(arn);
      sql.deleteExecution.run(arn);
    }
    return doomed.length;
  });

  const claim = db.transaction((p: { now: number; leaseUntil: number; limit: number }): StoredExecution[] => {
    const due = sql.due.all(p.now, p.limit);
    return due.map(({ arn }) => {
      sql.claim.run(p.leaseUntil, p.leaseUntil, arn);
      return toExecution(sql.getExecution.get(arn)!);
    });
  });

  return {
    async stateMachineCreate(p) {
      return create(p);
    },
    async stateMachineGet({ name }) {
      const row = sql.getMachine.get(name);
      return row ? toMachine(row) : undefined;
    },
    async stateMachineList({ after, limit }) {
      return sql.listMachines.all(after ?? '', limit).map(toMachine);
    },
    async stateMachineUpdate(p) {
      return update(p);
    },
    async stateMachineDelete({ name }) {
      return removeMachine(name);
    },
    ...versionCalls,
    async stateMachineRevision({ id }) {
      const row = sql.revision.get(id);
      return row ? { id: Number(row.id), stateMachineArn: row.state_machine_arn, definition: row.definition, roleArn: row.role_arn, createdAt: Number(row.created_at) } : undefined;
    },
    async executionStart(p) {
      const result = start(p);
      if (result.outcome === 'created') notifier.publish(executionsChannel);
      if (result.outcome === 'created' && p.answer) notifier.publish(callbackChannel(p.answer.callbackId));
      return result;
    },
    async executionGet({ arn }) {
      const row = sql.getExecution.get(arn);
      return row ? toExecution(row) : undefined;
    },
    async executionList(p) {
      // The first page starts after the greatest possible key.
      const after = p.after ?? { startedAt: Number.MAX_SAFE_INTEGER, arn: '' };
      const redriven = p.redriven === undefined ? null : p.redriven ? 1 : 0;
      const version = p.versionArn ?? null;
      const alias = p.aliasArn ?? null;
      const rows = p.status
        ? sql.listByStatus.all(p.stateMachineArn, p.status, redriven, redriven, version, version, alias, alias, after.startedAt, after.arn, p.limit)
        : sql.list.all(p.stateMachineArn, redriven, redriven, version, version, alias, alias, after.startedAt, after.arn, p.limit);
      return rows.map(toSummary);
    },
    async executionTransition(p) {
      const applied = transition(p);
      if (applied) {
        if (p.status !== 'RUNNING') notifier.publish(executionChannel(p.arn));
        if (p.leaseUntil === null || p.answer) notifier.publish(executionsChannel);
        if (p.answer) notifier.publish(callbackChannel(p.answer.callbackId));
      }
      return applied;
    },
    async executionRenew(p) {
      return sql.renew.run(p.leaseUntil, p.leaseUntil, p.arn, p.version).changes === 1;
    },
    async executionClaimDue(p) {
      return claim(p);
    },
    async executionNextWake() {
      return sql.nextWake.get()?.next ?? null;
    },
    async executionPurge(p) {
      return purge(p);
    },
    async executionHistory(p) {
      const rows = p.reverse
        ? sql.historyDesc.all(p.arn, p.afterId ?? Number.MAX_SAFE_INTEGER, p.limit)
        : sql.historyAsc.all(p.arn, p.afterId ?? 0, p.limit);
      return rows.map(toEvent);
    },
  };
}
