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
import { createHash } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { Service } from '../model/service.js';
import type { FunctionService } from '../functions/service.js';
import { catalogChannel, type CatalogAttachment, type CatalogEntry } from '../store/catalog-store.js';
import { inspectCodePackage } from '../functions/code-package.js';
import { CatalogFunctions, StalePackage, type StoredFunction } from './catalog-functions.js';
import { ALIAS_KIND, VERSION_KIND } from './catalog-versions.js';
import { CatalogApply, type ApplyPlan, type ApplyRequest } from './catalog-apply.js';
import { APPLIED_SCHEDULE_KIND, FUNCTION_KIND, MAPPING_KIND, SECRET_KIND, appliedFunctionFields, catalogKey, refuseApplied } from './catalog-entries.js';
import { FunctionVersions } from './version-service.js';
import { newSecret, rotatedSecret, signingKeysOf, type SecretDefinition, type SigningKeys } from './signing-keys.js';
import { fieldChanges, tableOfStream, type MappingDefinition } from './apply-plan.js';
import type { Store } from '../store/store.js';
import { APPLIED_QUEUE_KIND } from './apply-queues.js';
import { APPLIED_TABLE_KIND } from './apply-tables.js';
import type { ScheduleService } from '../schedules/service.js';
import type { AssumedResources, TriggerService } from '../triggers/service.js';
import type { TriggerUpdate, TriggerView } from '../triggers/types.js';
import type { AssumedStreamResources, StreamTriggerService } from '../triggers/stream/stream-service.js';
import type { StreamTriggerUpdate, StreamTriggerView } from '../triggers/stream/stream-types.js';

export { APPLIED_SCHEDULE_KIND, FUNCTION_KIND, MAPPING_KIND, SCHEDULER_SCHEDULE_KIND, SECRET_KIND } from './catalog-entries.js';
export type { ApplyPlan, ApplyRequest, SchedulePlanStep } from './catalog-apply.js';

export type { DeclaredFunction, DeclaredMapping, FunctionPlanStep, MappingDefinition, PlanStep } from './apply-plan.js';
export type { DeclaredQueue, QueuePlanStep } from './apply-queues.js';
export { APPLIED_QUEUE_KIND } from './apply-queues.js';
export type { TablePlanStep } from './apply-tables.js';
export { APPLIED_TABLE_KIND } from './apply-tables.js';

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

/** A UUID-shaped RevisionId derived from a function's name and catalog revision (every node computes the same). */
export function revisionIdOf(name: string, revision: number): string {
  const hex = createHash('sha256').update(`${name}\u0000${revision}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export class CatalogService implements Service {
  /** The revision of each catalog entry this node runs. */
  private readonly applied = new Map<string, number>();
  /** Entries this node could not apply yet, and why (reported once per revision). */
  private readonly pending = new Map<string, { revision: number; reason: string }>();
  private readonly managed = new Map<string, string>();
  /** Schedules this node's config file declares, by name: the file (stored rows, guarded here by the file). */
  private readonly configSchedules = new Map<string, string>();
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
  /** `sluice apply`'s plan and its application. */
  private readonly applier: CatalogApply;

  constructor(private readonly options: CatalogServiceOptions) {
    this.applier = new CatalogApply(options, {
      refuseManaged: (kind, name) => this.refuseManaged(kind, name),
      validateNewMapping: (definition, assumed) => this.validateNewMapping(definition, assumed),
      validateChangedMapping: (definition) => this.validateChangedMapping(definition),
      settled: () => this.settled(),
    });
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
        const id = catalogKey(kind, name);
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
    this.managed.set(catalogKey(kind, name), source);
  }

  /**
   * Marks the schedules a config file declares as managed by it: changes through any API or the library
   * are then refused, naming the file, as for its triggers. `names` replaces the file's previous set; an
   * empty set lifts the marks while the file itself applies them (config/sections/schedules.ts).
   */
  manageSchedules(source: string, names: readonly string[]): void {
    for (const [name, file] of this.configSchedules) if (file === source) this.configSchedules.delete(name);
    for (const name of names) this.configSchedules.set(name, source);
  }

  /** The config file managing a resource, if one does. */
  managedBy(kind: typeof MAPPING_KIND | typeof FUNCTION_KIND, name: string): string | undefined {
    return this.managed.get(catalogKey(kind, name));
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
    const declaredBy = this.configSchedules.get(name);
    if (!mark && declaredBy !== undefined) {
      throw new SluiceError('ResourceConflictException', `The schedule ${name} is declared by the config file ${declaredBy}; change it there and restart the node`, {
        field: 'Name',
      });
    }
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
    return this.applied.has(catalogKey(MAPPING_KIND, uuid));
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
    this.applied.set(catalogKey(MAPPING_KIND, name), outcome.entry.revision);
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
      if (outcome.written) this.applied.set(catalogKey(MAPPING_KIND, uuid), outcome.entry.revision);
    }
    return updated;
  }

  async deleteMapping(uuid: string, appliedFrom?: string): Promise<MappingView> {
    this.refuseManaged(MAPPING_KIND, uuid);
    refuseApplied(await this.entry(MAPPING_KIND, uuid), uuid, appliedFrom);
    const local = this.localMapping(uuid);
    await this.options.store.catalogDelete({ kind: MAPPING_KIND, name: uuid });
    this.applied.delete(catalogKey(MAPPING_KIND, uuid));
    await this.deleteLocal(uuid);
    return local;
  }

  /** `sluice apply`'s plan against the catalog as stored now (catalog-apply.ts), with the entries it read. */
  planApply(p: ApplyRequest): Promise<ApplyPlan> {
    return this.applier.plan(p);
  }

  /** Carries out `sluice apply`'s plan atomically (catalog-apply.ts); this node has applied it on return. */
  apply(p: ApplyRequest & { newUuid: () => string }): ReturnType<CatalogApply['apply']> {
    return this.applier.apply(p);
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

  /**
   * Resolves once this node has applied the catalog as stored now: what another node wrote before this
   * call (a function, a version, a mapping) is then live here, whether or not its wake-up has arrived.
   * The Lambda API calls it before answering that something does not exist (lambda/catch-up.ts).
   */
  catchUp(): Promise<void> {
    return this.settled();
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
        this.applied.set(catalogKey(FUNCTION_KIND, name), outcome.entry.revision);
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
    return (await this.signingKeys(name)).current;
  }

  /**
   * The shared secret `name` with the keys it replaced (catalog/signing-keys.ts), read from the store at
   * each call (a rotation through any node is seen at once). Made when absent, as sharedSecret; with
   * `maxAgeMs`, rotated first when its key is older (the rotation is conditional on the revision read,
   * so nodes racing rotate it once).
   */
  async signingKeys(name: string, options: { maxAgeMs?: number } = {}): Promise<SigningKeys> {
    const read = (entry: CatalogEntry) => signingKeysOf(JSON.parse(entry.definition) as SecretDefinition, entry.modifiedAt);
    const existing = await this.entry(SECRET_KIND, name);
    if (existing) {
      const keys = read(existing);
      if (options.maxAgeMs === undefined || this.options.clock.now() - keys.createdAt < options.maxAgeMs) return keys;
      return this.rotateSecret(name, existing);
    }
    const outcome = await this.put(SECRET_KIND, name, newSecret(this.options.clock.now()), null);
    if (outcome.written) return read(outcome.entry);
    if (!outcome.current) throw new Error(`the secret ${name} could not be stored`);
    return read(outcome.current);
  }

  /**
   * Replaces the secret's key with a new one; the old key is kept as retired, so what it signed stays
   * valid until it expires (`sluice functions rotate-code-key`). `from`: rotate only that revision (a
   * node rotating an expired key: if another rotated first, its key is taken).
   */
  async rotateSecret(name: string, from?: CatalogEntry): Promise<SigningKeys> {
    const read = (entry: CatalogEntry) => signingKeysOf(JSON.parse(entry.definition) as SecretDefinition, entry.modifiedAt);
    const now = this.options.clock.now();
    for (;;) {
      const current = from ?? (await this.entry(SECRET_KIND, name));
      const next = current ? rotatedSecret(JSON.parse(current.definition) as SecretDefinition, now) : newSecret(now);
      const outcome = await this.put(SECRET_KIND, name, next, current?.revision ?? null);
      if (outcome.written) return read(outcome.entry);
      if (from && outcome.current) return read(outcome.current);
      // An explicit rotation raced with another write: rotate what is there now.
    }
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
    this.applied.delete(catalogKey(FUNCTION_KIND, name));
    this.pending.delete(catalogKey(FUNCTION_KIND, name));
    await this.catalogFunctions.uninstall(name);
    for (const other of others) {
      this.applied.delete(catalogKey(other.kind, other.name));
      this.pending.delete(catalogKey(other.kind, other.name));
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
    this.applied.set(catalogKey(FUNCTION_KIND, name), revision);
    this.pending.delete(catalogKey(FUNCTION_KIND, name));
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
      const id = catalogKey(entry.kind, entry.name);
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
