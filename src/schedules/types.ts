/** Schedules in EventBridge Scheduler's words: an expression, a time zone, a target, a state. */
import type { ScheduleState } from '../store/schedule-store.js';
import type { TargetInput } from './target.js';
import type { ScheduleTarget } from '../store/targets.js';

export interface ScheduleInput {
  /** 1-64 letters, digits, `-`, `_` and `.`. */
  name: string;
  /** `rate(5 minutes)`, `cron(0 3 * * ? *)`, `at(2026-03-01T09:00:00)`. */
  expression: string;
  /** IANA time zone for cron() and at(); default UTC. */
  timezone?: string;
  target: TargetInput;
  /** Default ENABLED. */
  state?: ScheduleState;
  /**
   * A tick missed by at most this many seconds (every node was down or busy) fires once, late; older
   * missed ticks are skipped. Several missed ticks fire once, for the latest. 1-86,400, default 300.
   */
  catchUpWindowSeconds?: number;
  /**
   * EventBridge's StartDate: no tick before it (inclusive), and rate() periods count from it; default:
   * creation.
   */
  startDate?: Date | number;
  /** EventBridge's EndDate: no tick after it (inclusive); then the schedule has no next tick. */
  endDate?: Date | number | null;
  /**
   * EventBridge's FlexibleTimeWindow FLEXIBLE: each tick is delivered at a deterministic point within this
   * many minutes after it (1-1,440; see window.ts). Default (or 0): at the tick.
   */
  flexibleWindowMinutes?: number;
  /** EventBridge's ActionAfterCompletion DELETE: the schedule is deleted once it has no more ticks. */
  deleteAfterCompletion?: boolean;
}

export type ScheduleUpdate = Partial<Omit<ScheduleInput, 'name'>>;

export interface ScheduleView {
  name: string;
  expression: string;
  timezone: string;
  target: ScheduleTarget;
  state: ScheduleState;
  catchUpWindowSeconds: number;
  startDate: string;
  endDate: string | null;
  flexibleWindowMinutes: number;
  deleteAfterCompletion: boolean;
  /** The next tick, ISO 8601 UTC, or null when there are no more (or the schedule is disabled). */
  nextFireTime: string | null;
  lastFiredTime: string | null;
  createdAt: string;
  modifiedAt: string;
}

/** What a target receives when no fixed input was given: EventBridge's "Scheduled Event". */
export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.scheduler';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

/** The outbox payload of a tick. */
export interface TickDelivery {
  schedule: string;
  scheduledTime: number;
  target: ScheduleTarget;
  /** The event for a function or queue target, fixed at claim time so a retry delivers the same. */
  event: unknown;
  /** When it is first due (the tick, or later within a flexible window); a RetryPolicy's event age counts from it. */
  dueAt?: number;
  /** The schedule's last invocation, of a schedule deleted after completion (ActionAfterCompletion DELETE): once it has an outcome, the schedule goes. */
  last?: boolean;
}

export const scheduleLimits = {
  defaultCatchUpWindowSeconds: 300,
  maxCatchUpWindowSeconds: 86_400,
  nameLength: 64,
  maxFlexibleWindowMinutes: 1440,
} as const;
