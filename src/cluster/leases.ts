/**
 * Single-owner work (a stream trigger's shards) held by fenced leases. A feature joins a group (one per
 * trigger) with its resources and a holder that starts and stops the work; the keeper keeps this node
 * at its fair share of each group (fair-share.ts) among the live nodes:
 * - short of its share, it takes free or expired leases (at a heartbeat that reports some, when another
 *   node frees one, or when it joins the group);
 * - above its share (a node joined), it gives the surplus back: the holder stops the work, lets batches
 *   under way finish and saves its last checkpoint, then the lease is freed and announced;
 * - a lease nobody else took for a whole lease timeout (its share's node does not serve the group) is
 *   taken whatever the share, so every group keeps being served while any node serves it;
 * - a lease the store no longer lists under this node (taken over after this node went silent) is lost:
 *   the holder stops at once, and its fenced writes would fail anyway.
 * Balancing runs one pass at a time; a request during a pass runs one more pass after it.
 */
import type { ClusterStore, HeartbeatOutcome, LeaseFence } from '../store/cluster-store.js';
import { fairShare } from './fair-share.js';
import type { ClusterSettings } from './settings.js';

export interface LeaseHolder {
  /** This node now holds the lease: start the work; fenced writes carry `fence`. */
  acquired(fence: LeaseFence): void;
  /** This node gives the lease up: stop, let work under way finish and save; resolve when done. */
  release(resource: string): Promise<void>;
  /** The lease was taken over (or this node declared dead): stop at once. */
  lost(resource: string): void;
}

interface Group {
  name: string;
  resources: string[];
  holder: LeaseHolder;
  held: Map<string, LeaseFence>;
  leaving: boolean;
}

export interface LeaseKeeperDeps {
  store: ClusterStore;
  settings: ClusterSettings;
  nodeId: string;
  /** Live nodes, sorted, as of the last heartbeat. */
  nodes(): readonly string[];
  onError(error: unknown): void;
  /** Hears every lease this node takes, gives up or loses (logged at info). */
  onLeaseChange?: (change: {
    group: string;
    resource: string;
    change: 'acquired' | 'released' | 'lost';
    token?: number;
  }) => void;
}

export class LeaseKeeper {
  private readonly groups = new Map<string, Group>();
  private balancing: Promise<void> | undefined;
  private pending: { takeable: Set<string>; orphaned: Set<string>; all: boolean } = {
    takeable: new Set(),
    orphaned: new Set(),
    all: false,
  };
  private lastNodes = '';
  private stopped = false;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  private observed(group: string, holder: LeaseHolder): LeaseHolder {
    const notify = this.deps.onLeaseChange;
    if (!notify) return holder;
    return {
      acquired: (fence) => {
        notify({ group, resource: fence.resource, change: 'acquired', token: fence.token });
        holder.acquired(fence);
      },
      release: (resource) => {
        notify({ group, resource, change: 'released' });
        return holder.release(resource);
      },
      lost: (resource) => {
        notify({ group, resource, change: 'lost' });
        holder.lost(resource);
      },
    };
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Leases held, by group (tests, diagnostics). */
  held(group: string): string[] {
    return [...(this.groups.get(group)?.held.keys() ?? [])].sort();
  }

  /** Serves a group: its lease rows are created if missing and this node takes its share. */
  async join(group: string, resources: string[], holder: LeaseHolder): Promise<void> {
    if (this.stopped) return;
    if (this.groups.has(group)) throw new Error(`cluster: lease group ${group} is already joined`);
    this.groups.set(group, {
      name: group,
      resources: [...resources].sort(),
      holder: this.observed(group, holder),
      held: new Map(),
      leaving: false,
    });
    await this.deps.store.leaseDeclare({ group, resources });
    this.request({ all: false, takeable: [group] });
  }

  /** Stops serving a group: its work stops, then its leases are freed (and deleted with `drop`). */
  async leave(group: string, options: { drop?: boolean } = {}): Promise<void> {
    const entry = this.groups.get(group);
    if (!entry || entry.leaving) return;
    entry.leaving = true;
    while (this.balancing) await this.balancing;
    await this.releaseAll(entry);
    this.groups.delete(group);
    if (options.drop) await this.deps.store.leaseDrop({ group });
  }

  onHeartbeat(outcome: HeartbeatOutcome): void {
    const nodes = outcome.nodes.join('\n');
    const changed = nodes !== this.lastNodes;
    this.lastNodes = nodes;
    if (outcome.leases !== this.heldCount()) this.request({ all: true, verify: true });
    if (changed) this.request({ all: true });
    if (outcome.takeableGroups.length > 0 || outcome.orphanedGroups.length > 0) {
      this.request({ all: false, takeable: outcome.takeableGroups, orphaned: outcome.orphanedGroups });
    }
  }

  /** A lease was freed somewhere: groups below their share look for it. */
  onLeaseFreed(): void {
    this.request({ all: true });
  }

  /** This node was declared dead: every lease is gone. */
  loseAll(): void {
    for (const group of this.groups.values()) {
      for (const resource of group.held.keys()) group.holder.lost(resource);
      group.held.clear();
    }
  }

  /** Leaves every group (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.balancing) await this.balancing;
    await Promise.all([...this.groups.values()].map((group) => this.releaseAll(group)));
    this.groups.clear();
  }

  private heldCount(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.held.size;
    return count;
  }

  private verifyNext = false;

  private request(p: { all: boolean; verify?: boolean; takeable?: string[]; orphaned?: string[] }): void {
    if (this.stopped) return;
    if (p.all) this.pending.all = true;
    if (p.verify) this.verifyNext = true;
    for (const group of p.takeable ?? []) this.pending.takeable.add(group);
    for (const group of p.orphaned ?? []) this.pending.orphaned.add(group);
    if (this.balancing) return;
    this.balancing = (async () => {
      try {
        while (
          !this.stopped &&
          (this.pending.all ||
            this.pending.takeable.size > 0 ||
            this.pending.orphaned.size > 0 ||
            this.verifyNext)
        ) {
          const work = this.pending;
          const verify = this.verifyNext;
          this.pending = { takeable: new Set(), orphaned: new Set(), all: false };
          this.verifyNext = false;
          try {
            if (verify) await this.verify();
            await this.balance(work);
          } catch (error) {
            this.deps.onError(error);
          }
        }
      } finally {
        this.balancing = undefined;
      }
    })();
  }

  /** Finds leases taken over from this node (its heartbeat renewed fewer than it thinks it holds). */
  private async verify(): Promise<void> {
    const inStore = new Map(
      (await this.deps.store.leaseHeld({ nodeId: this.deps.nodeId })).map((f) => [f.resource, f.token]),
    );
    for (const group of this.groups.values()) {
      for (const [resource, fence] of group.held) {
        if (inStore.get(resource) === fence.token) continue;
        group.held.delete(resource);
        group.holder.lost(resource);
      }
    }
  }

  private async balance(work: { all: boolean; takeable: Set<string>; orphaned: Set<string> }): Promise<void> {
    const { store, settings, nodeId } = this.deps;
    for (const group of [...this.groups.values()]) {
      if (group.leaving || this.stopped) continue;
      const share = fairShare({
        nodes: this.deps.nodes(),
        self: nodeId,
        group: group.name,
        resources: group.resources.length,
      });
      if (group.held.size > share) {
        await this.shed(group, group.held.size - share);
        continue;
      }
      if (group.held.size < share && (work.all || work.takeable.has(group.name))) {
        const fences = await store.leaseAcquire({
          nodeId,
          group: group.name,
          max: share - group.held.size,
          leaseMs: settings.leaseMs,
          graceMs: 0,
        });
        this.adopt(group, fences);
      }
      if (work.orphaned.has(group.name)) {
        const fences = await store.leaseAcquire({
          nodeId,
          group: group.name,
          max: group.resources.length,
          leaseMs: settings.leaseMs,
          graceMs: settings.leaseMs,
        });
        this.adopt(group, fences);
      }
    }
  }

  private adopt(group: Group, fences: LeaseFence[]): void {
    for (const fence of fences) {
      if (group.leaving || this.stopped) {
        void this.deps.store.leaseRelease({ fences: [fence] }).catch(this.deps.onError);
        continue;
      }
      const previous = group.held.get(fence.resource);
      if (previous) group.holder.lost(fence.resource); // our own lease expired and we took it again
      group.held.set(fence.resource, fence);
      group.holder.acquired(fence);
    }
  }

  /** Gives back the surplus: the highest resources first, so shares settle on the same shards. */
  private async shed(group: Group, count: number): Promise<void> {
    const surplus = [...group.held.values()]
      .sort((a, b) => (a.resource < b.resource ? 1 : -1))
      .slice(0, count);
    for (const fence of surplus) await this.releaseOne(group, fence);
  }

  private async releaseAll(group: Group): Promise<void> {
    await Promise.all([...group.held.values()].map((fence) => this.releaseOne(group, fence)));
  }

  private async releaseOne(group: Group, fence: LeaseFence): Promise<void> {
    try {
      await group.holder.release(fence.resource);
    } finally {
      if (group.held.get(fence.resource) === fence) group.held.delete(fence.resource);
    }
    await this.deps.store.leaseRelease({ fences: [fence] });
  }
}
