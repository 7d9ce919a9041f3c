/**
 * `sluice apply` for a config file's queues (docs/design/catalog.md): the plan against the queues in the
 * store and the marks of what files applied, and the rows `catalogWrite` writes in the apply's one
 * transaction. As for schedules, apply creates a queue and marks it (`applied-queue`, `{managedBy}`),
 * then only that file changes or (with --prune) deletes it; a queue that exists without this file's mark
 * (made by a node's config, the SQS API, a program or another file) is refused, naming it, unless the
 * apply adopts (`sluice apply --adopt`): then one no file manages is updated to the file and marked as
 * the file's, as if the file had created it. Every change through the SQS API, the native API or the library to
 * an applied queue's attributes or tags, or its deletion, is refused naming the file (the queue
 * service's guard, `refuseAppliedQueue`).
 */
import { applyQueueAttributes, defaultQueueSettings, validateQueueName, type QueueAttributesInput } from '../queues/attributes.js';
import { validateTags } from '../queues/tags.js';
import { parseArn } from '../model/arn.js';
import { SluiceError } from '../model/errors.js';
import type { CatalogEntry, CatalogQueueWrites } from '../store/catalog-store.js';
import type { QueueSettings } from '../store/queue-settings.js';
import type { StoredQueue } from '../store/queue-store.js';
import { fieldChanges, refuseUnadopted, type FieldChange, type PlanStep } from './apply-plan.js';

export const APPLIED_QUEUE_KIND = 'applied-queue';

/** A queue a config file declares: SQS's attributes (every one the file leaves out takes SQS's default) and, when given, exactly these tags. */
export interface DeclaredQueue {
  name: string;
  attributes: QueueAttributesInput;
  tags?: Record<string, string>;
}

export interface QueuePlanStep {
  action: PlanStep['action'];
  queue: string;
  /** For a create or an update: each attribute (and `tags`) that differs from the queue in the store. */
  changes?: Record<string, FieldChange>;
}

/** A declared queue as the store would hold it, checked as CreateQueue checks it (the file's path named). */
export function desiredQueue(declared: DeclaredQueue): { fifo: boolean; settings: QueueSettings; tags: Record<string, string> } {
  try {
    const { fifo } = validateQueueName(declared.name);
    const settings = applyQueueAttributes(defaultQueueSettings(fifo), declared.attributes, true);
    return { fifo, settings, tags: validateTags(declared.tags ?? {}, 'tags') };
  } catch (error) {
    if (error instanceof SluiceError) throw new SluiceError(error.code, `queues.${declared.name}: ${error.message}`, error.field !== undefined ? { field: error.field } : {});
    throw error;
  }
}

const managedByOf = (marks: readonly CatalogEntry[]) => new Map(marks.map((entry) => [entry.name, (JSON.parse(entry.definition) as { managedBy: string }).managedBy]));

/**
 * Create what is missing, update what this file applied and now differs (every attribute compared, since
 * a left-out attribute means SQS's default; tags only when the file gives them), keep or (prune) delete
 * what it applied and no longer declares; refuse a queue it did not create, unless `adopt` (then
 * the queue is updated to the file and becomes the file's).
 */
export function planQueues(p: { source: string; prune: boolean; adopt?: boolean; declared: readonly DeclaredQueue[]; stored: readonly StoredQueue[]; marks: readonly CatalogEntry[] }): QueuePlanStep[] {
  const managedBy = managedByOf(p.marks);
  const steps: QueuePlanStep[] = [];
  for (const declared of p.declared) {
    const desired = desiredQueue(declared);
    const current = p.stored.find((queue) => queue.name === declared.name);
    if (!current) {
      // A new queue's diff: what differs from SQS's defaults (listing every default would hide it).
      const changes = fieldChanges({ ...desired.settings, ...(declared.tags ? { tags: desired.tags } : {}) }, { ...defaultQueueSettings(desired.fifo), tags: {} });
      steps.push({ action: 'create', queue: declared.name, changes: Object.fromEntries(Object.entries(changes).map(([field, { to }]) => [field, { to }])) });
      continue;
    }
    const owner = managedBy.get(declared.name);
    const adopting = owner === undefined && p.adopt === true;
    if (owner !== p.source && !adopting) refuseUnadopted({ kind: 'queue', name: declared.name, owner, source: p.source, made: 'a node config, the SQS API or a program', field: 'QueueName' });
    const changes = fieldChanges({ ...desired.settings, ...(declared.tags ? { tags: desired.tags } : {}) }, { ...current.settings, tags: current.tags });
    if (adopting) {
      steps.push({ action: 'adopt', queue: declared.name, ...(Object.keys(changes).length > 0 ? { changes } : {}) });
      continue;
    }
    steps.push(Object.keys(changes).length === 0 ? { action: 'unchanged', queue: declared.name } : { action: 'update', queue: declared.name, changes });
  }
  for (const [name, source] of managedBy) {
    if (source !== p.source || p.declared.some((declared) => declared.name === name)) continue;
    steps.push({ action: p.prune ? 'delete' : 'keep', queue: name });
  }
  return steps;
}

/**
 * The plan's queue rows for `catalogWrite`. A redrive policy must name a queue that exists and is not
 * deleted by this apply, or one this apply creates, of the same type (standard or FIFO).
 */
export function queueWrites(p: {
  declared: readonly DeclaredQueue[];
  steps: readonly QueuePlanStep[];
  stored: readonly StoredQueue[];
  now: number;
  nameReuseDelayMs: number;
}): CatalogQueueWrites {
  const writes: CatalogQueueWrites = { creates: [], updates: [], deletes: [], now: p.now, nameReuseDelayMs: p.nameReuseDelayMs };
  const deleted = new Set(p.steps.filter((step) => step.action === 'delete').map((step) => step.queue));
  const fifoOf = (name: string): boolean | undefined => {
    if (deleted.has(name)) return undefined;
    if (p.declared.some((declared) => declared.name === name)) return name.endsWith('.fifo');
    return p.stored.find((queue) => queue.name === name)?.fifo;
  };
  for (const step of p.steps) {
    if (step.action === 'delete') {
      writes.deletes.push(step.queue);
      continue;
    }
    if (step.action !== 'create' && step.action !== 'update' && !(step.action === 'adopt' && step.changes)) continue;
    const declared = p.declared.find((candidate) => candidate.name === step.queue)!;
    const desired = desiredQueue(declared);
    const dlqArn = desired.settings.RedrivePolicy?.deadLetterTargetArn;
    if (dlqArn !== undefined) {
      const field = `queues.${step.queue}.deadLetter`;
      const dlq = parseArn(dlqArn)?.resource ?? dlqArn;
      const dlqFifo = fifoOf(dlq);
      if (dlqFifo === undefined) throw new SluiceError('InvalidParameterValue', `${field}: the dead-letter queue ${dlq} does not exist and the file does not declare it`, { field });
      if (dlq === step.queue) throw new SluiceError('InvalidParameterValue', `${field}: a queue cannot be its own dead-letter queue`, { field });
      if (dlqFifo !== desired.fifo) {
        throw new SluiceError('InvalidParameterValue', `${field}: the dead-letter queue of a ${desired.fifo ? 'FIFO' : 'standard'} queue must also be ${desired.fifo ? 'FIFO' : 'standard'}`, { field });
      }
    }
    if (step.action === 'create') writes.creates.push({ name: step.queue, ...desired });
    else {
      const current = p.stored.find((queue) => queue.name === step.queue)!;
      writes.updates.push({ name: step.queue, settings: desired.settings, tags: declared.tags ? desired.tags : current.tags });
    }
  }
  return writes;
}
