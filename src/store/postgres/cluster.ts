/**
 * The cluster store on PostgreSQL (see store/cluster-store.ts): nodes, fenced leases and concurrency
 * slots, in migration 6. Every instant is the server's `clock_timestamp()`, so node clocks never
 * matter, and `pg_postmaster_start_time()` keeps a restarted server from declaring everyone dead.
 *
 * The heartbeat is the only statement an idle node issues: one round trip that renews the node and its
 * leases, reaps silent nodes and reports whether anything needs rebalancing. Slot grants go through a
 * PL/pgSQL function (`slot_grant`) because a grant must read the other nodes' grants after taking the
 * scope's lock; in one plain statement the read would come from a snapshot taken before the lock.
 */
import type pg from 'pg';
import {
  clusterChannels,
  type ClusterStore,
  type HeartbeatOutcome,
  type LeaseFence,
  type NodeStatus,
} from '../cluster-store.js';
import type { Notifier } from '../notifier.js';
import { NOT_DURABLE, run } from './connection.js';

/** The server's clock and start time, in epoch milliseconds. */
const CLOCK = `clock AS (
  SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now,
         (extract(epoch FROM pg_postmaster_start_time()) * 1000)::bigint AS up_since)`;

/**
 * The clock, and the statement's commit made without waiting for the WAL flush (connection.ts): a
 * heartbeat or a checkpoint lost in a server crash only makes a node look older or a shard replay a few
 * records. Grants, acquisitions and releases stay durable: a grant forgotten by a crash could let the
 * limit be exceeded.
 */
const CLOCK_NOT_DURABLE = `clock AS (
  SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now,
         (extract(epoch FROM pg_postmaster_start_time()) * 1000)::bigint AS up_since,
         ${NOT_DURABLE} AS not_durable)`;

/** Rows of stopped and dead nodes are kept this long for `sluice` diagnostics, then forgotten. */
const FORGET_AFTER_MS = 3_600_000;

const sql = {
  register: {
    name: 'sluice_cluster_register',
    text: `WITH ${CLOCK},
           dropped AS (UPDATE leases l SET owner = NULL, expires_at = c.now FROM clock c WHERE l.owner = $1),
           slots AS (DELETE FROM concurrency_slots WHERE node_id = $1 AND NOT $2::boolean)
           INSERT INTO nodes (id, started_at, heartbeat_at, status, hold_ms) SELECT $1, c.now, c.now, 'alive', 0 FROM clock c
           ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
             status = 'alive', hold_ms = 0
           RETURNING heartbeat_at AS now`,
  },
  // $1 node, $2 lease ms, $3 node timeout ms, $4 the node's lease groups, $5 its hold ms. The outer
  // SELECT reads the snapshot from before the CTEs' writes: reaped nodes are filtered out by hand, and a
  // lease of this node that had expired looks takeable once (the acquire that follows finds it renewed).
  // A dead node's hold_ms becomes -1 once its slots are freed, so each dead node is released once; a
  // node reaped by this statement is still alive in its snapshot and is released by a later heartbeat.
  heartbeat: {
    name: 'sluice_cluster_heartbeat',
    text: `WITH ${CLOCK_NOT_DURABLE},
           me AS (
             UPDATE nodes n SET heartbeat_at = c.now, hold_ms = $5::bigint FROM clock c
             WHERE n.id = $1 AND n.status = 'alive' RETURNING n.id
           ),
           renewed AS (
             UPDATE leases l SET expires_at = c.now + $2::bigint FROM clock c
             WHERE l.owner = $1 AND EXISTS (SELECT 1 FROM me) RETURNING 1
           ),
           reaped AS (
             UPDATE nodes n SET status = 'dead' FROM clock c
             WHERE n.status = 'alive' AND n.id <> $1 AND n.heartbeat_at < c.now - $3::bigint
               AND c.up_since < c.now - $3::bigint
             RETURNING n.id
           ),
           released AS (
             UPDATE nodes n SET hold_ms = -1 FROM clock c
             WHERE n.status = 'dead' AND n.hold_ms >= 0 AND n.heartbeat_at + $3::bigint + n.hold_ms <= c.now
             RETURNING n.id
           ),
           -- Gated on a node having been released, so an idle heartbeat never scans the slots (the planner,
           -- without bitmap scans, may read them before the empty set of released nodes).
           freed AS (DELETE FROM concurrency_slots WHERE EXISTS (SELECT 1 FROM released) AND node_id IN (SELECT id FROM released)),
           forgotten AS (
             DELETE FROM nodes n USING clock c
             WHERE (n.status = 'stopped' OR n.hold_ms < 0) AND n.heartbeat_at < c.now - ${FORGET_AFTER_MS}
           )
           SELECT (SELECT count(*) FROM me)::int AS alive, c.now,
                  (SELECT count(*) FROM renewed)::int AS leases,
                  ARRAY(SELECT id FROM nodes WHERE status = 'alive' AND id NOT IN (SELECT id FROM reaped) ORDER BY id) AS nodes,
                  ARRAY(SELECT DISTINCT grp FROM leases
                        WHERE grp = ANY($4::text[]) AND expires_at <= c.now
                          AND (owner IS NULL OR c.up_since < c.now - $2::bigint) ORDER BY 1) AS takeable,
                  ARRAY(SELECT DISTINCT grp FROM leases
                        WHERE grp = ANY($4::text[]) AND expires_at <= c.now - $2::bigint
                          AND (owner IS NULL OR c.up_since < c.now - $2::bigint) ORDER BY 1) AS orphaned,
                  ARRAY(SELECT id FROM reaped ORDER BY id) AS reaped,
                  ARRAY(SELECT id FROM released ORDER BY id) AS released
           FROM clock c WHERE c.not_durable IS NOT NULL`,
  },
  leave: {
    text: `WITH ${CLOCK},
           dropped AS (UPDATE leases l SET owner = NULL, expires_at = c.now FROM clock c WHERE l.owner = $1),
           slots AS (DELETE FROM concurrency_slots WHERE node_id = $1)
           UPDATE nodes n SET status = 'stopped', heartbeat_at = c.now FROM clock c WHERE n.id = $1`,
  },
  nodes: { text: 'SELECT id, started_at, heartbeat_at, status FROM nodes ORDER BY id' },
  // A new lease is free since now: nobody has declined it yet, so it is not orphaned for a lease timeout.
  declare: {
    text: `INSERT INTO leases (resource, grp, expires_at)
           SELECT resource, $1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM unnest($2::text[]) AS r(resource)
           ON CONFLICT (resource) DO NOTHING`,
  },
  // $1 node, $2 group, $3 max, $4 lease ms, $5 grace ms.
  acquire: {
    name: 'sluice_cluster_lease_acquire',
    text: `WITH ${CLOCK},
           candidates AS (
             SELECT l.resource FROM leases l, clock c
             WHERE l.grp = $2 AND l.expires_at <= c.now - $5::bigint
               AND (l.owner IS NULL OR c.up_since < c.now - $4::bigint)
               AND EXISTS (SELECT 1 FROM nodes WHERE id = $1 AND status = 'alive')
             ORDER BY l.resource LIMIT $3
             FOR UPDATE OF l SKIP LOCKED
           )
           UPDATE leases l SET owner = $1, token = l.token + 1, expires_at = c.now + $4::bigint
           FROM candidates, clock c WHERE l.resource = candidates.resource
           RETURNING l.resource, l.token`,
  },
  release: {
    name: 'sluice_cluster_lease_release',
    text: `UPDATE leases l SET owner = NULL, expires_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
           FROM unnest($1::text[], $2::text[], $3::bigint[]) AS f(resource, owner, token)
           WHERE l.resource = f.resource AND l.owner = f.owner AND l.token = f.token`,
  },
  held: { text: 'SELECT resource, token FROM leases WHERE owner = $1 ORDER BY resource' },
  list: {
    text: 'SELECT resource, grp, owner, token, expires_at FROM leases WHERE grp = $1 ORDER BY resource',
  },
  drop: { text: 'DELETE FROM leases WHERE grp = $1' },
  // The lease row is read FOR SHARE: a takeover (an UPDATE of that row) waits for this write to commit,
  // or this statement waits for the takeover and then sees the new token and writes nothing.
  checkpoint: {
    name: 'sluice_cluster_checkpoint',
    text: `WITH fence AS (SELECT 1 FROM leases WHERE resource = $1 AND owner = $2 AND token = $3 FOR SHARE)
           INSERT INTO stream_checkpoints (consumer, shard, table_id, seq, state, updated_at)
           SELECT $4, c.shard, $5, c.seq, c.state, $6 FROM unnest($7::integer[], $8::bigint[], $9::text[]) AS c(shard, seq, state)
           WHERE EXISTS (SELECT 1 FROM fence) AND (SELECT ${NOT_DURABLE}) IS NOT NULL
           ON CONFLICT (consumer, shard) DO UPDATE SET table_id = excluded.table_id, seq = excluded.seq,
             state = excluded.state, updated_at = excluded.updated_at
           RETURNING 1`,
  },
  grant: {
    name: 'sluice_cluster_slot_grant',
    text: 'SELECT o_scope AS scope, o_granted AS granted, o_others_waiting AS others_waiting, o_final AS final FROM slot_grant($1, $6::bigint, $2::text[], $3::integer[], $4::integer[], $5::boolean[], $7::integer[])',
  },
  slots: {
    text: 'SELECT node_id, granted, wanted FROM concurrency_slots WHERE scope = $1 ORDER BY node_id',
  },
};

/** Migration 6: the cluster tables and the slot grant function. */
export const clusterMigrationSql = `
  CREATE TABLE nodes (
    id text COLLATE "C" PRIMARY KEY,
    started_at bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    status text NOT NULL
  );
  -- One row per single-owner resource. expires_at is also when a free lease was freed, so "free for a
  -- whole timeout" (nobody wants it) is one comparison.
  CREATE TABLE leases (
    resource text COLLATE "C" PRIMARY KEY,
    grp text COLLATE "C" NOT NULL,
    owner text COLLATE "C",
    token bigint NOT NULL DEFAULT 0,
    expires_at bigint NOT NULL DEFAULT 0
  );
  CREATE INDEX leases_by_group ON leases (grp, expires_at);
  CREATE INDEX leases_by_owner ON leases (owner) WHERE owner IS NOT NULL;
  -- A node's grant in a concurrency scope; wanted > granted says it has callers waiting.
  CREATE TABLE concurrency_slots (
    scope text COLLATE "C" NOT NULL,
    node_id text COLLATE "C" NOT NULL,
    granted integer NOT NULL,
    wanted integer NOT NULL,
    PRIMARY KEY (scope, node_id)
  );
  CREATE INDEX concurrency_slots_by_node ON concurrency_slots (node_id);
  -- Scopes are locked in name order (no deadlock between nodes asking for the same scopes); each read of
  -- the other grants is its own statement, so it sees every grant committed before the lock was granted.
  CREATE FUNCTION slot_grant(p_node text, p_scopes text[], p_limits integer[], p_wants integer[], p_waiting boolean[])
  RETURNS TABLE (o_scope text, o_granted integer, o_others_waiting boolean)
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
  DECLARE
    i integer;
    v_alive boolean;
    v_used bigint;
    v_others_waiting boolean;
    v_grant integer;
  BEGIN
    SELECT EXISTS (SELECT 1 FROM nodes n WHERE n.id = p_node AND n.status = 'alive') INTO v_alive;
    FOR i IN SELECT s.ord FROM unnest(p_scopes) WITH ORDINALITY AS s(name, ord) ORDER BY s.name LOOP
      PERFORM pg_advisory_xact_lock(hashtext('sluice.slots ' || current_schema()), hashtext(p_scopes[i]));
      SELECT coalesce(sum(s.granted), 0), coalesce(bool_or(s.wanted > s.granted), false)
        INTO v_used, v_others_waiting
        FROM concurrency_slots s JOIN nodes n ON n.id = s.node_id
        WHERE s.scope = p_scopes[i] AND s.node_id <> p_node AND n.status = 'alive';
      v_grant := CASE WHEN v_alive THEN least(p_wants[i], greatest(0, p_limits[i] - v_used))::integer ELSE 0 END;
      IF v_alive THEN
        INSERT INTO concurrency_slots AS cs (scope, node_id, granted, wanted)
        VALUES (p_scopes[i], p_node, v_grant, CASE WHEN p_waiting[i] THEN greatest(p_wants[i], v_grant) ELSE v_grant END)
        ON CONFLICT (scope, node_id) DO UPDATE SET granted = excluded.granted, wanted = excluded.wanted;
      END IF;
      o_scope := p_scopes[i];
      o_granted := v_grant;
      o_others_waiting := v_others_waiting;
      RETURN NEXT;
    END LOOP;
  END
  $fn$;
`;

/**
 * Migration 10: a dead node's slots stay counted for the hold its last heartbeat reported. slot_grant
 * counts every grant of a node that is not stopped: a dead node keeps rows only while its hold lasts.
 */
export const slotHoldMigrationSql = `
  ALTER TABLE nodes ADD COLUMN hold_ms bigint NOT NULL DEFAULT 0;
  DROP FUNCTION slot_grant(text, text[], integer[], integer[], boolean[]);
  CREATE FUNCTION slot_grant(p_node text, p_hold bigint, p_scopes text[], p_limits integer[], p_wants integer[], p_waiting boolean[])
  RETURNS TABLE (o_scope text, o_granted integer, o_others_waiting boolean)
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
  DECLARE
    i integer;
    v_alive boolean;
    v_used bigint;
    v_others_waiting boolean;
    v_grant integer;
  BEGIN
    UPDATE nodes n SET hold_ms = p_hold WHERE n.id = p_node AND n.status = 'alive';
    v_alive := FOUND;
    FOR i IN SELECT s.ord FROM unnest(p_scopes) WITH ORDINALITY AS s(name, ord) ORDER BY s.name LOOP
      PERFORM pg_advisory_xact_lock(hashtext('sluice.slots ' || current_schema()), hashtext(p_scopes[i]));
      SELECT coalesce(sum(s.granted), 0), coalesce(bool_or(s.wanted > s.granted AND n.status = 'alive'), false)
        INTO v_used, v_others_waiting
        FROM concurrency_slots s JOIN nodes n ON n.id = s.node_id
        WHERE s.scope = p_scopes[i] AND s.node_id <> p_node AND n.status <> 'stopped';
      v_grant := CASE WHEN v_alive THEN least(p_wants[i], greatest(0, p_limits[i] - v_used))::integer ELSE 0 END;
      IF v_alive THEN
        INSERT INTO concurrency_slots AS cs (scope, node_id, granted, wanted)
        VALUES (p_scopes[i], p_node, v_grant, CASE WHEN p_waiting[i] THEN greatest(p_wants[i], v_grant) ELSE v_grant END)
        ON CONFLICT (scope, node_id) DO UPDATE SET granted = excluded.granted, wanted = excluded.wanted;
      END IF;
      o_scope := p_scopes[i];
      o_granted := v_grant;
      o_others_waiting := v_others_waiting;
      RETURN NEXT;
    END LOOP;
  END
  $fn$;
`;

/**
 * Migration 22: a refusal that is final at once. Each grant row records what its node held when it last
 * wrote it (`held`) and whether the store then told it another node waits (`told_waiting`, the
 * `othersWaiting` of that answer). A node told so gives back at once every slot it frees, until an answer
 * says nobody waits (which rewrites its row). A waiting request's refusal is final (`o_final`) when every
 * other live node with slots in the scope was told someone waits and had none spare: no wait can free a
 * slot before a release. See cluster/slots.ts.
 */
export const slotVerdictMigrationSql = `
  ALTER TABLE concurrency_slots ADD COLUMN held integer NOT NULL DEFAULT 0;
  ALTER TABLE concurrency_slots ADD COLUMN told_waiting boolean NOT NULL DEFAULT false;
  DROP FUNCTION slot_grant(text, bigint, text[], integer[], integer[], boolean[]);
  CREATE FUNCTION slot_grant(p_node text, p_hold bigint, p_scopes text[], p_limits integer[], p_wants integer[], p_waiting boolean[], p_helds integer[])
  RETURNS TABLE (o_scope text, o_granted integer, o_others_waiting boolean, o_final boolean)
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
  DECLARE
    i integer;
    v_alive boolean;
    v_used bigint;
    v_others_waiting boolean;
    v_grant integer;
    v_unsettled boolean;
  BEGIN
    UPDATE nodes n SET hold_ms = p_hold WHERE n.id = p_node AND n.status = 'alive';
    v_alive := FOUND;
    FOR i IN SELECT s.ord FROM unnest(p_scopes) WITH ORDINALITY AS s(name, ord) ORDER BY s.name LOOP
      PERFORM pg_advisory_xact_lock(hashtext('sluice.slots ' || current_schema()), hashtext(p_scopes[i]));
      SELECT coalesce(sum(s.granted), 0), coalesce(bool_or(s.wanted > s.granted AND n.status = 'alive'), false),
             coalesce(bool_or(n.status = 'alive' AND s.granted > 0 AND (s.held < s.granted OR NOT s.told_waiting)), false)
        INTO v_used, v_others_waiting, v_unsettled
        FROM concurrency_slots s JOIN nodes n ON n.id = s.node_id
        WHERE s.scope = p_scopes[i] AND s.node_id <> p_node AND n.status <> 'stopped';
      v_grant := CASE WHEN v_alive THEN least(p_wants[i], greatest(0, p_limits[i] - v_used))::integer ELSE 0 END;
      IF v_alive THEN
        INSERT INTO concurrency_slots AS cs (scope, node_id, granted, wanted, held, told_waiting)
        VALUES (p_scopes[i], p_node, v_grant, CASE WHEN p_waiting[i] THEN greatest(p_wants[i], v_grant) ELSE v_grant END,
                p_helds[i], v_others_waiting)
        ON CONFLICT (scope, node_id) DO UPDATE SET granted = excluded.granted, wanted = excluded.wanted,
          held = excluded.held, told_waiting = excluded.told_waiting;
      END IF;
      o_scope := p_scopes[i];
      o_granted := v_grant;
      o_others_waiting := v_others_waiting;
      o_final := v_alive AND p_waiting[i] AND v_grant <= p_helds[i] AND NOT v_unsettled;
      RETURN NEXT;
    END LOOP;
  END
  $fn$;
`;

interface HeartbeatRow {
  alive: number;
  now: number;
  leases: number;
  nodes: string[];
  takeable: string[];
  orphaned: string[];
  reaped: string[];
  released: string[];
}

export function createPostgresClusterStore(pool: pg.Pool, notifier: Notifier): ClusterStore {
  return {
    async nodeRegister(p) {
      const [row] = await run<{ now: number }>(pool, sql.register, [p.nodeId, p.rejoin ?? false]);
      notifier.publish(clusterChannels.nodes);
      notifier.publish(clusterChannels.leases);
      return { now: row!.now };
    },
    async nodeHeartbeat(p): Promise<HeartbeatOutcome> {
      const [row] = await run<HeartbeatRow>(pool, sql.heartbeat, [
        p.nodeId,
        p.leaseMs,
        p.nodeTimeoutMs,
        p.groups,
        p.holdMs,
      ]);
      const outcome: HeartbeatOutcome = {
        alive: row!.alive > 0,
        now: row!.now,
        nodes: row!.nodes,
        leases: row!.leases,
        takeableGroups: row!.takeable,
        orphanedGroups: row!.orphaned,
        reaped: row!.reaped,
        released: row!.released,
      };
      if (outcome.released.length > 0) notifier.publish(clusterChannels.slots);
      return outcome;
    },
    async nodeLeave(p) {
      await run(pool, sql.leave, [p.nodeId]);
      notifier.publish(clusterChannels.leases);
      notifier.publish(clusterChannels.slots);
    },
    async nodeList() {
      const rows = await run<{ id: string; started_at: number; heartbeat_at: number; status: NodeStatus }>(
        pool,
        sql.nodes,
        [],
      );
      return rows.map((row) => ({
        id: row.id,
        startedAt: row.started_at,
        heartbeatAt: row.heartbeat_at,
        status: row.status,
      }));
    },
    async leaseDeclare(p) {
      await run(pool, sql.declare, [p.group, p.resources]);
    },
    async leaseAcquire(p) {
      if (p.max <= 0) return [];
      const rows = await run<{ resource: string; token: number }>(pool, sql.acquire, [
        p.nodeId,
        p.group,
        p.max,
        p.leaseMs,
        p.graceMs,
      ]);
      return rows
        .map((row) => ({ resource: row.resource, nodeId: p.nodeId, token: row.token }))
        .sort((a, b) => (a.resource < b.resource ? -1 : 1));
    },
    async leaseRelease(p) {
      if (p.fences.length === 0) return 0;
      const rows = await pool.query({
        ...sql.release,
        values: [
          p.fences.map((f) => f.resource),
          p.fences.map((f) => f.nodeId),
          p.fences.map((f) => f.token),
        ],
      });
      const freed = rows.rowCount ?? 0;
      if (freed > 0) notifier.publish(clusterChannels.leases);
      return freed;
    },
    async leaseHeld(p) {
      const rows = await run<{ resource: string; token: number }>(pool, sql.held, [p.nodeId]);
      return rows.map((row): LeaseFence => ({ resource: row.resource, nodeId: p.nodeId, token: row.token }));
    },
    async leaseList(p) {
      const rows = await run<{
        resource: string;
        grp: string;
        owner: string | null;
        token: number;
        expires_at: number;
      }>(pool, sql.list, [p.group]);
      return rows.map((row) => ({
        resource: row.resource,
        group: row.grp,
        owner: row.owner,
        token: row.token,
        expiresAt: row.expires_at,
      }));
    },
    async leaseDrop(p) {
      await run(pool, sql.drop, [p.group]);
    },
    async leaseCheckpointSave(p) {
      const rows = await run(pool, sql.checkpoint, [
        p.fence.resource,
        p.fence.nodeId,
        p.fence.token,
        p.consumer,
        p.tableId,
        p.now,
        p.checkpoints.map((c) => c.shard),
        p.checkpoints.map((c) => c.seq),
        p.checkpoints.map((c) => c.state),
      ]);
      return rows.length > 0;
    },
    async slotGrant(p) {
      if (p.changes.length === 0) return [];
      const rows = await run<{ scope: string; granted: number; others_waiting: boolean; final: boolean }>(pool, sql.grant, [
        p.nodeId,
        p.changes.map((c) => c.scope),
        p.changes.map((c) => c.limit),
        p.changes.map((c) => c.want),
        p.changes.map((c) => c.waiting),
        p.holdMs,
        p.changes.map((c) => c.held),
      ]);
      return rows.map((row) => ({
        scope: row.scope,
        granted: row.granted,
        othersWaiting: row.others_waiting,
        final: row.final,
      }));
    },
    async slotList(p) {
      const rows = await run<{ node_id: string; granted: number; wanted: number }>(pool, sql.slots, [
        p.scope,
      ]);
      return rows.map((row) => ({ nodeId: row.node_id, granted: row.granted, wanted: row.wanted }));
    },
  };
}
