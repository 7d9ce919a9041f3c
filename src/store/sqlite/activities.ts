/** Activities and their waiting tasks on SQLite (store/activity-store.ts). */
import { activityChannel, type ActivityStore, type StoredActivity } from '../activity-store.js';
import type { Notifier } from '../notifier.js';
import { callbackIdOfToken } from '../rules/callback-id.js';
import { executionsChannel } from '../state-machine-store.js';
import type { SqliteDatabase } from './database.js';

interface ActivityRow {
  name: string;
  arn: string;
  tags: string;
  created_at: number;
}

const toActivity = (row: ActivityRow): StoredActivity => ({ name: row.name, arn: row.arn, tags: JSON.parse(row.tags) as Record<string, string>, createdAt: Number(row.created_at) });

export function createSqliteActivityStore(db: SqliteDatabase, notifier: Notifier): ActivityStore {
  const sql = {
    insert: db.prepare('INSERT INTO activities (name, arn, tags, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING'),
    get: db.prepare<[string], ActivityRow>('SELECT * FROM activities WHERE name = ?'),
    list: db.prepare<[string, number], ActivityRow>('SELECT * FROM activities WHERE name > ? ORDER BY name LIMIT ?'),
    remove: db.prepare('DELETE FROM activities WHERE name = ?'),
    setTags: db.prepare('UPDATE activities SET tags = ? WHERE name = ?'),
    removeTasks: db.prepare('DELETE FROM activity_tasks WHERE activity_arn = ?'),
    enqueue: db.prepare('INSERT INTO activity_tasks (activity_arn, token, input, created_at) VALUES (?, ?, ?, ?)'),
    claim: db.prepare<[string], { token: string; input: string }>(
      'DELETE FROM activity_tasks WHERE seq = (SELECT seq FROM activity_tasks WHERE activity_arn = ? ORDER BY seq LIMIT 1) RETURNING token, input',
    ),
    // The token's first start is kept (a task enqueued again after a node died is started again).
    start: db.prepare(
      `UPDATE callbacks SET worker_name = CASE WHEN started_at IS NULL THEN ? ELSE worker_name END, started_at = COALESCE(started_at, ?)
       WHERE id = ? AND status = 'WAITING' AND (deadline_at IS NULL OR deadline_at > ?)`,
    ),
    // The execution waiting on the token wakes now, or when its holder releases it, to record ActivityStarted.
    wakeExecution: db.prepare(
      `UPDATE executions SET woken = 1, wake_at = CASE WHEN lease_until IS NOT NULL THEN wake_at ELSE ? END
       WHERE status = 'RUNNING' AND arn = (SELECT execution_arn FROM execution_callbacks WHERE callback_id = ?)`,
    ),
  };
  /** Take, start and wake in one transaction; tasks whose token no longer waits are dropped on the way. */
  const claim = db.transaction((p: { activityArn: string; now: number; workerName: string | null }) => {
    for (;;) {
      const row = sql.claim.get(p.activityArn);
      if (!row) return undefined;
      const id = callbackIdOfToken(row.token);
      if (sql.start.run(p.workerName, p.now, id, p.now).changes === 0) continue;
      sql.wakeExecution.run(p.now, id);
      return { token: row.token, input: row.input };
    }
  });
  const create = db.transaction((a: StoredActivity) => {
    const created = sql.insert.run(a.name, a.arn, JSON.stringify(a.tags), a.createdAt).changes === 1;
    return { outcome: created ? ('created' as const) : ('exists' as const), activity: toActivity(sql.get.get(a.name)!) };
  });
  const tag = db.transaction((p: { name: string; set: Record<string, string>; remove: string[] }) => {
    const row = sql.get.get(p.name);
    if (!row) return undefined;
    const tags = { ...(JSON.parse(row.tags) as Record<string, string>), ...p.set };
    for (const key of p.remove) delete tags[key];
    sql.setTags.run(JSON.stringify(tags), p.name);
    return toActivity({ ...row, tags: JSON.stringify(tags) });
  });
  const remove = db.transaction((name: string) => {
    const row = sql.get.get(name);
    if (!row) return false;
    sql.removeTasks.run(row.arn);
    sql.remove.run(name);
    return true;
  });
  return {
    async activityCreate({ activity }) {
      return create(activity);
    },
    async activityGet({ name }) {
      const row = sql.get.get(name);
      return row ? toActivity(row) : undefined;
    },
    async activityList({ after, limit }) {
      return sql.list.all(after ?? '', limit).map(toActivity);
    },
    async activityTag(p) {
      return tag(p);
    },
    async activityDelete({ name }) {
      return remove(name);
    },
    async activityTaskEnqueue({ activityArn, task, now }) {
      sql.enqueue.run(activityArn, task.token, task.input, now);
      notifier.publish(activityChannel(activityArn));
    },
    async activityTaskClaim(p) {
      const task = claim(p);
      if (task) notifier.publish(executionsChannel);
      return task;
    },
  };
}
