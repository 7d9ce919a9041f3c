/**
 * Activities and their waiting tasks on PostgreSQL (store/activity-store.ts). A claim takes the oldest
 * task with `FOR UPDATE SKIP LOCKED`, so workers polling on several nodes never get the same task, and
 * records its start in the same statement.
 */
import type pg from 'pg';
import { activityChannel, type ActivityStore, type StoredActivity } from '../activity-store.js';
import type { Notifier } from '../notifier.js';
import { executionsChannel } from '../state-machine-store.js';
import { run, transaction } from './connection.js';

/**
 * GetActivityTask's claim in one statement (so one transaction): take the oldest task, mark its token
 * started (the callback id is the token's SHA-256 in hex, as callbacks/token.ts computes it; a token's
 * first start is kept), and wake the execution waiting on it to record ActivityStarted. A task whose
 * token is finished, missing or past its deadline is deleted all the same and comes back `started = false`.
 */
const claim = {
  name: 'sluice_activity_task_claim_start',
  text: `WITH task AS (
           DELETE FROM activity_tasks WHERE seq = (
             SELECT seq FROM activity_tasks WHERE activity_arn = $1 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
           ) RETURNING token, input
         ), started AS (
           UPDATE callbacks SET worker_name = CASE WHEN started_at IS NULL THEN $3 ELSE worker_name END,
             started_at = COALESCE(started_at, $2::bigint)
           WHERE id = (SELECT encode(sha256(convert_to(token, 'UTF8')), 'hex') FROM task)
             AND status = 'WAITING' AND (deadline_at IS NULL OR deadline_at > $2::bigint)
           RETURNING id
         ), woke AS (
           UPDATE executions SET woken = true, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE $2::bigint END
           WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id = (SELECT id FROM started))
         )
         SELECT token, input, EXISTS (SELECT 1 FROM started) AS started FROM task`,
};

interface ActivityRow {
  name: string;
  arn: string;
  tags: string;
  created_at: string | number;
}

const toActivity = (row: ActivityRow): StoredActivity => ({ name: row.name, arn: row.arn, tags: JSON.parse(row.tags) as Record<string, string>, createdAt: Number(row.created_at) });

export function createPostgresActivityStore(pool: pg.Pool, notifier: Notifier): ActivityStore {
  return {
    async activityCreate({ activity: a }) {
      const inserted = await run<ActivityRow>(
        pool,
        { text: 'INSERT INTO activities (name, arn, tags, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING *' },
        [a.name, a.arn, JSON.stringify(a.tags), a.createdAt],
      );
      if (inserted[0]) return { outcome: 'created', activity: toActivity(inserted[0]) };
      const existing = await run<ActivityRow>(pool, { text: 'SELECT * FROM activities WHERE name = $1' }, [a.name]);
      return { outcome: 'exists', activity: toActivity(existing[0]!) };
    },
    async activityGet({ name }) {
      const rows = await run<ActivityRow>(pool, { text: 'SELECT * FROM activities WHERE name = $1' }, [name]);
      return rows[0] ? toActivity(rows[0]) : undefined;
    },
    async activityList({ after, limit }) {
      const rows = await run<ActivityRow>(pool, { text: 'SELECT * FROM activities WHERE name > $1 ORDER BY name LIMIT $2' }, [after ?? '', limit]);
      return rows.map(toActivity);
    },
    async activityTag(p) {
      // One statement: merge, then remove, on the row as it is when the update locks it.
      const rows = await run<ActivityRow>(
        pool,
        { text: 'UPDATE activities SET tags = ((tags::jsonb || $2::jsonb) - $3::text[])::text WHERE name = $1 RETURNING *' },
        [p.name, JSON.stringify(p.set), p.remove],
      );
      return rows[0] ? toActivity(rows[0]) : undefined;
    },
    async activityDelete({ name }) {
      return transaction(pool, async (client) => {
        const { rows } = await client.query<{ arn: string }>('DELETE FROM activities WHERE name = $1 RETURNING arn', [name]);
        if (!rows[0]) return false;
        await client.query('DELETE FROM activity_tasks WHERE activity_arn = $1', [rows[0].arn]);
        return true;
      });
    },
    async activityTaskEnqueue({ activityArn, task, now }) {
      await run(pool, { text: 'INSERT INTO activity_tasks (activity_arn, token, input, created_at) VALUES ($1, $2, $3, $4)' }, [activityArn, task.token, task.input, now]);
      notifier.publish(activityChannel(activityArn));
    },
    async activityTaskClaim({ activityArn, now, workerName }) {
      for (;;) {
        const [row] = await run<{ token: string; input: string; started: boolean }>(pool, claim, [activityArn, now, workerName]);
        if (!row) return undefined;
        // A task whose token no longer waits was dropped by the statement; take the next one.
        if (!row.started) continue;
        notifier.publish(executionsChannel);
        return { token: row.token, input: row.input };
      }
    },
  };
}
