/**
 * `sluice apply`'s plan, as a pure function of the catalog's mappings and the ones a config file
 * declares (docs/design/catalog.md): create what is missing, update what differs, leave the rest
 * unchanged, and keep (or, with `prune`, delete) the mappings this file applied before and no longer
 * declares. Mappings are matched by source and function; only the fields the file declares are
 * compared, so a field it stopped declaring keeps its last value rather than being planned forever.
 */
import { SluiceError } from '../model/errors.js';
import type { TriggerInput, TriggerUpdate } from '../triggers/types.js';
import type { StreamTriggerInput, StreamTriggerUpdate } from '../triggers/stream/stream-types.js';

export type MappingDefinition = (
  | { source: 'queue'; input: TriggerInput & { uuid: string } }
  | { source: 'stream'; input: StreamTriggerInput & { uuid: string } }
) & {
  /** The config file `sluice apply` stored it from: the API refuses to change it, naming the file. */
  managedBy?: string;
};

/** A mapping a config file declares, for `sluice apply` (its UUID is the catalog's). */
export type DeclaredMapping =
  | { source: 'queue'; input: TriggerInput }
  | { source: 'stream'; input: StreamTriggerInput };

export interface PlanStep {
  /** `adopt` (queues, tables, schedules with `--adopt`): an existing resource no file manages becomes this file's, updated to it. */
  action: 'create' | 'update' | 'unchanged' | 'delete' | 'keep' | 'adopt';
  /** `queue -> function` or `table -> function`. */
  mapping: string;
  uuid?: string;
  /** For an update: each declared field that differs from the catalog's mapping, as `field: {from, to}`. */
  changes?: Record<string, FieldChange>;
}

export type PlannedStep = PlanStep & { declared?: DeclaredMapping };

/** The table of a stream given by ARN (`arn:...:table/<name>/stream/<label>`) or by table name. */
export function tableOfStream(stream: string): string {
  const match = /:table\/([^/]+)\/stream\//.exec(stream);
  return match ? match[1]! : stream;
}

/** `queue -> function` or `table -> function`, by names (ARNs reduced to them). */
export function mappingLabel(mapping: DeclaredMapping): string {
  const source = mapping.source === 'queue' ? mapping.input.queue.slice(mapping.input.queue.lastIndexOf(':') + 1) : tableOfStream(mapping.input.stream);
  return `${source} -> ${mapping.input.functionName}`;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** The fields of a declared mapping an update may change (not its source, UUID or starting position). */
export function mutableFields(mapping: DeclaredMapping): TriggerUpdate | StreamTriggerUpdate {
  if (mapping.source === 'queue') {
    const { queue: _queue, uuid: _uuid, ...changes } = mapping.input;
    return changes;
  }
  const { stream: _stream, uuid: _uuid, startingPosition: _position, startingPositionTimestamp: _timestamp, ...changes } = mapping.input;
  return changes;
}

export function planMappings(p: {
  source: string;
  declared: readonly DeclaredMapping[];
  prune: boolean;
  stored: ReadonlyArray<{ uuid: string; definition: MappingDefinition }>;
}): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const matched = new Set<string>();
  for (const declared of p.declared) {
    const mapping = mappingLabel(declared);
    const found = p.stored.find(({ definition }) => mappingLabel(definition) === mapping);
    if (!found) {
      steps.push({ action: 'create', mapping, declared });
      continue;
    }
    matched.add(found.uuid);
    const changes = fieldChanges(declared.input, found.definition.input);
    const same = found.definition.managedBy === p.source && Object.keys(changes).length === 0;
    steps.push({ action: same ? 'unchanged' : 'update', mapping, uuid: found.uuid, declared, ...(same ? {} : { changes }) });
  }
  for (const { uuid, definition } of p.stored) {
    if (matched.has(uuid) || definition.managedBy !== p.source) continue;
    steps.push({ action: p.prune ? 'delete' : 'keep', mapping: mappingLabel(definition), uuid });
  }
  return steps;
}

/**
 * A function's settings a config file declares, for `sluice apply`: its reserved concurrency, and those
 * of its timeout, memory, environment and handler (its code: a module path on every node's disk,
 * absolute once the node has resolved it against the file's directory) that the file gives.
 */
export interface DeclaredFunction {
  name: string;
  reservedConcurrency: number | null;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, string>;
  handler?: string;
}

/** The fields of a function's settings `sluice apply` compares, besides reserved concurrency. */
export const FUNCTION_SETTING_FIELDS = ['timeout', 'memorySize', 'environment', 'handler'] as const;

/** A function's settings as the catalog holds them for `sluice apply` (FunctionSettings' fields it compares). */
export interface StoredFunctionSettings extends DeclaredFunction {
  managedBy?: string;
  /** Created through the Lambda API: not a file's to change. */
  createdThroughApi: boolean;
}

/**
 * Refuses an existing queue, table or schedule this file does not manage. Another file's stays refused
 * even with `--adopt` (two files would fight over it); one no file manages (a node's config, an API or a
 * program made it) is refused unless the apply adopts, and the message names the option.
 */
export function refuseUnadopted(p: { kind: 'queue' | 'table' | 'schedule'; name: string; owner: string | undefined; source: string; made: string; field: string }): never {
  const path = `${p.kind}s.${p.name}`;
  if (p.owner !== undefined) {
    throw new SluiceError('ResourceConflictException', `${path}: the ${p.kind} exists and is managed by the config file ${p.owner}; remove it there (sluice apply --prune) first, or rename it in ${p.source}`, {
      field: p.field,
    });
  }
  throw new SluiceError(
    'ResourceConflictException',
    `${path}: the ${p.kind} exists and was not created by sluice apply from this file (${p.made} made it); run sluice apply --adopt to manage it from ${p.source}, or delete it or rename it in the file`,
    { field: p.field },
  );
}

/** One field a plan step changes: what the catalog holds (absent: nothing yet) and what the file declares. */
export interface FieldChange {
  from?: unknown;
  to: unknown;
}

export interface FunctionPlanStep {
  action: PlanStep['action'];
  function: string;
  reservedConcurrency?: number | null;
  /** For a create or an update: each field that differs from the catalog, as `field: {from, to}`. */
  changes?: Record<string, FieldChange>;
}

/** The fields of `declared` whose value differs from `stored`'s (absent fields of `declared` are not compared). */
export function fieldChanges(declared: object, stored: object | undefined): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const [field, to] of Object.entries(declared)) {
    if (to === undefined) continue;
    const from = stored ? (stored as Record<string, unknown>)[field] : undefined;
    if (canonical(from) !== canonical(to)) changes[field] = from === undefined ? { to } : { from, to };
  }
  return changes;
}

/**
 * The plan for the file's functions' settings: create or update the catalog's settings entry of each
 * function the file declares, and keep (or, with `prune`, delete) the ones this file applied before and
 * no longer declares. A function created through the Lambda API is refused by the caller.
 */
export function planFunctions(p: {
  source: string;
  declared: readonly DeclaredFunction[];
  prune: boolean;
  stored: readonly StoredFunctionSettings[];
}): FunctionPlanStep[] {
  const steps: FunctionPlanStep[] = [];
  for (const declared of p.declared) {
    const found = p.stored.find((stored) => stored.name === declared.name);
    const { name: _name, ...fields } = declared;
    const changes = fieldChanges(fields, found);
    const same = found !== undefined && found.managedBy === p.source && Object.keys(changes).length === 0;
    steps.push({
      action: !found ? 'create' : same ? 'unchanged' : 'update',
      function: declared.name,
      reservedConcurrency: declared.reservedConcurrency,
      ...(same ? {} : { changes }),
    });
  }
  for (const stored of p.stored) {
    if (stored.managedBy !== p.source || p.declared.some((declared) => declared.name === stored.name)) continue;
    steps.push({ action: p.prune ? 'delete' : 'keep', function: stored.name });
  }
  return steps;
}
