/**
 * Asynchronous invocation, as Lambda's internal event queue does it: an accepted event runs as soon as
 * the function has a free concurrency slot; a failure is retried up to MaximumRetryAttempts times, one
 * then two minutes later; an event older than MaximumEventAgeInSeconds is dropped; the outcome goes to
 * the OnSuccess or OnFailure destination. A throttled event waits for a slot to be released (no polling)
 * until it ages out. All waiting is on the engine's Clock.
 *
 * The event queue lives in memory: events accepted but not yet run are lost if the process stops.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import type { ConcurrencyPool } from './concurrency.js';
import { destinationRecord, type DestinationCondition, type DestinationRecord } from './destination.js';
import type { Execution, FunctionDefinition } from './types.js';

/** Lambda waits about one minute before the first retry and two before the second. */
export const RETRY_DELAYS_MS = [60_000, 120_000] as const;

interface PendingEvent {
  requestId: string;
  functionName: string;
  event: unknown;
  /** The ARN the caller invoked when not the function's own (an alias's): the handler's context.invokedFunctionArn. */
  invokedFunctionArn: string | undefined;
  acceptedAt: number;
  invokeCount: number;
  lastExecution: Execution | undefined;
  cancelTimer: (() => void) | undefined;
}

export interface AsyncInvokerParams {
  clock: Clock;
  pool: ConcurrencyPool;
  definition: (name: string) => FunctionDefinition | undefined;
  functionArn: (name: string) => string;
  /** Runs the handler; the caller already holds a concurrency slot. */
  execute: (name: string, event: unknown, requestId: string, attempt: number, invokedFunctionArn: string | undefined) => Promise<Execution>;
  throttled: (name: string) => void;
  /** A failed event will run again after `delayMs` (logged at info). */
  retrying?: (name: string, requestId: string, attempt: number, delayMs: number) => void;
  deliver: (destinationArn: string, record: DestinationRecord) => Promise<void>;
  onError: (error: unknown) => void;
}

export class AsyncInvoker {
  /** Throttled events per function, oldest first. */
  private readonly waiting = new Map<string, PendingEvent[]>();
  private readonly capacityWaits = new Map<string, () => void>();
  private readonly timers = new Set<PendingEvent>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly params: AsyncInvokerParams) {}

  accept(functionName: string, event: unknown, invokedFunctionArn?: string): string {
    const pending: PendingEvent = {
      requestId: randomUUID(),
      functionName,
      event,
      invokedFunctionArn,
      acceptedAt: this.params.clock.now(),
      invokeCount: 0,
      lastExecution: undefined,
      cancelTimer: undefined,
    };
    this.dispatch(pending);
    return pending.requestId;
  }

  /** Events waiting for a slot or a retry, and executions under way. */
  get pendingCount(): number {
    let waiting = 0;
    for (const list of this.waiting.values()) waiting += list.length;
    return waiting + this.timers.size + this.running.size;
  }

  /** Stops retries and waits; returns when executions under way have finished, or after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const pending of this.timers) pending.cancelTimer?.();
    this.timers.clear();
    for (const list of this.waiting.values()) for (const pending of list) pending.cancelTimer?.();
    this.waiting.clear();
    for (const cancel of this.capacityWaits.values()) cancel();
    this.capacityWaits.clear();
    let timer: NodeJS.Timeout | undefined;
    // Real time, not the engine clock: this bounds how long the process takes to stop.
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.running]), deadline]);
    clearTimeout(timer);
  }

  private dispatch(pending: PendingEvent, resumed = false): void {
    if (this.stopped) return;
    const definition = this.params.definition(pending.functionName);
    if (!definition) return; // the function was deleted: its events go with it, as in Lambda
    if (this.aged(pending, definition)) return this.finish(pending, definition, 'EventAgeExceeded');
    if (!this.params.pool.tryAcquire(pending.functionName)) {
      if (!resumed) this.params.throttled(pending.functionName); // one throttle per refusal, not per re-check
      return this.wait(pending, definition);
    }
    const run = this.run(pending, definition).catch(this.params.onError);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async run(pending: PendingEvent, definition: FunctionDefinition): Promise<void> {
    let execution: Execution;
    try {
      pending.invokeCount++;
      execution = await this.params.execute(
        pending.functionName,
        pending.event,
        pending.requestId,
        pending.invokeCount,
        pending.invokedFunctionArn,
      );
    } finally {
      this.params.pool.release(pending.functionName);
    }
    pending.lastExecution = execution;
    if (execution.ok) return this.finish(pending, definition, 'Success');
    const retriesDone = pending.invokeCount - 1;
    if (retriesDone >= definition.async.maximumRetryAttempts)
      return this.finish(pending, definition, 'RetriesExhausted');
    const delayMs = RETRY_DELAYS_MS[retriesDone] ?? RETRY_DELAYS_MS[1];
    this.params.retrying?.(pending.functionName, pending.requestId, pending.invokeCount, delayMs);
    this.later(pending, delayMs);
  }

  private aged(pending: PendingEvent, definition: FunctionDefinition): boolean {
    return this.params.clock.now() - pending.acceptedAt > definition.async.maximumEventAgeInSeconds * 1000;
  }

  private later(pending: PendingEvent, delayMs: number): void {
    if (this.stopped) return;
    this.timers.add(pending);
    pending.cancelTimer = this.params.clock.setTimer(delayMs, () => {
      this.timers.delete(pending);
      pending.cancelTimer = undefined;
      this.dispatch(pending);
    });
  }

  /** Parks a throttled event until a slot is released or the event ages out. */
  private wait(pending: PendingEvent, definition: FunctionDefinition): void {
    const name = pending.functionName;
    let list = this.waiting.get(name);
    if (!list) this.waiting.set(name, (list = []));
    list.push(pending);
    const expiresIn =
      pending.acceptedAt + definition.async.maximumEventAgeInSeconds * 1000 - this.params.clock.now();
    pending.cancelTimer = this.params.clock.setTimer(expiresIn + 1, () => {
      pending.cancelTimer = undefined;
      const current = this.waiting.get(name);
      const index = current?.indexOf(pending) ?? -1;
      if (index >= 0) current!.splice(index, 1);
      this.dispatch(pending); // now past its age: finishes as EventAgeExceeded
    });
    if (!this.capacityWaits.has(name)) {
      this.capacityWaits.set(
        name,
        this.params.pool.onRelease(name, () => this.resume(name)),
      );
    }
  }

  private resume(name: string): void {
    this.capacityWaits.delete(name);
    const list = this.waiting.get(name);
    if (!list) return;
    this.waiting.delete(name);
    for (const pending of list) {
      pending.cancelTimer?.();
      pending.cancelTimer = undefined;
      this.dispatch(pending, true); // those still throttled park again, in order
    }
  }

  private finish(
    pending: PendingEvent,
    definition: FunctionDefinition,
    condition: DestinationCondition,
  ): void {
    const target = condition === 'Success' ? definition.async.onSuccess : definition.async.onFailure;
    if (!target) return;
    const record = destinationRecord({
      now: this.params.clock.now(),
      requestId: pending.requestId,
      functionArn: this.params.functionArn(pending.functionName),
      condition,
      invokeCount: pending.invokeCount,
      event: pending.event,
      execution: pending.lastExecution,
    });
    this.params.deliver(target, record).catch(this.params.onError);
  }
}
