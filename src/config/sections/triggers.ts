/**
 * Applies `triggers:`. A trigger is identified by its queue and function; one that exists is updated
 * in place (batches under way finish on their old settings).
 */
import type { TriggerInput } from '../../triggers/types.js';
import { MAPPING_KIND } from '../../catalog/service.js';
import { atPath, catalogConflict, type ConfigSection } from './section.js';
import type { TriggerConfigEntry } from './triggers-schema.js';

export function triggerInputOf(trigger: TriggerConfigEntry): TriggerInput {
  return {
    queue: trigger.queue,
    functionName: trigger.function,
    ...(trigger.batchSize !== undefined ? { batchSize: trigger.batchSize } : {}),
    ...(trigger.maximumBatchingWindowInSeconds !== undefined ? { maximumBatchingWindowInSeconds: trigger.maximumBatchingWindowInSeconds } : {}),
    scalingConfig: trigger.maximumConcurrency !== undefined ? { maximumConcurrency: trigger.maximumConcurrency } : null,
    enabled: trigger.enabled ?? true,
    filterCriteria: trigger.filters
      ? { Filters: trigger.filters.map((pattern) => ({ Pattern: typeof pattern === 'string' ? pattern : JSON.stringify(pattern) })) }
      : null,
    functionResponseTypes: trigger.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    ...(trigger.groupBy !== undefined ? { groupBy: trigger.groupBy } : {}),
  };
}

const label = (trigger: { queue: string; functionName: string }) => `${trigger.queue} -> ${trigger.functionName}`;

export const triggersSection: ConfigSection = {
  name: 'triggers',
  async apply(context) {
    const { triggers, catalog } = context.sluice;
    for (const [index, entry] of (context.config.triggers ?? []).entries()) {
      const input = triggerInputOf(entry);
      await atPath(`triggers[${index}]`, async () => {
        const existing = triggers.list({ queue: input.queue, functionName: input.functionName }).find((view) => !catalog.holds(view.uuid));
        const held = await catalog.heldMapping({ queue: input.queue, functionName: input.functionName });
        if (held !== undefined) throw catalogConflict(`the trigger ${label(input)}`, held, context.source);
        if (existing) {
          const { queue: _queue, ...changes } = input;
          await triggers.update(existing.uuid, changes);
          catalog.manage(MAPPING_KIND, existing.uuid, context.source);
          context.changes.push({ kind: 'trigger', name: label(input), action: 'updated' });
        } else {
          const created = await triggers.create(input);
          catalog.manage(MAPPING_KIND, created.uuid, context.source);
          context.changes.push({ kind: 'trigger', name: label(input), action: 'created' });
        }
      });
    }
  },
  async prune(context, options) {
    const declared = new Set((context.config.triggers ?? []).map((entry) => `${entry.queue} -> ${entry.function}`));
    for (const trigger of context.sluice.triggers.list()) {
      const name = label(trigger);
      // Mappings of the cluster catalog are not this file's to prune.
      if (declared.has(name) || context.sluice.catalog.holds(trigger.uuid)) continue;
      if (options.delete) await context.sluice.triggers.delete(trigger.uuid);
      context.changes.push({ kind: 'trigger', name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};
