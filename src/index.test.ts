/**
 * The package entry exports what a library user needs for clusters and group limits: the options of
 * `Sluice.open({ cluster })`, the types of `sluice.cluster` and of the node registry, and the group-limit
 * shapes (limits, views, table sync, activity). Type exports are checked by the compiler (this file is
 * under src/, so `tsc --noEmit` sees it); values and shapes at run time.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  clusterDefaults,
  groupLimitBounds,
  Sluice,
  type Cluster,
  type ClusterNodeRow,
  type ClusterOptions,
  type ClusterSettings,
  type GroupActivityCounts,
  type GroupKeyRule,
  type GroupLimit,
  type GroupLimitInput,
  type GroupLimitService,
  type GroupLimitView,
  type GroupSyncOptions,
  type GroupTableSync,
  type HeartbeatOutcome,
  type LeaseHolder,
  type NodeMembership,
  type NodeStatus,
  type QueueGroupActivity,
  type RateLimit,
  type SluiceOptions,
} from './index.js';

describe('the package entry', () => {
  it('exports the cluster types: options for Sluice.open, the node and its registry', async () => {
    const options: ClusterOptions = { nodeId: 'entry-node', heartbeatMs: 1000, leaseMs: 3000 };
    expectTypeOf<{ cluster: ClusterOptions }>().toMatchTypeOf<Pick<SluiceOptions, 'cluster'>>();
    expectTypeOf<NodeStatus>().toEqualTypeOf<'alive' | 'stopped' | 'dead'>();
    expectTypeOf<ClusterNodeRow['status']>().toEqualTypeOf<NodeStatus>();
    expectTypeOf<HeartbeatOutcome['nodes']>().toEqualTypeOf<string[]>();
    expectTypeOf<Cluster['membership']>().toEqualTypeOf<NodeMembership>();
    expectTypeOf<LeaseHolder['lost']>().toBeFunction();
    expect(clusterDefaults).toEqual({ heartbeatMs: 3000, leaseMs: 10_000, slotLingerMs: 1000 });

    const sluice = await Sluice.open({ store: 'sqlite::memory:', cluster: options });
    try {
      const cluster: Cluster | undefined = sluice.cluster;
      const settings: ClusterSettings = cluster!.settings;
      expect(settings).toMatchObject({ nodeId: 'entry-node', heartbeatMs: 1000, leaseMs: 3000 });
      expect(cluster!.membership.nodes).toEqual(['entry-node']);
      const nodes: ClusterNodeRow[] = await sluice.store.nodeList();
      expect(nodes.map((node) => [node.id, node.status])).toEqual([['entry-node', 'alive']]);
    } finally {
      await sluice.close();
    }
  });

  it('exports the group-limit types and bounds', async () => {
    const input: GroupLimitInput = { maxConcurrency: 2, rate: { limit: 5, intervalSeconds: 2 } };
    const rate: RateLimit = { limit: 5, intervalMs: 2000, burst: 5 };
    const limit: GroupLimit = { maxConcurrency: 2, rate };
    const rule: GroupKeyRule = { kind: 'attribute', name: 'tenant' };
    const sync: GroupSyncOptions = { queue: 'tasks' };
    expectTypeOf<GroupTableSync['stop']>().toBeFunction();
    expectTypeOf<QueueGroupActivity['totals']>().toEqualTypeOf<GroupActivityCounts>();
    expectTypeOf<GroupLimitService['activity']>().returns.toEqualTypeOf<QueueGroupActivity[]>();
    expect(groupLimitBounds.maxConcurrency).toBe(100_000);
    expect([limit.maxConcurrency, rule.kind, sync.queue]).toEqual([2, 'attribute', 'tasks']);

    const sluice = await Sluice.open({ store: 'sqlite::memory:' });
    try {
      const view: GroupLimitView = await sluice.groupLimits.set('tasks', 'acme', input);
      expect(view).toMatchObject({ group: 'acme', rate: { limit: 5, intervalSeconds: 2, burst: 5 } });
      const activity: QueueGroupActivity[] = sluice.groupLimits.activity();
      expect(activity).toEqual([]);
    } finally {
      await sluice.close();
    }
  });
});
