/**
 * Applies `tables:`. A table's keys (and its stream's shard count) are fixed for its life: a config
 * that changes them is refused with the path, rather than silently recreating the table and losing its
 * items. Its stream and TTL attribute follow the config.
 */
import { SluiceError } from '../../model/errors.js';
import type { IndexDefinition } from '../../store/table-definition.js';
import type { TableDescription } from '../../tables/types.js';
import type { CreateTableInput } from '../../tables/definition.js';
import { atPath, type ApplyContext, type ConfigSection } from './section.js';
import type { IndexConfig, TableConfig } from './tables-schema.js';

/** The index a config entry declares; the library validates it (a local index's keys, the projection). */
function indexOf(name: string, index: IndexConfig, table: TableConfig): IndexDefinition {
  const partitionKey = index.partitionKey ?? (index.local ? table.partitionKey : undefined);
  if (!partitionKey) {
    throw new SluiceError('InvalidParameterValue', `indexes.${name}.partitionKey: a global index needs its partition key`, { field: `indexes.${name}.partitionKey` });
  }
  const projection = index.projection ?? 'ALL';
  return {
    name,
    kind: index.local ? 'local' : 'global',
    partitionKey,
    sortKey: index.sortKey ?? null,
    projection: Array.isArray(projection) ? { type: 'INCLUDE', nonKeyAttributes: projection } : { type: projection },
  };
}

function indexesOf(table: TableConfig): IndexDefinition[] {
  return Object.entries(table.indexes ?? {}).map(([name, index]) => indexOf(name, index, table));
}

/**
 * Global indexes follow the config (added or removed one at a time, as DynamoDB allows); a changed index,
 * or any change to the local ones, is refused: local indexes are fixed at creation.
 */
async function applyIndexes(context: ApplyContext, name: string, table: TableConfig, current: TableDescription): Promise<boolean> {
  const wanted = indexesOf(table);
  const existing = current.indexes ?? [];
  const canonical = (i: IndexDefinition) =>
    JSON.stringify([i.kind, i.partitionKey.name, i.partitionKey.type, i.sortKey?.name, i.sortKey?.type, i.projection.type, i.projection.nonKeyAttributes ?? []]);
  const same = (a: IndexDefinition, b: IndexDefinition) => canonical(a) === canonical(b);
  for (const index of wanted) {
    const now = existing.find((e) => e.name === index.name);
    if (now && !same(now, index)) {
      throw new SluiceError('InvalidParameterValue', `indexes.${index.name}: cannot change an existing index (it is ${JSON.stringify(now)}); remove it, apply, then add it again`, { field: `indexes.${index.name}` });
    }
    if (!now && index.kind === 'local') {
      throw new SluiceError('InvalidParameterValue', `indexes.${index.name}: a local index can only be declared when the table is created`, { field: `indexes.${index.name}` });
    }
  }
  let changed = false;
  for (const index of existing) {
    if (wanted.some((w) => w.name === index.name)) continue;
    if (index.kind === 'local') {
      throw new SluiceError('InvalidParameterValue', `indexes.${index.name}: a local index cannot be removed from an existing table`, { field: `indexes.${index.name}` });
    }
    await context.sluice.tables.updateTable(name, { deleteIndex: index.name });
    changed = true;
  }
  for (const index of wanted) {
    if (existing.some((e) => e.name === index.name)) continue;
    // Waits for the backfill: the next index can only be added once this one is ACTIVE (as on DynamoDB).
    await context.sluice.tables.updateTable(name, { createIndex: index }, { waitForIndex: true });
    changed = true;
  }
  return changed;
}

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

/** The table a config entry declares, as CreateTable's input (`sluice apply` sends the same). */
export function tableInputOf(name: string, table: TableConfig): CreateTableInput {
  return {
    name,
    partitionKey: table.partitionKey,
    ...(table.sortKey ? { sortKey: table.sortKey } : {}),
    ...(table.stream ? { stream: { viewType: table.stream } } : {}),
    ...(table.ttlAttribute ? { ttlAttribute: table.ttlAttribute } : {}),
    ...(table.streamShardCount !== undefined ? { streamShardCount: table.streamShardCount } : {}),
    ...(table.indexes ? { indexes: indexesOf(table) } : {}),
  };
}

async function applyTable(context: ApplyContext, name: string, table: TableConfig, existing: ReadonlySet<string>): Promise<void> {
  const tables = context.sluice.tables;
  if (!existing.has(name)) {
    await tables.createTable(tableInputOf(name, table));
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
  const indexesChanged = await applyIndexes(context, name, table, current);
  context.changes.push({ kind: 'table', name, action: streamChanged || ttlChanged || indexesChanged ? 'updated' : 'unchanged' });
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
      // A table `sluice apply` created is its file's: a node's config does not prune it.
      if (await context.sluice.catalog.refuseAppliedTable(name).then(() => false, () => true)) {
        context.changes.push({ kind: 'table', name, action: 'kept (managed by sluice apply)' });
        continue;
      }
      if (options.delete) await context.sluice.tables.deleteTable(name);
      context.changes.push({ kind: 'table', name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};
