/**
 * What to do with a due tick: the missed-tick policy, as a pure function.
 *
 * A schedule stores its next tick. When a node finds that tick due (its timer fired, or it starts and
 * finds the tick in the past because every node was down or busy), it looks for the latest tick L at or
 * before now:
 * - if now - L is within the schedule's catch-up window (default 5 minutes), the schedule fires once,
 *   for L: however many ticks were missed, they coalesce into one firing (like a flexible time window
 *   that closes after the window);
 * - otherwise the missed ticks are skipped without firing.
 * Either way the next tick becomes the first one strictly after now. A tick fired on time is simply
 * the case L = the stored tick, now - L ≈ 0.
 */
import type { ScheduleExpression } from './expression.js';

export interface TickPlan {
  /** Whether to fire, and for which tick (the `scheduledTime` the target sees). */
  fire: boolean;
  scheduledTime: number;
  /** The tick to store next, or null when the expression has no more. */
  next: number | null;
}

/** Walks at most this many ticks inside the window (a minute-rate over a one-day window is 1,440). */
const MAX_WALK = 100_000;

export function planTick(p: {
  expression: ScheduleExpression;
  tick: number;
  now: number;
  catchUpWindowMs: number;
}): TickPlan {
  const { expression, now, catchUpWindowMs } = p;
  const windowStart = now - catchUpWindowMs;
  // The first tick worth looking at: the stored one if it is inside the window, else the first tick in the window.
  let latest: number | undefined;
  let candidate: number | undefined =
    p.tick >= windowStart ? p.tick : expression.next(new Date(windowStart - 1))?.getTime();
  for (let walked = 0; candidate !== undefined && candidate <= now && walked < MAX_WALK; walked++) {
    latest = candidate;
    candidate = expression.next(new Date(candidate))?.getTime();
  }
  const next =
    candidate !== undefined && candidate > now
      ? candidate
      : (expression.next(new Date(now))?.getTime() ?? null);
  if (latest === undefined) return { fire: false, scheduledTime: p.tick, next };
  return { fire: true, scheduledTime: latest, next };
}

/** The first tick strictly after `after`, or null. */
export function firstTickAfter(expression: ScheduleExpression, after: number): number | null {
  return expression.next(new Date(after))?.getTime() ?? null;
}
