/**
 * Applies `queues:`. Every attribute the config leaves out takes SQS's default, so removing a line
 * from the config reverts the queue to the default on the next start. Dead-letter queues are applied
 * before the queues that use them, since a redrive policy must name an existing queue.
 */
import { applyQueueAttributes, defaultQueueSettings, integerAttributeRanges as ranges, sameSettings, type QueueAttributesInput } from '../../queues/attributes.js';
import type { QueueService } from '../../queues/service.js';
import { SluiceError } from '../../model/errors.js';
import type { QueueConfig } from './queues-schema.js';
import { atPath, type ApplyContext, type ConfigSection } from './section.js';

export function queueAttributesOf(name: string, queue: QueueConfig, arnOf: (name: string) => string): QueueAttributesInput {
  const allow = queue.redriveAllow;
  return {
    VisibilityTimeout: queue.visibilityTimeout ?? ranges.VisibilityTimeout.default,
    DelaySeconds: queue.delaySeconds ?? ranges.DelaySeconds.default,
    MessageRetentionPeriod: queue.messageRetentionPeriod ?? ranges.MessageRetentionPeriod.default,
    MaximumMessageSize: queue.maximumMessageSize ?? ranges.MaximumMessageSize.default,
    ReceiveMessageWaitTimeSeconds: queue.receiveMessageWaitTimeSeconds ?? ranges.ReceiveMessageWaitTimeSeconds.default,
    RedrivePolicy: queue.deadLetter ? { deadLetterTargetArn: arnOf(queue.deadLetter.queue), maxReceiveCount: queue.deadLetter.maxReceiveCount } : null,
    RedriveAllowPolicy:
      allow === undefined
        ? null
        : typeof allow === 'string'
          ? { redrivePermission: allow }
          : { redrivePermission: 'byQueue', sourceQueueArns: allow.byQueue.map(arnOf) },
    ...(name.endsWith('.fifo')
      ? {
          ContentBasedDeduplication: queue.contentBasedDeduplication ?? false,
          DeduplicationScope: queue.deduplicationScope ?? 'queue',
          FifoThroughputLimit: queue.fifoThroughputLimit ?? 'perQueue',
        }
      : {}),
  };
}

/** Queue names with every dead-letter queue before the queues that use it. */
export function dependencyOrder(queues: Record<string, QueueConfig>): string[] {
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new SluiceError('InvalidParameterValue', `queues.${name}.deadLetter: the dead-letter queues form a cycle (${[...chain, name].join(' -> ')})`, {
        field: `queues.${name}.deadLetter`,
      });
    }
    state.set(name, 'visiting');
    const dlq = queues[name]?.deadLetter?.queue;
    if (dlq !== undefined && queues[dlq] !== undefined) visit(dlq, [...chain, name]);
    state.set(name, 'done');
    ordered.push(name);
  };
  for (const name of Object.keys(queues)) visit(name, []);
  return ordered;
}

async function applyTags(queues: QueueService, name: string, desired: Record<string, string>): Promise<boolean> {
  const current = await queues.listTags(name);
  const removed = Object.keys(current).filter((key) => !(key in desired));
  const changed = Object.entries(desired).some(([key, value]) => current[key] !== value);
  if (removed.length > 0) await queues.untag(name, removed);
  if (changed) await queues.tag(name, desired);
  return removed.length > 0 || changed;
}

async function applyQueue(context: ApplyContext, name: string, queue: QueueConfig): Promise<void> {
  const queues = context.sluice.queues;
  const attributes = queueAttributesOf(name, queue, (queueName) => queues.arnOf(queueName));
  if (!(await queues.exists(name))) {
    await queues.create(name, attributes, { tags: queue.tags ?? {} });
    context.changes.push({ kind: 'queue', name, action: 'created' });
    return;
  }
  const current = await queues.definition(name);
  const desired = applyQueueAttributes(defaultQueueSettings(current.fifo), attributes, true);
  let updated = false;
  if (!sameSettings(current.settings, desired)) {
    await queues.setAttributes(name, attributes);
    updated = true;
  }
  if (queue.tags !== undefined) updated = (await applyTags(queues, name, queue.tags)) || updated;
  context.changes.push({ kind: 'queue', name, action: updated ? 'updated' : 'unchanged' });
}

export const queuesSection: ConfigSection = {
  name: 'queues',
  async apply(context) {
    const declared = context.config.queues ?? {};
    for (const name of dependencyOrder(declared)) await atPath(`queues.${name}`, () => applyQueue(context, name, declared[name]!));
  },
  async prune(context, options) {
    const declared = context.config.queues ?? {};
    const queues = context.sluice.queues;
    const extra = (await queues.list()).filter((name) => !(name in declared));
    // Sources before their dead-letter queues, the reverse of creation.
    for (const name of extra.reverse()) {
      // A queue `sluice apply` created is its file's: a node's config does not prune it.
      if (await context.sluice.catalog.refuseAppliedQueue(name).then(() => false, () => true)) {
        context.changes.push({ kind: 'queue', name, action: 'kept (managed by sluice apply)' });
        continue;
      }
      if (options.delete) await queues.delete(name);
      context.changes.push({ kind: 'queue', name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};
