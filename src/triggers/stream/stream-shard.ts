/**
 * One shard of a stream trigger: reads the shard after its checkpoint, deals records into lanes
 * (stream-lanes.ts), runs each lane's batches through the function, applies the retry rules
 * (stream-retry.ts) and saves the checkpoint as it advances.
 *
 * Nothing polls. The shard reads when a write publishes on its channel, and again only while a read
 * came back full; timers exist only for work that is due later (a retry's backoff, a batching window
 * closing, a tumbling window ending). An idle shard holds no timer and issues no query.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Execution } from '../../functions/types.js';
import type { Clock } from '../../model/clock.js';
import type { Unsubscribe } from '../../store/notifier.js';
import { streamChannel, type StreamCheckpoint, type StreamRecordRow } from '../../store/table-store.js';
import type { Store } from '../../store/store.js';
import type { RecordMatcher } from '../filter/filter-criteria.js';
import { streamTriggerLimits } from './stream-definition.js';
import type { StreamFailureRecord } from './stream-failure.js';
import { streamFailureRecord } from './stream-failure.js';
import { laneOf, ShardLanes, type Lane, type LaneSettings, type WorkUnit } from './stream-lanes.js';
import type { StreamTriggerMetrics } from './stream-metrics.js';
import { afterInvocation, judgeStreamExecution, retryDelayMs, splitByAge } from './stream-retry.js';
import type { StreamTriggerConfig } from './stream-types.js';

/** What a shard needs from its trigger. */
/** The ids of one stream invocation, for the logs. */
export interface ShardInvocation {
  shard: string;
  sequenceNumbers: string[];
  attempt: number;
}

export interface ShardContext {
  store: Store;
  clock: Clock;
  tableId: number;
  streamArn: string;
  /** The checkpoint owner's name in the store. */
  consumer: string;
  config(): StreamTriggerConfig;
  matcher(): RecordMatcher | null;
  shape(row: StreamRecordRow): DynamoDBRecord;
  /** Takes a concurrency slot for one invocation; false when none is free. */
  acquire(): boolean;
  release(): void;
  /** Calls `wake` once when a slot may have come free (after `acquire` failed). */
  awaitSlot(wake: () => void): void;
  /**
   * In a cluster: saves the checkpoint under the shard's lease (cluster/shard-leases.ts). False when the
   * lease was taken over: nothing was written and the consumer stops. Without it, the store saves.
   */
  saveCheckpoint?(checkpoint: StreamCheckpoint): Promise<boolean>;
  execute(event: object, requestId: string, invocation: ShardInvocation): Promise<Execution>;
  /** A failed invocation's records will be handed over again, or given up (`next` says which). */
  retrying(invocation: ShardInvocation, records: number, next: string): void;
  /** Delivers an on-failure record (or drops it when there is no destination); throws when it cannot. */
  reportFailure(record: StreamFailureRecord): Promise<void>;
  functionArn(): string;
  metrics: StreamTriggerMetrics;
  onResult(result: 'OK' | 'PROBLEM: Function call failed'): void;
  onError(error: unknown): void;
}

const readPage = 1000;

export class ShardConsumer {
  private readonly lanes: ShardLanes;
  private readCursor = 0;
  private saved: { seq: number; state: string | null } = { seq: -1, state: null };
  private unsaved: { seq: number; state: string | null } | undefined;
  private saving: Promise<void> | undefined;
  private wanted = true;
  private reading = false;
  private paused = true;
  private unsubscribe: Unsubscribe | undefined;
  private timer: { at: number; cancel: () => void } | undefined;
  private waitingForSlot = false;
  /** Another node took this shard's lease: write nothing more. */
  private fenced = false;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly context: ShardContext,
    readonly shard: number,
    readonly shardId: string,
  ) {
    this.lanes = new ShardLanes(context.config().parallelizationFactor);
  }

  /** Starts after `seq` (everything up to it is done), with the tumbling-window state saved there. */
  start(seq: number, state: string | null): void {
    this.readCursor = seq;
    this.saved = { seq, state };
    this.restoreWindows(state);
    this.paused = false;
    this.unsubscribe = this.context.store.notifier.subscribe(
      streamChannel(this.context.tableId, this.shard),
      () => this.wake(),
    );
    this.wake();
  }

  /** Stops reading and starting batches; batches under way finish (`drain` waits for them). */
  pause(): void {
    this.paused = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.timer?.cancel();
    this.timer = undefined;
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    while (this.saving) await this.saving;
  }

  /**
   * A write appended to the shard, or a slot or the function came back: look for work, at the end of
   * this event-loop turn. Concurrent writers (HTTP requests, each in a callback of its own) each publish
   * the shard's channel; reading at once read one or two records per write and ran a batch for each (on
   * the PutItem benchmark, a read per 1.8 writes). Reading once the turn's callbacks have run takes them
   * together, a few microseconds later.
   */
  wake(): void {
    this.wanted = true;
    if (this.fillScheduled) return;
    this.fillScheduled = true;
    setImmediate(this.scheduledFill);
  }

  private fillScheduled = false;
  private readonly scheduledFill = () => {
    this.fillScheduled = false;
    void this.fill();
  };

  /** Re-checks every lane (a slot was freed, the configuration or the function changed). */
  poke(): void {
    this.waitingForSlot = false;
    this.dispatch();
  }

  private get settings(): LaneSettings {
    const config = this.context.config();
    return {
      batchSize: config.batchSize,
      batchingWindowMs: config.maximumBatchingWindowInSeconds * 1000,
      tumblingWindowMs: config.tumblingWindowInSeconds * 1000,
      maxBatchBytes: streamTriggerLimits.maxBatchBytes,
    };
  }

  private bufferLimit(): number {
    return Math.max(2 * this.context.config().batchSize, 2000);
  }

  private async fill(): Promise<void> {
    if (this.reading || this.paused) return;
    this.reading = true;
    try {
      while (this.wanted && !this.paused && this.lanes.queued < this.bufferLimit()) {
        this.wanted = false;
        const rows = await this.context.store.streamRead({
          tableId: this.context.tableId,
          shard: this.shard,
          afterSeq: this.readCursor,
          limit: readPage,
        });
        if (rows.length === readPage) this.wanted = true;
        this.enqueue(rows);
        this.dispatch();
        this.saveCheckpoint();
      }
    } catch (error) {
      this.context.onError(error);
    } finally {
      this.reading = false;
    }
  }

  private enqueue(rows: StreamRecordRow[]): void {
    const matcher = this.context.matcher();
    const lanes = this.lanes.lanes;
    for (const row of rows) {
      this.readCursor = row.seq;
      const record = this.context.shape(row);
      if (matcher && !matcher(record)) {
        this.context.metrics.filteredRecords++;
        continue;
      }
      const lane = lanes[laneOf(row.pk, lanes.length)] as Lane;
      lane.enqueue({ seq: row.seq, createdAt: row.createdAt, record, bytes: row.body.length + 320 });
    }
  }

  private dispatch(): void {
    if (this.paused) return;
    const now = this.context.clock.now();
    const settings = this.settings;
    let earliest = Number.POSITIVE_INFINITY;
    for (const lane of this.lanes.lanes) {
      const step = lane.next(now, settings);
      if (step.kind === 'wait') earliest = Math.min(earliest, step.until);
      if (step.kind !== 'run') continue;
      // A discard sends a record to the destination; it needs no function slot.
      if (step.unit.discard === null && !this.context.acquire()) {
        if (!this.waitingForSlot) {
          this.waitingForSlot = true;
          this.context.awaitSlot(() => {
            this.waitingForSlot = false;
            this.dispatch();
          });
        }
        break;
      }
      lane.begin(step, settings);
      const run = this.run(lane, step.unit);
      this.running.add(run);
      void run.then(() => this.running.delete(run));
    }
    this.armTimer(earliest);
  }

  private armTimer(at: number): void {
    if (this.timer && this.timer.at <= at) return;
    this.timer?.cancel();
    this.timer = undefined;
    if (at === Number.POSITIVE_INFINITY || this.paused) return;
    const cancel = this.context.clock.setTimer(at - this.context.clock.now(), () => {
      this.timer = undefined;
      this.dispatch();
    });
    this.timer = { at, cancel };
  }

  private async run(lane: Lane, unit: WorkUnit): Promise<void> {
    let next: WorkUnit[];
    try {
      next = unit.discard !== null ? await this.discard(lane, unit) : await this.invoke(lane, unit);
    } catch (error) {
      // The store or the destination failed us: try the same unit again later.
      this.context.onError(error);
      next = [{ ...unit, notBefore: this.context.clock.now() + retryDelayMs(unit.retries) }];
    } finally {
      if (unit.discard === null) this.context.release();
    }
    lane.finish(next);
    this.saveCheckpoint();
    this.dispatch();
    if (this.wanted) void this.fill();
  }

  private async invoke(lane: Lane, unit: WorkUnit): Promise<WorkUnit[]> {
    const { clock, metrics } = this.context;
    const config = this.context.config();
    const now = clock.now();
    const { expired, fresh } = splitByAge(unit.records, now, config.maximumRecordAgeInSeconds);
    if (expired.length > 0) {
      const rest = fresh.length > 0 || unit.final ? [{ ...unit, records: fresh }] : [];
      return [{ ...unit, records: expired, discard: 'RecordAgeExceeded' }, ...rest];
    }
    const newest = unit.records[unit.records.length - 1];
    metrics.invoking(unit.records.length, unit.retries > 0, newest ? Math.max(0, now - newest.createdAt) : 0);
    let failed = true;
    const invocation: ShardInvocation = {
      shard: this.shardId,
      sequenceNumbers: unit.records.map((r) => r.record.dynamodb?.SequenceNumber ?? String(r.seq)),
      attempt: unit.retries + 1,
    };
    try {
      const execution = await this.context.execute(this.eventOf(lane, unit), randomUUID(), invocation);
      const verdict = judgeStreamExecution(execution, config.reportBatchItemFailures, unit.records);
      failed = verdict.kind !== 'success';
      this.context.onResult(verdict.kind === 'failure' ? 'PROBLEM: Function call failed' : 'OK');
      if (verdict.kind !== 'failure' && unit.windowStart !== null) this.advanceWindow(lane, unit, execution);
      const next = afterInvocation(unit, verdict, config, clock.now());
      if (failed) {
        const givenUp = next.some((n) => n.discard !== null);
        const retried = next.filter((n) => n.discard === null).reduce((sum, n) => sum + n.records.length, 0);
        this.context.retrying(
          invocation,
          retried || unit.records.length,
          givenUp
            ? `records given up (${next.find((n) => n.discard !== null)!.discard}) and sent to the on-failure destination, if any`
            : `retried (attempt ${unit.retries + 2}) on shard ${this.shardId}`,
        );
      }
      return next;
    } finally {
      metrics.invoked(failed);
    }
  }

  private eventOf(lane: Lane, unit: WorkUnit): object {
    const Records = unit.records.map((r) => r.record);
    if (unit.windowStart === null) return { Records };
    const start = unit.windowStart;
    return {
      Records,
      window: {
        start: new Date(start).toISOString(),
        end: new Date(start + this.settings.tumblingWindowMs).toISOString(),
      },
      state: lane.window?.state ?? {},
      shardId: this.shardId,
      eventSourceARN: this.context.streamArn,
      isFinalInvokeForWindow: unit.final,
      isWindowTerminatedEarly: false,
    };
  }

  /** The handler's returned `state` carries into the window's next invocation; a final one closes it. */
  private advanceWindow(lane: Lane, unit: WorkUnit, execution: Execution): void {
    if (unit.final) {
      lane.window = null;
      return;
    }
    const result = execution.ok ? (execution.result as { state?: unknown } | null | undefined) : undefined;
    if (lane.window && result && typeof result === 'object' && 'state' in result)
      lane.window.state = result.state ?? {};
  }

  private async discard(lane: Lane, unit: WorkUnit): Promise<WorkUnit[]> {
    if (unit.final) lane.window = null;
    if (unit.records.length === 0) return [];
    const now = this.context.clock.now();
    await this.context.reportFailure(
      streamFailureRecord({
        now,
        requestId: randomUUID(),
        functionArn: this.context.functionArn(),
        condition: unit.discard!,
        invokeCount: unit.discard === 'RecordAgeExceeded' ? unit.retries : unit.retries + 1,
        shardId: this.shardId,
        streamArn: this.context.streamArn,
        records: unit.records,
      }),
    );
    this.context.metrics.discardedRecords += unit.records.length;
    return [];
  }

  /** Saves the checkpoint when it moved; one save at a time, the latest position wins. */
  private saveCheckpoint(): void {
    const seq = this.lanes.checkpoint(this.readCursor);
    const state = this.windowState();
    const latest = this.unsaved ?? this.saved;
    if (this.fenced || (seq === latest.seq && state === latest.state)) return;
    this.unsaved = { seq, state };
    if (this.saving) return;
    this.saving = (async () => {
      while (this.unsaved) {
        const target = this.unsaved;
        this.unsaved = undefined;
        try {
          const checkpoint = { shard: this.shard, seq: target.seq, state: target.state };
          if (this.context.saveCheckpoint) {
            if (!(await this.context.saveCheckpoint(checkpoint))) {
              this.fenced = true;
              this.unsaved = undefined;
              this.pause();
              break;
            }
          } else {
            await this.context.store.streamCheckpointSave({
              consumer: this.context.consumer,
              tableId: this.context.tableId,
              checkpoints: [checkpoint],
              now: this.context.clock.now(),
            });
          }
          this.saved = target;
        } catch (error) {
          this.context.onError(error);
        }
      }
    })().finally(() => {
      this.saving = undefined;
    });
  }

  private windowState(): string | null {
    if (this.context.config().tumblingWindowInSeconds === 0) return null;
    const windows: Record<number, { start: number; end: number; state: unknown }> = {};
    this.lanes.lanes.forEach((lane, index) => {
      if (lane.window) windows[index] = lane.window;
    });
    return JSON.stringify(windows);
  }

  private restoreWindows(state: string | null): void {
    if (state === null) return;
    const windows = JSON.parse(state) as Record<string, { start: number; end: number; state: unknown }>;
    for (const [index, window] of Object.entries(windows)) {
      const lane = this.lanes.lanes[Number(index)];
      if (lane) lane.window = window;
    }
  }
}
