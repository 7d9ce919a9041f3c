/**
 * `rate(value unit)`: a fixed period of elapsed time, counted from an anchor.
 *
 * EventBridge Scheduler fires a rate schedule first at its StartDate (or at once, when it has
 * none) and then every period after; a day is 24 hours of elapsed time, so a rate schedule drifts
 * an hour against the local clock across a DST change and the time zone plays no part.
 */
import { invalidSchedule, quoted } from './schedule-error.js';

export type RateUnit = 'minutes' | 'hours' | 'days';

export interface Rate {
  readonly value: number;
  readonly unit: RateUnit;
  readonly periodMs: number;
}

const UNIT_MS: Record<RateUnit, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };

/** The largest time a `Date` can hold, 100,000,000 days after the epoch. */
export const MAX_DATE_MS = 8.64e15;

/** Parses the text between `rate(` and `)`. */
export function parseRate(body: string): Rate {
  const parts = body.trim().split(/\s+/);
  const [valueText = '', unitText = ''] = parts;
  if (parts.length !== 2) {
    throw invalidSchedule(
      'ScheduleExpression',
      `rate() takes a value and a unit, e.g. rate(5 minutes), got ${quoted(body)}`,
    );
  }
  const value = /^[1-9]\d{0,15}$/.test(valueText) ? Number(valueText) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw invalidSchedule(
      'ScheduleExpression',
      `rate value ${quoted(valueText)} must be a positive whole number`,
    );
  }
  const singular = /^(minute|hour|day)$/.exec(unitText);
  const plural = /^(minutes|hours|days)$/.exec(unitText);
  if (!singular && !plural) {
    throw invalidSchedule(
      'ScheduleExpression',
      `rate unit ${quoted(unitText)} is not valid: use minute | minutes | hour | hours | day | days`,
    );
  }
  if (value === 1 && plural) {
    throw invalidSchedule(
      'ScheduleExpression',
      `rate unit ${quoted(unitText)} must be singular when the value is 1 (rate(1 ${unitText.slice(0, -1)}))`,
    );
  }
  if (value !== 1 && singular) {
    throw invalidSchedule(
      'ScheduleExpression',
      `rate unit ${quoted(unitText)} must be plural when the value is not 1 (rate(${value} ${unitText}s))`,
    );
  }
  const unit = (plural ? unitText : `${unitText}s`) as RateUnit;
  const periodMs = value * UNIT_MS[unit];
  if (periodMs > MAX_DATE_MS) {
    throw invalidSchedule(
      'ScheduleExpression',
      `rate ${quoted(body)} is too long: the period must be at most 100,000,000 days`,
    );
  }
  return { value, unit, periodMs };
}

/** The first of `anchor, anchor + period, anchor + 2 × period, …` strictly after `afterMs`. */
export function nextRateFire(rate: Rate, anchorMs: number, afterMs: number): number | undefined {
  if (afterMs < anchorMs) return anchorMs;
  const periods = Math.floor((afterMs - anchorMs) / rate.periodMs) + 1;
  const next = anchorMs + periods * rate.periodMs;
  return next <= MAX_DATE_MS ? next : undefined;
}
