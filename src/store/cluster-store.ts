/**
 * The cluster half of the store: the node registry, fenced leases for single-owner work, and
 * cluster-wide concurrency slots. One domain operation per method, one transaction each; the rules
 * (who should hold how many leases, when to ask for slots) live in TypeScript under src/cluster/.
 *
 * Time: every instant here is the database's clock (PostgreSQL's `clock_timestamp()`, the SQLite
 * process's `Date.now()`), in epoch milliseconds, so nodes with skewed clocks still agree on when a
 * lease has expired. Callers pass durations, never instants.
 *
 * - A node registers, then heartbeats. A node whose heartbeat is older than the node timeout is declared
 *   dead by whichever node heartbeats next. Its concurrency slots stay counted for the hold it reported
 *   in its last heartbeat (the longest an invocation it may have started could still run: a node paused
 *   by SIGSTOP wakes with its invocations running), then are freed. A server that has
 *   been up for less than a timeout declares nobody dead (its clients could not heartbeat while it was
 *   down), so a database restart does not kill the cluster.
 * - A lease is one row per resource (a stream shard, ...) in a group (the trigger it belongs to). Its
 *   token grows by one on every acquisition: a write fenced by (resource, owner, token) affects no row
 *   once another node took the lease, so a stale owner notices and stops. The owner's heartbeat renews
 *   its leases; an expired lease may be taken by anyone.
 * - A slot scope (a function, the account's unreserved pool, a trigger) has a limit; each node holds a
 *   grant of slots in it, and the grants of live nodes never add up to more than the limit.
 */
import type { StreamCheckpoint } from './table-store.js';

export type NodeStatus = 'alive' | 'stopped' | 'dead';

export interface ClusterNodeRow {
  id: string;
  startedAt: number;
  heartbeatAt: number;
  status: NodeStatus;
}

export interface LeaseRow {
  resource: string;
  group: string;
  owner: string | null;
  token: number;
  expiresAt: number;
}

/** A lease this node holds: what a fenced write carries. */
export interface LeaseFence {
  resource: string;
  nodeId: string;
  token: number;
}

export interface HeartbeatOutcome {
  /** False when this node had been declared dead (or left): it must drop its leases and join again. */
  alive: boolean;
  /** The database's clock. */
  now: number;
  /** Live nodes (this one included), sorted by id. */
  nodes: string[];
  /** How many leases this node holds (and just renewed). */
  leases: number;
  /** Of the groups this node serves, those with a lease nobody holds (free or expired). */
  takeableGroups: string[];
  /** Of those, the groups with a lease nobody has held for a whole lease timeout (nobody else wants it). */
  orphanedGroups: string[];
  /** Nodes this heartbeat declared dead; their slots are kept until their hold has passed. */
  reaped: string[];
  /** Dead nodes whose hold passed at this heartbeat: their slots were freed. */
  released: string[];
}

export interface SlotChange {
  scope: string;
  /** The scope's limit as this node's definitions say (a function's reserved concurrency, ...). */
  limit: number;
  /** How many slots this node wants to hold; the grant is at most this. */
  want: number;
  /** Whether this node has callers waiting for slots in this scope (others then give back spare ones). */
  waiting: boolean;
  /** How many of its slots this node has in use now (the store tells waiters whether any are spare). */
  held: number;
}

export interface SlotGrant {
  scope: string;
  granted: number;
  /** Another live node is waiting for slots in this scope. */
  othersWaiting: boolean;
  /**
   * A waiting request refused (no room beyond `held`) when no wait can help: every other live node with
   * slots in the scope was told, at its last write, that another node waits (this answer's
   * `othersWaiting`), and had none spare (granted above held) then. A node told so gives back every slot
   * it frees at once: what is left is in use, and the caller is throttled at once, as Lambda throttles.
   */
  final: boolean;
}

export interface ClusterStore {
  /**
   * Registers (or re-registers) a node as alive, dropping any lease an earlier run of it held, and its
   * slots unless `rejoin`: the same process coming back after it was declared dead still runs the
   * invocations those slots count.
   */
  nodeRegister(p: { nodeId: string; rejoin?: boolean }): Promise<{ now: number }>;
  /**
   * One statement: renews the node's heartbeat and its leases, records its hold (`holdMs`: how long after
   * this heartbeat plus the node timeout its slots must stay counted should it fall silent), declares dead
   * the nodes silent for longer than `nodeTimeoutMs`, frees the slots of dead nodes whose hold has passed,
   * and reports what the node needs to rebalance.
   */
  nodeHeartbeat(p: {
    nodeId: string;
    leaseMs: number;
    nodeTimeoutMs: number;
    holdMs: number;
    groups: string[];
  }): Promise<HeartbeatOutcome>;
  /** Graceful exit: the node is marked stopped, its leases are free at once and its slots given back. */
  nodeLeave(p: { nodeId: string }): Promise<void>;
  nodeList(): Promise<ClusterNodeRow[]>;

  /** Creates the lease rows of a group's resources that do not exist yet (free, token 0). */
  leaseDeclare(p: { group: string; resources: string[] }): Promise<void>;
  /**
   * Takes up to `max` leases of the group that nobody holds (free, or expired for at least `graceMs`):
   * each gets this node as owner, token + 1 and `expiresAt = now + leaseMs`. Returns the fences.
   */
  leaseAcquire(p: {
    nodeId: string;
    group: string;
    max: number;
    leaseMs: number;
    graceMs: number;
  }): Promise<LeaseFence[]>;
  /** Frees leases this node still holds with these tokens; returns how many it freed. */
  leaseRelease(p: { fences: LeaseFence[] }): Promise<number>;
  /** The leases a node holds now. */
  leaseHeld(p: { nodeId: string }): Promise<LeaseFence[]>;
  leaseList(p: { group: string }): Promise<LeaseRow[]>;
  /** Deletes a group's leases (its trigger was deleted). */
  leaseDrop(p: { group: string }): Promise<void>;

  /**
   * A stream consumer's checkpoint, written only while `fence` still holds the lease (the lease row is
   * read with a share lock in the same statement, so a takeover waits for it or it sees the new token).
   * False: the lease was taken over, nothing was written.
   */
  leaseCheckpointSave(p: {
    fence: LeaseFence;
    consumer: string;
    tableId: number;
    checkpoints: StreamCheckpoint[];
    now: number;
  }): Promise<boolean>;

  /**
   * Sets this node's grants in several scopes at once (scopes locked in name order). A grant grows to
   * at most `want` and what the other nodes' grants (a dead node's within its hold) leave of `limit`; it
   * shrinks to `want`. Records `holdMs` as the heartbeat does: a function declared since the last
   * heartbeat may have a longer timeout, and its invocations use these slots.
   */
  slotGrant(p: { nodeId: string; holdMs: number; changes: SlotChange[] }): Promise<SlotGrant[]>;
  /** Every grant of a scope (tests, diagnostics). */
  slotList(p: { scope: string }): Promise<Array<{ nodeId: string; granted: number; wanted: number }>>;
}

/** Wake-up channels of the cluster layer (see store/notifier.ts). */
export const clusterChannels = {
  /** A lease was freed (a node left or shed one): nodes short of their share look again. */
  leases: 'cluster:leases',
  /** A node joined: the others recompute their shares at once instead of at their next heartbeat. */
  nodes: 'cluster:nodes',
  /** Slots were freed, or a node is waiting for some. */
  slots: 'cluster:slots',
} as const;
