/**
 * One stream trigger: resolves its table's stream, positions each shard (a saved checkpoint, else the
 * starting position), and runs one ShardConsumer per shard. Checkpoints are kept under a name made of
 * the stream's ARN and the function the trigger was created for, so a trigger declared again after a
 * restart resumes after its last success.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { ShardLeasing } from '../../cluster/shard-leases.js';
import type { FunctionService } from '../../functions/service.js';
import type { Clock } from '../../model/clock.js';
import type { QueueService } from '../../queues/service.js';
import type { LeaseFence } from '../../store/cluster-store.js';
import type { Unsubscribe } from '../../store/notifier.js';
import { tableCatalogChannel, type StreamCheckpoint, type StreamRecordRow } from '../../store/table-store.js';
import type { Store } from '../../store/store.js';
import type { ResolvedStream, StreamService } from '../../streams/service.js';
import { shardIdOf } from '../../streams/shards.js';
import { compileFilterCriteria, type RecordMatcher } from '../filter/filter-criteria.js';
import { deliverStreamFailure } from './stream-failure.js';
import { StreamTriggerMetrics } from './stream-metrics.js';
import { ShardConsumer, type ShardContext, type ShardInvocation } from './stream-shard.js';
import type { EngineEvents } from '../../observability/events.js';
import type { StreamTriggerConfig, StreamTriggerView } from './stream-types.js';

export interface StreamTriggerDeps {
  store: Store;
  clock: Clock;
  streams: StreamService;
  functions: FunctionService;
  queues: QueueService;
  onError: (error: unknown) => void;
  events?: EngineEvents | undefined;
  /** In a cluster: serve only the shards whose lease this node holds (cluster/shard-leases.ts). */
  shards?: ShardLeasing;
}

export class StreamTrigger {
  readonly metrics = new StreamTriggerMetrics();
  private config: StreamTriggerConfig;
  private matcher: RecordMatcher | null;
  private consumers: ShardConsumer[] = [];
  /** Stopped shards whose batches may still be running. */
  private retired: ShardConsumer[] = [];
  private resolved: ResolvedStream | undefined;
  private active = false;
  private problem = '';
  private lastResult: StreamTriggerView['lastProcessingResult'] = 'No records processed';
  private unsubscribeCatalog: Unsubscribe | undefined;
  /** Attachments run one after another (start, catalog changes, reconfiguration). */
  private attaching: Promise<void> = Promise.resolve();
  private readonly consumerPrefix: string;
  /** In a cluster: the shards this node holds now, how to stop serving them, and that stop under way. */
  private readonly leased = new Map<number, LeaseFence>();
  private stopServing: (() => Promise<void>) | undefined;
  private leaving: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: StreamTriggerDeps,
    config: StreamTriggerConfig,
    streamArn: string,
  ) {
    this.config = config;
    this.matcher = compileMatcher(config);
    this.consumerPrefix = `${streamArn}#${config.functionName}`;
  }

  get configuration(): StreamTriggerConfig {
    return this.config;
  }

  get streamArn(): string | undefined {
    return this.resolved?.streamArn;
  }

  get lastProcessingResult(): StreamTriggerView['lastProcessingResult'] {
    return this.lastResult;
  }

  get stateTransitionReason(): string {
    if (!this.config.enabled) return 'USER_INITIATED';
    if (!this.deps.functions.exists(this.config.functionName))
      return `PROBLEM: the function ${this.config.functionName} does not exist`;
    return this.problem || 'USER_INITIATED';
  }

  /** The checkpoint owner's name: stable across restarts for the same stream and function. */
  get consumer(): string {
    return this.consumerPrefix;
  }

  async start(): Promise<void> {
    if (!this.config.enabled || this.active) return;
    this.active = true;
    // A table deleted, or its stream disabled or replaced: stop, or pick up the new stream.
    this.unsubscribeCatalog = this.deps.store.notifier.subscribe(tableCatalogChannel, () => this.reattach());
    this.reattach();
    await this.attaching;
  }

  pause(): void {
    this.active = false;
    this.unsubscribeCatalog?.();
    this.unsubscribeCatalog = undefined;
    this.retire();
  }

  async drain(): Promise<void> {
    await this.attaching;
    await this.leaving;
    await Promise.all([...this.consumers, ...this.retired].map((consumer) => consumer.drain()));
  }

  async reconfigure(config: StreamTriggerConfig): Promise<void> {
    const previous = this.config;
    this.config = config;
    this.matcher = compileMatcher(config);
    if (previous.enabled && !config.enabled) return this.pause();
    if (!previous.enabled && config.enabled) return this.start();
    if (previous.parallelizationFactor !== config.parallelizationFactor && this.active) {
      // Lanes are cut by the factor: restart the shards from their checkpoints with the new lanes.
      this.retire();
      this.reattach();
      await this.attaching;
      return;
    }
    this.poke();
  }

  /** Something that blocked the shards may have changed (a function created, a slot freed). */
  poke(): void {
    for (const consumer of this.consumers) consumer.poke();
  }

  /** Forgets the trigger's position: a trigger created again starts from its starting position. */
  async forget(): Promise<void> {
    await this.deps.store.streamCheckpointDelete({ consumer: this.consumer });
    await this.deps.shards?.forget(this.consumer);
  }

  /** Stops the running shards; their batches under way finish (see `drain`). */
  private retire(): void {
    for (const consumer of this.consumers) consumer.pause();
    this.retired.push(...this.consumers);
    this.consumers = [];
    this.resolved = undefined;
    // In a cluster the shards' leases are given back once their batches are done (another node takes them).
    const stopServing = this.stopServing;
    this.stopServing = undefined;
    if (stopServing) this.leaving = this.leaving.then(stopServing).catch(this.deps.onError);
  }

  private reattach(): void {
    this.attaching = this.attaching.then(() => this.attach()).catch(this.deps.onError);
  }

  private async attach(): Promise<void> {
    if (!this.active) return;
    let resolved: ResolvedStream | undefined;
    try {
      resolved = await this.deps.streams.resolve(this.config.tableName);
    } catch {
      resolved = undefined;
    }
    const same =
      resolved?.streamArn === this.resolved?.streamArn && resolved?.table.id === this.resolved?.table.id;
    if (same && this.consumers.length > 0) return;
    this.retire();
    // Batches of stopped shards must end (and save their checkpoints) before a shard starts again:
    // otherwise two consumers could hold one key's records at once.
    await Promise.all(this.retired.map((consumer) => consumer.drain()));
    await this.leaving;
    this.retired = [];
    if (!this.active) return;
    this.resolved = resolved;
    if (!resolved || !this.active) {
      this.problem = `PROBLEM: the stream of table ${this.config.tableName} does not exist`;
      return;
    }
    this.problem = '';
    if (this.deps.shards) return this.serveLeased(resolved, this.deps.shards);
    const positions = await this.positions(resolved);
    if (!this.active || this.resolved !== resolved) return;
    const context = this.shardContext(resolved);
    this.consumers = positions.map(
      (position) => new ShardConsumer(context, position.shard, shardIdOf(position.shard)),
    );
    positions.forEach((position, index) => this.consumers[index]!.start(position.seq, position.state));
  }

  /** In a cluster: consumers only for the shards whose lease this node holds, as it gets and gives them. */
  private async serveLeased(resolved: ResolvedStream, shards: ShardLeasing): Promise<void> {
    const numbers = (await this.deps.store.streamShards({ tableId: resolved.table.id })).map((s) => s.shard);
    if (!this.active || this.resolved !== resolved) return;
    const stop = await shards.serve({
      group: this.consumer,
      shards: numbers,
      start: (shard, fence) => {
        this.leased.set(shard, fence);
        this.startLeased(resolved, shard, fence).catch(this.deps.onError);
      },
      stop: (shard, mode) => this.stopLeased(shard, mode),
    });
    if (this.active && this.resolved === resolved) this.stopServing = stop;
    else this.leaving = this.leaving.then(stop).catch(this.deps.onError);
  }

  private async startLeased(resolved: ResolvedStream, shard: number, fence: LeaseFence): Promise<void> {
    // Read the checkpoint only now that the lease is ours: the previous owner saved its last one first.
    const [position] = await this.positions(resolved, { shard, fence });
    if (!position || this.leased.get(shard) !== fence || this.resolved !== resolved || !this.active) return;
    const consumer = new ShardConsumer(this.shardContext(resolved, fence), shard, shardIdOf(shard));
    this.consumers.push(consumer);
    consumer.start(position.seq, position.state);
  }

  private async stopLeased(shard: number, mode: 'release' | 'lost'): Promise<void> {
    this.leased.delete(shard);
    const consumer = [...this.consumers, ...this.retired].find((c) => c.shard === shard);
    if (!consumer) return;
    this.consumers = this.consumers.filter((c) => c !== consumer);
    consumer.pause();
    if (mode === 'release') await consumer.drain();
  }

  /** Each shard's saved checkpoint, or the starting position (saved at once, so a restart keeps it). */
  private async positions(resolved: ResolvedStream, lease?: { shard: number; fence: LeaseFence }): Promise<StreamCheckpoint[]> {
    const { store } = this.deps;
    const tableId = resolved.table.id;
    const saved = new Map(
      (await store.streamCheckpointList({ consumer: this.consumer })).map((c) => [c.shard, c]),
    );
    const positions: StreamCheckpoint[] = [];
    const fresh: StreamCheckpoint[] = [];
    for (const shard of await store.streamShards({ tableId })) {
      if (lease && shard.shard !== lease.shard) continue;
      const known = saved.get(shard.shard);
      if (known) {
        positions.push(known);
        continue;
      }
      let seq = 0;
      if (this.config.startingPosition === 'LATEST') seq = shard.lastSeq;
      else if (this.config.startingPosition === 'AT_TIMESTAMP') {
        seq = await store.streamSeqBefore({
          tableId,
          shard: shard.shard,
          at: (this.config.startingPositionTimestamp ?? 0) * 1000,
        });
      }
      const position = { shard: shard.shard, seq, state: null };
      positions.push(position);
      fresh.push(position);
    }
    if (fresh.length > 0 && lease) {
      const saved = await this.deps.shards!.save({ fence: lease.fence, consumer: this.consumer, tableId, checkpoints: fresh, now: this.deps.clock.now() });
      return saved ? positions : [];
    }
    if (fresh.length > 0)
      await store.streamCheckpointSave({
        consumer: this.consumer,
        tableId,
        checkpoints: fresh,
        now: this.deps.clock.now(),
      });
    return positions;
  }

  private shardContext(resolved: ResolvedStream, fence?: LeaseFence): ShardContext {
    const { functions, streams, clock, store, shards } = this.deps;
    const pool = functions.concurrency;
    const name = () => this.config.functionName;
    return {
      store,
      clock,
      tableId: resolved.table.id,
      streamArn: resolved.streamArn,
      consumer: this.consumer,
      config: () => this.config,
      matcher: () => this.matcher,
      shape: (row: StreamRecordRow): DynamoDBRecord => streams.shape(resolved, row),
      acquire: () => pool.tryAcquire(name()),
      release: () => pool.release(name()),
      awaitSlot: (wake) => {
        functions.noteThrottle(name());
        pool.onRelease(name(), wake);
      },
      execute: (event, requestId, invocation) =>
        functions.execute(name(), event, requestId, {
          origin: this.originOf(resolved, invocation),
          // The shard's lease token: it rises with every takeover, so a late copy's writes can be refused.
          ...(fence ? { fencingToken: fence.token } : {}),
        }),
      retrying: (invocation, records, next) => {
        const events = this.deps.events;
        if (events?.active)
          events.emit({ type: 'retry', function: name(), origin: this.originOf(resolved, invocation), records, next, at: clock.now() });
      },
      reportFailure: async (record) => {
        if (this.config.onFailure) await deliverStreamFailure(this.config.onFailure, record, this.deps);
      },
      functionArn: () => functions.arnOf(name()),
      metrics: this.metrics,
      onResult: (result) => {
        this.lastResult = result;
      },
      onError: this.deps.onError,
      ...(fence && shards
        ? {
            saveCheckpoint: (checkpoint: StreamCheckpoint) =>
              shards.save({ fence, consumer: this.consumer, tableId: resolved.table.id, checkpoints: [checkpoint], now: clock.now() }),
          }
        : {}),
    };
  }

  private originOf(resolved: ResolvedStream, invocation: ShardInvocation) {
    return { via: 'stream-trigger' as const, trigger: this.config.uuid, table: resolved.table.name, ...invocation };
  }
}

function compileMatcher(config: StreamTriggerConfig): RecordMatcher | null {
  return config.filterCriteria ? compileFilterCriteria(config.filterCriteria, { source: 'dynamodb' }) : null;
}
