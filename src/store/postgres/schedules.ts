/**
 * Schedules on PostgreSQL. The tick claim is one statement: a conditional UPDATE (`next_fire_at =
 * tick`) and, fed by its RETURNING, the outbox insert of the delivery. Two nodes racing for a tick both
 * run it; the second waits for the first's row lock, re-checks the condition on the committed row and
 * matches nothing, so the tick fires once.
 */
import type pg from 'pg';
import type { ScheduleTarget } from '../targets.js';
import type { Notifier } from '../notifier.js';
import { outboxChannel } from '../outbox-store.js';
import type { CatalogScheduleWrites } from '../catalog-store.js';
import { scheduleCatalogChannel, policyText, type SchedulePolicy, type ScheduleStore, type StoredSchedule } from '../schedule-store.js';
import { run } from './connection.js';

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

const COLUMNS =
  'name, expression, timezone, target, state, catch_up_window_ms, anchor_at, next_fire_at, last_tick_at, last_fired_at, created_at, modified_at, policy';

const sql = {
  insert: {
    text: `INSERT INTO schedules (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           ON CONFLICT (name) DO NOTHING`,
  },
  update: {
    text: `UPDATE schedules SET expression = $2, timezone = $3, target = $4, state = $5, catch_up_window_ms = $6,
             anchor_at = $7, next_fire_at = $8, modified_at = $9, policy = $10
           WHERE name = $1 RETURNING ${COLUMNS}`,
  },
  delete: { text: 'DELETE FROM schedules WHERE name = $1' },
  get: { text: `SELECT ${COLUMNS} FROM schedules WHERE name = $1` },
  list: { text: `SELECT ${COLUMNS} FROM schedules WHERE name LIKE $1 ESCAPE '\\' ORDER BY name` },
  // Due schedules and the earliest later tick from one snapshot; always at least one row.
  due: {
    name: 'sluice_schedules_due',
    text: `SELECT d.*, n.next_due_at
           FROM (SELECT min(next_fire_at) AS next_due_at FROM schedules
                 WHERE state = 'ENABLED' AND next_fire_at IS NOT NULL AND next_fire_at > $1) AS n
           LEFT JOIN LATERAL (
             SELECT ${COLUMNS} FROM schedules
             WHERE state = 'ENABLED' AND next_fire_at IS NOT NULL AND next_fire_at <= $1
             ORDER BY next_fire_at LIMIT $2
           ) AS d ON true`,
  },
  // $2 the tick, $3 the next one; $4-$6 the delivery (all null: the tick is skipped); $7 now; $8 its due time (null: now).
  claim: {
    name: 'sluice_schedule_claim',
    text: `WITH claimed AS (
             UPDATE schedules SET next_fire_at = $3::bigint, last_tick_at = $2::bigint,
               last_fired_at = CASE WHEN $4::text IS NOT NULL THEN $2::bigint ELSE last_fired_at END
             WHERE name = $1 AND state = 'ENABLED' AND next_fire_at = $2::bigint
             RETURNING name
           ),
           delivered AS (
             INSERT INTO outbox (key, topic, payload, created_at, due_at)
             SELECT $4::text, $5::text, $6::text, $7::bigint, COALESCE($8::bigint, $7::bigint) FROM claimed WHERE $4::text IS NOT NULL
             ON CONFLICT (key) DO NOTHING
           )
           SELECT count(*) AS claimed FROM claimed`,
  },
};

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
 * The schedule writes of `catalogWrite` (`sluice apply`), on the client of its transaction: the name of
 * the first schedule whose condition fails (a create of an existing name, an update or delete of a
 * missing one), or undefined when all were made.
 */
export async function writeSchedulesIn(client: pg.PoolClient, writes: CatalogScheduleWrites): Promise<string | undefined> {
  for (const s of writes.creates) {
    const values = [s.name, s.expression, s.timezone, JSON.stringify(s.target), s.state, s.catchUpWindowMs, s.anchorAt, s.nextFireAt, s.lastTickAt, s.lastFiredAt, s.createdAt, s.modifiedAt, policyText(s.policy)];
    if ((await client.query(sql.insert.text, values)).rowCount !== 1) return s.name;
  }
  for (const p of writes.updates) {
    const values = [p.name, p.expression, p.timezone, JSON.stringify(p.target), p.state, p.catchUpWindowMs, p.anchorAt, p.nextFireAt, p.now, policyText(p.policy)];
    if ((await client.query(sql.update.text, values)).rowCount !== 1) return p.name;
  }
  for (const name of writes.deletes) if ((await client.query(sql.delete.text, [name])).rowCount !== 1) return name;
  return undefined;
}

export function createPostgresScheduleStore(pool: pg.Pool, notifier: Notifier): ScheduleStore {
  return {
    async scheduleCreate({ schedule: s }) {
      const result = await pool.query(sql.insert.text, [
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
      ]);
      const created = result.rowCount === 1;
      if (created) notifier.publish(scheduleCatalogChannel);
      return created ? 'created' : 'exists';
    },
    async scheduleUpdate(p) {
      const [row] = await run<ScheduleRow>(pool, sql.update, [
        p.name,
        p.expression,
        p.timezone,
        JSON.stringify(p.target),
        p.state,
        p.catchUpWindowMs,
        p.anchorAt,
        p.nextFireAt,
        p.now,
        policyText(p.policy),
      ]);
      if (!row) return undefined;
      notifier.publish(scheduleCatalogChannel);
      return toSchedule(row);
    },
    async scheduleDelete({ name }) {
      const deleted = (await pool.query(sql.delete.text, [name])).rowCount === 1;
      if (deleted) notifier.publish(scheduleCatalogChannel);
      return deleted;
    },
    async scheduleGet({ name }) {
      const [row] = await run<ScheduleRow>(pool, sql.get, [name]);
      return row ? toSchedule(row) : undefined;
    },
    async scheduleList({ prefix }) {
      const pattern = `${(prefix ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return (await run<ScheduleRow>(pool, sql.list, [pattern])).map(toSchedule);
    },
    async scheduleDue(p) {
      const rows = await run<ScheduleRow & { next_due_at: number | null }>(pool, sql.due, [p.now, p.limit]);
      return {
        due: rows.filter((row) => row.name !== null).map(toSchedule),
        nextDueAt: rows[0]?.next_due_at ?? null,
      };
    },
    async scheduleClaimTick(p) {
      const d = p.delivery;
      const [row] = await run<{ claimed: number }>(pool, sql.claim, [
        p.name,
        p.tick,
        p.nextFireAt,
        d?.key ?? null,
        d?.topic ?? null,
        d?.payload ?? null,
        p.now,
        d?.dueAt ?? null,
      ]);
      const claimed = (row?.claimed ?? 0) === 1;
      if (claimed && d) notifier.publish(outboxChannel);
      return claimed;
    },
  };
}
