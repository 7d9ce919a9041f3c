/**
 * The composition root: opens a store, wires the features to it and owns start and stop. A user holds
 * one `Sluice` per process; each feature is a property (`sluice.queues`, later `functions`, `tables`...).
 */
import { SluiceError } from '../model/errors.js';
import { CallbackService } from '../callbacks/service.js';
import { APPLIED_SCHEDULE_KIND, CatalogService, SCHEDULER_SCHEDULE_KIND } from '../catalog/service.js';
import { defaultCodeCacheDir } from '../functions/code-package.js';
import { Cluster, type ClusterDeps } from '../cluster/cluster.js';
import { clusterSettings, type ClusterOptions } from '../cluster/settings.js';
import { shardLeasing } from '../cluster/shard-leases.js';
import { deliverFinalizer } from '../batches/finalizer.js';
import { BatchService } from '../batches/service.js';
import { FunctionService } from '../functions/service.js';
import { GroupLimitService } from '../limits/service.js';
import { defaultArnContext, type ArnContext } from '../model/arn.js';
import { systemClock, type Clock } from '../model/clock.js';
import type { Service } from '../model/service.js';
import { QueueService } from '../queues/service.js';
import { OutboxRelay } from '../schedules/outbox-relay.js';
import { ScheduleService } from '../schedules/service.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { StateMachineService } from '../states/service.js';
import { StreamService } from '../streams/service.js';
import { TableService } from '../tables/service.js';
import { TriggerService } from '../triggers/service.js';
import { groupActivityOf } from '../limits/group-activity.js';
import { EngineEvents } from '../observability/events.js';
import { StreamTriggerService } from '../triggers/stream/stream-service.js';

export interface SluiceOptions {
  /** A store URL (`sqlite:./sluice.db`, `sqlite::memory:`) or an opened store. Default `sqlite:./sluice.db`. */
  store?: string | Store;
  clock?: Clock;
  region?: string;
  accountId?: string;
  onBackgroundError?: (error: unknown) => void;
  /** Concurrent function executions for the whole engine, shared as Lambda's account concurrency. Default 1,000. */
  accountConcurrency?: number;
  /**
   * Run as one node of a cluster sharing the store (docs/design/cluster.md): heartbeats, leased stream
   * shards, concurrency limits held across nodes. Default: on for a PostgreSQL store given by URL; off
   * for SQLite and for a store passed already opened (tests), where `true` or options turn it on.
   */
  cluster?: boolean | (ClusterOptions & { enabled?: boolean });
  /**
   * Queues: the in-flight limits past which a receive fails with OverLimit. Default SQS's 120,000
   * (standard) and 20,000 (FIFO); a test can set a small limit instead of queueing 120,000 messages.
   */
  queueInFlightLimits?: { standard?: number; fifo?: number };
  /**
   * Task tokens: how long a finished task (succeeded, failed, timed out) stays readable before it is
   * purged, in seconds (1 to 31,536,000). Default 86,400 (a day); null keeps finished tasks until
   * `callbacks.purgeFinished` is called.
   */
  taskTokenRetentionSeconds?: number | null;
  /**
   * State machines: how long a finished STANDARD execution and its history stay readable before they
   * are purged, in seconds (1 to 31,536,000). Default 7,776,000 (90 days, as AWS keeps them); null keeps
   * them.
   */
  executionRetentionSeconds?: number | null;
  /**
   * How long a node holds a state machine execution with a task in flight before another node may take it
   * over, in ms (1,000 to 3,600,000); the holder renews it every third of that. A node that dies mid-task
   * delays its executions by up to this much. Default 60,000.
   */
  executionLeaseMs?: number;
  /**
   * How long a node holds a secondary index backfill before another node may take it over, in ms (100 to
   * 3,600,000); the holder renews it every third of that. A node that dies mid-backfill delays the index
   * by up to this much; the taker resumes after the last batch saved. Default 30,000.
   */
  indexBackfillLeaseMs?: number;
  /**
   * The item collection limit of tables with local secondary indexes, in bytes: a write that would grow
   * the items of one partition key plus their local index entries past it gets
   * ItemCollectionSizeLimitExceededException. Default DynamoDB's 10 GB; tests set a small one.
   */
  itemCollectionLimitBytes?: number;
  /** The event channel to report on (a node subscribes its logger before the engine starts); default a new one. */
  events?: EngineEvents;
  /**
   * Where this node extracts the code packages of functions created through the Lambda API, one
   * directory per package's SHA-256. Default `sluice-code-<uid>` in the system's temporary directory.
   */
  codeCacheDir?: string;
  /**
   * How long an extracted package this node used stays in the cache once no function of the catalog
   * uses it (executions under way may still load its files). Default 15 minutes, Lambda's longest timeout.
   */
  codeCacheRetentionMs?: number;
}

export class Sluice {
  readonly store: Store;
  readonly clock: Clock;
  readonly arn: ArnContext;
  readonly queues: QueueService;
  readonly functions: FunctionService;
  readonly triggers: TriggerService;
  /** Concurrency and rate limits per task group of a grouped queue (Sluice's extension). */
  readonly groupLimits: GroupLimitService;
  /** Task tokens (Step Functions callbacks). */
  readonly callbacks: CallbackService;
  /** EventBridge-style schedules: rate(), cron() and at() firing a function, a queue or a batch. */
  readonly schedules: ScheduleService;
  /** Delivers schedule ticks and batch finalizers from the store's outbox. */
  readonly outbox: OutboxRelay;
  /** Batches of items processed by a function, with progress and a finalizer that fires exactly once. */
  readonly batches: BatchService;
  /** DynamoDB-style tables; their change streams are read through `streams`. */
  readonly tables: TableService;
  readonly streams: StreamService;
  /** Stream triggers: DynamoDB Streams event source mappings from a table's stream to a function. */
  readonly streamTriggers: StreamTriggerService;
  /**
   * What the engine does as it does it: invocations (with their failures), throttles, retries, moves to
   * dead-letter queues, group-limit refusals, lease changes. The node logs, counts and streams them.
   */
  readonly events: EngineEvents;
  /** Step Functions state machines: Amazon States Language definitions and durable executions. */
  readonly stateMachines: StateMachineService;
  /**
   * The cluster-wide catalog: event source mappings and functions' settings changed through the API,
   * stored once and applied on every node (docs/design/catalog.md).
   */
  readonly catalog: CatalogService;
  /** This node's membership, leases and concurrency grants; undefined when not clustered. */
  readonly cluster: Cluster | undefined;
  /**
   * Every background service, in start order (they stop in reverse): the cluster first and last, so a
   * node holds its leases until the features have stopped claiming and drained; the claiming services
   * (triggers, batches, schedules, task tokens) last to start and first to stop.
   */
  private readonly services: Service[];
  private closed = false;

  private constructor(store: Store, options: SluiceOptions) {
    this.store = store;
    this.clock = options.clock ?? systemClock;
    this.arn = {
      region: options.region ?? defaultArnContext.region,
      accountId: options.accountId ?? defaultArnContext.accountId,
    };
    const onBackgroundError = options.onBackgroundError;
    const onError = onBackgroundError ?? ((error: unknown) => console.error('[sluice] background task failed', error));
    const events = (this.events = options.events ?? new EngineEvents());
    this.queues = new QueueService({
      store,
      clock: this.clock,
      arn: this.arn,
      events,
      ...(onBackgroundError ? { onBackgroundError } : {}),
      ...(options.queueInFlightLimits ? { inFlightLimits: options.queueInFlightLimits } : {}),
    });
    const backfillLeaseMs = leaseOption(options.indexBackfillLeaseMs, 'indexBackfillLeaseMs', 100);
    this.tables = new TableService({
      store,
      clock: this.clock,
      arn: this.arn,
      ...(backfillLeaseMs !== undefined ? { backfillLeaseMs } : {}),
      ...(options.itemCollectionLimitBytes !== undefined ? { itemCollectionLimitBytes: collectionLimitOption(options.itemCollectionLimitBytes) } : {}),
      ...(onBackgroundError ? { onBackgroundError } : {}),
    });
    this.streams = new StreamService({ store, tables: this.tables, arn: this.arn });
    this.groupLimits = new GroupLimitService({
      store,
      clock: this.clock,
      queues: this.queues,
      tables: this.tables,
      onError: onBackgroundError ?? ((error: unknown) => console.error('[sluice] group limits failed', error)),
    });
    groupActivityOf(store).onThrottle = (event) => {
      if (events.active) events.emit({ type: 'group-throttle', ...event });
    };
    const shared = {
      clock: this.clock,
      arn: this.arn,
      queues: this.queues,
      events,
      ...(onBackgroundError ? { onBackgroundError } : {}),
    };
    const functions = new FunctionService({
      ...shared,
      ...(options.accountConcurrency !== undefined ? { accountConcurrency: options.accountConcurrency } : {}),
    });
    this.functions = functions;
    this.triggers = new TriggerService({ ...shared, store, functions });
    const retentionSeconds = taskTokenRetention(options.taskTokenRetentionSeconds);
    this.callbacks = new CallbackService({
      store,
      clock: this.clock,
      queues: this.queues,
      functions,
      ...(retentionSeconds !== undefined ? { finishedRetentionMs: retentionSeconds && retentionSeconds * 1000 } : {}),
      onError,
    });
    const delivery = { queues: this.queues, functions };
    const batches = new BatchService({ ...delivery, store, clock: this.clock, triggers: this.triggers, onError });
    this.batches = batches;
    const schedules = new ScheduleService({
      ...delivery,
      store,
      clock: this.clock,
      arn: this.arn,
      onError,
      startBatch: (target, context) => batches.startScheduled(target, context),
    });
    this.schedules = schedules;
    this.outbox = new OutboxRelay({
      store,
      clock: this.clock,
      onError,
      handlers: { schedule: (entry) => schedules.deliver(entry), 'batch-finalizer': (entry) => deliverFinalizer(delivery, entry) },
    });
    const executionRetention = retentionSecondsOption(options.executionRetentionSeconds, 'executionRetentionSeconds');
    const executionLeaseMs = executionLeaseOption(options.executionLeaseMs);
    this.stateMachines = new StateMachineService({
      store,
      clock: this.clock,
      arn: this.arn,
      functions,
      queues: this.queues,
      tables: this.tables,
      onError,
      ...(executionRetention !== undefined ? { finishedRetentionMs: executionRetention && executionRetention * 1000 } : {}),
      ...(executionLeaseMs !== undefined ? { leaseMs: executionLeaseMs } : {}),
    });
    this.cluster = clusterOf(store, options, {
      onError,
      onCapacity: () => functions.concurrency.capacityChanged(),
      invocationHoldMs: () => functions.longestTimeoutMs(),
      onLeaseChange: (change) => {
        if (events.active) events.emit({ type: 'lease', ...change, at: this.clock.now() });
      },
    });
    if (this.cluster) functions.concurrency.setGate(this.cluster.slots);
    this.streamTriggers = new StreamTriggerService({
      ...delivery,
      store,
      clock: this.clock,
      streams: this.streams,
      onBackgroundError: onError,
      events,
      ...(this.cluster ? { shards: shardLeasing(this.cluster, store) } : {}),
    });
    this.catalog = new CatalogService({
      store,
      clock: this.clock,
      functions,
      triggers: this.triggers,
      streamTriggers: this.streamTriggers,
      onConflict: (message) => onError(new Error(message)),
      codeCacheDir: options.codeCacheDir ?? defaultCodeCacheDir(),
      ...(options.codeCacheRetentionMs !== undefined ? { codeCacheRetentionMs: options.codeCacheRetentionMs } : {}),
      schedules: this.schedules,
    });
    // A schedule `sluice apply` wrote changes only through its file (the Scheduler API and the CLI refuse).
    this.schedules.guardChanges((name) => this.catalog.refuseAppliedSchedule(name));
    // A schedule made through the Scheduler API has its group (and own name) in the catalog: its ARN says them.
    this.schedules.resolveArnsWith(async (name) => {
      const entry = (await this.store.catalogList({ kind: SCHEDULER_SCHEDULE_KIND })).find((candidate) => candidate.name === name);
      if (!entry) return undefined;
      const { groupName, name: own } = JSON.parse(entry.definition) as { groupName?: string; name?: string };
      if (groupName === undefined || own === undefined) return undefined;
      return `arn:aws:scheduler:${this.arn.region}:${this.arn.accountId}:schedule/${groupName}/${own}`;
    });
    // So does a queue it created (SetQueueAttributes, tags, DeleteQueue through any API are refused, naming the file).
    this.queues.guardChanges((name) => this.catalog.refuseAppliedQueue(name));
    this.tables.guardChanges((name) => this.catalog.refuseAppliedTable(name));
    // A schedule deleted after its last tick (ActionAfterCompletion DELETE) takes what the catalog kept beside it.
    this.schedules.onCompleted(async (name) => {
      for (const kind of [SCHEDULER_SCHEDULE_KIND, APPLIED_SCHEDULE_KIND]) await this.store.catalogDelete({ kind, name });
    });
    this.services = [
      ...(this.cluster ? [this.cluster] : []),
      this.queues,
      this.tables,
      this.groupLimits,
      this.functions,
      this.outbox,
      // Stops after the triggers (services stop in reverse): its own stop waits on the store, and a
      // trigger still running meanwhile would claim messages sent after close() began.
      this.stateMachines,
      this.streamTriggers,
      // Before the triggers: it creates the catalog's mappings on them, and stops after they stop claiming.
      this.catalog,
      this.triggers,
      this.batches,
      this.schedules,
      this.callbacks,
    ];
  }

  static async open(options: SluiceOptions = {}): Promise<Sluice> {
    // A bad option fails before a store is opened.
    taskTokenRetention(options.taskTokenRetentionSeconds);
    retentionSecondsOption(options.executionRetentionSeconds, 'executionRetentionSeconds');
    executionLeaseOption(options.executionLeaseMs);
    leaseOption(options.indexBackfillLeaseMs, 'indexBackfillLeaseMs', 100);
    const given = typeof options.store === 'object';
    const store =
      typeof options.store === 'object'
        ? options.store
        : await openStore(options.store ?? 'sqlite:./sluice.db', options.onBackgroundError ? { onError: options.onBackgroundError } : {});
    const cluster = options.cluster ?? (store.kind === 'postgres' && !given);
    const sluice = new Sluice(store, { ...options, cluster });
    const started: Service[] = [];
    try {
      for (const service of sluice.services) {
        await service.start();
        started.unshift(service);
      }
    } catch (error) {
      // Nothing claims yet: what started stops at once, and the store closes.
      for (const service of started) await service.stop(Date.now()).catch(() => undefined);
      await store.close().catch(() => undefined);
      throw error;
    }
    return sluice;
  }

  /**
   * Stops every service in reverse start order (no new claims; triggers, stream triggers and function
   * executions under way get until `graceMs` from now, default 10 s), then closes the store.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + (options.graceMs ?? 10_000);
    for (const service of this.services) service.quiesce?.();
    for (const service of [...this.services].reverse()) await service.stop(deadline);
    await this.store.close();
  }
}

/** Checks the option; undefined leaves the callback service's default (DEFAULT_FINISHED_RETENTION_SECONDS). */
function taskTokenRetention(value: number | null | undefined): number | null | undefined {
  return retentionSecondsOption(value, 'taskTokenRetentionSeconds');
}

/** A retention option in seconds: 1 to 31,536,000, null (keep) or undefined (the service's default). */
function retentionSecondsOption(value: number | null | undefined, field: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value < 1 || value > 31_536_000)
    throw new SluiceError('InvalidParameterValue', `${field}: ${JSON.stringify(value)} is invalid; must be an integer from 1 to 31536000, or null`, { field });
  return value;
}

/** The execution lease option in ms: 1,000 to 3,600,000, or undefined (the runner's default). */
function executionLeaseOption(value: number | undefined): number | undefined {
  return leaseOption(value, 'executionLeaseMs', 1_000);
}

/** The item collection limit option: a positive whole number of bytes. */
function collectionLimitOption(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new SluiceError('InvalidParameterValue', `itemCollectionLimitBytes: ${JSON.stringify(value)} is invalid; must be a positive integer`, { field: 'itemCollectionLimitBytes' });
  return value;
}

/** A lease duration option in ms: `min` to 3,600,000, or undefined (the service's default). */
function leaseOption(value: number | undefined, field: string, min: number): number | undefined {
  if (value === undefined) return value;
  if (!Number.isInteger(value) || value < min || value > 3_600_000)
    throw new SluiceError('InvalidParameterValue', `${field}: ${JSON.stringify(value)} is invalid; must be an integer from ${min} to 3600000`, { field });
  return value;
}

function clusterOf(
  store: Store,
  options: SluiceOptions,
  hooks: Pick<ClusterDeps, 'onError' | 'onCapacity' | 'invocationHoldMs' | 'onLeaseChange'>,
): Cluster | undefined {
  const setting = options.cluster;
  if (setting === false || setting === undefined || (typeof setting === 'object' && setting.enabled === false)) return undefined;
  return new Cluster({ store, settings: clusterSettings(typeof setting === 'object' ? setting : {}), ...hooks });
}
