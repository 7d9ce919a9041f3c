/**
 * A schedule's active window and flexible spread, as pure functions (EventBridge Scheduler's StartDate,
 * EndDate and FlexibleTimeWindow).
 *
 * - Ticks are bounded: none before the start (StartDate, inclusive; for a schedule without one, its
 *   creation) and none after the end (EndDate, inclusive). A schedule past its end has no next tick.
 * - A FLEXIBLE window of W delivers each tick at tick + offset, 0 <= offset < W: never before the
 *   scheduled time. The offset is deterministic, derived from the schedule's name and the tick (the
 *   first 48 bits of SHA-256 of `name:tick`, modulo W in whole seconds), so every node racing for the
 *   tick computes the same instant, a redelivery keeps it, and different schedules sharing one cron
 *   are spread apart instead of firing together.
 */
import { createHash } from 'node:crypto';
import type { ScheduleExpression } from './expression.js';

export interface TickBounds {
  /** No tick before this instant (ms). */
  startAt?: number;
  /** No tick after this instant (ms). */
  endAt?: number;
}

/** The expression with its ticks restricted to [startAt, endAt]. */
export function boundedExpression(expression: ScheduleExpression, bounds: TickBounds): ScheduleExpression {
  const { startAt, endAt } = bounds;
  if (startAt === undefined && endAt === undefined) return expression;
  const next = (after: Date): Date | undefined => {
    const from = startAt !== undefined && after.getTime() < startAt ? new Date(startAt - 1) : after;
    const tick = expression.next(from);
    return tick === undefined || (endAt !== undefined && tick.getTime() > endAt) ? undefined : tick;
  };
  const nextFireTimes = (after: Date, count: number): Date[] => {
    const times: Date[] = [];
    for (let tick = next(after); tick !== undefined && times.length < count; tick = next(tick)) times.push(tick);
    return times;
  };
  return { ...expression, next, nextFireTimes };
}

/** When a tick is delivered within a flexible window of `windowMs` (0 or undefined: at the tick). */
export function flexibleDeliveryAt(name: string, tick: number, windowMs: number | undefined): number {
  if (!windowMs || windowMs <= 0) return tick;
  const digest = createHash('sha256').update(`${name}:${tick}`).digest();
  const seconds = Math.floor(windowMs / 1000);
  return tick + (digest.readUIntBE(0, 6) % seconds) * 1000;
}
