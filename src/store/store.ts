import type { ActivityStore } from './activity-store.js';
import type { BatchStore } from './batch-store.js';
import type { CallbackStore } from './callback-store.js';
import type { CatalogStore } from './catalog-store.js';
import type { ClusterStore } from './cluster-store.js';
import type { GroupStore } from './group-store.js';
import type { Notifier } from './notifier.js';
import type { OutboxStore } from './outbox-store.js';
import type { QueueStore } from './queue-store.js';
import type { ScheduleStore } from './schedule-store.js';
import type { StateMachineStore } from './state-machine-store.js';
import type { TableStore } from './table-store.js';

/**
 * Everything Sluice keeps: one interface per entity (queues, groups, tables and streams, cluster
 * membership, task tokens, schedules, batches, the outbox, the catalog, state machines and activities); each backend implements all of them with
 * its own SQL, and the conformance suite (src/conformance/) holds both to the same behaviour.
 */
export interface Store
  extends QueueStore,
    GroupStore,
    TableStore,
    ClusterStore,
    CallbackStore,
    ScheduleStore,
    BatchStore,
    OutboxStore,
    StateMachineStore,
    ActivityStore,
    CatalogStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly notifier: Notifier;
  close(): Promise<void>;
}
