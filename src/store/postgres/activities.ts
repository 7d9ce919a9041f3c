/**
 * Activities and their waiting tasks on PostgreSQL (store/activity-store.ts). A claim takes the oldest
 * task with `FOR UPDATE SKIP LOCKED`, so workers polling on several nodes never get the same task.
 */
import type pg from 'pg';
import { activityChannel, type ActivityStore, type StoredActivity } from '../activity-store.js';
import type { Notifier } from '../notifier.js';
import { run, transaction } from './connection.js';

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
    async activityTaskClaim({ activityArn }) {
      const rows = await run<{ token: string; input: string }>(
        pool,
        {
          name: 'sluice_activity_task_claim',
          text: `DELETE FROM activity_tasks WHERE seq = (
                   SELECT seq FROM activity_tasks WHERE activity_arn = $1 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
                 ) RETURNING token, input`,
        },
        [activityArn],
      );
      return rows[0];
    },
  };
}
