/**
 * Every behaviour test of the store, written once; each backend's test file calls `runConformance`.
 * Suites under store/ test the store alone (store/harness.ts); the others drive an engine on the
 * backend's store (harness.ts), for behaviour that spans the store and a feature's service.
 */
import { callbackConformance } from './callbacks.js';
import { deadLetterConformance } from './dead-letter.js';
import { fifoConformance } from './fifo.js';
import { groupLimitConformance } from './group-limits.js';
import { largeClaimConformance } from './large-claims.js';
import type { BackendUnderTest } from './harness.js';
import { longPollConformance } from './long-poll.js';
import { queueLifecycleConformance } from './queue-lifecycle.js';
import { queueModelConformance } from './queue-model.js';
import { receiveLimitConformance } from './receive-limits.js';
import { standardMessageConformance } from './standard-messages.js';
import { streamConformance } from './streams.js';
import { tableConformance } from './tables.js';
import { tableIndexConformance } from './table-indexes.js';
import { tableNumberConformance } from './table-numbers.js';
import { tableRequestTokenConformance } from './table-request-tokens.js';
import { scheduleConformance } from './schedules.js';
import { batchConformance } from './batches.js';
import { callbackStoreConformance } from './store/callbacks.js';
import { catalogStoreConformance } from './store/catalog.js';
import { scheduleOutboxStoreConformance } from './store/schedules-outbox.js';
import { stateMachineStoreConformance } from './store/state-machines.js';

export type { BackendUnderTest } from './harness.js';

export function runConformance(backend: BackendUnderTest): void {
  // The store itself, no engine.
  callbackStoreConformance(backend);
  catalogStoreConformance(backend);
  scheduleOutboxStoreConformance(backend);
  stateMachineStoreConformance(backend);
  // Behaviour through the engine, on the backend's store.
  queueLifecycleConformance(backend);
  standardMessageConformance(backend);
  fifoConformance(backend);
  deadLetterConformance(backend);
  longPollConformance(backend);
  receiveLimitConformance(backend);
  queueModelConformance(backend);
  batchConformance(backend);
  scheduleConformance(backend);
  callbackConformance(backend);
  tableConformance(backend);
  tableIndexConformance(backend);
  tableNumberConformance(backend);
  tableRequestTokenConformance(backend);
  streamConformance(backend);
  groupLimitConformance(backend);
  largeClaimConformance(backend);
}
