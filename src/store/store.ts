import { SluiceError } from '../model/errors.js';
import type { BatchStore } from './batch-store.js';
import type { CallbackStore } from './callback-store.js';
import type { ClusterStore } from './cluster-store.js';
import type { GroupStore } from './group-store.js';
import type { Notifier } from './notifier.js';
import type { OutboxStore } from './outbox-store.js';
import type { QueueStore } from './queue-store.js';
import type { ScheduleStore } from './schedule-store.js';
import type { TableStore } from './table-store.js';

/**
 * Everything Sluice keeps. Each feature adds its own interface here (queues now; tables, streams,
 * functions, leases later); each backend implements all of them with its own SQL.
 */
export interface Store extends QueueStore, GroupStore, TableStore, ClusterStore, Partial<FeatureStores> {
  readonly kind: 'sqlite' | 'postgres';
  readonly notifier: Notifier;
  close(): Promise<void>;
}

/**
 * Task tokens, schedules, batches and their outbox: optional until the PostgreSQL backend implements
 * them; a feature asks for them with `requireFeatureStores`, which names the backend that lacks them.
 */
export type FeatureStores = CallbackStore & ScheduleStore & BatchStore & OutboxStore;
export type StoreWithFeatures = Store & FeatureStores;

export function hasFeatureStores(store: Store): store is StoreWithFeatures {
  return (
    typeof store.callbackCreate === 'function' &&
    typeof store.scheduleClaimTick === 'function' &&
    typeof store.batchAckChunks === 'function' &&
    typeof store.outboxClaim === 'function'
  );
}

export function requireFeatureStores(store: Store, feature: string): StoreWithFeatures {
  if (hasFeatureStores(store)) return store;
  throw new SluiceError('UnsupportedOperation', `store: the ${store.kind} store does not implement ${feature} yet`);
}
