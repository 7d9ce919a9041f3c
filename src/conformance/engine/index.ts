/**
 * The engine suite: the services' behaviour (AWS's validation, shapes and errors; long-poll wake-ups;
 * timers, triggers and redrive tasks) on the store of each backend, through a whole Sluice. It sits on
 * top of the store suite (../index.ts), which holds each backend to the store's contract without an
 * engine; a behaviour belongs here when it needs a service to happen.
 */
import type { BackendUnderTest } from '../backend.js';
import { batchConformance } from './batches.js';
import { callbackConformance } from './callbacks.js';
import { deadLetterConformance } from './dead-letter.js';
import { fifoConformance } from './fifo.js';
import { groupLimitConformance } from './group-limits.js';
import { longPollConformance } from './long-poll.js';
import { queueLifecycleConformance } from './queue-lifecycle.js';
import { queueModelConformance } from './queue-model.js';
import { receiveLimitConformance } from './receive-limits.js';
import { scheduleConformance } from './schedules.js';
import { standardMessageConformance } from './standard-messages.js';
import { streamConformance } from './streams.js';
import { tableConformance } from './tables.js';
import { tableIndexConformance } from './table-indexes.js';
import { tableNumberConformance } from './table-numbers.js';
import { tableRequestTokenConformance } from './table-request-tokens.js';

export function runEngineSuite(backend: BackendUnderTest): void {
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
}
