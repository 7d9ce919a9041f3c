/**
 * The cluster store on SQLite (see store/cluster-store.ts), migration 6. An embedded engine is one node
 * and keeps its concurrency in memory, so it does not use these tables by default; they exist so the
 * cluster layer runs unchanged when several processes share one SQLite file (`cluster: true`), and so
 * one conformance suite covers both backends. Each operation is one synchronous IMMEDIATE transaction:
 * the write lock serializes them, which makes every check-then-write below atomic. The "server" never
 * restarts, so no grace period applies after one.
 */
import {
  clusterChannels,
  type ClusterStore,
  type HeartbeatOutcome,
  type LeaseFence,
  type NodeStatus,
} from '../cluster-store.js';
import type { Notifier } from '../notifier.js';
import type { SqliteDatabase } from './database.js';

const FORGET_AFTER_MS = 3_600_000;

/** Migration 10: a dead node's slots stay counted for the hold its last heartbeat reported. */
export const slotHoldMigrationSql = `ALTER TABLE nodes ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;`;

export const clusterMigrationSql = `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    status TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE leases (
    resource TEXT PRIMARY KEY,
    grp TEXT NOT NULL,
    owner TEXT,
    token INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX leases_by_group ON leases (grp, expires_at);
  CREATE INDEX leases_by_owner ON leases (owner) WHERE owner IS NOT NULL;
  CREATE TABLE concurrency_slots (
    scope TEXT NOT NULL,
    node_id TEXT NOT NULL,
    granted INTEGER NOT NULL,
    wanted INTEGER NOT NULL,
    PRIMARY KEY (scope, node_id)
  ) WITHOUT ROWID;
  CREATE INDEX concurrency_slots_by_node ON concurrency_slots (node_id);
`;

interface LeaseRowDb {
  resource: string;
  grp: string;
  owner: string | null;
  token: number;
  expires_at: number;
}

export function createSqliteClusterStore(db: SqliteDatabase, notifier: Notifier): ClusterStore {
  const sql = {
    dropLeases: db.prepare('UPDATE leases SET owner = NULL, expires_at = ? WHERE owner = ?'),
    dropSlots: db.prepare('DELETE FROM concurrency_slots WHERE node_id = ?'),
    register: db.prepare(
      `INSERT INTO nodes (id, started_at, heartbeat_at, status, hold_ms) VALUES (?, ?, ?, 'alive', 0)
       ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
         status = 'alive', hold_ms = 0`,
    ),
    beat: db.prepare(`UPDATE nodes SET heartbeat_at = ?, hold_ms = ? WHERE id = ? AND status = 'alive'`),
    renew: db.prepare('UPDATE leases SET expires_at = ? WHERE owner = ?'),
    silent: db.prepare<[string, number], { id: string }>(
      `SELECT id FROM nodes WHERE status = 'alive' AND id <> ? AND heartbeat_at < ? ORDER BY id`,
    ),
    markDead: db.prepare(`UPDATE nodes SET status = 'dead' WHERE id = ?`),
    // A dead node's hold_ms becomes -1 once its slots are freed (see store/cluster-store.ts).
    holdPassed: db.prepare<[number, number], { id: string }>(
      `SELECT id FROM nodes WHERE status = 'dead' AND hold_ms >= 0 AND heartbeat_at + ? + hold_ms <= ? ORDER BY id`,
    ),
    markReleased: db.prepare(`UPDATE nodes SET hold_ms = -1 WHERE id = ?`),
    setHold: db.prepare(`UPDATE nodes SET hold_ms = ? WHERE id = ? AND status = 'alive'`),
    forget: db.prepare(`DELETE FROM nodes WHERE (status = 'stopped' OR hold_ms < 0) AND heartbeat_at < ?`),
    alive: db.prepare<[], { id: string }>(`SELECT id FROM nodes WHERE status = 'alive' ORDER BY id`),
    isAlive: db.prepare<[string], { one: number }>(
      `SELECT 1 AS one FROM nodes WHERE id = ? AND status = 'alive'`,
    ),
    takeable: db.prepare<[number], { grp: string }>(
      'SELECT DISTINCT grp FROM leases WHERE expires_at <= ? ORDER BY grp',
    ),
    leave: db.prepare(`UPDATE nodes SET status = 'stopped', heartbeat_at = ? WHERE id = ?`),
    nodes: db.prepare<[], { id: string; started_at: number; heartbeat_at: number; status: NodeStatus }>(
      'SELECT id, started_at, heartbeat_at, status FROM nodes ORDER BY id',
    ),
    declare: db.prepare(
      'INSERT INTO leases (resource, grp, expires_at) VALUES (?, ?, ?) ON CONFLICT (resource) DO NOTHING',
    ),
    candidates: db.prepare<[string, number, number], { resource: string }>(
      'SELECT resource FROM leases WHERE grp = ? AND expires_at <= ? ORDER BY resource LIMIT ?',
    ),
    take: db.prepare<[string, number, string], { token: number }>(
      'UPDATE leases SET owner = ?, token = token + 1, expires_at = ? WHERE resource = ? RETURNING token',
    ),
    release: db.prepare(
      'UPDATE leases SET owner = NULL, expires_at = ? WHERE resource = ? AND owner = ? AND token = ?',
    ),
    held: db.prepare<[string], { resource: string; token: number }>(
      'SELECT resource, token FROM leases WHERE owner = ? ORDER BY resource',
    ),
    list: db.prepare<[string], LeaseRowDb>(
      'SELECT resource, grp, owner, token, expires_at FROM leases WHERE grp = ? ORDER BY resource',
    ),
    drop: db.prepare('DELETE FROM leases WHERE grp = ?'),
    fence: db.prepare<[string, string, number], { one: number }>(
      'SELECT 1 AS one FROM leases WHERE resource = ? AND owner = ? AND token = ?',
    ),
    checkpoint: db.prepare(
      `INSERT INTO stream_checkpoints (consumer, shard, table_id, seq, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (consumer, shard) DO UPDATE SET table_id = excluded.table_id, seq = excluded.seq,
         state = excluded.state, updated_at = excluded.updated_at`,
    ),
    // unsettled: another live node with slots that had some spare, or was not told anyone waits, when it
    // last wrote its grant (migration 22).
    others: db.prepare<[string, string], { used: number; waiting: number; unsettled: number }>(
      `SELECT COALESCE(SUM(s.granted), 0) AS used, COALESCE(MAX(s.wanted > s.granted AND n.status = 'alive'), 0) AS waiting,
         COALESCE(MAX(n.status = 'alive' AND s.granted > 0 AND (s.held < s.granted OR NOT s.told_waiting)), 0) AS unsettled
       FROM concurrency_slots s JOIN nodes n ON n.id = s.node_id
       WHERE s.scope = ? AND s.node_id <> ? AND n.status <> 'stopped'`,
    ),
    grant: db.prepare(
      `INSERT INTO concurrency_slots (scope, node_id, granted, wanted, held, told_waiting) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, node_id) DO UPDATE SET granted = excluded.granted, wanted = excluded.wanted,
         held = excluded.held, told_waiting = excluded.told_waiting`,
    ),
    slots: db.prepare<[string], { node_id: string; granted: number; wanted: number }>(
      'SELECT node_id, granted, wanted FROM concurrency_slots WHERE scope = ? ORDER BY node_id',
    ),
  };

  const register = db.transaction((nodeId: string, rejoin: boolean, now: number) => {
    sql.dropLeases.run(now, nodeId);
    if (!rejoin) sql.dropSlots.run(nodeId);
    sql.register.run(nodeId, now, now);
  });

  const heartbeat = db.transaction(
    (p: Parameters<ClusterStore['nodeHeartbeat']>[0], now: number): HeartbeatOutcome => {
      const alive = sql.beat.run(now, p.holdMs, p.nodeId).changes > 0;
      const leases = alive ? sql.renew.run(now + p.leaseMs, p.nodeId).changes : 0;
      // As on PostgreSQL, a node reaped now is released by a later heartbeat, once its hold has passed.
      const released = sql.holdPassed.all(p.nodeTimeoutMs, now).map((row) => row.id);
      for (const id of released) {
        sql.markReleased.run(id);
        sql.dropSlots.run(id);
      }
      const reaped = sql.silent.all(p.nodeId, now - p.nodeTimeoutMs).map((row) => row.id);
      for (const id of reaped) sql.markDead.run(id);
      sql.forget.run(now - FORGET_AFTER_MS);
      const groups = new Set(p.groups);
      const mine = (rows: Array<{ grp: string }>) =>
        rows.map((row) => row.grp).filter((group) => groups.has(group));
      return {
        alive,
        now,
        nodes: sql.alive.all().map((row) => row.id),
        leases,
        takeableGroups: mine(sql.takeable.all(now)),
        orphanedGroups: mine(sql.takeable.all(now - p.leaseMs)),
        reaped,
        released,
      };
    },
  );

  const leave = db.transaction((nodeId: string, now: number) => {
    sql.dropLeases.run(now, nodeId);
    sql.dropSlots.run(nodeId);
    sql.leave.run(now, nodeId);
  });

  // A new lease is free since now: nobody has declined it yet, so it is not orphaned for a lease timeout.
  const declare = db.transaction((group: string, resources: string[], now: number) => {
    for (const resource of resources) sql.declare.run(resource, group, now);
  });

  const acquire = db.transaction(
    (p: Parameters<ClusterStore['leaseAcquire']>[0], now: number): LeaseFence[] => {
      if (!sql.isAlive.get(p.nodeId)) return [];
      return sql.candidates.all(p.group, now - p.graceMs, p.max).map((row) => ({
        resource: row.resource,
        nodeId: p.nodeId,
        token: sql.take.get(p.nodeId, now + p.leaseMs, row.resource)!.token,
      }));
    },
  );

  const release = db.transaction((fences: LeaseFence[], now: number) =>
    fences.reduce((freed, f) => freed + sql.release.run(now, f.resource, f.nodeId, f.token).changes, 0),
  );

  const checkpoint = db.transaction((p: Parameters<ClusterStore['leaseCheckpointSave']>[0]): boolean => {
    if (!sql.fence.get(p.fence.resource, p.fence.nodeId, p.fence.token)) return false;
    for (const c of p.checkpoints) sql.checkpoint.run(p.consumer, c.shard, p.tableId, c.seq, c.state, p.now);
    return true;
  });

  const grant = db.transaction((p: Parameters<ClusterStore['slotGrant']>[0]) => {
    const alive = sql.setHold.run(p.holdMs, p.nodeId).changes > 0;
    return [...p.changes]
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0))
      .map((change) => {
        const others = sql.others.get(change.scope, p.nodeId)!;
        const granted = alive ? Math.min(change.want, Math.max(0, change.limit - others.used)) : 0;
        if (alive)
          sql.grant.run(
            change.scope,
            p.nodeId,
            granted,
            change.waiting ? Math.max(change.want, granted) : granted,
            change.held,
            others.waiting,
          );
        // The verdict of migration 22, as PostgreSQL's slot_grant gives it.
        const final = alive && change.waiting && granted <= change.held && others.unsettled === 0;
        return { scope: change.scope, granted, othersWaiting: others.waiting === 1, final };
      });
  });

  return {
    async nodeRegister(p) {
      const now = Date.now();
      register.immediate(p.nodeId, p.rejoin ?? false, now);
      notifier.publish(clusterChannels.nodes);
      notifier.publish(clusterChannels.leases);
      return { now };
    },
    async nodeHeartbeat(p) {
      const outcome = heartbeat.immediate(p, Date.now());
      if (outcome.released.length > 0) notifier.publish(clusterChannels.slots);
      return outcome;
    },
    async nodeLeave(p) {
      leave.immediate(p.nodeId, Date.now());
      notifier.publish(clusterChannels.leases);
      notifier.publish(clusterChannels.slots);
    },
    async nodeList() {
      return sql.nodes.all().map((row) => ({
        id: row.id,
        startedAt: row.started_at,
        heartbeatAt: row.heartbeat_at,
        status: row.status,
      }));
    },
    async leaseDeclare(p) {
      declare.immediate(p.group, p.resources, Date.now());
    },
    async leaseAcquire(p) {
      if (p.max <= 0) return [];
      return acquire.immediate(p, Date.now());
    },
    async leaseRelease(p) {
      if (p.fences.length === 0) return 0;
      const freed = release.immediate(p.fences, Date.now());
      if (freed > 0) notifier.publish(clusterChannels.leases);
      return freed;
    },
    async leaseHeld(p) {
      return sql.held
        .all(p.nodeId)
        .map((row) => ({ resource: row.resource, nodeId: p.nodeId, token: row.token }));
    },
    async leaseList(p) {
      return sql.list.all(p.group).map((row) => ({
        resource: row.resource,
        group: row.grp,
        owner: row.owner,
        token: row.token,
        expiresAt: row.expires_at,
      }));
    },
    async leaseDrop(p) {
      sql.drop.run(p.group);
    },
    async leaseCheckpointSave(p) {
      return checkpoint.immediate(p);
    },
    async slotGrant(p) {
      if (p.changes.length === 0) return [];
      return grant.immediate(p);
    },
    async slotList(p) {
      return sql.slots
        .all(p.scope)
        .map((row) => ({ nodeId: row.node_id, granted: row.granted, wanted: row.wanted }));
    },
  };
}
