/**
 * EventBridge Scheduler schedule expressions: `rate(...)`, `cron(...)` and `at(...)`, parsed once
 * and asked for their fire times. A pure module: no clock, no I/O; the caller says "after when".
 *
 * Time zones (`ScheduleExpressionTimezone`, default UTC) apply to cron() and at(). DST policy:
 * - cron(): a local time that does not exist (spring forward) is skipped; a local time that happens
 *   twice (fall back) fires once, at its first occurrence. This is what EventBridge Scheduler
 *   documents ("your schedule invocation gets skipped … runs only once and doesn't repeat"), and
 *   differs from croner's own (Vixie cron) rules, which is why croner only does calendar arithmetic.
 * - at(): AWS documents nothing, so Sluice moves a time in a gap forward by the gap's length and
 *   fires a repeated time at its first occurrence (RFC 5545 / Temporal "compatible").
 * - rate(): elapsed time; a day is 24 hours, as AWS documents, so the local hour shifts across DST.
 *
 * Rate fire times are `anchor + k × period`, k ≥ 0. The default anchor is the Unix epoch, which
 * keeps parsing pure and aligns rates on UTC boundaries (rate(5 minutes) at :00, :05, …). AWS starts
 * a rate schedule at its StartDate, or at creation when it has none: pass that as `anchor`.
 */
import { parseAt } from './at.js';
import { compileCron, parseAwsCron, type CronFields } from './cron-aws.js';
import { nextRateFire, parseRate, type RateUnit } from './rate.js';
import { invalidSchedule, quoted } from './schedule-error.js';
import { compatibleInstantAt, resolveTimeZone } from './zoned-time.js';

export type { CronFields, DayOfMonthRule, DayOfWeekRule } from './cron-aws.js';
export type { RateUnit } from './rate.js';

export interface ScheduleExpressionOptions {
  /** An IANA time zone name (EventBridge Scheduler's `ScheduleExpressionTimezone`). Default `UTC`. */
  timezone?: string;
  /** rate() only: the first fire time, from which periods count (the schedule's StartDate). Default: the epoch. */
  anchor?: Date;
}

interface FireTimes {
  /** The expression text as given. */
  readonly expression: string;
  /** The time zone the expression is evaluated in. */
  readonly timezone: string;
  /** The first fire time strictly after `after`, or undefined when there are no more. */
  next(after: Date): Date | undefined;
  /** Up to `count` (0-10,000) fire times strictly after `after`, in order; fewer when they run out. */
  nextFireTimes(after: Date, count: number): Date[];
}

export interface RateScheduleExpression extends FireTimes {
  readonly kind: 'rate';
  readonly value: number;
  readonly unit: RateUnit;
  readonly periodMs: number;
  readonly anchor: Date;
}

export interface CronScheduleExpression extends FireTimes {
  readonly kind: 'cron';
  readonly fields: CronFields;
}

export interface AtScheduleExpression extends FireTimes {
  readonly kind: 'at';
  /** The one fire time: the local date and time in the zone, after the DST rule above. */
  readonly fireAt: Date;
}

export type ScheduleExpression = RateScheduleExpression | CronScheduleExpression | AtScheduleExpression;

export const MAX_EXPRESSION_LENGTH = 256;
export const MAX_FIRE_TIMES = 10_000;

const EXPRESSION_FORM = /^(rate|cron|at)\((.*)\)$/s;

/**
 * Parses `rate(N unit)`, `cron(Minutes Hours Day-of-month Month Day-of-week Year)` or
 * `at(yyyy-mm-ddThh:mm:ss)`. Every invalid input, whatever it is, throws a `SluiceError` with code
 * `ValidationException` whose message names the field and the rule it breaks.
 */
export function parseScheduleExpression(
  text: string,
  options: ScheduleExpressionOptions = {},
): ScheduleExpression {
  if (typeof text !== 'string' || text.length < 1 || text.length > MAX_EXPRESSION_LENGTH) {
    throw invalidSchedule('ScheduleExpression', `must be a string of 1-${MAX_EXPRESSION_LENGTH} characters`);
  }
  const zone = resolveTimeZone(options.timezone);
  const anchor = options.anchor ?? new Date(0);
  if (!(anchor instanceof Date) || Number.isNaN(anchor.getTime())) {
    throw invalidSchedule('StartDate', 'the rate anchor must be a valid Date');
  }
  const form = EXPRESSION_FORM.exec(text);
  if (!form) {
    throw invalidSchedule(
      'ScheduleExpression',
      `${quoted(text)} must be rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)`,
    );
  }
  const kind = form[1] as 'rate' | 'cron' | 'at';
  const body = form[2] ?? '';
  const common = { expression: text, timezone: zone.name };
  if (kind === 'rate') {
    const rate = parseRate(body);
    const anchorMs = anchor.getTime();
    return {
      kind,
      ...common,
      ...rate,
      anchor: new Date(anchorMs),
      ...fireTimes((afterMs) => nextRateFire(rate, anchorMs, afterMs)),
    };
  }
  if (kind === 'cron') {
    const fields = parseAwsCron(body);
    const compiled = compileCron(fields, zone);
    return { kind, ...common, fields, ...fireTimes((afterMs) => compiled.next(afterMs)) };
  }
  const fireAtMs = compatibleInstantAt(zone, parseAt(body));
  return {
    kind,
    ...common,
    fireAt: new Date(fireAtMs),
    ...fireTimes((afterMs) => (fireAtMs > afterMs ? fireAtMs : undefined)),
  };
}

function fireTimes(
  nextMs: (afterMs: number) => number | undefined,
): Pick<FireTimes, 'next' | 'nextFireTimes'> {
  const next = (after: Date): Date | undefined => {
    const found = nextMs(checkedTime(after));
    return found === undefined ? undefined : new Date(found);
  };
  const nextFireTimes = (after: Date, count: number): Date[] => {
    if (!Number.isInteger(count) || count < 0 || count > MAX_FIRE_TIMES) {
      throw invalidSchedule('count', `must be a whole number from 0 to ${MAX_FIRE_TIMES}`);
    }
    const times: Date[] = [];
    let afterMs = checkedTime(after);
    while (times.length < count) {
      const found = nextMs(afterMs);
      if (found === undefined) break;
      times.push(new Date(found));
      afterMs = found;
    }
    return times;
  };
  return { next, nextFireTimes };
}

function checkedTime(after: Date): number {
  const ms = after instanceof Date ? after.getTime() : NaN;
  if (Number.isNaN(ms)) throw invalidSchedule('after', 'must be a valid Date');
  return ms;
}
