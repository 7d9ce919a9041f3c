/**
 * Applies `tables:`. A table's keys (and its stream's shard count) are fixed for its life: a config
 * that changes them is refused with the path, rather than silently recreating the table and losing its
 * items. Its stream and TTL attribute follow the config.
 */
import { SluiceError } from '../../model/errors.js';
import type { TableDescription } from '../../tables/types.js';
import { atPath, type ApplyContext, type ConfigSection } from './section.js';
import type { TableConfig } from './tables-schema.js';

function sameKey(a: { name: string; type: string } | undefined, b: { name: string; type: string } | undefined): boolean {
  return a?.name === b?.name && a?.type === b?.type;
}

function checkFixedParts(name: string, table: TableConfig, current: TableDescription): void {
  const fixed = (field: string, now: unknown) =>
    new SluiceError('InvalidParameterValue', `${field}: cannot change on an existing table (it is ${JSON.stringify(now ?? null)}); delete the table to redefine it`, { field });
  if (!sameKey(table.partitionKey, current.partitionKey)) throw fixed('partitionKey', current.partitionKey);
  if (!sameKey(table.sortKey, current.sortKey)) throw fixed('sortKey', current.sortKey);
  if (table.streamShardCount !== undefined && current.stream && current.stream.shardCount !== table.streamShardCount) {
    throw fixed('streamShardCount', current.stream.shardCount);
  }
  void name;
}

async function applyTable(context: ApplyContext, name: string, table: TableConfig, existing: ReadonlySet<string>): Promise<void> {
  const tables = context.sluice.tables;
  if (!existing.has(name)) {
    await tables.createTable({
      name,
      partitionKey: table.partitionKey,
      ...(table.sortKey ? { sortKey: table.sortKey } : {}),
      ...(table.stream ? { stream: { viewType: table.stream } } : {}),
      ...(table.ttlAttribute ? { ttlAttribute: table.ttlAttribute } : {}),
      ...(table.streamShardCount !== undefined ? { streamShardCount: table.streamShardCount } : {}),
    });
    context.changes.push({ kind: 'table', name, action: 'created' });
    return;
  }
  const current = await tables.describeTable(name);
  checkFixedParts(name, table, current);
  const streamChanged = current.stream?.viewType !== table.stream;
  const ttlChanged = (current.ttlAttribute ?? undefined) !== table.ttlAttribute;
  if (streamChanged || ttlChanged) {
    await tables.updateTable(name, {
      ...(streamChanged ? { stream: table.stream ? { viewType: table.stream } : null } : {}),
      ...(ttlChanged ? { ttlAttribute: table.ttlAttribute ?? null } : {}),
    });
  }
  context.changes.push({ kind: 'table', name, action: streamChanged || ttlChanged ? 'updated' : 'unchanged' });
}

export const tablesSection: ConfigSection = {
  name: 'tables',
  async apply(context) {
    const existing = new Set(await context.sluice.tables.listTables());
    for (const [name, table] of Object.entries(context.config.tables ?? {})) {
      await atPath(`tables.${name}`, () => applyTable(context, name, table, existing));
    }
  },
  async prune(context, options) {
    const declared = context.config.tables ?? {};
    for (const name of await context.sluice.tables.listTables()) {
      if (name in declared) continue;
      if (options.delete) await context.sluice.tables.deleteTable(name);
      context.changes.push({ kind: 'table', name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};
