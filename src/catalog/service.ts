/**
 * The cluster-wide catalog, the node's side (docs/design/catalog.md). Event source mappings and
 * functions' settings created or changed through the API are validated by the service that runs them
 * (the change is made on this node first: a refused change stores nothing), then written to the store's
 * catalog; every node hears the write on the catalog channel and brings its own triggers and functions
 * to what the catalog says. Nothing is read while nothing changes: an idle node costs no query.
 *
 * Precedence: a resource declared in a node's config file is managed by that file (`manage`); the API
 * refuses to change it, naming the file, and a catalog entry for it is not applied on that node (the
 * conflict is reported). A mapping whose function is missing on a node waits there, quietly (listed by
 * `conflicts()`), until the function is declared (functions' changes wake the catalog up), then runs.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { Service } from '../model/service.js';
import type { FunctionService } from '../functions/service.js';
import { catalogChannel, type CatalogAttachment, type CatalogDeleteInput, type CatalogEntry, type CatalogPutInput } from '../store/catalog-store.js';
import { inspectCodePackage } from '../functions/code-package.js';
import { CatalogFunctions, FUNCTION_ENTRY_KIND, StalePackage, type StoredFunction } from './catalog-functions.js';
import { ALIAS_KIND, VERSION_KIND } from './catalog-versions.js';
import { FunctionVersions } from './version-service.js';
import { buildDefinition, functionLimits } from '../functions/definition.js';
import {
  fieldChanges,
  FUNCTION_SETTING_FIELDS,
  mutableFields,
  planFunctions,
  planMappings,
  tableOfStream,
  type DeclaredFunction,
  type DeclaredMapping,
  type FunctionPlanStep,
  type MappingDefinition,
  type PlannedStep,
  type PlanStep,
} from './apply-plan.js';
import type { Store } from '../store/store.js';
import type { StoredQueue } from '../store/queue-store.js';
import { NAME_REUSE_DELAY_MS } from '../queues/service.js';
import { APPLIED_QUEUE_KIND, planQueues, queueWrites, type DeclaredQueue, type QueuePlanStep } from './apply-queues.js';
import { APPLIED_TABLE_KIND, planTables, tableWrites, type TablePlanStep } from './apply-tables.js';
import type { StoredTable } from '../store/table-store.js';
import type { CreateTableInput } from '../tables/definition.js';
import type { ScheduleService } from '../schedules/service.js';
import type { ScheduleInput } from '../schedules/types.js';
import type { CatalogScheduleWrites } from '../store/catalog-store.js';
import { scheduleDiffers } from '../config/sections/schedules.js';
import type { AssumedResources, TriggerService } from '../triggers/service.js';
import type { TriggerUpdate, TriggerView } from '../triggers/types.js';
import type { AssumedStreamResources, StreamTriggerService } from '../triggers/stream/stream-service.js';
import type { StreamTriggerUpdate, StreamTriggerView } from '../triggers/stream/stream-types.js';

/** Catalog kinds: an event source mapping is named by its UUID, a function's settings by the function. */
export const MAPPING_KIND = 'event-source-mapping';
/** Secrets every node shares (sharedSecret). */
export const SECRET_KIND = 'secret';
export const FUNCTION_KIND = FUNCTION_ENTRY_KIND;
/** The mark of a schedule `sluice apply` wrote, named by the schedule: `{managedBy}` (the schedule is in the schedule store). */
export const APPLIED_SCHEDULE_KIND = 'applied-schedule';
/** What the EventBridge Scheduler API keeps beside a schedule (group, role, raw input), named by the schedule. */
export const SCHEDULER_SCHEDULE_KIND = 'scheduler-schedule';

/** A step of `sluice apply`'s plan for a schedule. */
export interface SchedulePlanStep {
  action: PlanStep['action'];
  schedule: string;
}

export type { DeclaredFunction, DeclaredMapping, FunctionPlanStep, MappingDefinition, PlanStep } from './apply-plan.js';
export type { DeclaredQueue, QueuePlanStep } from './apply-queues.js';
export { APPLIED_QUEUE_KIND } from './apply-queues.js';
export type { TablePlanStep } from './apply-tables.js';
export { APPLIED_TABLE_KIND } from './apply-tables.js';

/** What `sluice apply` sends: the file's mappings and functions' settings, and whether to prune. */
export interface ApplyRequest {
  source: string;
  declared: readonly DeclaredMapping[];
  functions?: readonly DeclaredFunction[];
  schedules?: readonly ScheduleInput[];
  queues?: readonly DeclaredQueue[];
  tables?: readonly CreateTableInput[];
  prune: boolean;
}

export interface ApplyPlan {
  mappings: PlannedStep[];
  functions: FunctionPlanStep[];
  schedules: SchedulePlanStep[];
  queues: QueuePlanStep[];
  tables: TablePlanStep[];
  storedTables: StoredTable[];
  /** The entries the plan was made from, by `kind/name`: their revisions condition the apply. */
  revisions: Map<string, CatalogEntry>;
  /** The queues in the store when the plan was made. */
  storedQueues: StoredQueue[];
}
export type { StoredFunction } from './catalog-functions.js';

/**
 * What the catalog keeps of a function: its reserved concurrency (for any function, wherever it is
 * defined), and for a function created through the API its whole definition (its zip is the entry's
 * attachment).
 */
export interface FunctionSettings {
  reservedConcurrency: number | null;
  function?: StoredFunction;
  /** What `sluice apply` declared of the function besides its concurrency (apply-plan.ts FUNCTION_SETTING_FIELDS). */
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, string>;
  /** An absolute module path (`/srv/app/handlers/orders.js#handler`): a node lacking the function defines it from it. */
  handler?: string;
  /** The config file `sluice apply` stored these settings from: the API refuses to change them, naming it. */
  managedBy?: string;
  /** The highest version number PublishVersion gave (catalog-versions.ts): numbers are never reused. */
  lastVersion?: number;
}

export type MappingView = { source: 'queue'; view: TriggerView } | { source: 'stream'; view: StreamTriggerView };

export interface CatalogServiceOptions {
  store: Store;
  clock: Clock;
  functions: FunctionService;
  triggers: TriggerService;
  streamTriggers: StreamTriggerService;
  /** A catalog entry this node cannot apply (a conflict with its config, a missing source). */
  onConflict: (message: string) => void;
  /** Where this node extracts functions' code packages (functions/code-package.ts). */
  codeCacheDir: string;
  /** How long an unused package this node extracted stays in the cache (catalog-functions.ts); default 15 minutes. */
  codeCacheRetentionMs?: number;
  /** `sluice apply` writes a file's schedules in the same transaction as its catalog entries. */
  schedules: ScheduleService;
}

const key = (kind: string, name: string) => `${kind}/${name}`;

/** A UUID-shaped RevisionId derived from a function's name and catalog revision (every node computes the same). */
export function revisionIdOf(name: string, revision: number): string {
  const hex = createHash('sha256').update(`${name}\u0000${revision}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The settings `sluice apply` declares of a function besides its reserved concurrency, those present only. */
function appliedFunctionFields(source: Partial<Record<(typeof FUNCTION_SETTING_FIELDS)[number], unknown>>): Omit<DeclaredFunction, 'name' | 'reservedConcurrency'> {
  const picked: Record<string, unknown> = {};
  for (const field of FUNCTION_SETTING_FIELDS) if (source[field] !== undefined) picked[field] = source[field];
  return picked as Omit<DeclaredFunction, 'name' | 'reservedConcurrency'>;
}

/**
 * Checks a file's function settings as the function service would take them (Lambda's ranges, string
 * environment values, a handler module that exists on this node), naming the file's path.
 */
function validateAppliedFunction(name: string, fields: Omit<DeclaredFunction, 'name' | 'reservedConcurrency'>): void {
  try {
    buildDefinition({ name, ...fields, handler: fields.handler ?? (() => undefined), ...(fields.handler === undefined ? { execution: 'in-process' as const } : {}) });
  } catch (error) {
    if (error instanceof SluiceError) throw new SluiceError(error.code, `functions.${name}: ${error.message}`, error.field !== undefined ? { field: error.field } : {});
    throw error;
  }
}

/** A mapping `sluice apply` stored from a file changes only through that file. */
function refuseApplied(entry: CatalogEntry | undefined, uuid: string, appliedFrom: string | undefined): void {
  const managedBy = entry ? (JSON.parse(entry.definition) as MappingDefinition).managedBy : undefined;
  if (managedBy === undefined || managedBy === appliedFrom) return;
  throw new SluiceError('ResourceConflictException', `The event source mapping ${uuid} is managed by the config file ${managedBy} (sluice apply); change it there and apply again`, { field: 'UUID' });
}

export class CatalogService implements Service {
  /** The revision of each catalog entry this node runs. */
  private readonly applied = new Map<string, number>();
  /** Entries this node could not apply yet, and why (reported once per revision). */
  private readonly pending = new Map<string, { revision: number; reason: string }>();
  private readonly managed = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribeFunctions: (() => void) | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Functions this node defined from the handler `sluice apply` stored (it declared none of that name). */
  private readonly definedFromApply = new Set<string>();
  /** The functions this node runs from the catalog (created through the API). */
  private readonly catalogFunctions: CatalogFunctions;
  /** Published versions and aliases of the functions created through the API. */
  readonly versions: FunctionVersions;

  constructor(private readonly options: CatalogServiceOptions) {
    this.catalogFunctions = new CatalogFunctions({
      store: options.store,
      functions: options.functions,
      cacheDir: options.codeCacheDir,
      retentionMs: options.codeCacheRetentionMs ?? 15 * 60_000,
      clock: options.clock,
    });
    this.versions = new FunctionVersions({
      store: options.store,
      clock: options.clock,
      functions: options.functions,
      catalogFunctions: this.catalogFunctions,
      requireFunction: (name) => this.requireCatalogFunction(name),
      revisionId: revisionIdOf,
      applied: (kind, name, revision) => {
        const id = key(kind, name);
        if ((this.applied.get(id) ?? 0) < revision) this.applied.set(id, revision);
        this.pending.delete(id);
      },
    });
  }

  async start(): Promise<void> {
    this.unsubscribe = this.options.store.notifier.subscribe(catalogChannel, () => this.requestSync());
    // A function declared later (a config applied after the engine opened) may let a waiting mapping run.
    this.unsubscribeFunctions = this.options.functions.onChange(({ change }) => {
      if (change !== 'deleted' && this.pending.size > 0) this.requestSync();
    });
    await this.sync();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribeFunctions?.();
    await this.syncing?.catch(() => undefined);
    this.catalogFunctions.stop();
  }

  // ---------------------------------------------------------------- precedence with config files

  /** Marks a resource as declared by a config file: the API will not change it. */
  manage(kind: typeof MAPPING_KIND | typeof FUNCTION_KIND, name: string, source: string): void {
    this.managed.set(key(kind, name), source);
  }

  /** The config file managing a resource, if one does. */
  managedBy(kind: typeof MAPPING_KIND | typeof FUNCTION_KIND, name: string): string | undefined {
    return this.managed.get(key(kind, name));
  }

  /** The catalog entries this node does not run, and why (a conflict with its config, a missing function). */
  conflicts(): Array<{ kind: string; name: string; reason: string }> {
    return [...this.pending.entries()].map(([id, { reason }]) => {
      const [kind, ...rest] = id.split('/');
      return { kind: kind!, name: rest.join('/'), reason };
    });
  }

  /**
   * The UUID of the catalog's mapping from this queue (or this table's stream) to this function, if the
   * catalog holds one, read from the store (whether or not this node runs it yet): a config file may not
   * declare it too.
   */
  async heldMapping(p: { queue?: string; table?: string; functionName: string }): Promise<string | undefined> {
    const lastPart = (text: string, separator: string) => text.slice(text.lastIndexOf(separator) + 1);
    for (const entry of await this.options.store.catalogList({ kind: MAPPING_KIND })) {
      const definition = JSON.parse(entry.definition) as MappingDefinition;
      if (definition.input.functionName !== p.functionName) continue;
      if (definition.source === 'queue' && p.queue !== undefined && lastPart(definition.input.queue, ':') === lastPart(p.queue, ':')) return entry.name;
      if (definition.source === 'stream' && p.table !== undefined && tableOfStream(definition.input.stream) === p.table) return entry.name;
    }
    return undefined;
  }

  /** Refuses a change to a schedule `sluice apply` wrote from a file, naming the file (the schedule service's guard). */
  async refuseAppliedSchedule(name: string): Promise<void> {
    const mark = await this.entry(APPLIED_SCHEDULE_KIND, name);
    if (!mark) return;
    const { managedBy } = JSON.parse(mark.definition) as { managedBy: string };
    throw new SluiceError('ResourceConflictException', `The schedule ${name} is managed by the config file ${managedBy} (sluice apply); change it there and apply again`, {
      field: 'Name',
    });
  }

  /** Refuses a change to a table `sluice apply` created from a file, naming the file (the table service's guard). */
  async refuseAppliedTable(name: string): Promise<void> {
    const mark = await this.entry(APPLIED_TABLE_KIND, name);
    if (!mark) return;
    const { managedBy } = JSON.parse(mark.definition) as { managedBy: string };
    throw new SluiceError('ResourceConflictException', `The table ${name} is managed by the config file ${managedBy} (sluice apply); change it there and apply again`, {
      field: 'TableName',
    });
  }

  /** Refuses a change to a queue `sluice apply` created from a file, naming the file (the queue service's guard). */
  async refuseAppliedQueue(name: string): Promise<void> {
    const mark = await this.entry(APPLIED_QUEUE_KIND, name);
    if (!mark) return;
    const { managedBy } = JSON.parse(mark.definition) as { managedBy: string };
    throw new SluiceError('ResourceConflictException', `The queue ${name} is managed by the config file ${managedBy} (sluice apply); change it there and apply again`, {
      field: 'QueueName',
    });
  }

  /** Whether the catalog holds a function created through the Lambda API under this name (read from the store). */
  async heldFunction(name: string): Promise<boolean> {
    const entry = await this.entry(FUNCTION_KIND, name);
    return entry !== undefined && (JSON.parse(entry.definition) as FunctionSettings).function !== undefined;
  }

  /** Whether this node runs the mapping because the catalog holds it (a config's prune leaves it alone). */
  holds(uuid: string): boolean {
    return this.applied.has(key(MAPPING_KIND, uuid));
  }

  // ---------------------------------------------------------------- changes through the API

  /** Creates a mapping on this node (which validates it), then stores it for every node. */
  async createMapping(definition: MappingDefinition): Promise<MappingView> {
    const created = await this.createLocal(definition);
    const name = definition.input.uuid;
    const outcome = await this.put(MAPPING_KIND, name, definition, null).catch(async (error: unknown) => {
      await this.deleteLocal(name);
      throw error;
    });
    if (!outcome.written) {
      await this.deleteLocal(name);
      throw new SluiceError('ResourceConflictException', `UUID: the event source mapping ${name} already exists`, { field: 'UUID' });
    }
    this.applied.set(key(MAPPING_KIND, name), outcome.entry.revision);
    return created;
  }

  /** Changes a mapping on this node (which validates the change), then in the catalog when it is held there. */
  async updateMapping(uuid: string, changes: TriggerUpdate | StreamTriggerUpdate, appliedFrom?: string): Promise<MappingView> {
    this.refuseManaged(MAPPING_KIND, uuid);
    const stored = await this.entry(MAPPING_KIND, uuid);
    refuseApplied(stored, uuid, appliedFrom);
    const local = this.localMapping(uuid);
    const updated =
      local.source === 'queue'
        ? ({ source: 'queue', view: await this.options.triggers.update(uuid, changes as TriggerUpdate) } as const)
        : ({ source: 'stream', view: await this.options.streamTriggers.update(uuid, changes as StreamTriggerUpdate) } as const);
    const entry = stored;
    if (entry) {
      const previous = JSON.parse(entry.definition) as MappingDefinition;
      const merged = { ...previous, input: { ...previous.input, ...changes }, ...(appliedFrom !== undefined ? { managedBy: appliedFrom } : {}) } as MappingDefinition;
      const outcome = await this.put(MAPPING_KIND, uuid, merged, undefined);
      if (outcome.written) this.applied.set(key(MAPPING_KIND, uuid), outcome.entry.revision);
    }
    return updated;
  }

  async deleteMapping(uuid: string, appliedFrom?: string): Promise<MappingView> {
    this.refuseManaged(MAPPING_KIND, uuid);
    refuseApplied(await this.entry(MAPPING_KIND, uuid), uuid, appliedFrom);
    const local = this.localMapping(uuid);
    await this.options.store.catalogDelete({ kind: MAPPING_KIND, name: uuid });
    this.applied.delete(key(MAPPING_KIND, uuid));
    await this.deleteLocal(uuid);
    return local;
  }

  /** `sluice apply`'s plan against the catalog as stored now (apply-plan.ts), with the entries it read. */
  async planApply(p: ApplyRequest): Promise<ApplyPlan> {
    const entries = await this.options.store.catalogList({});
    const mappingEntries = entries.filter((entry) => entry.kind === MAPPING_KIND);
    const functionEntries = entries.filter((entry) => entry.kind === FUNCTION_KIND);
    const mappings = planMappings({
      ...p,
      declared: p.declared,
      stored: mappingEntries.map((entry) => ({ uuid: entry.name, definition: JSON.parse(entry.definition) as MappingDefinition })),
    });
    const functions = planFunctions({
      source: p.source,
      prune: p.prune,
      declared: p.functions ?? [],
      stored: functionEntries.map((entry) => {
        const settings = JSON.parse(entry.definition) as FunctionSettings;
        return {
          name: entry.name,
          reservedConcurrency: settings.reservedConcurrency,
          ...appliedFunctionFields(settings),
          ...(settings.managedBy !== undefined ? { managedBy: settings.managedBy } : {}),
          createdThroughApi: settings.function !== undefined,
        };
      }),
    });
    const schedules = await this.planSchedules(p, entries.filter((entry) => entry.kind === APPLIED_SCHEDULE_KIND));
    const storedQueues = await this.options.store.queueList({});
    const queues = planQueues({ ...p, declared: p.queues ?? [], stored: storedQueues, marks: entries.filter((entry) => entry.kind === APPLIED_QUEUE_KIND) });
    const storedTables = await this.options.store.tableList({});
    const tables = planTables({
      ...p,
      declared: p.tables ?? [],
      stored: storedTables,
      marks: entries.filter((entry) => entry.kind === APPLIED_TABLE_KIND),
      now: this.options.clock.now(),
    });
    return { mappings, functions, schedules, queues, storedQueues, tables, storedTables, revisions: new Map(entries.map((entry) => [key(entry.kind, entry.name), entry])) };
  }

  /**
   * The file's schedules against the schedule store and the marks of what files applied: create what is
   * missing, update what this file applied and now differs, keep or (prune) delete what it applied and no
   * longer declares. A schedule that exists without this file's mark (a node's config, the Scheduler
   * API, another file) is refused: apply does not take over what it did not create.
   */
  private async planSchedules(p: ApplyRequest, marks: CatalogEntry[]): Promise<SchedulePlanStep[]> {
    const managedBy = new Map(marks.map((entry) => [entry.name, (JSON.parse(entry.definition) as { managedBy: string }).managedBy]));
    const stored = new Map((await this.options.schedules.list()).map((view) => [view.name, view]));
    const steps: SchedulePlanStep[] = [];
    for (const input of p.schedules ?? []) {
      const current = stored.get(input.name);
      if (!current) {
        steps.push({ action: 'create', schedule: input.name });
        continue;
      }
      if (managedBy.get(input.name) !== p.source) {
        const owner = managedBy.get(input.name);
        throw new SluiceError(
          'ResourceConflictException',
          `schedules.${input.name}: the schedule exists and ${owner ? `is managed by the config file ${owner}` : 'was not created by sluice apply from this file (a node config or the API made it)'}; delete it or rename it in ${p.source}`,
          { field: 'Name' },
        );
      }
      steps.push({ action: scheduleDiffers(current, input) ? 'update' : 'unchanged', schedule: input.name });
    }
    for (const [name, source] of managedBy) {
      if (source !== p.source || (p.schedules ?? []).some((input) => input.name === name)) continue;
      steps.push({ action: p.prune ? 'delete' : 'keep', schedule: name });
    }
    return steps;
  }

  /**
   * Carries out `sluice apply`'s plan atomically: every step is checked first on this node (each mapping
   * as its trigger service would create or change it, each function's settings against this node's
   * config and the API-created functions), then all of them are written in one store transaction, each
   * entry at the revision the plan read (a change made meanwhile through the API fails the whole apply,
   * and nothing is written). Every node, this one included, then applies the catalog as it does any
   * change; this one is waited for before answering.
   */
  async apply(
    p: ApplyRequest & { newUuid: () => string },
  ): Promise<{ mappings: PlanStep[]; functions: FunctionPlanStep[]; schedules: SchedulePlanStep[]; queues: QueuePlanStep[]; tables: TablePlanStep[] }> {
    const { mappings, functions, schedules, queues, storedQueues, tables, storedTables, revisions } = await this.planApply(p);
    const puts: CatalogPutInput[] = [];
    const deletes: CatalogDeleteInput[] = [];
    const now = this.options.clock.now();
    const queueRows = queueWrites({ declared: p.queues ?? [], steps: queues, stored: storedQueues, now, nameReuseDelayMs: NAME_REUSE_DELAY_MS });
    const tableRows = tableWrites({ declared: p.tables ?? [], steps: tables, stored: storedTables, now });
    // A new mapping may name a queue or table this apply creates, or a function a node defines from its applied handler.
    const assumed: AssumedResources & AssumedStreamResources = {
      tables: new Map(tableRows.creates.map((t) => [t.name, t.definition])),
      queues: new Map(queueRows.creates.map((q) => [q.name, { id: 0, ...q, createdAt: now, modifiedAt: now, purgedAt: null }])),
      functions: new Map(
        (p.functions ?? []).filter((fn) => fn.handler !== undefined && !this.options.functions.exists(fn.name)).map((fn) => [fn.name, fn.timeout ?? functionLimits.defaultTimeout]),
      ),
    };
    for (const step of mappings) {
      if (step.action === 'create' && step.declared) {
        const definition = { ...step.declared, input: { ...step.declared.input, uuid: p.newUuid() }, managedBy: p.source } as MappingDefinition;
        await this.validateNewMapping(definition, assumed);
        step.uuid = definition.input.uuid;
        puts.push({ kind: MAPPING_KIND, name: step.uuid, definition: JSON.stringify(definition), modifiedAt: now, ifRevision: null });
      } else if (step.action === 'update' && step.declared && step.uuid) {
        const entry = revisions.get(key(MAPPING_KIND, step.uuid))!;
        this.refuseManaged(MAPPING_KIND, step.uuid);
        refuseApplied(entry, step.uuid, p.source);
        const previous = JSON.parse(entry.definition) as MappingDefinition;
        const merged = { ...previous, input: { ...previous.input, ...mutableFields(step.declared) }, managedBy: p.source } as MappingDefinition;
        await this.validateChangedMapping(merged);
        puts.push({ kind: MAPPING_KIND, name: step.uuid, definition: JSON.stringify(merged), modifiedAt: now, ifRevision: entry.revision });
      } else if (step.action === 'delete' && step.uuid) {
        this.refuseManaged(MAPPING_KIND, step.uuid);
        deletes.push({ kind: MAPPING_KIND, name: step.uuid, ifRevision: revisions.get(key(MAPPING_KIND, step.uuid))!.revision });
      }
    }
    for (const step of functions) {
      if (step.action === 'unchanged' || step.action === 'keep') continue;
      const entry = revisions.get(key(FUNCTION_KIND, step.function));
      const settings = entry ? (JSON.parse(entry.definition) as FunctionSettings) : undefined;
      this.refuseManaged(FUNCTION_KIND, step.function);
      if (settings?.function) {
        throw new SluiceError('ResourceConflictException', `functions.${step.function}: the function was created through the Lambda API; change its settings there, not in ${p.source}`, {
          field: 'FunctionName',
        });
      }
      if (settings?.managedBy !== undefined && settings.managedBy !== p.source) {
        throw new SluiceError('ResourceConflictException', `functions.${step.function}: its settings are managed by the config file ${settings.managedBy} (sluice apply)`, { field: 'FunctionName' });
      }
      if (step.action === 'delete') {
        deletes.push({ kind: FUNCTION_KIND, name: step.function, ifRevision: entry!.revision });
        continue;
      }
      const reserved = step.reservedConcurrency ?? null;
      if (reserved !== null && (!Number.isInteger(reserved) || reserved < 0 || reserved > this.options.functions.concurrency.accountLimit)) {
        throw new SluiceError('InvalidParameterValue', `functions.${step.function}.reservedConcurrency: ${reserved} is invalid; must be an integer from 0 to ${this.options.functions.concurrency.accountLimit}`, {
          field: 'ReservedConcurrentExecutions',
        });
      }
      const declared = (p.functions ?? []).find((candidate) => candidate.name === step.function);
      const fields = declared ? appliedFunctionFields(declared) : {};
      validateAppliedFunction(step.function, fields);
      const next: FunctionSettings = { reservedConcurrency: reserved, ...fields, managedBy: p.source };
      puts.push({ kind: FUNCTION_KIND, name: step.function, definition: JSON.stringify(next), modifiedAt: now, ifRevision: entry?.revision ?? null });
    }
    const scheduleWrites = await this.scheduleWrites(p, schedules, revisions, puts, deletes);
    for (const step of queues) {
      const mark = revisions.get(key(APPLIED_QUEUE_KIND, step.queue));
      if (step.action === 'create') puts.push({ kind: APPLIED_QUEUE_KIND, name: step.queue, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: mark?.revision ?? null });
      else if (step.action === 'delete' && mark) deletes.push({ kind: APPLIED_QUEUE_KIND, name: step.queue, ifRevision: mark.revision });
    }
    for (const step of tables) {
      const mark = revisions.get(key(APPLIED_TABLE_KIND, step.table));
      if (step.action === 'create') puts.push({ kind: APPLIED_TABLE_KIND, name: step.table, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: mark?.revision ?? null });
      else if (step.action === 'delete' && mark) deletes.push({ kind: APPLIED_TABLE_KIND, name: step.table, ifRevision: mark.revision });
    }
    const outcome = await this.options.store.catalogWrite({ puts, deletes, schedules: scheduleWrites, queues: queueRows, tables: tableRows });
    if (!outcome.written) {
      throw new SluiceError(
        'ResourceConflictException',
        `${outcome.failed.kind} ${outcome.failed.name} changed in the catalog while ${p.source} was being applied; nothing was applied. Run sluice apply again`,
      );
    }
    await this.settled();
    const strip = ({ declared: _declared, ...step }: PlannedStep): PlanStep => step;
    return { mappings: mappings.map(strip), functions, schedules, queues, tables };
  }

  /** Each schedule step as rows for `catalogWrite` (checked as the schedule service would), and its mark. */
  private async scheduleWrites(
    p: ApplyRequest,
    steps: SchedulePlanStep[],
    revisions: Map<string, CatalogEntry>,
    puts: CatalogPutInput[],
    deletes: CatalogDeleteInput[],
  ): Promise<CatalogScheduleWrites> {
    const writes: CatalogScheduleWrites = { creates: [], updates: [], deletes: [] };
    const now = this.options.clock.now();
    for (const step of steps) {
      const mark = revisions.get(key(APPLIED_SCHEDULE_KIND, step.schedule));
      const input = (p.schedules ?? []).find((candidate) => candidate.name === step.schedule);
      if (step.action === 'create' && input) {
        writes.creates.push(this.options.schedules.prepareCreate(input));
        puts.push({ kind: APPLIED_SCHEDULE_KIND, name: step.schedule, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: mark?.revision ?? null });
      } else if (step.action === 'update' && input) {
        const current = await this.options.store.scheduleGet({ name: step.schedule });
        if (!current) {
          throw new SluiceError('ResourceConflictException', `schedule ${step.schedule} was deleted while ${p.source} was being applied; nothing was applied. Run sluice apply again`);
        }
        const { name: _name, ...changes } = input;
        writes.updates.push(this.options.schedules.prepareUpdate(current, changes));
      } else if (step.action === 'delete') {
        if (await this.options.store.scheduleGet({ name: step.schedule })) writes.deletes.push(step.schedule);
        deletes.push({ kind: APPLIED_SCHEDULE_KIND, name: step.schedule, ...(mark ? { ifRevision: mark.revision } : {}) });
      }
    }
    return writes;
  }

  /** A new mapping checked as its trigger service would create it, creating nothing. */
  private async validateNewMapping(definition: MappingDefinition, assumed: AssumedResources & AssumedStreamResources = {}): Promise<void> {
    if (definition.source === 'queue') await this.options.triggers.validate(definition.input, assumed);
    else await this.options.streamTriggers.validate(definition.input, assumed);
  }

  /** A mapping's new definition checked as a whole, as a new one would be (its own trigger aside). */
  private async validateChangedMapping(definition: MappingDefinition): Promise<void> {
    const { uuid: _uuid, ...rest } = definition.input;
    const held = (view: { uuid: string }) => view.uuid === definition.input.uuid;
    // Checked under a fresh UUID, against the other triggers only: the mapping's own is not a duplicate.
    if (definition.source === 'queue') {
      if (this.options.triggers.list().some(held)) {
        const { queue: _queue, ...changes } = rest as typeof definition.input;
        await this.options.triggers.validateUpdate(definition.input.uuid, changes);
      } else await this.options.triggers.validate(definition.input);
    } else if (this.options.streamTriggers.list().some(held)) {
      const { stream: _stream, startingPosition: _position, startingPositionTimestamp: _timestamp, ...changes } = rest as typeof definition.input;
      await this.options.streamTriggers.validateUpdate(definition.input.uuid, changes);
    } else await this.options.streamTriggers.validate(definition.input);
  }

  /** Resolves once this node has applied the catalog as stored now. */
  private async settled(): Promise<void> {
    this.requestSync();
    while (this.syncing) await this.syncing;
  }

  /** Sets (or with null removes) a function's reserved concurrency on every node. */
  async setReservedConcurrency(name: string, reservedConcurrency: number | null): Promise<void> {
    this.refuseManaged(FUNCTION_KIND, name);
    const applied = await this.entry(FUNCTION_KIND, name);
    const appliedFrom = applied ? (JSON.parse(applied.definition) as FunctionSettings).managedBy : undefined;
    if (appliedFrom !== undefined) {
      throw new SluiceError('ResourceConflictException', `The function ${name}'s settings are managed by the config file ${appliedFrom} (sluice apply); change them there and apply again`, {
        field: 'FunctionName',
      });
    }
    await this.options.functions.update(name, { reservedConcurrency });
    // A function created through the API keeps its definition in the same entry: written at the
    // revision read, so a definition changed meanwhile is not overwritten.
    for (;;) {
      const entry = await this.entry(FUNCTION_KIND, name);
      const previous = entry ? (JSON.parse(entry.definition) as FunctionSettings) : undefined;
      const settings: FunctionSettings = { ...previous, reservedConcurrency };
      const outcome = await this.put(FUNCTION_KIND, name, settings, entry?.revision ?? null);
      if (outcome.written) {
        this.applied.set(key(FUNCTION_KIND, name), outcome.entry.revision);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- functions created through the API

  /** The catalog's definition of a function this node runs from the catalog (undefined for others). */
  storedFunction(name: string): StoredFunction | undefined {
    return this.catalogFunctions.stored(name);
  }

  /**
   * A random 32-byte secret named `name`, the same on every node: read from the catalog, or made by the
   * first node that asks (only if absent, so two nodes racing end with one). GetFunction's Code.Location
   * signs with it, so any node serves a URL another gave.
   */
  async sharedSecret(name: string): Promise<Buffer> {
    const read = (entry: CatalogEntry) => Buffer.from((JSON.parse(entry.definition) as { key: string }).key, 'base64');
    const existing = await this.entry(SECRET_KIND, name);
    if (existing) return read(existing);
    const outcome = await this.put(SECRET_KIND, name, { key: randomBytes(32).toString('base64') }, null);
    if (outcome.written) return read(outcome.entry);
    if (!outcome.current) throw new Error(`the secret ${name} could not be stored`);
    return read(outcome.current);
  }

  /** Resolves once the code cache's planned prunes have run (tests). */
  codeCacheSettled(): Promise<void> {
    return this.catalogFunctions.prunesSettled();
  }

  /** Lambda's RevisionId of a function this node runs from the catalog: the same on every node, new at every write. */
  functionRevisionId(name: string): string | undefined {
    const revision = this.catalogFunctions.revision(name);
    return revision === undefined ? undefined : revisionIdOf(name, revision);
  }

  /**
   * Stores a new function with its code package (validated by the caller) for every node, then
   * installs it here; a name taken on this node or in the catalog is refused with nothing stored.
   */
  async createFunction(name: string, stored: StoredFunction, zip: CatalogAttachment): Promise<StoredFunction> {
    this.refuseManaged(FUNCTION_KIND, name);
    const taken = () => new SluiceError('ResourceConflictException', `Function already exist: ${name}`, { field: 'FunctionName' });
    if (this.options.functions.exists(name)) throw taken();
    const settings: FunctionSettings = { reservedConcurrency: null, function: stored };
    const outcome = await this.put(FUNCTION_KIND, name, settings, null, zip);
    if (!outcome.written) throw taken();
    await this.installHere(name, outcome.entry.revision, settings);
    return stored;
  }

  /**
   * Changes a function created through the API (its settings, and its code when `zip` is given) at the
   * revision read: a concurrent change makes this one fail as Lambda's does while an update is under way.
   */
  async updateFunction(name: string, change: (stored: StoredFunction) => StoredFunction, zip?: CatalogAttachment, expectedRevisionId?: string): Promise<StoredFunction> {
    const { entry, settings } = await this.requireCatalogFunction(name);
    // Lambda's optimistic lock: a RevisionId given must be the function's latest, read from the store.
    if (expectedRevisionId !== undefined && expectedRevisionId !== revisionIdOf(name, entry.revision)) {
      throw new SluiceError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        { field: 'RevisionId' },
      );
    }
    const next = change(settings.function!);
    const updated: FunctionSettings = { ...settings, function: next };
    const outcome = await this.put(FUNCTION_KIND, name, updated, entry.revision, zip);
    if (!outcome.written) {
      throw new SluiceError('ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${this.options.functions.arnOf(name)}`, {
        field: 'FunctionName',
      });
    }
    await this.installHere(name, outcome.entry.revision, updated);
    return next;
  }

  /** Deletes a function created through the API, with its code package, on every node. */
  async deleteFunction(name: string): Promise<void> {
    const { entry } = await this.requireCatalogFunction(name);
    // Its versions and aliases go with it, in the same transaction.
    const others = await this.versions.deletesOf(name);
    const outcome = await this.options.store.catalogWrite({ puts: [], deletes: [{ kind: FUNCTION_KIND, name, ifRevision: entry.revision }, ...others] });
    if (!outcome.written) {
      throw new SluiceError('ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${this.options.functions.arnOf(name)}`, {
        field: 'FunctionName',
      });
    }
    this.applied.delete(key(FUNCTION_KIND, name));
    this.pending.delete(key(FUNCTION_KIND, name));
    await this.catalogFunctions.uninstall(name);
    for (const other of others) {
      this.applied.delete(key(other.kind, other.name));
      this.pending.delete(key(other.kind, other.name));
      await this.versions.remove(other.kind, other.name);
    }
  }

  /** The code package (zip) a function created through the API (or one of its versions) has in the store now. */
  async codePackage(name: string): Promise<CatalogAttachment | undefined> {
    // `name:N` is a published version, whose entry keeps its own copy.
    return this.options.store.catalogAttachment({ kind: name.includes(':') ? VERSION_KIND : FUNCTION_KIND, name });
  }

  /** The files of the code package a function created through the API has in the store now, and its digest. */
  async packageFiles(name: string): Promise<{ sha256Hex: string; files: string[] }> {
    const attachment = await this.options.store.catalogAttachment({ kind: FUNCTION_KIND, name });
    if (!attachment) return { sha256Hex: '', files: [] };
    return { sha256Hex: attachment.sha256, files: inspectCodePackage(attachment.content).files };
  }

  /** The catalog entry of a function created through the API; a config's or a program's is refused. */
  private async requireCatalogFunction(name: string): Promise<{ entry: CatalogEntry; settings: FunctionSettings }> {
    this.refuseManaged(FUNCTION_KIND, name);
    const entry = await this.entry(FUNCTION_KIND, name);
    const settings = entry ? (JSON.parse(entry.definition) as FunctionSettings) : undefined;
    if (entry && settings?.function) return { entry, settings };
    if (this.options.functions.exists(name)) {
      throw new SluiceError(
        'ResourceConflictException',
        `The function ${name} is defined by the program of this node, not through the Lambda API; change it there`,
        { field: 'FunctionName' },
      );
    }
    throw new SluiceError('ResourceNotFoundException', `Function not found: ${this.options.functions.arnOf(name)}`, { field: 'FunctionName' });
  }

  /** Installs a stored function on this node at once (the others hear the catalog channel). */
  private async installHere(name: string, revision: number, settings: FunctionSettings): Promise<void> {
    await this.catalogFunctions.install(name, revision, settings.function!, settings.reservedConcurrency);
    this.applied.set(key(FUNCTION_KIND, name), revision);
    this.pending.delete(key(FUNCTION_KIND, name));
  }

  /** The mapping this node runs under `uuid` (a queue or a stream trigger). */
  localMapping(uuid: string): MappingView {
    const queue = this.options.triggers.list().find((view) => view.uuid === uuid);
    if (queue) return { source: 'queue', view: queue };
    const stream = this.options.streamTriggers.list().find((view) => view.uuid === uuid);
    if (stream) return { source: 'stream', view: stream };
    throw new SluiceError('ResourceNotFoundException', 'The resource you requested does not exist.', { field: 'UUID' });
  }

  // ---------------------------------------------------------------- bringing this node to the catalog

  /** Re-reads the catalog soon; calls while a sync runs fold into one more sync after it. */
  private requestSync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.sync()
      .catch((error: unknown) => this.options.onConflict(`catalog: could not apply the catalog: ${String(error)}`))
      .finally(() => {
        this.syncing = undefined;
        if (this.again) {
          this.again = false;
          this.requestSync();
        }
      });
  }

  private async sync(): Promise<void> {
    const entries = await this.options.store.catalogList({});
    const present = new Set<string>();
    for (const entry of entries) {
      if (this.stopped) return;
      const id = key(entry.kind, entry.name);
      present.add(id);
      if ((this.applied.get(id) ?? 0) >= entry.revision) continue;
      if (this.pending.get(id)?.revision === entry.revision && !this.pendingMayResolve(entry)) continue;
      try {
        if (entry.kind === MAPPING_KIND) await this.applyMapping(entry);
        else if (entry.kind === FUNCTION_KIND) await this.applyFunction(entry);
        else if (entry.kind === VERSION_KIND || entry.kind === ALIAS_KIND) await this.versions.apply(entry);
        else continue;
        this.applied.set(id, entry.revision);
        this.pending.delete(id);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        // A function not declared (yet) is the normal state of a node that applies its config after
        // opening the engine: listed by conflicts(), not reported; anything else is reported once.
        const waitingForFunction = !this.pendingMayResolve(entry);
        if (!waitingForFunction && !(error instanceof StalePackage) && this.pending.get(id)?.reason !== reason) {
          this.options.onConflict(`catalog: ${entry.kind} ${entry.name} (revision ${entry.revision}) does not run on this node: ${reason}`);
        }
        this.pending.set(id, { revision: entry.revision, reason });
      }
    }
    for (const id of [...this.applied.keys(), ...this.pending.keys()]) {
      if (present.has(id)) continue;
      this.pending.delete(id);
      if (!this.applied.delete(id)) continue;
      const [kind, ...rest] = id.split('/');
      if (kind === MAPPING_KIND) await this.deleteLocal(rest.join('/'));
      else if (kind === VERSION_KIND || kind === ALIAS_KIND) await this.versions.remove(kind, rest.join('/'));
      else if (kind === FUNCTION_KIND) {
        const name = rest.join('/');
        await this.catalogFunctions.uninstall(name);
        // A function this node defined from an applied entry goes with the entry (apply --prune).
        if (this.definedFromApply.delete(name) && this.options.functions.exists(name)) await this.options.functions.delete(name);
      }
    }
  }

  /** A waiting entry is tried again when its function may have appeared. */
  private pendingMayResolve(entry: CatalogEntry): boolean {
    // A function created through the API is tried again at every wake-up (its package may have come).
    if (entry.kind === FUNCTION_KIND && (JSON.parse(entry.definition) as FunctionSettings).function) return true;
    if (entry.kind === VERSION_KIND || entry.kind === ALIAS_KIND) return true;
    if (entry.kind !== MAPPING_KIND) return this.options.functions.exists(entry.name);
    const definition = JSON.parse(entry.definition) as MappingDefinition;
    return this.options.functions.exists(definition.input.functionName);
  }

  private async applyMapping(entry: CatalogEntry): Promise<void> {
    const definition = JSON.parse(entry.definition) as MappingDefinition;
    const uuid = definition.input.uuid;
    const manager = this.managedBy(MAPPING_KIND, uuid);
    if (manager !== undefined) throw new Error(`it is declared by ${manager}, which takes precedence`);
    const exists = this.options.triggers.list().some((view) => view.uuid === uuid) || this.options.streamTriggers.list().some((view) => view.uuid === uuid);
    if (!exists) {
      await this.createLocal(definition);
      return;
    }
    if (definition.source === 'queue') {
      const { uuid: _uuid, queue: _queue, ...changes } = definition.input;
      await this.options.triggers.update(uuid, changes);
    } else {
      const { uuid: _uuid, stream: _stream, startingPosition: _position, startingPositionTimestamp: _timestamp, ...changes } = definition.input;
      await this.options.streamTriggers.update(uuid, changes);
    }
  }

  private async applyFunction(entry: CatalogEntry): Promise<void> {
    const settings = JSON.parse(entry.definition) as FunctionSettings;
    const manager = this.managedBy(FUNCTION_KIND, entry.name);
    if (manager !== undefined) throw new Error(`it is declared by ${manager}, which takes precedence`);
    if (settings.function) {
      await this.catalogFunctions.install(entry.name, entry.revision, settings.function, settings.reservedConcurrency);
      return;
    }
    const { functions } = this.options;
    const fields = { reservedConcurrency: settings.reservedConcurrency, ...appliedFunctionFields(settings) };
    if (!functions.exists(entry.name)) {
      // Its code is a module path on every node's disk: a node that does not declare it defines it.
      if (fields.handler === undefined) throw new Error(`the function ${entry.name} is not declared on this node`);
      await functions.create({ name: entry.name, ...fields, handler: fields.handler });
      this.definedFromApply.add(entry.name);
      return;
    }
    const changed = Object.keys(fieldChanges(fields, functions.get(entry.name)));
    if (changed.length === 0) return;
    await functions.update(entry.name, Object.fromEntries(changed.map((field) => [field, fields[field as keyof typeof fields]])));
  }

  private async createLocal(definition: MappingDefinition): Promise<MappingView> {
    return definition.source === 'queue'
      ? { source: 'queue', view: await this.options.triggers.create(definition.input) }
      : { source: 'stream', view: await this.options.streamTriggers.create(definition.input) };
  }

  private async deleteLocal(uuid: string): Promise<void> {
    if (this.options.triggers.list().some((view) => view.uuid === uuid)) await this.options.triggers.delete(uuid);
    else if (this.options.streamTriggers.list().some((view) => view.uuid === uuid)) await this.options.streamTriggers.delete(uuid);
  }

  private refuseManaged(kind: typeof MAPPING_KIND | typeof FUNCTION_KIND, name: string): void {
    const manager = this.managedBy(kind, name);
    if (manager === undefined) return;
    const what = kind === MAPPING_KIND ? `The event source mapping ${name}` : `The function ${name}`;
    throw new SluiceError('ResourceConflictException', `${what} is managed by the config file ${manager}; change it there (or remove it from the file and run sluice apply)`, {
      field: kind === MAPPING_KIND ? 'UUID' : 'FunctionName',
    });
  }

  private async entry(kind: string, name: string): Promise<CatalogEntry | undefined> {
    return (await this.options.store.catalogList({ kind })).find((entry) => entry.name === name);
  }

  private put(kind: string, name: string, definition: unknown, ifRevision: number | null | undefined, attachment?: CatalogAttachment) {
    return this.options.store.catalogPut({
      kind,
      name,
      definition: JSON.stringify(definition),
      modifiedAt: this.options.clock.now(),
      ...(ifRevision !== undefined ? { ifRevision } : {}),
      ...(attachment ? { attachment } : {}),
    });
  }
}
