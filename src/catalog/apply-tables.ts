/**
 * `sluice apply` for a config file's tables (docs/design/catalog.md), as for its queues: apply creates a
 * table (keys, stream, TTL, shard count, indexes) and marks it (`applied-table`, `{managedBy}`); then only
 * that file changes its stream and TTL attribute or (with --prune) deletes it, with its items. A table's
 * keys and shard count never change; its indexes are only created with it (adding one needs a backfill,
 * which is not one transaction: UpdateTable or a node's config does it), so a file that changes any of
 * them is refused, naming the field. A table that exists without this file's mark is refused unless the
 * apply adopts (`--adopt`) and no other file manages it: then its keys, shard count and indexes must
 * match the file, its stream and TTL are updated to it, and it is marked as the file's. The table service's guard refuses UpdateTable and DeleteTable on an
 * applied table through every API, naming the file (`refuseAppliedTable`).
 */
import { SluiceError } from '../model/errors.js';
import type { CatalogEntry, CatalogTableWrites } from '../store/catalog-store.js';
import type { StoredTable } from '../store/table-store.js';
import type { TableDefinition } from '../store/table-definition.js';
import { applyTableUpdate, buildTableDefinition, type CreateTableInput } from '../tables/definition.js';
import { fieldChanges, refuseUnadopted, type FieldChange, type PlanStep } from './apply-plan.js';

export const APPLIED_TABLE_KIND = 'applied-table';

export interface TablePlanStep {
  action: PlanStep['action'];
  table: string;
  /** For a create or an update: the stream view type and TTL attribute (and for a create its keys and indexes). */
  changes?: Record<string, FieldChange>;
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
    indexes: (definition.indexes ?? []).map(({ backfilling: _backfilling, ...index }) => index),
  };
}

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
      const shown = Object.entries(fieldChanges({ ...fixed(desired), ...mutable(desired) }, undefined)).filter(
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
        `tables.${declared.name}.${field}: cannot change on an existing table (sluice apply changes only its stream and TTL attribute; keys and shard count are fixed, indexes change through UpdateTable)`,
        { field: `tables.${declared.name}.${field}` },
      );
    }
    const changes = fieldChanges(mutable(desired), mutable(current.definition));
    if (adopting) {
      steps.push({ action: 'adopt', table: declared.name, ...(Object.keys(changes).length > 0 ? { changes } : {}) });
      continue;
    }
    steps.push(Object.keys(changes).length === 0 ? { action: 'unchanged', table: declared.name } : { action: 'update', table: declared.name, changes });
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
    if (step.action !== 'create' && step.action !== 'update' && !(step.action === 'adopt' && step.changes)) continue;
    const declared = p.declared.find((candidate) => candidate.name === step.table)!;
    if (step.action === 'create') {
      writes.creates.push({ name: step.table, definition: definitionOf(declared, p.now) });
      continue;
    }
    const current = p.stored.find((table) => table.name === step.table)!;
    try {
      const definition = applyTableUpdate(current.definition, { stream: declared.stream ?? null, ttlAttribute: declared.ttlAttribute ?? null }, p.now);
      writes.updates.push({ name: step.table, definition, expected: current.definition });
    } catch (error) {
      throw named(step.table, error);
    }
  }
  return writes;
}
