/**
 * The store suite: the store's contract (src/store/store.ts), written once and run against each backend's
 * store itself, as River runs its driver test suite against the driver. Each test gets a fresh, empty
 * store and nothing else (store/harness.ts): no engine, no clock, every instant passed in. Each backend's
 * test file calls `runConformance`. Behaviour that needs a service on top (validation, wake-ups, timers)
 * is the engine suite's (engine/), which runs on both backends too.
 */
import type { BackendUnderTest } from './backend.js';
import { activityStoreConformance } from './store/activities.js';
import { batchStoreConformance } from './store/batches.js';
import { callbackStoreConformance } from './store/callbacks.js';
import { clusterStoreConformance } from './store/cluster.js';
import { catalogStoreConformance } from './store/catalog.js';
import { queueStoreConformance } from './store/queues.js';
import { deadLetterStoreConformance } from './store/queues-dead-letter.js';
import { fifoQueueStoreConformance } from './store/queues-fifo.js';
import { tableStoreConformance } from './store/tables.js';
import { indexBackfillStoreConformance } from './store/index-backfills.js';
import { groupStoreConformance } from './store/groups.js';
import { scheduleOutboxStoreConformance } from './store/schedules-outbox.js';
import { stateMachineStoreConformance } from './store/state-machines.js';
import { stateMachineVersionConformance } from './store/state-machine-versions.js';

export type { BackendUnderTest } from './backend.js';

export function runConformance(backend: BackendUnderTest): void {
  queueStoreConformance(backend);
  fifoQueueStoreConformance(backend);
  deadLetterStoreConformance(backend);
  tableStoreConformance(backend);
  indexBackfillStoreConformance(backend);
  batchStoreConformance(backend);
  groupStoreConformance(backend);
  clusterStoreConformance(backend);
  callbackStoreConformance(backend);
  activityStoreConformance(backend);
  catalogStoreConformance(backend);
  scheduleOutboxStoreConformance(backend);
  stateMachineStoreConformance(backend);
  stateMachineVersionConformance(backend);
}
