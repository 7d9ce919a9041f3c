/**
 * Triggers (Lambda's SQS event source mappings): created, changed and removed at run time, each driven
 * by its own SqsPoller. Like functions, definitions live in the engine's memory.
 */
import type { ArnContext } from '../model/arn.js';
import { parseArn } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError, isSluiceError } from '../model/errors.js';
import type { EngineEvents } from '../observability/events.js';
import type { FunctionService } from '../functions/service.js';
import type { QueueService } from '../queues/service.js';
import type { StoredQueue } from '../store/queue-store.js';
import type { Store } from '../store/store.js';
import { buildTriggerConfig } from './definition.js';
import { triggerUuid } from './uuid.js';
import { SqsPoller } from './sqs/sqs-poller.js';
import type { TriggerConfig, TriggerInput, TriggerMetricsView, TriggerUpdate, TriggerView } from './types.js';
import { msUntil, type Service } from '../model/service.js';

export interface TriggerServiceOptions {
  store: Store;
  clock: Clock;
  arn: ArnContext;
  queues: QueueService;
  functions: FunctionService;
  onBackgroundError?: (error: unknown) => void;
  events?: EngineEvents | undefined;
}

/** Resources a trigger may name before they exist (see `validate`): queues by name, functions by name with their timeout (s). */
export interface AssumedResources {
  queues?: ReadonlyMap<string, StoredQueue>;
  functions?: ReadonlyMap<string, number>;
}

export class TriggerService implements Service {
  private readonly pollers = new Map<string, SqsPoller>();
  private readonly unsubscribeFunctions: () => void;
  private stopped = false;

  constructor(private readonly options: TriggerServiceOptions) {
    this.unsubscribeFunctions = options.functions.onChange(({ name }) => {
      for (const poller of this.pollers.values())
        if (poller.configuration.functionName === name) poller.onFunctionChange();
    });
  }

  async create(input: TriggerInput): Promise<TriggerView> {
    this.checkRunning();
    const config = await this.configForNew(input);
    await this.applyGrouping(config);
    const poller = new SqsPoller(this.pollerDeps(), config);
    this.pollers.set(config.uuid, poller);
    await poller.start();
    return this.view(poller);
  }

  /** Checks a new trigger as `create` would, creating nothing (`sluice apply` checks a whole file first). */
  /**
   * Checks a new trigger as `create` would, creating nothing. `assumed`: queues and functions (with their
   * timeout) that do not exist yet but will when the trigger does (`sluice apply` creates them in the
   * same transaction).
   */
  async validate(input: TriggerInput, assumed: AssumedResources = {}): Promise<void> {
    await this.configForNew(input, assumed);
  }

  private async configForNew(input: TriggerInput, assumed: AssumedResources = {}) {
    const assumedQueue = typeof input?.queue === 'string' ? assumed.queues?.get(queueNameOf(input.queue) ?? '') : undefined;
    const queue = assumedQueue ?? (await this.requireQueue(input?.queue));
    const assumedTimeout = typeof input?.functionName === 'string' ? assumed.functions?.get(input.functionName) : undefined;
    const functionName = assumedTimeout !== undefined ? input.functionName : this.requireFunction(input.functionName);
    for (const poller of this.pollers.values()) {
      const existing = poller.configuration;
      if (existing.queueName === queue.name && existing.functionName === functionName) {
        throw new SluiceError(
          'ResourceConflictException',
          `EventSourceArn: a trigger from ${this.options.queues.arnOf(queue.name)} to ${functionName} already exists (${existing.uuid})`,
          { field: 'EventSourceArn' },
        );
      }
    }
    return buildTriggerConfig({
      uuid: triggerUuid(input.uuid, this.pollers),
      queue,
      input: { ...input, functionName },
      functionTimeoutSeconds: assumedTimeout ?? this.options.functions.definition(functionName)?.timeoutSeconds ?? 0,
      now: this.options.clock.now(),
    });
  }

  /** Checks a change as `update` would, changing nothing. */
  async validateUpdate(uuid: string, changes: TriggerUpdate): Promise<void> {
    const previous = this.require(uuid).configuration;
    const queue = await this.requireQueue(previous.queueName);
    const functionName = changes.functionName === undefined ? previous.functionName : this.requireFunction(changes.functionName);
    buildTriggerConfig({
      uuid,
      queue,
      input: { ...changes, functionName },
      previous,
      functionTimeoutSeconds: this.options.functions.definition(functionName)!.timeoutSeconds,
      now: this.options.clock.now(),
    });
  }

  /** Changes a trigger; batches under way finish with the settings they started with. */
  async update(uuid: string, changes: TriggerUpdate): Promise<TriggerView> {
    this.checkRunning();
    const poller = this.require(uuid);
    const previous = poller.configuration;
    const queue = await this.requireQueue(previous.queueName);
    const functionName =
      changes.functionName === undefined ? previous.functionName : this.requireFunction(changes.functionName);
    const config = buildTriggerConfig({
      uuid,
      queue,
      input: { ...changes, functionName },
      previous,
      functionTimeoutSeconds: this.options.functions.definition(functionName)?.timeoutSeconds ?? 0,
      now: this.options.clock.now(),
    });
    await this.applyGrouping(config);
    await poller.reconfigure(config);
    return this.view(poller);
  }

  /** Removes a trigger: it stops claiming at once, and this returns when its batches under way are done. */
  async delete(uuid: string): Promise<void> {
    const poller = this.require(uuid);
    this.pollers.delete(uuid);
    poller.pause();
    await poller.drain();
  }

  get(uuid: string): TriggerView {
    return this.view(this.require(uuid));
  }

  list(filter: { queue?: string; functionName?: string } = {}): TriggerView[] {
    const queueName = filter.queue ? queueNameOf(filter.queue) : undefined;
    return [...this.pollers.values()]
      .filter(
        (p) =>
          (queueName === undefined || p.configuration.queueName === queueName) &&
          (filter.functionName === undefined || p.configuration.functionName === filter.functionName),
      )
      .map((p) => this.view(p));
  }

  metrics(uuid: string): TriggerMetricsView {
    const poller = this.require(uuid);
    return poller.metrics.view(poller.pollers);
  }

  /** Nothing to arm: a trigger starts polling when it is created. */
  async start(): Promise<void> {}

  /**
   * Stops every trigger: no new claims, then waits until `deadline` (real time) for batches under way.
   * A batch still running after that is abandoned; its messages come back through the visibility timeout.
   */
  /** No new batches from here on (the engine is closing); `stop` then waits for those under way. */
  quiesce(): void {
    for (const item of this.pollers.values()) item.pause();
  }

  async stop(deadline: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeFunctions();
    for (const poller of this.pollers.values()) poller.pause();
    const drained = Promise.all([...this.pollers.values()].map((poller) => poller.drain()));
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, msUntil(deadline));
    });
    await Promise.race([drained, timeUp]);
    clearTimeout(timer);
    for (const poller of this.pollers.values()) poller.abandon();
  }

  private pollerDeps() {
    const { store, clock, arn, queues, functions } = this.options;
    const onError =
      this.options.onBackgroundError ?? ((error: unknown) => console.error('[sluice] trigger failed', error));
    return { store, clock, arn, queues, functions, onError, events: this.options.events };
  }

  private view(poller: SqsPoller): TriggerView {
    const config: TriggerConfig = poller.configuration;
    return {
      uuid: config.uuid,
      eventSourceArn: this.options.queues.arnOf(config.queueName),
      queue: config.queueName,
      functionName: config.functionName,
      functionArn: this.options.functions.arnOf(config.functionName),
      batchSize: config.batchSize,
      maximumBatchingWindowInSeconds: config.maximumBatchingWindowInSeconds,
      scalingConfig:
        config.maximumConcurrency === null ? {} : { maximumConcurrency: config.maximumConcurrency },
      filterCriteria: config.filterCriteria,
      functionResponseTypes: config.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      groupBy: config.groupBy,
      state: config.enabled ? 'Enabled' : 'Disabled',
      stateTransitionReason: poller.stateTransitionReason,
      lastModified: config.lastModified,
      lastProcessingResult: poller.lastProcessingResult,
    };
  }

  /**
   * A trigger with `groupBy` sets its queue's grouping rule; triggers of one queue must agree on it. A
   * trigger without one leaves the queue as it is (a grouped queue is claimed by group all the same).
   */
  private async applyGrouping(config: TriggerConfig): Promise<void> {
    if (config.groupBy === null) return;
    for (const poller of this.pollers.values()) {
      const other = poller.configuration;
      if (other.uuid !== config.uuid && other.queueName === config.queueName && other.groupBy !== null && other.groupBy !== config.groupBy) {
        throw new SluiceError(
          'ResourceConflictException',
          `GroupBy: the queue ${config.queueName} is grouped by '${other.groupBy}' for trigger ${other.uuid}; every trigger of a queue must group it the same way`,
          { field: 'GroupBy' },
        );
      }
    }
    const queue = await this.options.queues.definition(config.queueName);
    if (queue.settings.SluiceGroupKey !== config.groupBy) {
      await this.options.queues.setAttributes(config.queueName, { SluiceGroupKey: config.groupBy });
    }
  }

  private async requireQueue(queue: unknown): Promise<StoredQueue> {
    const name = typeof queue === 'string' ? queueNameOf(queue) : undefined;
    if (!name)
      throw new SluiceError('InvalidParameterValue', 'EventSourceArn: give the queue by name or ARN', {
        field: 'EventSourceArn',
      });
    try {
      return await this.options.queues.definition(name);
    } catch (error) {
      if (isSluiceError(error, 'QueueDoesNotExist')) {
        throw new SluiceError(
          'ResourceNotFoundException',
          `EventSourceArn: the queue ${name} does not exist`,
          { field: 'EventSourceArn' },
        );
      }
      throw error;
    }
  }

  private requireFunction(name: unknown): string {
    if (typeof name !== 'string' || !this.options.functions.exists(name)) {
      throw new SluiceError(
        'ResourceNotFoundException',
        `FunctionName: the function ${JSON.stringify(name)} does not exist`,
        { field: 'FunctionName' },
      );
    }
    return name;
  }

  private require(uuid: string): SqsPoller {
    const poller = this.pollers.get(uuid);
    if (!poller)
      throw new SluiceError('ResourceNotFoundException', `UUID: no trigger ${JSON.stringify(uuid)}`, {
        field: 'UUID',
      });
    return poller;
  }

  private checkRunning(): void {
    if (this.stopped)
      throw new SluiceError('ServiceUnavailable', 'the engine is stopping; triggers cannot be changed');
  }
}

function queueNameOf(queue: string): string {
  const parsed = queue.startsWith('arn:') ? parseArn(queue) : undefined;
  return parsed?.service === 'sqs' ? parsed.resource : queue;
}
