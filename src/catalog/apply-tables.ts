/**
 * `sluice apply` for a config file's tables (docs/design/catalog.md), as for its queues: apply creates a
 * table (keys, stream, TTL, shard count, indexes) and marks it (`applied-table`, `{managedBy}`); then only
 * that file changes its stream and TTL attribute, adds and removes its global secondary indexes, or (with
 * --prune) deletes it, with its items. Index changes take UpdateTable's path (applyTableUpdate's
 * createIndex / deleteIndex, and the table store's index update inside the apply's transaction): a
 * removed index's entries go with it; an added one is CREATING, its lease row written free, so that a
 * node's backfill watcher (backfill-leases.ts, any node) takes it at once and makes it ACTIVE. As on
 * DynamoDB, one index per table is created at a time. A table's keys and shard count never change, nor
 * its local indexes, nor an existing index's key schema or projection (DynamoDB cannot change them
 * either: delete it and add it again), so a file that changes any of them is refused, naming the field.
 * A table that exists without this file's mark is refused unless the apply adopts (`--adopt`) and no
 * other file manages it: then its keys and shard count must match the file, its stream, TTL and global
 * indexes are updated to it, and it is marked as the file's. The table service's guard refuses
 * UpdateTable and DeleteTable on an applied table through every API, naming the file
 * (`refuseAppliedTable`).
 */
import { SluiceError } from '../model/errors.js';
import type { CatalogEntry, CatalogTableWrites } from '../store/catalog-store.js';
import type { StoredTable } from '../store/table-store.js';
import type { IndexDefinition, TableDefinition } from '../store/table-definition.js';
import { applyTableUpdate, buildTableDefinition, type CreateTableInput } from '../tables/definition.js';
import { fieldChanges, refuseUnadopted, type FieldChange, type PlanStep } from './apply-plan.js';

export const APPLIED_TABLE_KIND = 'applied-table';

export interface TablePlanStep {
  action: PlanStep['action'];
  table: string;
  /** For a create or an update: the stream view type and TTL attribute (and for a create its keys and indexes). */
  changes?: Record<string, FieldChange>;
  /** For an update or an adopt: the global secondary indexes added (CREATING, then ACTIVE) and removed, by name. */
  indexes?: { add?: string[]; remove?: string[] };
}

const named = (name: string, error: unknown): unknown =>
  error instanceof SluiceError ? new SluiceError(error.code, `tables.${name}: ${error.message}`, error.field !== undefined ? { field: error.field } : {}) : error;

/** The declared table's definition, checked as CreateTable checks it. */
function definitionOf(declared: CreateTableInput, now: number): TableDefinition {
  try {
    return buildTableDefinition(declared, now);
  } catch (error) {
    throw named(declared.name, error);
  }
}

/** What `sluice apply` compares of a table: what may change (stream, TTL) and what may not. */
function mutable(definition: TableDefinition) {
  return { stream: definition.stream?.viewType ?? null, ttlAttribute: definition.ttlAttribute };
}
function fixed(definition: TableDefinition) {
  return {
    partitionKey: definition.partitionKey,
    sortKey: definition.sortKey,
    shardCount: definition.shardCount,
  };
}

const declaredIndex = ({ backfilling: _backfilling, ...index }: IndexDefinition): IndexDefinition => index;

/**
 * The global indexes the file adds and removes on an existing table. A local index cannot be added or
 * removed, and no index's key schema or projection can change (DynamoDB's UpdateTable cannot either):
 * those are refused, naming the index.
 */
function indexChanges(name: string, desired: TableDefinition, current: TableDefinition): { add: IndexDefinition[]; remove: string[] } {
  const wanted = new Map((desired.indexes ?? []).map((index) => [index.name, index]));
  const existing = new Map((current.indexes ?? []).map((index) => [index.name, declaredIndex(index)]));
  const refuse = (index: string, why: string): never => {
    throw new SluiceError('InvalidParameterValue', `tables.${name}.indexes.${index}: ${why}`, { field: `tables.${name}.indexes.${index}` });
  };
  const add: IndexDefinition[] = [];
  const remove: string[] = [];
  for (const [indexName, index] of wanted) {
    const found = existing.get(indexName);
    if (!found) {
      if (index.kind === 'local') refuse(indexName, 'a local secondary index can only be created with its table');
      add.push(index);
    } else if (Object.keys(fieldChanges({ index: found }, { index })).length > 0) {
      refuse(
        indexName,
        "cannot change an existing index's key schema or projection (DynamoDB cannot either); remove the index from the file and apply, then add it back with the new definition",
      );
    }
  }
  for (const [indexName, index] of existing) {
    if (wanted.has(indexName)) continue;
    if (index.kind === 'local') refuse(indexName, 'a local secondary index cannot be removed from its table');
    remove.push(indexName);
  }
  return { add, remove };
}

/**
 * The definition the file gives an existing table, reached as UpdateTable would: the stream and TTL, then
 * each removed index, then each added one (CREATING). A second index created on the same table, or one
 * while another is still CREATING, is refused with DynamoDB's LimitExceededException, named.
 */
function updatedDefinition(declared: CreateTableInput, current: TableDefinition, changes: { add: IndexDefinition[]; remove: string[] }, now: number): TableDefinition {
  try {
    let next = applyTableUpdate(current, { stream: declared.stream ?? null, ttlAttribute: declared.ttlAttribute ?? null }, now);
    for (const index of changes.remove) next = applyTableUpdate(next, { deleteIndex: index }, now);
    for (const index of changes.add) next = applyTableUpdate(next, { createIndex: index }, now);
    return next;
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'LimitExceededException') {
      throw new SluiceError(
        error.code,
        `tables.${declared.name}.indexes: ${error.message} (sluice apply adds one index to a table at a time: apply again once the index being created is ACTIVE)`,
        { field: `tables.${declared.name}.indexes` },
      );
    }
    throw named(declared.name, error);
  }
}

const indexStep = (changes: { add: IndexDefinition[]; remove: string[] }): Pick<TablePlanStep, 'indexes'> =>
  changes.add.length + changes.remove.length === 0
    ? {}
    : { indexes: { ...(changes.add.length > 0 ? { add: changes.add.map((index) => index.name) } : {}), ...(changes.remove.length > 0 ? { remove: changes.remove } : {}) } };

export function planTables(p: {
  source: string;
  prune: boolean;
  adopt?: boolean;
  declared: readonly CreateTableInput[];
  stored: readonly StoredTable[];
  marks: readonly CatalogEntry[];
  now: number;
}): TablePlanStep[] {
  const managedBy = new Map(p.marks.map((entry) => [entry.name, (JSON.parse(entry.definition) as { managedBy: string }).managedBy]));
  const steps: TablePlanStep[] = [];
  for (const declared of p.declared) {
    const desired = definitionOf(declared, p.now);
    const current = p.stored.find((table) => table.name === declared.name);
    if (!current) {
      const shown = Object.entries(fieldChanges({ ...fixed(desired), indexes: (desired.indexes ?? []).map(declaredIndex), ...mutable(desired) }, undefined)).filter(
        ([, { to }]) => to !== null && !(Array.isArray(to) && to.length === 0),
      );
      steps.push({ action: 'create', table: declared.name, changes: Object.fromEntries(shown) });
      continue;
    }
    const owner = managedBy.get(declared.name);
    const adopting = owner === undefined && p.adopt === true;
    if (owner !== p.source && !adopting) refuseUnadopted({ kind: 'table', name: declared.name, owner, source: p.source, made: 'a node config, the DynamoDB API or a program', field: 'TableName' });
    const refused = Object.keys(fieldChanges(fixed(desired), fixed(current.definition)));
    if (refused.length > 0) {
      const field = refused[0]!;
      throw new SluiceError(
        'InvalidParameterValue',
        `tables.${declared.name}.${field}: cannot change on an existing table (sluice apply changes its stream, TTL attribute and global secondary indexes; keys and shard count are fixed)`,
        { field: `tables.${declared.name}.${field}` },
      );
    }
    const changes = fieldChanges(mutable(desired), mutable(current.definition));
    const indexes = indexChanges(declared.name, desired, current.definition);
    // Checked now, so that a dry run shows what the apply would refuse.
    updatedDefinition(declared, current.definition, indexes, p.now);
    const changed = { ...(Object.keys(changes).length > 0 ? { changes } : {}), ...indexStep(indexes) };
    if (adopting) {
      steps.push({ action: 'adopt', table: declared.name, ...changed });
      continue;
    }
    steps.push(Object.keys(changed).length === 0 ? { action: 'unchanged', table: declared.name } : { action: 'update', table: declared.name, ...changed });
  }
  for (const [name, source] of managedBy) {
    if (source !== p.source || p.declared.some((declared) => declared.name === name)) continue;
    steps.push({ action: p.prune ? 'delete' : 'keep', table: name });
  }
  return steps;
}

/** The plan's table rows for `catalogWrite`; an update is a compare-and-set on the definition the plan read. */
export function tableWrites(p: { declared: readonly CreateTableInput[]; steps: readonly TablePlanStep[]; stored: readonly StoredTable[]; now: number }): CatalogTableWrites {
  const writes: CatalogTableWrites = { creates: [], updates: [], deletes: [], now: p.now };
  for (const step of p.steps) {
    if (step.action === 'delete') writes.deletes.push(step.table);
    if (step.action !== 'create' && step.action !== 'update' && !(step.action === 'adopt' && (step.changes || step.indexes))) continue;
    const declared = p.declared.find((candidate) => candidate.name === step.table)!;
    if (step.action === 'create') {
      writes.creates.push({ name: step.table, definition: definitionOf(declared, p.now) });
      continue;
    }
    const current = p.stored.find((table) => table.name === step.table)!;
    const indexes = indexChanges(step.table, definitionOf(declared, p.now), current.definition);
    const definition = updatedDefinition(declared, current.definition, indexes, p.now);
    const indexesChanged = indexes.add.length + indexes.remove.length > 0;
    // No lease owner: the added index's lease row is written free, for whichever node's watcher takes it first.
    writes.updates.push({ name: step.table, definition, expected: current.definition, ...(indexesChanged ? { indexesChanged, dropIndexes: indexes.remove } : {}) });
  }
  return writes;
}
