/**
 * The pollers of one trigger, and how many there are. A poller holds one of the function's concurrency
 * slots and loops: gather a batch, invoke, acknowledge. The number of pollers follows the backlog:
 * - a poller whose batch came back full starts another (up to the limit), so a deep queue is drained by
 *   min(maximumConcurrency, the function's reserved concurrency, the account's free concurrency);
 * - a wake-up on the queue's channel starts one when nobody is gathering;
 * - a poller that finds the queue empty stops, so a drained queue falls back to none.
 * Nothing polls: with no poller running, the trigger waits on the queue's channel and on a timer set to
 * the next instant a message becomes visible (delay or visibility timeout). An idle trigger queries nothing.
 */
import type { ArnContext } from '../../model/arn.js';
import type { Clock } from '../../model/clock.js';
import type { TriggerScope } from '../../functions/concurrency.js';
import type { FunctionService } from '../../functions/service.js';
import type { EngineEvents } from '../../observability/events.js';
import type { QueueService } from '../../queues/service.js';
import { queueCatalogChannel, queueChannel, type Unsubscribe } from '../../store/notifier.js';
import type { StoredQueue } from '../../store/queue-store.js';
import type { Store } from '../../store/store.js';
import { isGrouped } from '../../limits/grouping.js';
import { collectBatch, type CollectedBatch } from './batch-collector.js';
import { processBatch } from './batch-processor.js';
import { compileFilterCriteria, type RecordMatcher } from '../filter/filter-criteria.js';
import { TriggerMetrics } from './metrics.js';
import { SqsSource } from './sqs-source.js';
import type { RecordSource } from './sqs-record.js';
import type { TriggerConfig, TriggerView } from '../types.js';
import { TurnBudget } from '../../model/next-turn.js';

/**
 * How long a trigger's pollers may keep the event loop from turning (next-turn.ts): timers and requests
 * wait at most about this long during a drain that needs no I/O, and the deletes of the batches handled
 * meanwhile go out together.
 */
const TURN_BUDGET_MS = 5;

export interface PollerDeps {
  store: Store;
  clock: Clock;
  arn: ArnContext;
  queues: QueueService;
  functions: FunctionService;
  onError: (error: unknown) => void;
  events?: EngineEvents | undefined;
}

export class SqsPoller {
  readonly metrics = new TriggerMetrics();
  private config: TriggerConfig;
  private matcher: RecordMatcher | null;
  private readonly source: SqsSource;
  private lastResult: TriggerView['lastProcessingResult'] = 'No records processed';
  private problem = '';

  private active = false;
  /** Pollers alive, each holding a concurrency slot. */
  private running = 0;
  /** Pollers inside a claim or a batching window: a wake-up is theirs, no new poller is needed. */
  private gathering = 0;
  /** Counts wake-ups, so a poller whose claim raced one looks again instead of stopping. */
  private generation = 0;
  private queueId: number | undefined;
  private unsubscribeQueue: Unsubscribe | undefined;
  private unsubscribeCatalog: Unsubscribe | undefined;
  private cancelDueTimer: (() => void) | undefined;
  private cancelCapacityWait: (() => void) | undefined;
  private readonly windowWaiters = new Set<() => void>();
  private readonly loops = new Set<Promise<void>>();
  private recordSource: RecordSource | undefined;

  constructor(
    private readonly deps: PollerDeps,
    config: TriggerConfig,
  ) {
    this.config = config;
    this.matcher = compileMatcher(config);
    this.source = new SqsSource(deps, config.queueName);
  }

  get configuration(): TriggerConfig {
    return this.config;
  }

  get pollers(): number {
    return this.running;
  }

  get lastProcessingResult(): TriggerView['lastProcessingResult'] {
    return this.lastResult;
  }

  get stateTransitionReason(): string {
    if (!this.config.enabled) return 'USER_INITIATED';
    return this.problem || 'USER_INITIATED';
  }

  /** Starts listening and polling, if the trigger is enabled. */
  async start(): Promise<void> {
    if (!this.config.enabled || this.active) return;
    this.active = true;
    this.unsubscribeCatalog = this.deps.store.notifier.subscribe(queueCatalogChannel, () => {
      // A queue was created, changed or deleted: ours may have come back or been replaced.
      if (this.active) this.attach().catch(this.deps.onError);
    });
    await this.attach();
  }

  /** Stops claiming; pollers finish the batch in hand. `drain` waits for them. */
  pause(): void {
    this.active = false;
    this.unsubscribeCatalog?.();
    this.unsubscribeCatalog = undefined;
    this.unsubscribeQueue?.();
    this.unsubscribeQueue = undefined;
    this.queueId = undefined;
    this.cancelDueTimer?.();
    this.cancelDueTimer = undefined;
    this.cancelCapacityWait?.();
    this.cancelCapacityWait = undefined;
    // Batches waiting out a window are invoked now with what they have.
    for (const wake of [...this.windowWaiters]) wake();
    this.source.handBackHeld();
  }

  /** Gives up on batches still running: they will not acknowledge (see SqsSource.abandon). */
  abandon(): void {
    this.source.abandon();
    this.pause();
  }

  async drain(): Promise<void> {
    while (this.loops.size > 0) await Promise.allSettled([...this.loops]);
    await this.source.settled();
  }

  async reconfigure(config: TriggerConfig): Promise<void> {
    const wasEnabled = this.config.enabled;
    this.config = config;
    this.matcher = compileMatcher(config);
    if (wasEnabled && !config.enabled) this.pause();
    else if (!wasEnabled && config.enabled) await this.start();
    else this.spawn(); // the limit may have grown
  }

  /** The function was created, changed or deleted: limits may differ, a missing function may be back. */
  onFunctionChange(): void {
    if (!this.active) return;
    if (this.problem.includes('function')) this.problem = '';
    this.spawn();
  }

  /** The trigger's own limit, which a cluster holds across nodes (functions/concurrency.ts). */
  private slotScope(functionName: string): TriggerScope {
    return { key: `${this.config.queueName}>${functionName}`, limit: this.config.maximumConcurrency };
  }

  private limit(): number {
    const ceiling = this.deps.functions.concurrency.ceiling(this.config.functionName);
    return Math.min(this.config.maximumConcurrency ?? ceiling, ceiling);
  }

  /** Resolves the queue, follows its channel, and starts a poller. */
  private async attach(): Promise<void> {
    const queue = await this.source.resolve();
    if (!this.active) return;
    if (!queue) {
      this.problem = `PROBLEM: the queue ${this.config.queueName} does not exist`;
      this.unsubscribeQueue?.();
      this.unsubscribeQueue = undefined;
      this.queueId = undefined;
      return;
    }
    if (this.problem.includes('queue')) this.problem = '';
    if (this.queueId !== queue.id) {
      this.unsubscribeQueue?.();
      this.queueId = queue.id;
      this.unsubscribeQueue = this.deps.store.notifier.subscribe(queueChannel(queue.id), () => this.onWake());
    }
    this.spawn();
  }

  private onWake(): void {
    this.generation++;
    if (this.windowWaiters.size > 0) for (const wake of [...this.windowWaiters]) wake();
    if (this.gathering === 0) this.spawn();
  }

  private spawn(): void {
    if (!this.active || this.queueId === undefined) return;
    const functionName = this.config.functionName;
    if (!this.deps.functions.exists(functionName)) {
      this.problem = `PROBLEM: the function ${functionName} does not exist`;
      return;
    }
    if (this.running >= this.limit()) {
      // A reservation of 0: no poller is left to notice it being raised, so wait for that change.
      if (this.running === 0) this.awaitCapacity(functionName);
      return;
    }
    if (!this.deps.functions.concurrency.tryAcquire(functionName, this.slotScope(functionName)))
      return this.awaitCapacity(functionName);
    this.running++;
    const loop = this.poll(functionName, this.deps.functions.concurrency.epoch());
    this.loops.add(loop);
    void loop.then(() => this.loops.delete(loop));
  }

  /** The account or the function has no free slot: wait for one to be released (no polling). */
  private awaitCapacity(functionName: string): void {
    if (this.cancelCapacityWait) return;
    this.deps.functions.noteThrottle(functionName);
    this.cancelCapacityWait = this.deps.functions.concurrency.onRelease(functionName, () => {
      this.cancelCapacityWait = undefined;
      this.spawn();
    });
  }

  private async poll(functionName: string, slotEpoch: number): Promise<void> {
    const concurrency = this.deps.functions.concurrency;
    let stale = false;
    const turns = new TurnBudget(TURN_BUDGET_MS);
    try {
      for (;;) {
        if (!this.active || functionName !== this.config.functionName || this.running > this.limit()) return;
        // The slot was taken once for the whole loop: in a cluster it may have been handed to another
        // node since (this one was paused past its lease). Give it back and take a fresh one.
        if (!concurrency.stillHeld(slotEpoch)) return void (stale = true);
        // With a window, one poller gathers at a time: two would split the next messages between two
        // batches, each then held for its window. A full batch hands over to a new poller (spawn below).
        if (this.config.maximumBatchingWindowInSeconds > 0 && this.gathering > 0) return;
        const generation = this.generation;
        const acksEnded = this.source.acksEnded();
        let batch: CollectedBatch;
        // Gathering from before the first await: a second wake-up in the same turn (two NOTIFYs read
        // together) must not start a second poller that would hold the other message in a window of its own.
        this.gathering++;
        try {
          const queue = this.source.cached() ?? (await this.source.resolve());
          if (!queue || queue.id !== this.queueId) {
            if (this.active) this.attach().catch(this.deps.onError);
            return;
          }
          batch = await collectBatch({
            source: this.source,
            queue,
            batchSize: this.config.batchSize,
            capacity: this.limit() * this.config.batchSize,
            windowSeconds: this.config.maximumBatchingWindowInSeconds,
            clock: this.deps.clock,
            waitForWake: (until, since) => this.waitForWake(until, since),
            wakes: () => this.generation,
            isActive: () => this.active,
          });
        } finally {
          this.gathering--;
        }
        if (batch.messages.length === 0) {
          if (generation !== this.generation && this.active) continue; // woken during the claim: look again
          // A grouped queue's delete wakes the queue's channel itself (it frees its group's slot), and an
          // empty claim there is common (every group busy): that poller stops and a wake-up starts the next.
          const deleting = this.source.acknowledging() || this.source.acksEnded() !== acksEnded;
          if (batch.nextVisibleAt !== null && deleting && !isGrouped(batch.queue)) {
            // The next visible message may be one whose delete is still under way, or ended while the claim
            // ran (acknowledgements are not awaited): once they are made, look again rather than arm a
            // timer for a deleted message (an idle trigger would query once more at its visibility timeout).
            await this.source.settled();
            continue;
          }
          this.armDueTimer(batch.nextVisibleAt);
          return;
        }
        if (!concurrency.stillHeld(slotEpoch)) {
          stale = true;
          await this.source.release(
            batch.queue,
            batch.messages.map((m) => ({ seq: m.seq, token: batch.receiptToken })),
          );
          return;
        }
        if (batch.full) this.spawn();
        await this.run(functionName, batch);
        // A batch claimed, handled and acknowledged without I/O (embedded store, fast handler) must not
        // keep the event loop from turning until the backlog is gone (next-turn.ts).
        const due = turns.due();
        if (due) await due;
      }
    } catch (error) {
      this.deps.onError(error);
    } finally {
      // Runs as the loop returns, so the next poller's limit check already sees one fewer.
      this.running--;
      concurrency.release(functionName, this.slotScope(functionName));
      // A poller that gave back a slot the cluster no longer backed comes back once a new one is granted.
      if (stale) this.spawn();
    }
  }

  private async run(functionName: string, batch: CollectedBatch): Promise<void> {
    const startedAt = this.deps.clock.now();
    const outcome = await processBatch({
      batch,
      functionName,
      reportBatchItemFailures: this.config.reportBatchItemFailures,
      matcher: this.matcher,
      source: this.source,
      recordSource: this.recordSourceFor(batch.queue),
      execute: (name, event, context) => this.deps.functions.execute(name, event, undefined, context),
      metrics: this.metrics,
      trigger: this.config.uuid,
      events: this.deps.events,
      now: this.deps.clock.now(),
    });
    this.source.noteBatchDuration(this.deps.clock.now() - startedAt);
    if (outcome.invoked)
      this.lastResult = outcome.verdict.kind === 'failure' ? 'PROBLEM: Function call failed' : 'OK';
  }

  /** What every record of this queue shares; built once per queue, not per batch. */
  private recordSourceFor(queue: StoredQueue): RecordSource {
    if (this.recordSource?.queueId !== queue.id || this.recordSource.fifo !== queue.fifo) {
      this.recordSource = {
        queueId: queue.id,
        fifo: queue.fifo,
        queueArn: this.deps.queues.arnOf(queue.name),
        region: this.deps.arn.region,
        senderId: this.deps.arn.accountId,
      };
    }
    return this.recordSource;
  }

  /** With nobody polling, the next visible message (delay, visibility timeout) must still wake us. */
  private armDueTimer(at: number | null): void {
    this.cancelDueTimer?.();
    this.cancelDueTimer = undefined;
    if (at === null || !this.active) return;
    this.cancelDueTimer = this.deps.clock.setTimer(at - this.deps.clock.now(), () => {
      this.cancelDueTimer = undefined;
      this.generation++;
      this.spawn();
    });
  }

  private waitForWake(until: number, since: number): Promise<void> {
    if (this.generation !== since) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.windowWaiters.delete(wake);
        cancelTimer();
        resolve();
      };
      // A clock never calls back synchronously, so `cancelTimer` is set before `wake` can run.
      const cancelTimer = this.deps.clock.setTimer(until - this.deps.clock.now(), wake);
      this.windowWaiters.add(wake);
    });
  }
}

function compileMatcher(config: TriggerConfig): RecordMatcher | null {
  return config.filterCriteria ? compileFilterCriteria(config.filterCriteria, { source: 'sqs' }) : null;
}
