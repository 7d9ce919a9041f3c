/**
 * Schedules (EventBridge Scheduler): stored definitions whose ticks fire their target once per tick
 * across a cluster.
 *
 * Each node keeps one timer, armed for the earliest next tick of any enabled schedule. When it fires,
 * the node lists the due schedules and, for each, plans the tick (ticks.ts: the missed-tick policy) and
 * claims it with `scheduleClaimTick`, a conditional update on the stored next tick that also writes the
 * delivery into the outbox. Nodes racing for a tick all try; the store lets exactly one claim succeed.
 * The outbox relay then delivers it (at least once; see outbox-relay.ts). Definition changes publish on
 * the schedule channel and every node re-arms; otherwise an idle node queries nothing until a tick.
 */
import { randomUUID } from 'node:crypto';
import type { ArnContext } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError, invalidValue } from '../model/errors.js';
import type { Unsubscribe } from '../store/notifier.js';
import type { OutboxEntry } from '../store/outbox-store.js';
import { scheduleCatalogChannel, type SchedulePolicy, type StoredSchedule } from '../store/schedule-store.js';
import type { Store } from '../store/store.js';
import type { DeliveryDeps } from './deliver.js';
import { parseScheduleExpression, type ScheduleExpression } from './expression.js';
import { parseTarget } from './target.js';
import { type BatchTarget } from '../store/targets.js';
import { firstTickAfter, planTick } from './ticks.js';
import { boundedExpression, flexibleDeliveryAt, type TickBounds } from './window.js';
import { deliverWithPolicy } from './delivery-failure.js';
import { AbandonDelivery, DEFAULT_MAX_ATTEMPTS, RetryDelivery } from './outbox-relay.js';
import {
  scheduleLimits,
  type ScheduleInput,
  type ScheduleUpdate,
  type ScheduleView,
  type ScheduledEvent,
  type TickDelivery,
} from './types.js';
import type { Service } from '../model/service.js';

export interface ScheduleServiceOptions extends DeliveryDeps {
  store: Store;
  clock: Clock;
  arn: ArnContext;
  onError: (error: unknown) => void;
  /** Starts a batch for a batch target (the batch feature); resolves once the batch exists. */
  startBatch?: (
    target: BatchTarget,
    context: { schedule: string; scheduledTime: number; deliveryKey: string },
  ) => Promise<void>;
}

const NAME_FORM = /^[0-9A-Za-z_.-]{1,64}$/;
const DUE_PAGE = 100;

export class ScheduleService implements Service {
  private readonly expressions = new Map<string, { key: string; expression: ScheduleExpression }>();
  private unsubscribe: Unsubscribe | undefined;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private started = false;
  /** Refuses a change to a schedule someone else manages (the engine sets it: `sluice apply`'s schedules). */
  private guard: ((name: string) => Promise<void>) | undefined;
  private arnResolver: ((name: string) => Promise<string | undefined>) | undefined;

  constructor(private readonly options: ScheduleServiceOptions) {}

  /** Called after a schedule is deleted on completion (ActionAfterCompletion DELETE), to clear what is kept beside it. */
  private completed: ((name: string) => Promise<void>) | undefined;

  onCompleted(listener: (name: string) => Promise<void>): void {
    this.completed = listener;
  }

  /**
   * Sets how a schedule's ARN is found for its dead-letter messages (the engine reads the Scheduler API's
   * group from the catalog); without one, or when it knows none, the schedule is in group `default`.
   */
  resolveArnsWith(resolver: (name: string) => Promise<string | undefined>): void {
    this.arnResolver = resolver;
  }

  /** Sets the check every update and delete passes first (catalog/service.ts `refuseAppliedSchedule`). */
  guardChanges(guard: (name: string) => Promise<void>): void {
    this.guard = guard;
  }

  // ---------------------------------------------------------------- definitions

  async create(input: ScheduleInput): Promise<ScheduleView> {
    const schedule = this.prepareCreate(input);
    const name = schedule.name;
    if ((await this.options.store.scheduleCreate({ schedule })) === 'exists') {
      // Creating again what exists unchanged returns it (a program declaring its schedules at every start).
      const existing = await this.options.store.scheduleGet({ name });
      if (existing && sameDefinition(existing, schedule, input.startDate !== undefined)) return this.view(existing);
      throw new SluiceError('ResourceConflictException', `Name: the schedule '${name}' already exists with another definition`, {
        field: 'Name',
      });
    }
    this.rearm();
    return this.view(schedule);
  }

  /** Changes a schedule; its next tick is recomputed from now (ticks missed while disabled are not fired). */
  async update(name: string, changes: ScheduleUpdate): Promise<ScheduleView> {
    await this.guard?.(name);
    const updated = await this.options.store.scheduleUpdate(this.prepareUpdate(await this.require(name), changes));
    if (!updated) throw missing(name);
    this.rearm();
    return this.view(updated);
  }

  /** A new schedule's row, checked and built as `create` would, written nowhere (`sluice apply`). */
  prepareCreate(input: ScheduleInput): StoredSchedule {
    const name = validateName(input?.name);
    const now = this.options.clock.now();
    return { name, ...this.buildDefinition(input, now, now), lastTickAt: null, lastFiredAt: null, createdAt: now, modifiedAt: now };
  }

  /** A schedule's change, checked and built as `update` would, written nowhere (`sluice apply`). */
  prepareUpdate(current: StoredSchedule, changes: ScheduleUpdate): Parameters<Store['scheduleUpdate']>[0] {
    const now = this.options.clock.now();
    const merged: ScheduleInput = {
      name: current.name,
      expression: changes.expression ?? current.expression,
      timezone: changes.timezone ?? current.timezone,
      target: changes.target ?? current.target,
      state: changes.state ?? current.state,
      catchUpWindowSeconds: changes.catchUpWindowSeconds ?? current.catchUpWindowMs / 1000,
      startDate: changes.startDate ?? current.anchorAt,
      endDate: changes.endDate !== undefined ? changes.endDate : (current.policy?.endAt ?? null),
      flexibleWindowMinutes: changes.flexibleWindowMinutes ?? (current.policy?.flexibleWindowMs ?? 0) / 60_000,
      deleteAfterCompletion: changes.deleteAfterCompletion ?? current.policy?.deleteAfterCompletion ?? false,
    };
    return { name: current.name, ...this.buildDefinition(merged, now, current.anchorAt), now };
  }

  /** The view of a stored schedule (`sluice apply` compares a file with it). */
  viewOf(schedule: StoredSchedule): ScheduleView {
    return this.view(schedule);
  }

  async delete(name: string): Promise<void> {
    await this.guard?.(name);
    if (!(await this.options.store.scheduleDelete({ name: validateName(name) }))) throw missing(name);
    this.expressions.delete(name);
    this.rearm();
  }

  async get(name: string): Promise<ScheduleView> {
    return this.view(await this.require(name));
  }

  async list(prefix?: string): Promise<ScheduleView[]> {
    return (await this.options.store.scheduleList({ prefix: prefix ?? '' })).map((s) => this.view(s));
  }

  /** The next `count` (1-100) fire times of a schedule from its stored next tick, ISO 8601 UTC. */
  async nextFireTimes(name: string, count = 5): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || count > 100)
      throw invalidValue('count', `${JSON.stringify(count)} is invalid; must be an integer from 1 to 100`);
    const schedule = await this.require(name);
    if (schedule.state !== 'ENABLED' || schedule.nextFireAt === null) return [];
    const first = new Date(schedule.nextFireAt);
    return [first, ...this.expressionOf(schedule).nextFireTimes(first, count - 1)].map((d) =>
      d.toISOString(),
    );
  }

  // ---------------------------------------------------------------- firing

  /** Fires what is due (ticks missed while down, by the catch-up policy) and arms the timer. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.options.store.notifier.subscribe(scheduleCatalogChannel, () => this.rearm());
    this.rearm();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.unsubscribe?.();
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.idle();
  }

  /** Resolves when no tick is being claimed (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The outbox handler of the `schedule` topic. */
  async deliver(entry: OutboxEntry): Promise<void> {
    const tick = JSON.parse(entry.payload) as TickDelivery;
    if (tick.target.kind === 'batch') {
      if (!this.options.startBatch)
        throw new SluiceError(
          'UnsupportedOperation',
          `schedule ${tick.schedule}: batch targets need the batch feature`,
        );
      await this.options.startBatch(tick.target, {
        schedule: tick.schedule,
        scheduledTime: tick.scheduledTime,
        deliveryKey: entry.key,
      });
      if (tick.last) await this.completeSchedule(tick.schedule);
      return;
    }
    try {
      await this.deliverTick(entry, tick);
    } catch (error) {
      // The last invocation is complete when it has its final outcome: given up (dropped or dead-lettered
      // without a policy's own retries left), not when it will be retried.
      const final = error instanceof AbandonDelivery || (!(error instanceof RetryDelivery) && !tick.target.onFailure && entry.attempts >= DEFAULT_MAX_ATTEMPTS);
      if (tick.last && final) await this.completeSchedule(tick.schedule);
      throw error;
    }
    if (tick.last) await this.completeSchedule(tick.schedule);
  }

  private async deliverTick(entry: OutboxEntry, tick: TickDelivery): Promise<void> {
    if (tick.target.kind === 'batch') return;
    await deliverWithPolicy({
      deps: this.options,
      target: tick.target,
      event: tick.event,
      entry,
      firstDueAt: tick.dueAt ?? tick.scheduledTime,
      scheduledTime: tick.scheduledTime,
      now: this.options.clock.now(),
      scheduleArn: (await this.arnResolver?.(tick.schedule)) ?? this.scheduleArn(tick.schedule),
      targetArn: this.targetArn(tick.target),
    });
  }

  private rearm(): void {
    if (!this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.fireDue()
      .catch(this.options.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.rearm();
        }
      });
  }

  private async fireDue(): Promise<void> {
    const store = this.options.store;
    const { clock } = this.options;
    let nextDueAt: number | null = null;
    const earliest = (at: number | null) => {
      if (at !== null && (nextDueAt === null || at < nextDueAt)) nextDueAt = at;
    };
    for (;;) {
      const page = await store.scheduleDue({ now: clock.now(), limit: DUE_PAGE });
      // The page's next tick was read before these claims moved their schedules' ticks forward.
      for (const schedule of page.due) earliest(await this.claim(schedule));
      earliest(page.nextDueAt);
      if (page.due.length < DUE_PAGE) break;
    }
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (nextDueAt !== null && this.started) {
      this.cancelTimer = clock.setTimer(nextDueAt - clock.now(), () => {
        this.cancelTimer = undefined;
        this.rearm();
      });
    }
  }

  /** Claims the schedule's due tick; returns its next tick (ours, or a guess when another node won). */
  private async claim(schedule: StoredSchedule): Promise<number | null> {
    const tick = schedule.nextFireAt;
    if (tick === null) return null;
    const now = this.options.clock.now();
    const plan = planTick({
      expression: this.expressionOf(schedule),
      tick,
      now,
      catchUpWindowMs: schedule.catchUpWindowMs,
    });
    const dueAt = Math.max(now, flexibleDeliveryAt(schedule.name, plan.scheduledTime, schedule.policy?.flexibleWindowMs));
    const delivery: TickDelivery = {
      schedule: schedule.name,
      scheduledTime: plan.scheduledTime,
      target: schedule.target,
      event: this.eventFor(schedule, plan.scheduledTime),
      dueAt,
      ...(plan.next === null && schedule.policy?.deleteAfterCompletion ? { last: true } : {}),
    };
    const claimed = await this.options.store.scheduleClaimTick({
      name: schedule.name,
      tick,
      nextFireAt: plan.next,
      delivery: plan.fire
        ? {
            key: `schedule:${schedule.name}:${plan.scheduledTime}`,
            topic: 'schedule',
            payload: JSON.stringify(delivery),
            ...(dueAt > now ? { dueAt } : {}),
          }
        : null,
      now,
    });
    // ActionAfterCompletion DELETE with no last invocation to wait for (its last ticks were skipped by
    // the catch-up policy): the schedule goes now. One with a last invocation goes when that completes.
    if (claimed && plan.next === null && !plan.fire && schedule.policy?.deleteAfterCompletion) await this.completeSchedule(schedule.name, schedule.modifiedAt);
    return plan.next;
  }

  /**
   * ActionAfterCompletion DELETE: deletes a schedule that has no tick left, unless it was changed
   * meanwhile (given new ticks, its policy dropped, or, with `modifiedAt`, changed at all since read).
   */
  private async completeSchedule(name: string, modifiedAt?: number): Promise<void> {
    const current = await this.options.store.scheduleGet({ name });
    if (!current || current.nextFireAt !== null || !current.policy?.deleteAfterCompletion) return;
    if (modifiedAt !== undefined && current.modifiedAt !== modifiedAt) return;
    if (await this.options.store.scheduleDelete({ name })) await this.completed?.(name);
    this.expressions.delete(name);
  }

  private targetArn(target: TickDelivery['target']): string {
    const { region, accountId } = this.options.arn;
    if (target.kind === 'function') return `arn:aws:lambda:${region}:${accountId}:function:${target.functionName}`;
    if (target.kind === 'queue') return `arn:aws:sqs:${region}:${accountId}:${target.queue}`;
    return `arn:sluice:batch:${region}:${accountId}:${target.processor}`;
  }

  private scheduleArn(name: string): string {
    return `arn:aws:scheduler:${this.options.arn.region}:${this.options.arn.accountId}:schedule/default/${name}`;
  }

  private eventFor(schedule: StoredSchedule, scheduledTime: number): unknown {
    const target = schedule.target;
    if (target.kind === 'function' && target.input !== undefined) return target.input;
    if (target.kind === 'queue' && target.body !== undefined) return target.body;
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      account: this.options.arn.accountId,
      time: new Date(scheduledTime).toISOString(),
      region: this.options.arn.region,
      resources: [this.scheduleArn(schedule.name)],
      detail: {},
    };
    return event;
  }

  // ---------------------------------------------------------------- internals

  private buildDefinition(input: ScheduleInput, now: number, previousAnchor: number) {
    const timezone = input.timezone ?? 'UTC';
    const anchorAt = input.startDate === undefined ? previousAnchor : new Date(input.startDate).getTime();
    if (!Number.isFinite(anchorAt)) throw invalidValue('StartDate', 'is not a valid date');
    const expression = parseScheduleExpression(input.expression, { timezone, anchor: new Date(anchorAt) });
    const target = parseTarget(input.target, 'Target');
    const state = input.state ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED')
      throw invalidValue('State', `${JSON.stringify(state)} is invalid; must be ENABLED or DISABLED`);
    const windowSeconds = input.catchUpWindowSeconds ?? scheduleLimits.defaultCatchUpWindowSeconds;
    if (
      !Number.isInteger(windowSeconds) ||
      windowSeconds < 1 ||
      windowSeconds > scheduleLimits.maxCatchUpWindowSeconds
    ) {
      throw invalidValue(
        'catchUpWindowSeconds',
        `${JSON.stringify(windowSeconds)} is invalid; must be an integer from 1 to ${scheduleLimits.maxCatchUpWindowSeconds}`,
      );
    }
    const policy = buildPolicy(input, anchorAt);
    const bounded = boundedExpression(expression, tickBounds(expression, anchorAt, policy.endAt));
    return {
      expression: expression.expression,
      timezone: expression.timezone,
      target,
      state,
      catchUpWindowMs: windowSeconds * 1000,
      anchorAt,
      nextFireAt: state === 'ENABLED' ? firstTickAfter(bounded, now) : null,
      policy: Object.keys(policy).length > 0 ? policy : null,
    };
  }

  /** Parsed expressions, cached by definition (parsing a cron is cheap, but ticks are hot enough). */
  private expressionOf(schedule: StoredSchedule): ScheduleExpression {
    const endAt = schedule.policy?.endAt;
    const key = `${schedule.expression}\u0000${schedule.timezone}\u0000${schedule.anchorAt}\u0000${endAt ?? ''}`;
    const cached = this.expressions.get(schedule.name);
    if (cached?.key === key) return cached.expression;
    const parsed = parseScheduleExpression(schedule.expression, { timezone: schedule.timezone, anchor: new Date(schedule.anchorAt) });
    const expression = boundedExpression(parsed, tickBounds(parsed, schedule.anchorAt, endAt));
    this.expressions.set(schedule.name, { key, expression });
    return expression;
  }

  private view(schedule: StoredSchedule): ScheduleView {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      name: schedule.name,
      expression: schedule.expression,
      timezone: schedule.timezone,
      target: schedule.target,
      state: schedule.state,
      catchUpWindowSeconds: schedule.catchUpWindowMs / 1000,
      startDate: new Date(schedule.anchorAt).toISOString(),
      endDate: iso(schedule.policy?.endAt ?? null),
      flexibleWindowMinutes: (schedule.policy?.flexibleWindowMs ?? 0) / 60_000,
      deleteAfterCompletion: schedule.policy?.deleteAfterCompletion ?? false,
      nextFireTime: schedule.state === 'ENABLED' ? iso(schedule.nextFireAt) : null,
      lastFiredTime: iso(schedule.lastFiredAt),
      createdAt: new Date(schedule.createdAt).toISOString(),
      modifiedAt: new Date(schedule.modifiedAt).toISOString(),
    };
  }

  private async require(name: string): Promise<StoredSchedule> {
    const schedule = await this.options.store.scheduleGet({ name: validateName(name) });
    if (!schedule) throw missing(name);
    return schedule;
  }

}

/** Whether two schedules have the same definition (the anchor only when a StartDate was given). */
function sameDefinition(a: StoredSchedule, b: StoredSchedule, compareAnchor: boolean): boolean {
  return (
    a.expression === b.expression &&
    a.timezone === b.timezone &&
    a.state === b.state &&
    a.catchUpWindowMs === b.catchUpWindowMs &&
    JSON.stringify(a.target) === JSON.stringify(b.target) &&
    JSON.stringify(a.policy) === JSON.stringify(b.policy) &&
    (!compareAnchor || a.anchorAt === b.anchorAt)
  );
}

/** StartDate and EndDate bound recurring schedules; Scheduler ignores both for a one-time at(). */
function tickBounds(expression: ScheduleExpression, startAt: number, endAt: number | undefined): TickBounds {
  if (expression.kind === 'at') return {};
  return { startAt, ...(endAt !== undefined ? { endAt } : {}) };
}

/** EndDate, flexible window and action after completion, checked; empty when none is set. */
function buildPolicy(input: ScheduleInput, startAt: number): SchedulePolicy {
  const policy: SchedulePolicy = {};
  if (input.endDate !== undefined && input.endDate !== null) {
    const endAt = new Date(input.endDate).getTime();
    if (!Number.isFinite(endAt)) throw invalidValue('EndDate', 'is not a valid date');
    if (endAt <= startAt) throw invalidValue('EndDate', `${new Date(endAt).toISOString()} is invalid; must be after the StartDate ${new Date(startAt).toISOString()}`);
    policy.endAt = endAt;
  }
  const minutes = input.flexibleWindowMinutes ?? 0;
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > scheduleLimits.maxFlexibleWindowMinutes) {
    throw invalidValue(
      'FlexibleTimeWindow.MaximumWindowInMinutes',
      `${JSON.stringify(minutes)} is invalid; must be an integer from 1 to ${scheduleLimits.maxFlexibleWindowMinutes} (0: no window)`,
    );
  }
  if (minutes > 0) policy.flexibleWindowMs = minutes * 60_000;
  if (input.deleteAfterCompletion !== undefined && typeof input.deleteAfterCompletion !== 'boolean') {
    throw invalidValue('ActionAfterCompletion', 'deleteAfterCompletion must be true or false');
  }
  if (input.deleteAfterCompletion) policy.deleteAfterCompletion = true;
  return policy;
}

function validateName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_FORM.test(name)) {
    throw invalidValue(
      'Name',
      `${JSON.stringify(name)} is invalid; must be 1-${scheduleLimits.nameLength} letters, digits, '-', '_' or '.'`,
    );
  }
  return name;
}

function missing(name: string): SluiceError {
  return new SluiceError('ResourceNotFoundException', `Name: the schedule '${name}' does not exist`, {
    field: 'Name',
  });
}
