/**
 * Applies `streamTriggers:`. A stream trigger is identified by its table and function; one that exists
 * is updated in place (its starting position cannot change).
 */
import type { Sluice } from '../../engine/sluice.js';
import type { StreamTriggerInput } from '../../triggers/stream/stream-types.js';
import { MAPPING_KIND } from '../../catalog/service.js';
import { atPath, catalogConflict, type ConfigSection } from './section.js';
import type { StreamTriggerConfigEntry } from './stream-triggers-schema.js';

export function streamTriggerInputOf(sluice: Sluice, entry: StreamTriggerConfigEntry): StreamTriggerInput {
  const onFailure = entry.onFailure
    ? { destination: 'queue' in entry.onFailure ? sluice.queues.arnOf(entry.onFailure.queue) : sluice.functions.arnOf(entry.onFailure.function) }
    : null;
  return {
    stream: entry.table,
    functionName: entry.function,
    startingPosition: entry.startingPosition ?? 'TRIM_HORIZON',
    ...(entry.batchSize !== undefined ? { batchSize: entry.batchSize } : {}),
    ...(entry.maximumBatchingWindowInSeconds !== undefined ? { maximumBatchingWindowInSeconds: entry.maximumBatchingWindowInSeconds } : {}),
    ...(entry.parallelizationFactor !== undefined ? { parallelizationFactor: entry.parallelizationFactor } : {}),
    ...(entry.bisectBatchOnFunctionError !== undefined ? { bisectBatchOnFunctionError: entry.bisectBatchOnFunctionError } : {}),
    ...(entry.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: entry.maximumRetryAttempts } : {}),
    destinationConfig: { onFailure },
    functionResponseTypes: entry.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    filterCriteria: entry.filters
      ? { Filters: entry.filters.map((pattern) => ({ Pattern: typeof pattern === 'string' ? pattern : JSON.stringify(pattern) })) }
      : null,
    enabled: entry.enabled ?? true,
  };
}

/** The table a trigger reads, from its event source ARN (`arn:aws:dynamodb:...:table/<name>/stream/<label>`). */
function tableOf(eventSourceArn: string): string {
  return /:table\/([^/]+)/.exec(eventSourceArn)?.[1] ?? eventSourceArn;
}

export const streamTriggersSection: ConfigSection = {
  name: 'streamTriggers',
  async apply(context) {
    const service = context.sluice.streamTriggers;
    for (const [index, entry] of (context.config.streamTriggers ?? []).entries()) {
      const name = `${entry.table} -> ${entry.function}`;
      await atPath(`streamTriggers[${index}]`, async () => {
        const input = streamTriggerInputOf(context.sluice, entry);
        const { catalog } = context.sluice;
        const existing = service.list({ functionName: entry.function }).find((view) => tableOf(view.eventSourceArn) === entry.table && !catalog.holds(view.uuid));
        const held = await catalog.heldMapping({ table: entry.table, functionName: entry.function });
        if (held !== undefined) throw catalogConflict(`the stream trigger ${name}`, held, context.source);
        if (existing) {
          const { stream: _stream, startingPosition: _position, ...changes } = input;
          await service.update(existing.uuid, changes);
          catalog.manage(MAPPING_KIND, existing.uuid, context.source);
          context.changes.push({ kind: 'stream trigger', name, action: 'updated' });
        } else {
          const created = await service.create(input);
          catalog.manage(MAPPING_KIND, created.uuid, context.source);
          context.changes.push({ kind: 'stream trigger', name, action: 'created' });
        }
      });
    }
  },
  async prune(context, options) {
    const declared = new Set((context.config.streamTriggers ?? []).map((entry) => `${entry.table} -> ${entry.function}`));
    for (const view of context.sluice.streamTriggers.list()) {
      const name = `${tableOf(view.eventSourceArn)} -> ${view.functionName}`;
      if (declared.has(name) || context.sluice.catalog.holds(view.uuid)) continue;
      if (options.delete) await context.sluice.streamTriggers.delete(view.uuid);
      context.changes.push({ kind: 'stream trigger', name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};
