/**
 * Stream triggers (Lambda's DynamoDB Streams event source mappings): created, changed and removed at run
 * time, each driven by its own StreamTrigger. Like functions, definitions live in the engine's memory; a
 * trigger declared again (same stream, same function) resumes from its saved checkpoints.
 */
import type { ShardLeasing } from '../../cluster/shard-leases.js';
import type { FunctionService } from '../../functions/service.js';
import type { Clock } from '../../model/clock.js';
import { triggerUuid } from '../uuid.js';
import { SluiceError } from '../../model/errors.js';
import type { QueueService } from '../../queues/service.js';
import type { Store } from '../../store/store.js';
import type { StreamService } from '../../streams/service.js';
import { buildStreamTriggerConfig } from './stream-definition.js';
import { StreamTrigger } from './stream-trigger.js';
import type {
  StreamTriggerInput,
  StreamTriggerMetricsView,
  StreamTriggerUpdate,
  StreamTriggerView,
} from './stream-types.js';
import { msUntil, type Service } from '../../model/service.js';
import type { TableDefinition } from '../../store/table-definition.js';

/** Resources a stream trigger may name before they exist (see `validate`). */
export interface AssumedStreamResources {
  tables?: ReadonlyMap<string, TableDefinition>;
  functions?: ReadonlyMap<string, number>;
}
import type { EngineEvents } from '../../observability/events.js';

export interface StreamTriggerServiceOptions {
  store: Store;
  clock: Clock;
  streams: StreamService;
  functions: FunctionService;
  queues: QueueService;
  onBackgroundError?: (error: unknown) => void;
  events?: EngineEvents | undefined;
  /** In a cluster: each trigger serves only the shards whose lease this node holds. */
  shards?: ShardLeasing;
}

export class StreamTriggerService implements Service {
  private readonly triggers = new Map<string, StreamTrigger>();
  private readonly unsubscribeFunctions: () => void;
  private stopped = false;

  constructor(private readonly options: StreamTriggerServiceOptions) {
    this.unsubscribeFunctions = options.functions.onChange(({ name }) => {
      for (const trigger of this.triggers.values())
        if (trigger.configuration.functionName === name) trigger.poke();
    });
  }

  async create(input: StreamTriggerInput): Promise<StreamTriggerView> {
    this.checkRunning();
    const { config, resolved } = await this.configForNew(input);
    const trigger = new StreamTrigger(this.deps(), config, resolved.streamArn);
    this.triggers.set(config.uuid, trigger);
    await trigger.start();
    return this.view(trigger);
  }

  /** Checks a new stream trigger as `create` would, creating nothing (`sluice apply` checks a whole file first). */
  /**
   * Checks a new trigger as `create` would, creating nothing. `assumed`: tables (by name, with their
   * definition) and functions that do not exist yet but will when the trigger does (`sluice apply`
   * creates them in the same transaction).
   */
  async validate(input: StreamTriggerInput, assumed: AssumedStreamResources = {}): Promise<void> {
    const table = typeof input?.stream === 'string' ? assumed.tables?.get(input.stream) : undefined;
    if (!table) {
      await this.configForNew(input, assumed);
      return;
    }
    if (!table.stream) {
      throw new SluiceError('ResourceNotFoundException', `Requested resource not found: Stream: ${input.stream} not found (the table declares no stream)`, { field: 'StreamArn' });
    }
    if (!assumed.functions?.has(input.functionName)) this.requireFunction(input.functionName);
    buildStreamTriggerConfig({ uuid: triggerUuid(input.uuid, this.triggers), tableName: input.stream, input, now: this.options.clock.now() });
  }

  private async configForNew(input: StreamTriggerInput, assumed: AssumedStreamResources = {}) {
    if (typeof input?.stream !== 'string') {
      throw new SluiceError(
        'InvalidParameterValue',
        'EventSourceArn: give the stream by ARN or its table by name',
        { field: 'EventSourceArn' },
      );
    }
    const resolved = await this.options.streams.resolve(input.stream);
    if (!assumed.functions?.has(input.functionName)) this.requireFunction(input.functionName);
    for (const trigger of this.triggers.values()) {
      const existing = trigger.configuration;
      if (existing.tableName === resolved.table.name && existing.functionName === input.functionName) {
        throw new SluiceError(
          'ResourceConflictException',
          `EventSourceArn: a trigger from ${resolved.streamArn} to ${input.functionName} already exists (${existing.uuid})`,
          { field: 'EventSourceArn' },
        );
      }
    }
    const config = buildStreamTriggerConfig({
      uuid: triggerUuid(input.uuid, this.triggers),
      tableName: resolved.table.name,
      input,
      now: this.options.clock.now(),
    });
    return { config, resolved };
  }

  /** Checks a change as `update` would, changing nothing. */
  async validateUpdate(uuid: string, changes: StreamTriggerUpdate): Promise<void> {
    const previous = this.require(uuid).configuration;
    if (changes.functionName !== undefined) this.requireFunction(changes.functionName);
    buildStreamTriggerConfig({ uuid, tableName: previous.tableName, input: changes, previous, now: this.options.clock.now() });
  }

  /** Changes a trigger; batches under way finish with the settings they started with. */
  async update(uuid: string, changes: StreamTriggerUpdate): Promise<StreamTriggerView> {
    this.checkRunning();
    const trigger = this.require(uuid);
    if (changes.functionName !== undefined) this.requireFunction(changes.functionName);
    const previous = trigger.configuration;
    const config = buildStreamTriggerConfig({
      uuid,
      tableName: previous.tableName,
      input: changes,
      previous,
      now: this.options.clock.now(),
    });
    await trigger.reconfigure(config);
    return this.view(trigger);
  }

  /** Removes a trigger and its checkpoints, once its batches under way are done. */
  async delete(uuid: string): Promise<void> {
    const trigger = this.require(uuid);
    this.triggers.delete(uuid);
    trigger.pause();
    await trigger.drain();
    await trigger.forget();
  }

  get(uuid: string): StreamTriggerView {
    return this.view(this.require(uuid));
  }

  list(filter: { functionName?: string } = {}): StreamTriggerView[] {
    return [...this.triggers.values()]
      .filter(
        (t) => filter.functionName === undefined || t.configuration.functionName === filter.functionName,
      )
      .map((t) => this.view(t));
  }

  metrics(uuid: string): StreamTriggerMetricsView {
    return this.require(uuid).metrics.view();
  }

  /** Nothing to arm: a stream trigger starts reading when it is created. */
  async start(): Promise<void> {}

  /** Stops every trigger: no new batches, then waits until `deadline` (real time) for those under way. */
  /** No new batches from here on (the engine is closing); `stop` then waits for those under way. */
  quiesce(): void {
    for (const item of this.triggers.values()) item.pause();
  }

  async stop(deadline: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeFunctions();
    for (const trigger of this.triggers.values()) trigger.pause();
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, msUntil(deadline));
    });
    await Promise.race([Promise.all([...this.triggers.values()].map((t) => t.drain())), timeUp]);
    clearTimeout(timer);
  }

  private deps() {
    const { store, clock, streams, functions, queues, shards } = this.options;
    const onError =
      this.options.onBackgroundError ??
      ((error: unknown) => console.error('[sluice] stream trigger failed', error));
    return {
      store,
      clock,
      streams,
      functions,
      queues,
      onError,
      events: this.options.events,
      ...(shards ? { shards } : {}),
    };
  }

  private view(trigger: StreamTrigger): StreamTriggerView {
    const config = trigger.configuration;
    return {
      uuid: config.uuid,
      eventSourceArn: trigger.streamArn ?? config.tableName,
      functionName: config.functionName,
      functionArn: this.options.functions.arnOf(config.functionName),
      startingPosition: config.startingPosition,
      batchSize: config.batchSize,
      maximumBatchingWindowInSeconds: config.maximumBatchingWindowInSeconds,
      parallelizationFactor: config.parallelizationFactor,
      bisectBatchOnFunctionError: config.bisectBatchOnFunctionError,
      maximumRetryAttempts: config.maximumRetryAttempts,
      maximumRecordAgeInSeconds: config.maximumRecordAgeInSeconds,
      destinationConfig: config.onFailure ? { onFailure: { destination: config.onFailure } } : {},
      functionResponseTypes: config.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      filterCriteria: config.filterCriteria,
      tumblingWindowInSeconds: config.tumblingWindowInSeconds,
      state: config.enabled ? 'Enabled' : 'Disabled',
      stateTransitionReason: trigger.stateTransitionReason,
      lastModified: config.lastModified,
      lastProcessingResult: trigger.lastProcessingResult,
    };
  }

  private requireFunction(name: unknown): void {
    if (typeof name !== 'string' || !this.options.functions.exists(name)) {
      throw new SluiceError(
        'ResourceNotFoundException',
        `FunctionName: the function ${JSON.stringify(name)} does not exist`,
        {
          field: 'FunctionName',
        },
      );
    }
  }

  private require(uuid: string): StreamTrigger {
    const trigger = this.triggers.get(uuid);
    if (!trigger)
      throw new SluiceError('ResourceNotFoundException', `UUID: no stream trigger ${JSON.stringify(uuid)}`, {
        field: 'UUID',
      });
    return trigger;
  }

  private checkRunning(): void {
    if (this.stopped)
      throw new SluiceError(
        'ServiceUnavailable',
        'the engine is stopping; stream triggers cannot be changed',
      );
  }
}
