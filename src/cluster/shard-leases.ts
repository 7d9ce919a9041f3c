/**
 * Stream shards as leases: a stream trigger serves, on this node, only the shards it holds the lease of,
 * and saves their checkpoints fenced by the lease (a checkpoint from a stale owner writes nothing, and
 * that owner stops). One lease group per trigger (its checkpoint consumer name), one lease per shard.
 *
 * A shard changes hands in order: the giving node stops reading, lets its batches finish and saves the
 * checkpoint, then frees the lease; the taking node reads the checkpoint only after it holds the lease.
 * A dead node's shard is taken after its lease expires and restarts from its last saved checkpoint, so
 * records after it may be handled twice (at least once), in order.
 */
import type { ClusterStore, LeaseFence } from '../store/cluster-store.js';
import type { StreamCheckpoint } from '../store/table-store.js';
import type { Cluster } from './cluster.js';

export interface ServedShards {
  /** The consumer's checkpoint name: the lease group. */
  group: string;
  shards: number[];
  /** This node holds the shard now: position it (from its checkpoint) and start. */
  start(shard: number, fence: LeaseFence): void;
  /** Stop the shard: `release` waits for its batches and last checkpoint; `lost` stops at once. */
  stop(shard: number, mode: 'release' | 'lost'): Promise<void>;
}

export interface ShardLeasing {
  /** Serves the shards this node is given; the returned function stops serving them (and frees their leases). */
  serve(served: ServedShards): Promise<() => Promise<void>>;
  /** Saves checkpoints under a lease; false when the lease was taken over (nothing was written). */
  save(p: {
    fence: LeaseFence;
    consumer: string;
    tableId: number;
    checkpoints: StreamCheckpoint[];
    now: number;
  }): Promise<boolean>;
  /** The trigger was deleted: its lease rows go too. */
  forget(group: string): Promise<void>;
}

export const shardResource = (group: string, shard: number): string => `${group}#${shard}`;

function shardOf(resource: string): number {
  return Number(resource.slice(resource.lastIndexOf('#') + 1));
}

export function shardLeasing(cluster: Cluster, store: ClusterStore): ShardLeasing {
  return {
    async serve(served) {
      const resources = served.shards.map((shard) => shardResource(served.group, shard));
      return cluster.serve(served.group, resources, {
        acquired: (fence) => served.start(shardOf(fence.resource), fence),
        release: (resource) => served.stop(shardOf(resource), 'release'),
        lost: (resource) => void served.stop(shardOf(resource), 'lost'),
      });
    },
    save: (p) => store.leaseCheckpointSave(p),
    forget: (group) => store.leaseDrop({ group }),
  };
}
