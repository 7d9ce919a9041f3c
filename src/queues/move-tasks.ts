/**
 * Redrive: a message move task takes the messages of a dead-letter queue back to their source queues
 * (or to one destination) at an optional rate, reporting progress, until the messages present when it
 * started are moved or it is cancelled.
 */
import { randomUUID } from 'node:crypto';
import { isGrouped } from '../limits/grouping.js';
import type { Clock } from '../model/clock.js';
import type { MoveDestination, MoveTask, StoredQueue } from '../store/queue-store.js';
import type { Store } from '../store/store.js';

/** Without a rate, a task moves this many messages per transaction and yields between chunks. */
const UNTHROTTLED_CHUNK = 500;

export interface MoveTaskPlan {
  source: StoredQueue;
  sourceArn: string;
  destination: StoredQueue | null;
  destinationArn: string | null;
  maxPerSecond: number | null;
}

export class MoveTaskRunner {
  private readonly running = new Map<
    string,
    { cancelled: boolean; cancelTimer?: () => void; into?: Set<number> }
  >();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Every queue by ARN, so each message can go back to the queue it came from. */
    private readonly queuesByArn: () => Promise<Map<string, StoredQueue>>,
    private readonly onError: (error: unknown) => void,
    /** Called for each queue that may have received messages once a task ends (moved messages keep their sent time). */
    private readonly onMovedInto: (queueId: number) => Promise<void> = async () => undefined,
  ) {}

  async start(plan: MoveTaskPlan): Promise<MoveTask | 'alreadyRunning'> {
    const { lastSeq, count } = await this.store.messageLastSeq({ queueId: plan.source.id });
    const task: MoveTask = {
      taskHandle: Buffer.from(JSON.stringify({ t: randomUUID(), s: plan.sourceArn })).toString('base64url'),
      sourceQueueId: plan.source.id,
      sourceArn: plan.sourceArn,
      destinationArn: plan.destinationArn,
      maxPerSecond: plan.maxPerSecond,
      status: 'RUNNING',
      moved: 0,
      toMove: count,
      lastSeq,
      startedAt: this.clock.now(),
      failureReason: null,
    };
    const created = await this.store.moveTaskCreate({ task });
    if (created === 'alreadyRunning') return created;
    const control = { cancelled: false };
    this.running.set(task.taskHandle, control);
    queueMicrotask(() => this.step(task, plan, control).catch(this.onError));
    return task;
  }

  /** Stops a running task after its current chunk; returns false when it is not running here. */
  async cancel(taskHandle: string): Promise<boolean> {
    const control = this.running.get(taskHandle);
    if (!control) return false;
    control.cancelled = true;
    control.cancelTimer?.();
    this.running.delete(taskHandle);
    await this.store.moveTaskUpdate({ taskHandle, status: 'CANCELLED' });
    await this.notifyMovedInto(control.into);
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const control of this.running.values()) {
      control.cancelled = true;
      control.cancelTimer?.();
    }
  }

  private async notifyMovedInto(into: Set<number> | undefined): Promise<void> {
    for (const queueId of into ?? []) await this.onMovedInto(queueId);
  }

  private async step(
    task: MoveTask,
    plan: MoveTaskPlan,
    control: { cancelled: boolean; cancelTimer?: () => void; into?: Set<number> },
  ): Promise<void> {
    const finish = async (status: MoveTask['status'], failureReason?: string) => {
      this.running.delete(task.taskHandle);
      await this.store.moveTaskUpdate({
        taskHandle: task.taskHandle,
        status,
        ...(failureReason ? { failureReason } : {}),
      });
      await this.notifyMovedInto(control.into);
    };
    if (control.cancelled) return;
    let destination: MoveDestination | null = null;
    const resolveSource: Record<string, MoveDestination> = {};
    // The queues this step may move messages into, for onMovedInto (the dead-letter queue's sources).
    const homes: number[] = [];
    if (plan.destination) {
      const current = await this.store.queueGetById({ id: plan.destination.id });
      if (!current) return finish('FAILED', `destination queue ${plan.destinationArn} no longer exists`);
      destination = { queueId: current.id, fifo: current.fifo, grouped: isGrouped(current) };
    } else {
      for (const [arn, queue] of await this.queuesByArn()) {
        resolveSource[arn] = { queueId: queue.id, fifo: queue.fifo, grouped: isGrouped(queue) };
        if (queue.settings.RedrivePolicy?.deadLetterTargetArn === plan.sourceArn) homes.push(queue.id);
      }
    }
    const limit = plan.maxPerSecond ?? UNTHROTTLED_CHUNK;
    const result = await this.store.messageMove({
      fromQueueId: plan.source.id,
      fromFifo: plan.source.fifo,
      lastSeq: task.lastSeq,
      limit,
      now: this.clock.now(),
      destination,
      resolveSource,
    });
    if (result.moved > 0) {
      await this.store.moveTaskUpdate({ taskHandle: task.taskHandle, movedIncrement: result.moved });
      control.into ??= new Set();
      if (destination) control.into.add(destination.queueId);
      else for (const queueId of homes) control.into.add(queueId);
    }
    if (control.cancelled) return;
    if (result.unresolvedSource) {
      return finish('FAILED', `the source queue ${result.unresolvedSource} of a message no longer exists`);
    }
    if (result.remaining === 0) return finish('COMPLETED');
    const next = () => this.step(task, plan, control).catch(this.onError);
    if (plan.maxPerSecond === null) {
      setImmediate(next);
    } else {
      control.cancelTimer = this.clock.setTimer(1000, next);
    }
  }
}
