/**
 * `sluice apply` against the catalog (docs/design/catalog.md): the plan of a file's mappings, functions'
 * settings, schedules, queues and tables against what the store holds (apply-plan.ts, apply-queues.ts,
 * apply-tables.ts), and its application in one store transaction, each entry at the revision the plan
 * read. The checks that belong to the node's running services (a mapping validated as its trigger
 * service would, the config's own resources refused) come from the catalog service as hooks.
 */
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { FunctionService } from '../functions/service.js';
import { buildDefinition, functionLimits } from '../functions/definition.js';
import type { CatalogDeleteInput, CatalogEntry, CatalogPutInput, CatalogScheduleWrites } from '../store/catalog-store.js';
import type { Store } from '../store/store.js';
import type { StoredQueue } from '../store/queue-store.js';
import type { StoredTable } from '../store/table-store.js';
import { NAME_REUSE_DELAY_MS } from '../queues/service.js';
import type { CreateTableInput } from '../tables/definition.js';
import type { ScheduleService } from '../schedules/service.js';
import type { ScheduleInput } from '../schedules/types.js';
import { scheduleDiffers } from '../config/sections/schedules.js';
import type { AssumedResources } from '../triggers/service.js';
import type { AssumedStreamResources } from '../triggers/stream/stream-service.js';
import {
  mutableFields,
  planFunctions,
  refuseUnadopted,
  planMappings,
  type DeclaredFunction,
  type DeclaredMapping,
  type FunctionPlanStep,
  type MappingDefinition,
  type PlannedStep,
  type PlanStep,
} from './apply-plan.js';
import { APPLIED_QUEUE_KIND, planQueues, queueWrites, type DeclaredQueue, type QueuePlanStep } from './apply-queues.js';
import { APPLIED_TABLE_KIND, planTables, tableWrites, type TablePlanStep } from './apply-tables.js';
import { APPLIED_SCHEDULE_KIND, FUNCTION_KIND, MAPPING_KIND, appliedFunctionFields, catalogKey, refuseApplied } from './catalog-entries.js';
import type { FunctionSettings } from './service.js';

/** A step of `sluice apply`'s plan for a schedule. */
export interface SchedulePlanStep {
  action: PlanStep['action'];
  schedule: string;
  /** For an adopt: the schedule differs from the file and is updated to it. */
  changed?: true;
}

/** What `sluice apply` sends: the file's mappings and functions' settings, and whether to prune. */
export interface ApplyRequest {
  source: string;
  declared: readonly DeclaredMapping[];
  functions?: readonly DeclaredFunction[];
  schedules?: readonly ScheduleInput[];
  queues?: readonly DeclaredQueue[];
  tables?: readonly CreateTableInput[];
  prune: boolean;
  /**
   * `sluice apply --adopt`: a queue, table or schedule the file declares that exists and no file manages
   * (a node's config, an API or a program made it) becomes this file's (plan action `adopt`), updated to
   * the file. Without it such a resource is refused, naming the option.
   */
  adopt?: boolean;
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

export interface CatalogApplyDeps {
  store: Store;
  clock: Clock;
  functions: FunctionService;
  schedules: ScheduleService;
}

/** What the catalog service checks and waits for on this node, for `sluice apply`. */
export interface CatalogApplyHooks {
  /** Refuses a resource a node's config file manages. */
  refuseManaged(kind: typeof MAPPING_KIND | typeof FUNCTION_KIND, name: string): void;
  validateNewMapping(definition: MappingDefinition, assumed: AssumedResources & AssumedStreamResources): Promise<void>;
  validateChangedMapping(definition: MappingDefinition): Promise<void>;
  /** Resolves once this node has applied the catalog as stored now. */
  settled(): Promise<void>;
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

export class CatalogApply {
  constructor(
    private readonly deps: CatalogApplyDeps,
    private readonly hooks: CatalogApplyHooks,
  ) {}

  /** `sluice apply`'s plan against the catalog as stored now (apply-plan.ts), with the entries it read. */
  async plan(p: ApplyRequest): Promise<ApplyPlan> {
    const entries = await this.deps.store.catalogList({});
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
    const storedQueues = await this.deps.store.queueList({});
    const queues = planQueues({ ...p, declared: p.queues ?? [], stored: storedQueues, marks: entries.filter((entry) => entry.kind === APPLIED_QUEUE_KIND) });
    const storedTables = await this.deps.store.tableList({});
    const tables = planTables({
      ...p,
      declared: p.tables ?? [],
      stored: storedTables,
      marks: entries.filter((entry) => entry.kind === APPLIED_TABLE_KIND),
      now: this.deps.clock.now(),
    });
    return { mappings, functions, schedules, queues, storedQueues, tables, storedTables, revisions: new Map(entries.map((entry) => [catalogKey(entry.kind, entry.name), entry])) };
  }

  /**
   * The file's schedules against the schedule store and the marks of what files applied: create what is
   * missing, update what this file applied and now differs, keep or (prune) delete what it applied and no
   * longer declares. A schedule that exists without this file's mark (a node's config, the Scheduler
   * API, another file) is refused, unless the apply adopts and no other file manages it.
   */
  private async planSchedules(p: ApplyRequest, marks: CatalogEntry[]): Promise<SchedulePlanStep[]> {
    const managedBy = new Map(marks.map((entry) => [entry.name, (JSON.parse(entry.definition) as { managedBy: string }).managedBy]));
    const stored = new Map((await this.deps.schedules.list()).map((view) => [view.name, view]));
    const steps: SchedulePlanStep[] = [];
    for (const input of p.schedules ?? []) {
      const current = stored.get(input.name);
      if (!current) {
        steps.push({ action: 'create', schedule: input.name });
        continue;
      }
      const owner = managedBy.get(input.name);
      if (owner === undefined && p.adopt === true) {
        steps.push({ action: 'adopt', schedule: input.name, ...(scheduleDiffers(current, input) ? { changed: true as const } : {}) });
        continue;
      }
      if (owner !== p.source) refuseUnadopted({ kind: 'schedule', name: input.name, owner, source: p.source, made: 'a node config or the API', field: 'Name' });
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
    const { mappings, functions, schedules, queues, storedQueues, tables, storedTables, revisions } = await this.plan(p);
    const puts: CatalogPutInput[] = [];
    const deletes: CatalogDeleteInput[] = [];
    const now = this.deps.clock.now();
    const queueRows = queueWrites({ declared: p.queues ?? [], steps: queues, stored: storedQueues, now, nameReuseDelayMs: NAME_REUSE_DELAY_MS });
    const tableRows = tableWrites({ declared: p.tables ?? [], steps: tables, stored: storedTables, now });
    // A new mapping may name a queue or table this apply creates, or a function a node defines from its applied handler.
    const assumed: AssumedResources & AssumedStreamResources = {
      tables: new Map(tableRows.creates.map((t) => [t.name, t.definition])),
      queues: new Map(queueRows.creates.map((q) => [q.name, { id: 0, ...q, createdAt: now, modifiedAt: now, purgedAt: null }])),
      functions: new Map(
        (p.functions ?? []).filter((fn) => fn.handler !== undefined && !this.deps.functions.exists(fn.name)).map((fn) => [fn.name, fn.timeout ?? functionLimits.defaultTimeout]),
      ),
    };
    for (const step of mappings) {
      if (step.action === 'create' && step.declared) {
        const definition = { ...step.declared, input: { ...step.declared.input, uuid: p.newUuid() }, managedBy: p.source } as MappingDefinition;
        await this.hooks.validateNewMapping(definition, assumed);
        step.uuid = definition.input.uuid;
        puts.push({ kind: MAPPING_KIND, name: step.uuid, definition: JSON.stringify(definition), modifiedAt: now, ifRevision: null });
      } else if (step.action === 'update' && step.declared && step.uuid) {
        const entry = revisions.get(catalogKey(MAPPING_KIND, step.uuid))!;
        this.hooks.refuseManaged(MAPPING_KIND, step.uuid);
        refuseApplied(entry, step.uuid, p.source);
        const previous = JSON.parse(entry.definition) as MappingDefinition;
        const merged = { ...previous, input: { ...previous.input, ...mutableFields(step.declared) }, managedBy: p.source } as MappingDefinition;
        await this.hooks.validateChangedMapping(merged);
        puts.push({ kind: MAPPING_KIND, name: step.uuid, definition: JSON.stringify(merged), modifiedAt: now, ifRevision: entry.revision });
      } else if (step.action === 'delete' && step.uuid) {
        this.hooks.refuseManaged(MAPPING_KIND, step.uuid);
        deletes.push({ kind: MAPPING_KIND, name: step.uuid, ifRevision: revisions.get(catalogKey(MAPPING_KIND, step.uuid))!.revision });
      }
    }
    for (const step of functions) {
      if (step.action === 'unchanged' || step.action === 'keep') continue;
      const entry = revisions.get(catalogKey(FUNCTION_KIND, step.function));
      const settings = entry ? (JSON.parse(entry.definition) as FunctionSettings) : undefined;
      this.hooks.refuseManaged(FUNCTION_KIND, step.function);
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
      if (reserved !== null && (!Number.isInteger(reserved) || reserved < 0 || reserved > this.deps.functions.concurrency.accountLimit)) {
        throw new SluiceError('InvalidParameterValue', `functions.${step.function}.reservedConcurrency: ${reserved} is invalid; must be an integer from 0 to ${this.deps.functions.concurrency.accountLimit}`, {
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
      const mark = revisions.get(catalogKey(APPLIED_QUEUE_KIND, step.queue));
      if (step.action === 'create' || step.action === 'adopt') puts.push({ kind: APPLIED_QUEUE_KIND, name: step.queue, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: mark?.revision ?? null });
      else if (step.action === 'delete' && mark) deletes.push({ kind: APPLIED_QUEUE_KIND, name: step.queue, ifRevision: mark.revision });
    }
    for (const step of tables) {
      const mark = revisions.get(catalogKey(APPLIED_TABLE_KIND, step.table));
      if (step.action === 'create' || step.action === 'adopt') puts.push({ kind: APPLIED_TABLE_KIND, name: step.table, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: mark?.revision ?? null });
      else if (step.action === 'delete' && mark) deletes.push({ kind: APPLIED_TABLE_KIND, name: step.table, ifRevision: mark.revision });
    }
    const outcome = await this.deps.store.catalogWrite({ puts, deletes, schedules: scheduleWrites, queues: queueRows, tables: tableRows });
    if (!outcome.written) {
      throw new SluiceError(
        'ResourceConflictException',
        `${outcome.failed.kind} ${outcome.failed.name} changed in the catalog while ${p.source} was being applied; nothing was applied. Run sluice apply again`,
      );
    }
    await this.hooks.settled();
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
    const now = this.deps.clock.now();
    for (const step of steps) {
      const mark = revisions.get(catalogKey(APPLIED_SCHEDULE_KIND, step.schedule));
      const input = (p.schedules ?? []).find((candidate) => candidate.name === step.schedule);
      if (step.action === 'create' && input) {
        writes.creates.push(this.deps.schedules.prepareCreate(input));
        puts.push({ kind: APPLIED_SCHEDULE_KIND, name: step.schedule, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: mark?.revision ?? null });
      } else if ((step.action === 'update' || (step.action === 'adopt' && step.changed)) && input) {
        const current = await this.deps.store.scheduleGet({ name: step.schedule });
        if (!current) {
          throw new SluiceError('ResourceConflictException', `schedule ${step.schedule} was deleted while ${p.source} was being applied; nothing was applied. Run sluice apply again`);
        }
        const { name: _name, ...changes } = input;
        writes.updates.push(this.deps.schedules.prepareUpdate(current, changes));
      }
      if (step.action === 'adopt') {
        // Marked as the file's in the same transaction; the mark must still be absent then.
        puts.push({ kind: APPLIED_SCHEDULE_KIND, name: step.schedule, definition: JSON.stringify({ managedBy: p.source }), modifiedAt: now, ifRevision: null });
      } else if (step.action === 'delete') {
        if (await this.deps.store.scheduleGet({ name: step.schedule })) writes.deletes.push(step.schedule);
        deletes.push({ kind: APPLIED_SCHEDULE_KIND, name: step.schedule, ...(mark ? { ifRevision: mark.revision } : {}) });
      }
    }
    return writes;
  }
}
