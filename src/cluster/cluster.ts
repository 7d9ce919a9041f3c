/**
 * A node's part in a cluster: membership (heartbeats), fenced leases for single-owner work and
 * cluster-wide concurrency slots, with one start/stop contract. The engine (engine/sluice.ts) starts it
 * after opening the store and stops it after the features have stopped claiming and drained, so the
 * node leaves with nothing in flight: its leases are freed at once for the others.
 *
 * What needs no lease, because the store already decides it with a compare-and-set (see
 * docs/design/cluster.md): queue messages (a claim is SKIP LOCKED, an acknowledgement carries the
 * receipt token of its claim), schedule ticks (a conditional tick claim), batch completion (one
 * compare-and-set in the chunk acknowledgement) and outbox deliveries (claim tokens with a lease).
 */
import type { Notifier, Unsubscribe } from '../store/notifier.js';
import {
  clusterChannels,
  type ClusterNodeRow,
  type ClusterStore,
  type LeaseRow,
} from '../store/cluster-store.js';
import { LeaseKeeper, type LeaseHolder, type LeaseKeeperDeps } from './leases.js';
import { NodeMembership } from './membership.js';
import type { ClusterSettings } from './settings.js';
import { SlotGrants } from './slots.js';
import type { Service } from '../model/service.js';

export interface ClusterDeps {
  store: ClusterStore & { notifier: Notifier };
  settings: ClusterSettings;
  /** Slots came back or grew: the concurrency pool's waiters retry. */
  onCapacity(): void;
  /** The longest an invocation started on this node may run (see membership.ts `holdMs`). */
  invocationHoldMs(): number;
  onError(error: unknown): void;
  /** Hears every lease this node takes, gives up or loses. */
  onLeaseChange?: LeaseKeeperDeps['onLeaseChange'];
}

export class Cluster implements Service {
  readonly membership: NodeMembership;
  readonly leases: LeaseKeeper;
  readonly slots: SlotGrants;
  private readonly unsubscribes: Unsubscribe[] = [];
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(private readonly deps: ClusterDeps) {
    const { store, settings, onError } = deps;
    this.membership = new NodeMembership({
      store,
      settings,
      groups: () => this.leases.groupNames(),
      holdMs: () => deps.invocationHoldMs(),
      onDeclaredDead: () => {
        this.leases.loseAll();
        this.slots.reset();
      },
      onHeartbeat: (outcome) => {
        this.slots.onHeartbeat(outcome.released);
        this.leases.onHeartbeat(outcome);
      },
      onError: (error) =>
        onError(new Error(`cluster: heartbeat of node ${settings.nodeId} failed`, { cause: error })),
    });
    this.leases = new LeaseKeeper({
      store,
      settings,
      nodeId: settings.nodeId,
      nodes: () => this.membership.nodes,
      onError,
      ...(deps.onLeaseChange ? { onLeaseChange: deps.onLeaseChange } : {}),
    });
    this.slots = new SlotGrants({
      store,
      notifier: store.notifier,
      nodeId: settings.nodeId,
      lingerMs: settings.slotLingerMs,
      settleMs: settings.heartbeatMs,
      holdMs: () => deps.invocationHoldMs(),
      current: () => this.membership.current(),
      onCapacity: deps.onCapacity,
      onError,
    });
  }

  get nodeId(): string {
    return this.deps.settings.nodeId;
  }

  get settings(): ClusterSettings {
    return this.deps.settings;
  }

  /** Registers the node and starts heartbeating. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    const { notifier } = this.deps.store;
    this.unsubscribes.push(
      notifier.subscribe(clusterChannels.nodes, () => this.membership.beatSoon()),
      notifier.subscribe(clusterChannels.leases, () => this.leases.onLeaseFreed()),
    );
    await this.membership.join();
  }

  /**
   * The cluster as an operator sees it (the console's cluster page): every registered node with its last
   * heartbeat, and the leases of each group this node serves. Read on request only.
   */
  async describe(): Promise<{
    nodeId: string;
    heartbeatMs: number;
    leaseMs: number;
    nodes: ClusterNodeRow[];
    leases: LeaseRow[];
  }> {
    const nodes = await this.deps.store.nodeList();
    const leases = (
      await Promise.all(this.leases.groupNames().map((group) => this.deps.store.leaseList({ group })))
    ).flat();
    return {
      nodeId: this.nodeId,
      heartbeatMs: this.settings.heartbeatMs,
      leaseMs: this.settings.leaseMs,
      nodes,
      leases,
    };
  }

  /** Serves a lease group (see leases.ts); the returned function leaves it. */
  async serve(
    group: string,
    resources: string[],
    holder: LeaseHolder,
  ): Promise<(options?: { drop?: boolean }) => Promise<void>> {
    await this.leases.join(group, resources, holder);
    return (options) => this.leases.leave(group, options);
  }

  /**
   * Leaves the cluster: the holders of leases still held stop and save, the leases and slots are given
   * back, and the node is marked stopped. Call after the features stopped claiming and drained.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    try {
      await this.leases.stop();
    } catch (error) {
      this.deps.onError(error); // leases not freed expire after a lease timeout
    }
    await this.slots.stop();
    try {
      await this.membership.leave();
    } catch (error) {
      this.deps.onError(error);
    }
  }
}
