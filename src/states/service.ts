/**
 * State machines as a Sluice resource, with the Step Functions API's operations and errors: the catalog
 * (create, describe, update, delete, list, validate, tags) and executions (start, start and wait, describe,
 * list, stop, history). Definitions are validated before anything is stored; executions run through
 * the ExecutionRunner (runner.ts), which persists every transition.
 */
import { randomUUID } from 'node:crypto';
import type { FunctionService } from '../functions/service.js';
import type { ArnContext } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { Service } from '../model/service.js';
import type { QueueService } from '../queues/service.js';
import type { TableService } from '../tables/service.js';
import { executionChannel, type StateMachineType, type StoredExecution, type StoredExecutionStatus, type StoredStateMachine } from '../store/state-machine-store.js';
import type { Store } from '../store/store.js';
import { parseDefinition, type Definition, type Diagnostic } from './definition.js';
import type { ExecutionState } from './execution-state.js';
import { abortExecution, MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES, nextDueAt, redriveExecution, startExecution } from './interpreter.js';
import type { Json } from './json.js';
import { expressUnsupportedResources, unsupportedResources } from './resources.js';
import { waitOnChannel } from '../callbacks/channel-wait.js';
import { FinishedTaskRetention } from '../callbacks/finished-retention.js';
import { executionColumns, ExecutionRunner, parentAnswer, toStoredEvents } from './runner.js';
import { stateMachineDiagnostics } from './validate.js';
import { ActivityService } from './activities.js';
import { parseMachineArn, StateMachineVersions } from './versions.js';

export interface StateMachineServiceOptions {
  store: Store;
  clock: Clock;
  arn: ArnContext;
  functions: FunctionService;
  queues: QueueService;
  tables: TableService;
  onError: (error: unknown) => void;
  leaseMs?: number;
  /**
   * How long a finished execution (and its history) stays readable; default 90 days, as AWS keeps them;
   * null keeps them.
   */
  finishedRetentionMs?: number | null;
}

/** AWS keeps closed executions for 90 days. */
export const DEFAULT_EXECUTION_RETENTION_MS = 90 * 86_400_000;
/**
 * AWS keeps nothing of a finished Express execution; Sluice keeps its row this long, so that a
 * StartSyncExecution waiting on another node can read the outcome.
 */
export const EXPRESS_RESULT_RETENTION_MS = 60_000;

export interface StateMachineInput {
  name: string;
  /** ASL as JSON text or as an object. */
  definition: string | object;
  roleArn?: string;
  type?: StateMachineType;
  description?: string;
  tags?: Record<string, string>;
  /** The config file that declares it (set by the config loader). */
  managedBy?: string | null;
  /** Publish the new machine's first revision as version 1 (CreateStateMachine's `publish`). */
  publish?: boolean;
  versionDescription?: string;
}

export interface StateMachineView {
  name: string;
  stateMachineArn: string;
  type: StateMachineType;
  definition: string;
  roleArn: string;
  description: string;
  status: 'ACTIVE';
  creationDate: Date;
  updateDate: Date;
  revisionId: string;
  tags: Record<string, string>;
  managedBy: string | null;
  /** Created or updated with `publish: true`: the version published. */
  stateMachineVersionArn?: string;
}

export interface ExecutionView {
  executionArn: string;
  /** RedriveExecution: times redriven, the last time, and whether it could be now (and why not). */
  redriveCount?: number;
  redriveDate?: Date;
  redriveStatus?: 'REDRIVABLE' | 'NOT_REDRIVABLE';
  redriveStatusReason?: string;
  stateMachineArn: string;
  /** Started on a version's ARN, or through an alias (then the version it routed to too). */
  stateMachineVersionArn?: string;
  stateMachineAliasArn?: string;
  name: string;
  status: StoredExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionListItem {
  executionArn: string;
  stateMachineArn: string;
  stateMachineVersionArn?: string;
  stateMachineAliasArn?: string;
  name: string;
  status: StoredExecutionStatus;
  startDate: Date;
  stopDate?: Date;
}

export interface HistoryEventView {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

// Control characters are refused separately (a regular expression over them trips the linter).
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
const hasControl = (name: string) => [...name].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));
export const DEFAULT_ROLE = (accountId: string) => `arn:aws:iam::${accountId}:role/sluice`;

export class StateMachineService implements Service {
  readonly runner: ExecutionRunner;
  /** Activities: their catalog and the tasks workers poll for. */
  readonly activities: ActivityService;
  /** Versions and aliases (PublishStateMachineVersion, CreateStateMachineAlias, ...). */
  readonly versions: StateMachineVersions;
  private readonly definitions = new Map<number, Definition>();
  /** Purges finished executions after their retention; a timer is armed only when one finishes (none: kept). */
  private readonly retention: FinishedTaskRetention | undefined;
  /** The same for finished Express executions, after EXPRESS_RESULT_RETENTION_MS. */
  private readonly expressRetention: FinishedTaskRetention;

  constructor(private readonly options: StateMachineServiceOptions) {
    const retentionMs = options.finishedRetentionMs === undefined ? DEFAULT_EXECUTION_RETENTION_MS : options.finishedRetentionMs;
    this.retention = retentionMs === null ? undefined : new FinishedTaskRetention({
      clock: options.clock,
      retentionMs,
      purge: async (stoppedBefore) => {
        while ((await options.store.executionPurge({ stoppedBefore, limit: 1000 })) === 1000);
      },
      onError: options.onError,
    });
    this.expressRetention = new FinishedTaskRetention({
      clock: options.clock,
      retentionMs: EXPRESS_RESULT_RETENTION_MS,
      purge: async (stoppedBefore) => {
        while ((await options.store.executionPurge({ stoppedBefore, limit: 1000, expressOnly: true })) === 1000);
      },
      onError: options.onError,
    });
    this.activities = new ActivityService({ store: options.store, clock: options.clock, arn: options.arn });
    this.versions = new StateMachineVersions({
      store: options.store,
      clock: options.clock,
      machineArn: (name) => this.stateMachineArn(name),
      machine: (nameOrArn) => this.machine(nameOrArn),
    });
    this.runner = new ExecutionRunner({
      enqueueActivityTask: (arn, task) => this.activities.enqueue(arn, task),
      store: options.store,
      clock: options.clock,
      functions: options.functions,
      queues: options.queues,
      tables: options.tables,
      onError: options.onError,
      definitionOf: (id) => this.definitionOf(id),
      onFinished: (at, express) => this.noteFinished(at, express),
      startExecution: (arn, options) => this.startExecution(arn, options),
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    });
  }

  async start(): Promise<void> {
    this.runner.start();
  }

  private noteFinished(at: number, express: boolean): void {
    (express ? this.expressRetention : this.retention)?.noteFinished(at);
  }

  async stop(deadline: number): Promise<void> {
    this.activities.stop();
    this.retention?.stop();
    this.expressRetention.stop();
    await this.runner.stop(deadline);
  }

  // ---------------------------------------------------------------- names and ARNs

  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.options.arn.region}:${this.options.arn.accountId}:stateMachine:${name}`;
  }

  private machineName(nameOrArn: string, field = 'stateMachineArn'): string {
    if (!nameOrArn.startsWith('arn:')) return nameOrArn;
    const m = /^arn:aws:states:[^:]*:[^:]*:stateMachine:([^:]+)$/.exec(nameOrArn);
    if (!m) throw new SluiceError('InvalidArn', `${field}: '${nameOrArn}' is not a state machine ARN`, { field });
    return m[1] as string;
  }

  /** The machine's name in a name, a machine ARN, or a version's or alias's ARN. */
  private unqualifiedName(nameOrArn: string): string {
    return nameOrArn.startsWith('arn:') ? parseMachineArn(nameOrArn, 'stateMachineArn').name : nameOrArn;
  }

  private checkExecutionArn(arn: string, field = 'executionArn'): void {
    // AWS keeps no record of Express executions: describe, history and stop refuse their ARNs so.
    if (/^arn:aws:states:[^:]*:[^:]*:express:[^:]+:[^:]+:[^:]+$/.test(arn))
      throw new SluiceError('InvalidArn', `${field}: Invalid Arn: 'Resource type not valid in this context: express' (Express executions are not recorded)`, { field });
    if (!/^arn:aws:states:[^:]*:[^:]*:execution:[^:]+:[^:]+$/.test(arn))
      throw new SluiceError('InvalidArn', `${field}: '${arn}' is not an execution ARN`, { field });
  }

  private checkName(name: unknown, field: string): string {
    if (typeof name !== 'string' || !NAME.test(name) || hasControl(name))
      throw new SluiceError('InvalidName', `${field}: ${JSON.stringify(name)} is not a valid name (1-80 characters without whitespace, brackets, wildcards, punctuation such as " # % \\ ^ | ~ \` $ & , ; : / or control characters)`, { field });
    return name;
  }

  // ---------------------------------------------------------------- definitions

  /** ValidateStateMachineDefinition: every problem, with its location. */
  validate(definition: string | object): { result: 'OK' | 'FAIL'; diagnostics: Diagnostic[] } {
    const diagnostics = stateMachineDiagnostics(definition);
    return { result: diagnostics.length === 0 ? 'OK' : 'FAIL', diagnostics };
  }

  private parse(definition: string | object, type: StateMachineType): { text: string; def: Definition } {
    const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
    const def = parseDefinition(text);
    const listed = unsupportedResources(def).map((u) => `SCHEMA_VALIDATION_FAILED: The resource '${u.resource}' is not supported by Sluice at ${u.location}`);
    if (type === 'EXPRESS')
      for (const u of expressUnsupportedResources(def))
        listed.push(
          u.resource.includes(':activity:')
            ? `SCHEMA_VALIDATION_FAILED: Express state machine does not support activities ('${u.resource}') at ${u.location}`
            : `SCHEMA_VALIDATION_FAILED: Express state machine does not support the '${u.resource.slice(u.resource.lastIndexOf('.'))}' service integration pattern at ${u.location}`,
        );
    if (listed.length > 0) throw new SluiceError('InvalidDefinition', `Invalid State Machine Definition: '${listed.join(', ')}'`, { field: 'definition' });
    return { text, def };
  }

  private async definitionOf(revisionId: number): Promise<Definition> {
    const cached = this.definitions.get(revisionId);
    if (cached) return cached;
    const revision = await this.options.store.stateMachineRevision({ id: revisionId });
    if (!revision) throw new SluiceError('StateMachineDoesNotExist', `revision ${revisionId} of a state machine is missing`);
    const def = parseDefinition(revision.definition);
    if (this.definitions.size >= 1000) this.definitions.clear();
    this.definitions.set(revisionId, def);
    return def;
  }

  // ---------------------------------------------------------------- the catalog

  async create(input: StateMachineInput): Promise<StateMachineView> {
    const name = this.checkName(input.name, 'name');
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') throw new SluiceError('ValidationException', `type: '${String(type)}' must be STANDARD or EXPRESS`, { field: 'type' });
    const roleArn = this.checkRole(input.roleArn);
    const { text } = this.parse(input.definition, type);
    const result = await this.options.store.stateMachineCreate({
      machine: {
        name,
        arn: this.stateMachineArn(name),
        type,
        definition: text,
        roleArn,
        description: input.description ?? '',
        tags: input.tags ?? {},
        managedBy: input.managedBy ?? null,
        now: this.options.clock.now(),
      },
    });
    if (result.outcome === 'exists') {
      const m = result.machine;
      // AWS: creating the same machine again is idempotent; a different one is StateMachineAlreadyExists.
      if (m.definition !== text || m.roleArn !== roleArn || m.type !== type)
        throw new SluiceError('StateMachineAlreadyExists', `name: a state machine named '${name}' already exists with a different definition, role or type`, { field: 'name' });
    }
    if (!input.publish) return view(result.machine);
    const published = await this.versions.publish(result.machine.arn, {
      revisionId: String(result.machine.revisionId),
      ...(input.versionDescription !== undefined ? { description: input.versionDescription } : {}),
    });
    return { ...view(result.machine), stateMachineVersionArn: published.stateMachineVersionArn };
  }

  private checkRole(roleArn: string | undefined): string {
    if (roleArn === undefined) return DEFAULT_ROLE(this.options.arn.accountId);
    if (!/^arn:aws:iam::\d*:role\/.+$/.test(roleArn)) throw new SluiceError('InvalidArn', `roleArn: '${roleArn}' is not an IAM role ARN`, { field: 'roleArn' });
    return roleArn;
  }

  private async machine(nameOrArn: string): Promise<StoredStateMachine> {
    const name = this.machineName(nameOrArn);
    const machine = await this.options.store.stateMachineGet({ name });
    if (!machine) throw new SluiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${this.stateMachineArn(name)}'`, { field: 'stateMachineArn' });
    return machine;
  }

  /** DescribeStateMachine; on a version's ARN, that version's definition, role and description. */
  async describe(nameOrArn: string): Promise<StateMachineView> {
    const target = nameOrArn.startsWith('arn:') ? parseMachineArn(nameOrArn, 'stateMachineArn') : { name: nameOrArn };
    if (target.alias !== undefined)
      throw new SluiceError('InvalidArn', `stateMachineArn: Invalid Arn: '${nameOrArn}' is an alias ARN; use DescribeStateMachineAlias`, { field: 'stateMachineArn' });
    const machine = await this.machine(target.name);
    if (target.version === undefined) return view(machine);
    const version = await this.versions.version(machine.name, target.version);
    const revision = await this.options.store.stateMachineRevision({ id: version.revisionId });
    if (!revision) throw new SluiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${nameOrArn}'`, { field: 'stateMachineArn' });
    return {
      ...view(machine),
      stateMachineArn: this.versions.versionArn(machine.name, version.version),
      definition: revision.definition,
      roleArn: revision.roleArn,
      description: version.description,
      creationDate: new Date(version.createdAt),
      updateDate: new Date(version.createdAt),
      revisionId: String(version.revisionId),
    };
  }

  async update(
    nameOrArn: string,
    changes: { definition?: string | object; roleArn?: string; description?: string; managedBy?: string | null; publish?: boolean; versionDescription?: string },
  ): Promise<{ updateDate: Date; revisionId: string; stateMachineArn: string; stateMachineVersionArn?: string }> {
    const { name, type } = await this.machine(nameOrArn);
    if (changes.definition === undefined && changes.roleArn === undefined && changes.description === undefined && changes.managedBy === undefined && !changes.publish)
      throw new SluiceError('MissingParameter', 'definition or roleArn: UpdateStateMachine needs at least one change', { field: 'definition' });
    const text = changes.definition === undefined ? undefined : this.parse(changes.definition, type).text;
    const updated = await this.options.store.stateMachineUpdate({
      name,
      ...(text !== undefined ? { definition: text } : {}),
      ...(changes.roleArn !== undefined ? { roleArn: this.checkRole(changes.roleArn) } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.managedBy !== undefined ? { managedBy: changes.managedBy } : {}),
      now: this.options.clock.now(),
    });
    if (!updated) throw new SluiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${this.stateMachineArn(name)}'`, { field: 'stateMachineArn' });
    const result = { updateDate: new Date(updated.updatedAt), revisionId: String(updated.revisionId), stateMachineArn: updated.arn };
    if (!changes.publish) return result;
    // The revision this update made (or kept): a concurrent update since makes it a ConflictException.
    const published = await this.versions.publish(updated.arn, {
      revisionId: result.revisionId,
      ...(changes.versionDescription !== undefined ? { description: changes.versionDescription } : {}),
    });
    return { ...result, stateMachineVersionArn: published.stateMachineVersionArn };
  }

  /** Deletes the machine; executions that are running continue with the definition they started with. */
  async delete(nameOrArn: string): Promise<void> {
    await this.options.store.stateMachineDelete({ name: this.machineName(nameOrArn) });
  }

  async list(options: { maxResults?: number; nextToken?: string } = {}): Promise<{ stateMachines: StateMachineView[]; nextToken?: string }> {
    const limit = pageSize(options.maxResults);
    const after = options.nextToken === undefined ? undefined : (decodeToken(options.nextToken) as { after: string }).after;
    const rows = await this.options.store.stateMachineList({ ...(after !== undefined ? { after } : {}), limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { stateMachines: page.map(view), ...(rows.length > limit ? { nextToken: encodeToken({ after: page.at(-1)?.name }) } : {}) };
  }

  async tag(nameOrArn: string, tags: Record<string, string>): Promise<void> {
    const machine = await this.machine(nameOrArn);
    await this.options.store.stateMachineUpdate({ name: machine.name, tags: { ...machine.tags, ...tags }, now: this.options.clock.now() });
  }

  async untag(nameOrArn: string, keys: string[]): Promise<void> {
    const machine = await this.machine(nameOrArn);
    const tags = { ...machine.tags };
    for (const key of keys) delete tags[key];
    await this.options.store.stateMachineUpdate({ name: machine.name, tags, now: this.options.clock.now() });
  }

  // ---------------------------------------------------------------- executions

  /**
   * StartExecution: idempotent for the same name and input while a STANDARD execution runs. An EXPRESS
   * machine's executions are not: each start runs a new one (AWS does not manage their idempotency).
   */
  async startExecution(
    nameOrArn: string,
    options: { name?: string; input?: string | Json; parent?: { token: string; sync: 'sync' | 'sync:2' }; sync?: boolean } = {},
  ): Promise<{ executionArn: string; startDate: Date }> {
    // A version's or alias's ARN runs that version (for an alias, the one it routes this execution to).
    const target = nameOrArn.startsWith('arn:') ? parseMachineArn(nameOrArn, 'stateMachineArn') : { name: nameOrArn };
    const machine = await this.machine(target.name);
    const qualified = target.version !== undefined || target.alias !== undefined ? await this.versions.resolve(target) : undefined;
    const revisionId = qualified ? qualified.version.revisionId : machine.revisionId;
    const name = options.name === undefined ? randomUUID() : this.checkName(options.name, 'name');
    const inputText = inputTextOf(options.input);
    const input = JSON.parse(inputText) as Json;
    const def = await this.definitionOf(revisionId);
    const express = machine.type === 'EXPRESS';
    const { region, accountId } = this.options.arn;
    // An Express execution's ARN names its type and ends with a unique id: names may repeat.
    const runId = express ? `${name}:${randomUUID()}` : name;
    const executionArn = `arn:aws:states:${region}:${accountId}:${express ? 'express' : 'execution'}:${machine.name}:${runId}`;
    const env = this.runner.env();
    const { state, step } = startExecution(
      def,
      {
        executionArn,
        name,
        stateMachineArn: machine.arn,
        stateMachineName: machine.name,
        roleArn: machine.roleArn,
        region,
        ...(options.parent ? { parentToken: options.parent.token, parentSync: options.parent.sync } : {}),
        ...(express ? { express: true as const } : {}),
        ...(express && options.sync ? { atMostOnce: true as const } : {}),
        ...(qualified ? { versionArn: qualified.versionArn } : {}),
        ...(qualified?.aliasArn !== undefined ? { aliasArn: qualified.aliasArn } : {}),
      },
      input,
      env,
    );
    const first = this.runner.firstTransition(state, step);
    const finished = state.status !== 'RUNNING';
    const answer = finished ? parentAnswer(state) : undefined;
    const result = await this.options.store.executionStart({
      execution: {
        arn: executionArn,
        stateMachineArn: machine.arn,
        name: runId,
        revisionId,
        ...(qualified ? { versionArn: qualified.versionArn, aliasArn: qualified.aliasArn ?? null } : {}),
        input: inputText,
        state: JSON.stringify(state),
        status: state.status,
        output: state.output === undefined ? null : JSON.stringify(state.output),
        error: state.failure?.error ?? null,
        cause: state.failure?.cause ?? null,
        startedAt: env.now,
        stoppedAt: finished ? env.now : null,
        lastEventId: state.lastEventId,
        leaseUntil: finished ? null : first.leaseUntil,
        dueAt: finished ? null : (nextDueAt(state) ?? null),
      },
      events: toStoredEvents(step.events, state),
      callbacks: first.callbacks,
      // A nested execution that ended in its first step answers its parent in the same transaction.
      ...(answer ? { answer } : {}),
    });
    if (result.outcome === 'exists') {
      const existing = result.execution;
      if (existing.status === 'RUNNING' && existing.input === inputText) return { executionArn: existing.arn, startDate: new Date(existing.startedAt) };
      throw new SluiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`, { field: 'name' });
    }
    if (finished) this.noteFinished(env.now, express);
    this.runner.adopt(executionArn, def, state, 1, step);
    return { executionArn, startDate: new Date(env.now) };
  }

  /**
   * StartSyncExecution (EXPRESS machines only, as AWS): starts the execution and resolves with its
   * outcome when it has finished. It runs at most once: if its node dies with a task in flight, the
   * execution fails rather than running the task again.
   */
  async startSyncExecution(nameOrArn: string, options: { name?: string; input?: string | Json } = {}): Promise<ExecutionView & { billingDetails?: unknown }> {
    const machine = await this.machine(this.unqualifiedName(nameOrArn));
    if (machine.type !== 'EXPRESS')
      throw new SluiceError('StateMachineTypeNotSupported', `stateMachineArn: StartSyncExecution is not available for STANDARD state machines ('${machine.arn}'); create the machine with type EXPRESS`, { field: 'stateMachineArn' });
    const { executionArn } = await this.startExecution(nameOrArn.startsWith('arn:') ? nameOrArn : machine.arn, { ...options, sync: true });
    return this.waitForExecution(executionArn);
  }

  /**
   * Sluice's own "start and wait" (native route, CLI `--wait`): StartSyncExecution for an EXPRESS
   * machine; for a STANDARD one, StartExecution then a wait on its end.
   */
  async startAndWait(nameOrArn: string, options: { name?: string; input?: string | Json } = {}): Promise<ExecutionView> {
    const machine = await this.machine(this.unqualifiedName(nameOrArn));
    const arn = nameOrArn.startsWith('arn:') ? nameOrArn : machine.arn;
    if (machine.type === 'EXPRESS') return this.startSyncExecution(arn, options);
    const { executionArn } = await this.startExecution(arn, options);
    return this.waitForExecution(executionArn);
  }

  /** Resolves when the execution has finished (from any node: it waits on the execution's channel). */
  waitForExecution(executionArn: string, options: { signal?: AbortSignal } = {}): Promise<ExecutionView> {
    return waitOnChannel<ExecutionView>({
      notifier: this.options.store.notifier,
      channel: executionChannel(executionArn),
      clock: this.options.clock,
      signal: options.signal,
      check: async () => {
        const row = await this.options.store.executionGet({ arn: executionArn });
        if (!row) throw executionDoesNotExist(executionArn);
        return row.status !== 'RUNNING' ? executionView(row) : undefined;
      },
    });
  }

  private async execution(arn: string): Promise<StoredExecution> {
    this.checkExecutionArn(arn);
    const row = await this.options.store.executionGet({ arn });
    if (!row) throw executionDoesNotExist(arn);
    return row;
  }

  async describeExecution(arn: string): Promise<ExecutionView> {
    const row = await this.execution(arn);
    const state = JSON.parse(row.state) as ExecutionState;
    const reason = notRedrivableReason(row, state, this.options.clock.now());
    return {
      ...executionView(row),
      ...(state.meta.versionArn !== undefined ? { stateMachineVersionArn: state.meta.versionArn } : {}),
      ...(state.meta.aliasArn !== undefined ? { stateMachineAliasArn: state.meta.aliasArn } : {}),
      redriveCount: state.redriveCount ?? 0,
      ...(state.redrivenAt !== undefined ? { redriveDate: new Date(state.redrivenAt) } : {}),
      redriveStatus: reason === undefined ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      ...(reason !== undefined ? { redriveStatusReason: reason } : {}),
    };
  }

  /**
   * RedriveExecution (STANDARD): a FAILED, TIMED_OUT or ABORTED execution that ended less than 14 days
   * ago runs again from the states that failed or were aborted (interpreter.ts, `redriveExecution`),
   * with the same ARN, input and definition revision. One compare-and-set on the row, as every step.
   *
   * `clientToken`, as AWS documents it: a call repeating one of the last 10 tokens that redrove this
   * execution, within 15 minutes of that redrive, answers that redrive's date and redrives nothing,
   * whatever the execution's status now. The tokens live in the execution's state, written by the
   * redrive's own compare-and-set, so a repeat on any node (or racing the first call) sees them.
   */
  async redriveExecution(arn: string, options: { clientToken?: string } = {}): Promise<{ redriveDate: Date }> {
    const { clientToken } = options;
    if (clientToken !== undefined && (typeof clientToken !== 'string' || clientToken.length < 1 || clientToken.length > REDRIVE_TOKEN_MAX_LENGTH))
      throw new SluiceError('ValidationException', `clientToken: must be 1-${REDRIVE_TOKEN_MAX_LENGTH} characters`, { field: 'clientToken' });
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await this.execution(arn);
      const state = JSON.parse(row.state) as ExecutionState;
      const env = this.runner.env();
      const repeated = clientToken === undefined ? undefined : state.redriveTokens?.find((t) => t.token === clientToken && env.now - t.at < REDRIVE_TOKEN_TTL_MS);
      if (repeated) return { redriveDate: new Date(repeated.at) };
      const reason = notRedrivableReason(row, state, env.now);
      if (reason !== undefined) throw new SluiceError('ExecutionNotRedrivable', `executionArn: ${reason} ('${arn}')`, { field: 'executionArn' });
      const def = await this.definitionOf(row.revisionId);
      const step = redriveExecution(def, state, env);
      if (clientToken !== undefined) {
        const kept = (state.redriveTokens ?? []).filter((t) => env.now - t.at < REDRIVE_TOKEN_TTL_MS);
        state.redriveTokens = [...kept, { token: clientToken, at: env.now }].slice(-REDRIVE_TOKENS_KEPT);
      }
      const first = this.runner.firstTransition(state, step);
      const finished = state.status !== 'RUNNING';
      const applied = await this.options.store.executionTransition({
        arn,
        version: row.version,
        ...executionColumns(state, step.events, env.now),
        callbacks: first.callbacks,
        releasedCallbacks: [],
        redriveCount: state.redriveCount ?? 1,
        leaseUntil: finished ? null : first.leaseUntil,
        dueAt: finished ? null : first.dueAt,
        now: env.now,
      });
      if (!applied) continue;
      if (finished) this.noteFinished(env.now, false);
      else this.runner.adopt(arn, def, state, row.version + 1, step);
      return { redriveDate: new Date(env.now) };
    }
    throw new SluiceError('ServiceUnavailable', `executionArn: '${arn}' changed too often to be redriven; try again`);
  }

  async describeStateMachineForExecution(arn: string): Promise<StateMachineView> {
    const row = await this.execution(arn);
    const revision = await this.options.store.stateMachineRevision({ id: row.revisionId });
    const machine = await this.options.store.stateMachineGet({ name: row.stateMachineArn.split(':').at(-1) as string });
    if (!revision) throw new SluiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${row.stateMachineArn}'`);
    return {
      name: row.stateMachineArn.split(':').at(-1) as string,
      stateMachineArn: row.stateMachineArn,
      type: machine?.type ?? 'STANDARD',
      definition: revision.definition,
      roleArn: revision.roleArn,
      description: machine?.description ?? '',
      status: 'ACTIVE',
      creationDate: new Date(machine?.createdAt ?? revision.createdAt),
      updateDate: new Date(revision.createdAt),
      revisionId: String(revision.id),
      tags: machine?.tags ?? {},
      managedBy: machine?.managedBy ?? null,
    };
  }

  async listExecutions(
    nameOrArn: string,
    options: { statusFilter?: StoredExecutionStatus; redriveFilter?: 'REDRIVEN' | 'NOT_REDRIVEN'; maxResults?: number; nextToken?: string } = {},
  ): Promise<{ executions: ExecutionListItem[]; nextToken?: string }> {
    // A version's ARN lists the executions that ran it (started on it or through an alias); an alias's,
    // those started through it.
    const target = nameOrArn.startsWith('arn:') ? parseMachineArn(nameOrArn, 'stateMachineArn') : { name: nameOrArn };
    const machine = await this.machine(target.name);
    if (target.version !== undefined) await this.versions.version(machine.name, target.version);
    if (target.alias !== undefined) await this.versions.describeAlias(nameOrArn);
    if (machine.type === 'EXPRESS')
      throw new SluiceError('StateMachineTypeNotSupported', `stateMachineArn: ListExecutions is not supported for EXPRESS state machines ('${machine.arn}'); their executions are not recorded`, { field: 'stateMachineArn' });
    const limit = pageSize(options.maxResults);
    const after = options.nextToken === undefined ? undefined : (decodeToken(options.nextToken) as { startedAt: number; arn: string });
    const rows = await this.options.store.executionList({
      stateMachineArn: machine.arn,
      ...(options.statusFilter ? { status: options.statusFilter } : {}),
      ...(options.redriveFilter ? { redriven: options.redriveFilter === 'REDRIVEN' } : {}),
      ...(target.version !== undefined ? { versionArn: nameOrArn } : {}),
      ...(target.alias !== undefined ? { aliasArn: nameOrArn } : {}),
      ...(after ? { after } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      executions: page.map((r) => ({
        executionArn: r.arn,
        stateMachineArn: r.stateMachineArn,
        ...(r.versionArn !== null ? { stateMachineVersionArn: r.versionArn } : {}),
        ...(r.aliasArn !== null ? { stateMachineAliasArn: r.aliasArn } : {}),
        name: r.name,
        status: r.status,
        startDate: new Date(r.startedAt),
        ...(r.stoppedAt !== null ? { stopDate: new Date(r.stoppedAt) } : {}),
      })),
      ...(rows.length > limit && last ? { nextToken: encodeToken({ startedAt: last.startedAt, arn: last.arn }) } : {}),
    };
  }

  /** StopExecution: ABORTED, whichever node holds it (its next transition fails). */
  async stopExecution(arn: string, failure: { error?: string; cause?: string } = {}): Promise<{ stopDate: Date }> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await this.execution(arn);
      if (row.status !== 'RUNNING') return { stopDate: new Date(row.stoppedAt ?? row.startedAt) };
      const state = JSON.parse(row.state) as ExecutionState;
      const env = this.runner.env();
      const step = abortExecution(await this.definitionOf(row.revisionId), state, failure, env);
      const answer = parentAnswer(state);
      const applied = await this.options.store.executionTransition({
        arn,
        version: row.version,
        state: JSON.stringify(state),
        status: 'ABORTED',
        output: null,
        error: failure.error ?? null,
        cause: failure.cause ?? null,
        stoppedAt: env.now,
        lastEventId: state.lastEventId,
        events: toStoredEvents(step.events, state),
        callbacks: [],
        releasedCallbacks: [],
        ...(answer ? { answer } : {}),
        leaseUntil: null,
        dueAt: null,
        now: env.now,
      });
      if (applied) {
        this.runner.forget(arn);
        this.noteFinished(env.now, false);
        return { stopDate: new Date(env.now) };
      }
    }
    throw new SluiceError('ServiceUnavailable', `executionArn: '${arn}' changed too often to be stopped; try again`);
  }

  /** GetExecutionHistory: events with AWS's types, ids and previous ids, a page at a time. */
  async history(arn: string, options: { reverseOrder?: boolean; maxResults?: number; nextToken?: string; includeExecutionData?: boolean } = {}): Promise<{ events: HistoryEventView[]; nextToken?: string }> {
    await this.execution(arn);
    const limit = pageSize(options.maxResults);
    const reverse = options.reverseOrder ?? false;
    const after = options.nextToken === undefined ? undefined : (decodeToken(options.nextToken) as { after: number }).after;
    const rows = await this.options.store.executionHistory({ arn, reverse, ...(after !== undefined ? { afterId: after } : {}), limit: limit + 1 });
    const page = rows.slice(0, limit);
    const include = options.includeExecutionData ?? true;
    return {
      events: page.map((e) => {
        const details = e.details === null ? {} : (JSON.parse(e.details) as Record<string, Record<string, unknown>>);
        if (!include) for (const value of Object.values(details)) for (const key of ['input', 'output', 'parameters']) delete value[key];
        return { id: e.id, previousEventId: e.previousEventId, timestamp: new Date(e.timestamp), type: e.type, ...details };
      }),
      ...(rows.length > limit ? { nextToken: encodeToken({ after: page.at(-1)?.id }) } : {}),
    };
  }
}

function view(m: StoredStateMachine): StateMachineView {
  return {
    name: m.name,
    stateMachineArn: m.arn,
    type: m.type,
    definition: m.definition,
    roleArn: m.roleArn,
    description: m.description,
    status: 'ACTIVE',
    creationDate: new Date(m.createdAt),
    updateDate: new Date(m.updatedAt),
    revisionId: String(m.revisionId),
    tags: m.tags,
    managedBy: m.managedBy,
  };
}

function executionView(row: StoredExecution): ExecutionView {
  return {
    executionArn: row.arn,
    stateMachineArn: row.stateMachineArn,
    // An Express execution's row is named `<name>:<id>` (names may repeat); its name is the first part.
    name: row.arn.includes(':express:') ? (row.name.split(':')[0] as string) : row.name,
    status: row.status,
    startDate: new Date(row.startedAt),
    ...(row.stoppedAt !== null ? { stopDate: new Date(row.stoppedAt) } : {}),
    input: row.input,
    ...(row.output !== null ? { output: row.output } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.cause !== null ? { cause: row.cause } : {}),
  };
}

/** RedriveExecution's clientToken: AWS answers again for the last 10 tokens, for 15 minutes each. */
const REDRIVE_TOKENS_KEPT = 10;
const REDRIVE_TOKEN_TTL_MS = 15 * 60_000;
const REDRIVE_TOKEN_MAX_LENGTH = 64;

/** AWS redrives an execution for 14 days after it ended. */
export const REDRIVABLE_PERIOD_MS = 14 * 86_400_000;
/** A STANDARD execution runs for at most a year, redrives included. */
const MAX_EXECUTION_MS = 365 * 86_400_000;

/** Why the execution cannot be redriven now (AWS's redriveStatusReason texts), or undefined. */
function notRedrivableReason(row: StoredExecution, state: ExecutionState, now: number): string | undefined {
  if (row.status === 'RUNNING') return 'Execution is RUNNING and cannot be redriven';
  if (row.status === 'SUCCEEDED') return 'Execution is SUCCEEDED and cannot be redriven';
  if (row.lastEventId >= MAX_HISTORY_EVENTS - 1) return 'Execution history event limit exceeded';
  if (now - row.startedAt > MAX_EXECUTION_MS) return 'Execution has exceeded the max execution time';
  if (row.stoppedAt !== null && now - row.stoppedAt > REDRIVABLE_PERIOD_MS) return 'Execution redrivable period exceeded';
  if (!state.redrive) return 'Execution has no state to redrive from';
  return undefined;
}

function executionDoesNotExist(arn: string): SluiceError {
  return new SluiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`, { field: 'executionArn' });
}

function inputTextOf(input: string | Json | undefined): string {
  const text = input === undefined ? '{}' : typeof input === 'string' ? input : JSON.stringify(input);
  if (Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES)
    throw new SluiceError('InvalidExecutionInput', `input: ${Buffer.byteLength(text, 'utf8')} bytes is too large; at most ${MAX_PAYLOAD_BYTES}`, { field: 'input' });
  try {
    JSON.parse(text);
  } catch {
    throw new SluiceError('InvalidExecutionInput', 'input: is not valid JSON', { field: 'input' });
  }
  return text;
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return 100;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000)
    throw new SluiceError('ValidationException', `maxResults: ${maxResults} must be an integer from 0 to 1000`, { field: 'maxResults' });
  return maxResults;
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new SluiceError('InvalidToken', 'nextToken: is not a token this API returned', { field: 'nextToken' });
  }
}
