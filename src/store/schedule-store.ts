/**
 * The schedule half of the store. A schedule row holds its definition and the instant of its next tick.
 * Firing a tick is one conditional transition, `scheduleClaimTick`: it moves `nextFireAt` from the tick
 * to the following one only if it still holds that tick, and in the same transaction inserts the
 * delivery into the outbox. Two nodes racing for a tick therefore fire it once: the loser's update
 * matches no row. Definition changes publish `scheduleCatalogChannel` so every node re-arms its timer.
 */
import type { NewOutboxEntry } from './outbox-store.js';
import type { ScheduleTarget } from './targets.js';

export type ScheduleState = 'ENABLED' | 'DISABLED';

/**
 * EventBridge Scheduler's bounds and spread of a schedule, beyond its expression (all optional).
 * Stored as JSON; a schedule with none of them stores null.
 */
export interface SchedulePolicy {
  /** EndDate: no tick after this instant (ms). */
  endAt?: number;
  /** FlexibleTimeWindow FLEXIBLE: each tick is delivered at a point in [tick, tick + window). */
  flexibleWindowMs?: number;
  /** ActionAfterCompletion DELETE: the schedule is deleted once it has no more ticks. */
  deleteAfterCompletion?: boolean;
}

export interface StoredSchedule {
  name: string;
  expression: string;
  timezone: string;
  target: ScheduleTarget;
  state: ScheduleState;
  /** A tick missed by at most this much (the engine was down or late) fires once on wake-up; older ones are skipped. */
  catchUpWindowMs: number;
  /** rate(): the anchor from which periods count (StartDate, or creation). */
  anchorAt: number;
  /** The next tick to fire, or null when the expression has no more (a past at()). */
  nextFireAt: number | null;
  /** EndDate, flexible window, action after completion; null when none. */
  policy: SchedulePolicy | null;
  /** The latest tick claimed (fired or skipped). */
  lastTickAt: number | null;
  /** The latest tick that fired. */
  lastFiredAt: number | null;
  createdAt: number;
  modifiedAt: number;
}

export interface ScheduleStore {
  scheduleCreate(p: { schedule: StoredSchedule }): Promise<'created' | 'exists'>;
  /** Replaces a schedule's definition (and its next tick); undefined when it does not exist. */
  scheduleUpdate(p: {
    name: string;
    expression: string;
    timezone: string;
    target: ScheduleTarget;
    state: ScheduleState;
    catchUpWindowMs: number;
    anchorAt: number;
    nextFireAt: number | null;
    policy: SchedulePolicy | null;
    now: number;
  }): Promise<StoredSchedule | undefined>;
  scheduleDelete(p: { name: string }): Promise<boolean>;
  scheduleGet(p: { name: string }): Promise<StoredSchedule | undefined>;
  scheduleList(p: { prefix?: string }): Promise<StoredSchedule[]>;
  /** Enabled schedules whose next tick is at or before `now` (up to `limit`), and the earliest tick after `now`. */
  scheduleDue(p: {
    now: number;
    limit: number;
  }): Promise<{ due: StoredSchedule[]; nextDueAt: number | null }>;
  /**
   * Claims `tick`: if the schedule is enabled and its next tick is still `tick`, sets it to `nextFireAt`,
   * records the tick, and inserts `delivery` (null: the tick is skipped by the missed-tick policy).
   * False when another caller claimed it first or the schedule changed.
   */
  scheduleClaimTick(p: {
    name: string;
    tick: number;
    nextFireAt: number | null;
    delivery: NewOutboxEntry | null;
    now: number;
  }): Promise<boolean>;
}

export const scheduleCatalogChannel = 'schedules';

/** The stored form of a policy: JSON, or null for none. */
export function policyText(policy: SchedulePolicy | null | undefined): string | null {
  return policy && Object.keys(policy).length > 0 ? JSON.stringify(policy) : null;
}
