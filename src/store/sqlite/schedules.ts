/**
 * Schedules on SQLite. The tick claim is a single conditional UPDATE (`next_fire_at = tick`) followed,
 * in the same transaction, by the outbox insert of the delivery.
 */
import type { ScheduleTarget } from '../targets.js';
import type { Notifier } from '../notifier.js';
import { outboxChannel } from '../outbox-store.js';
import type { CatalogScheduleWrites } from '../catalog-store.js';
import { scheduleCatalogChannel, policyText, type SchedulePolicy, type ScheduleStore, type StoredSchedule } from '../schedule-store.js';
import type { SqliteDatabase } from './database.js';
import { outboxInserter } from './outbox.js';

interface ScheduleRow {
  name: string;
  expression: string;
  timezone: string;
  target: string;
  state: StoredSchedule['state'];
  catch_up_window_ms: number;
  anchor_at: number;
  next_fire_at: number | null;
  policy: string | null;
  last_tick_at: number | null;
  last_fired_at: number | null;
  created_at: number;
  modified_at: number;
}

function toSchedule(row: ScheduleRow): StoredSchedule {
  return {
    name: row.name,
    expression: row.expression,
    timezone: row.timezone,
    target: JSON.parse(row.target) as ScheduleTarget,
    state: row.state,
    catchUpWindowMs: row.catch_up_window_ms,
    anchorAt: row.anchor_at,
    nextFireAt: row.next_fire_at,
    policy: row.policy === null ? null : (JSON.parse(row.policy) as SchedulePolicy),
    lastTickAt: row.last_tick_at,
    lastFiredAt: row.last_fired_at,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

/**
 * The schedule writes of `catalogWrite` (`sluice apply`), to call inside its transaction: the name of
 * the first schedule whose condition fails (a create of an existing name, an update or delete of a
 * missing one), or undefined when all were made.
 */
export function sqliteScheduleWriter(db: SqliteDatabase): (writes: CatalogScheduleWrites) => string | undefined {
  const insert = db.prepare(
    `INSERT INTO schedules (name, expression, timezone, target, state, catch_up_window_ms, anchor_at, next_fire_at,
       last_tick_at, last_fired_at, created_at, modified_at, policy)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
  );
  const update = db.prepare(
    `UPDATE schedules SET expression = ?, timezone = ?, target = ?, state = ?, catch_up_window_ms = ?, anchor_at = ?,
       next_fire_at = ?, policy = ?, modified_at = ? WHERE name = ?`,
  );
  const remove = db.prepare('DELETE FROM schedules WHERE name = ?');
  return (writes) => {
    for (const s of writes.creates) {
      const values = [s.name, s.expression, s.timezone, JSON.stringify(s.target), s.state, s.catchUpWindowMs, s.anchorAt, s.nextFireAt, s.lastTickAt, s.lastFiredAt, s.createdAt, s.modifiedAt, policyText(s.policy)];
      if (insert.run(...values).changes !== 1) return s.name;
    }
    for (const p of writes.updates) {
      if (update.run(p.expression, p.timezone, JSON.stringify(p.target), p.state, p.catchUpWindowMs, p.anchorAt, p.nextFireAt, policyText(p.policy), p.now, p.name).changes !== 1) return p.name;
    }
    for (const name of writes.deletes) if (remove.run(name).changes !== 1) return name;
    return undefined;
  };
}

export function createSqliteScheduleStore(db: SqliteDatabase, notifier: Notifier): ScheduleStore {
  const insertOutbox = outboxInserter(db);
  const sql = {
    insert: db.prepare(
      `INSERT INTO schedules (name, expression, timezone, target, state, catch_up_window_ms, anchor_at, next_fire_at,
         last_tick_at, last_fired_at, created_at, modified_at, policy)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    ),
    update: db.prepare(
      `UPDATE schedules SET expression = ?, timezone = ?, target = ?, state = ?, catch_up_window_ms = ?, anchor_at = ?,
         next_fire_at = ?, policy = ?, modified_at = ? WHERE name = ?`,
    ),
    delete: db.prepare('DELETE FROM schedules WHERE name = ?'),
    get: db.prepare<[string], ScheduleRow>('SELECT * FROM schedules WHERE name = ?'),
    list: db.prepare<[string], ScheduleRow>(
      "SELECT * FROM schedules WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
    ),
    due: db.prepare<[number, number], ScheduleRow>(
      `SELECT * FROM schedules WHERE state = 'ENABLED' AND next_fire_at IS NOT NULL AND next_fire_at <= ?
       ORDER BY next_fire_at LIMIT ?`,
    ),
    nextDue: db.prepare<[number], { next: number | null }>(
      `SELECT MIN(next_fire_at) AS next FROM schedules WHERE state = 'ENABLED' AND next_fire_at IS NOT NULL AND next_fire_at > ?`,
    ),
    claim: db.prepare(
      `UPDATE schedules SET next_fire_at = ?, last_tick_at = ?, last_fired_at = CASE WHEN ? THEN ? ELSE last_fired_at END
       WHERE name = ? AND state = 'ENABLED' AND next_fire_at = ?`,
    ),
  };

  const claim = db.transaction((p: Parameters<ScheduleStore['scheduleClaimTick']>[0]): boolean => {
    const fired = p.delivery !== null;
    if (sql.claim.run(p.nextFireAt, p.tick, fired ? 1 : 0, p.tick, p.name, p.tick).changes !== 1)
      return false;
    if (p.delivery) insertOutbox(p.delivery, p.now);
    return true;
  });
  const update = db.transaction(
    (p: Parameters<ScheduleStore['scheduleUpdate']>[0]): StoredSchedule | undefined => {
      const changes = sql.update.run(
        p.expression,
        p.timezone,
        JSON.stringify(p.target),
        p.state,
        p.catchUpWindowMs,
        p.anchorAt,
        p.nextFireAt,
        policyText(p.policy),
        p.now,
        p.name,
      ).changes;
      const row = changes === 1 ? sql.get.get(p.name) : undefined;
      return row ? toSchedule(row) : undefined;
    },
  );
  const due = db.transaction((p: { now: number; limit: number }) => ({
    due: sql.due.all(p.now, p.limit).map(toSchedule),
    nextDueAt: sql.nextDue.get(p.now)?.next ?? null,
  }));

  return {
    async scheduleCreate({ schedule: s }) {
      const changes = sql.insert.run(
        s.name,
        s.expression,
        s.timezone,
        JSON.stringify(s.target),
        s.state,
        s.catchUpWindowMs,
        s.anchorAt,
        s.nextFireAt,
        s.lastTickAt,
        s.lastFiredAt,
        s.createdAt,
        s.modifiedAt,
        policyText(s.policy),
      ).changes;
      if (changes === 1) notifier.publish(scheduleCatalogChannel);
      return changes === 1 ? 'created' : 'exists';
    },
    async scheduleUpdate(p) {
      const schedule = update(p);
      if (schedule) notifier.publish(scheduleCatalogChannel);
      return schedule;
    },
    async scheduleDelete({ name }) {
      const deleted = sql.delete.run(name).changes === 1;
      if (deleted) notifier.publish(scheduleCatalogChannel);
      return deleted;
    },
    async scheduleGet({ name }) {
      const row = sql.get.get(name);
      return row ? toSchedule(row) : undefined;
    },
    async scheduleList({ prefix }) {
      const pattern = `${(prefix ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return sql.list.all(pattern).map(toSchedule);
    },
    async scheduleDue(p) {
      return due(p);
    },
    async scheduleClaimTick(p) {
      const claimed = claim(p);
      if (claimed && p.delivery) notifier.publish(outboxChannel);
      return claimed;
    },
  };
}
