/**
 * Wall-clock time in an IANA time zone, and the DST rules that turn it back into instants.
 *
 * A *wall* value is a local date and time written as milliseconds since the epoch as if the zone
 * were UTC ("floating" time): 02:30 on 2024-03-10 in New York is `Date.UTC(2024, 2, 10, 2, 30)`,
 * whatever offset New York has then. Cron arithmetic runs on wall values, where every day has 24
 * hours; only the last step, wall → instant, meets DST. A wall value can name no instant (the hour
 * skipped when clocks spring forward) or two (the hour repeated when they fall back).
 */
import { invalidSchedule, quoted } from './schedule-error.js';

const DAY_MS = 86_400_000;

export interface TimeZone {
  /** The name as the caller gave it (e.g. `America/New_York`). */
  readonly name: string;
  /** The zone's offset from UTC at an instant, in milliseconds (New York in winter: -5 h). */
  offsetAt(instantMs: number): number;
}

const zones = new Map<string, TimeZone>();

/** An IANA name: letters first, then letters, digits, `_ + -`, in `/`-separated parts. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/**
 * Checks an EventBridge Scheduler `ScheduleExpressionTimezone` (1-50 characters, an IANA name the
 * runtime's time zone database knows) and returns the zone. Undefined means UTC, AWS's default.
 */
export function resolveTimeZone(name: string | undefined): TimeZone {
  const zoneName = name ?? 'UTC';
  const cached = zones.get(zoneName);
  if (cached) return cached;
  if (typeof zoneName !== 'string' || zoneName.length < 1 || zoneName.length > 50) {
    throw invalidSchedule('ScheduleExpressionTimezone', 'must be an IANA time zone name of 1-50 characters');
  }
  let format: Intl.DateTimeFormat;
  try {
    if (!IANA_NAME.test(zoneName)) throw new RangeError('not an IANA name');
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zoneName,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw invalidSchedule(
      'ScheduleExpressionTimezone',
      `${quoted(zoneName)} is not an IANA time zone name (e.g. America/New_York, Europe/Berlin, UTC)`,
    );
  }
  const zone: TimeZone = { name: zoneName, offsetAt: (instantMs) => offsetFromParts(format, instantMs) };
  zones.set(zoneName, zone);
  return zone;
}

function offsetFromParts(format: Intl.DateTimeFormat, instantMs: number): number {
  const wholeSecond = Math.floor(instantMs / 1000) * 1000;
  const fields: Record<string, string> = {};
  for (const part of format.formatToParts(wholeSecond)) fields[part.type] = part.value;
  const year = fields.era === 'BC' ? 1 - Number(fields.year) : Number(fields.year);
  const wall = wallFromFields(
    year,
    Number(fields.month),
    Number(fields.day),
    Number(fields.hour),
    Number(fields.minute),
    Number(fields.second),
  );
  return wall - wholeSecond;
}

/** A wall value from its fields (month 1-12). Unlike `Date.UTC`, years 0-99 stay years 0-99. */
export function wallFromFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

/** The local time at an instant, as a wall value. */
export function toWallClock(zone: TimeZone, instantMs: number): number {
  return instantMs + zone.offsetAt(instantMs);
}

/**
 * Every instant whose local time in the zone is `wallMs`, earliest first: none in a spring-forward
 * gap, two in a fall-back overlap, one otherwise. It probes the offsets a day either side, which
 * finds every transition of real zones (none has two transitions within a day of each other).
 */
export function instantsAt(zone: TimeZone, wallMs: number): number[] {
  const found = new Set<number>();
  for (const probe of [wallMs - DAY_MS, wallMs, wallMs + DAY_MS]) {
    const instant = wallMs - zone.offsetAt(probe);
    if (zone.offsetAt(instant) === wallMs - instant) found.add(instant);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The cron rule, EventBridge Scheduler's documented one: a local time that does not exist is
 * skipped (undefined), a local time that happens twice fires once, at its first occurrence.
 */
export function firstInstantAt(zone: TimeZone, wallMs: number): number | undefined {
  return instantsAt(zone, wallMs)[0];
}

/**
 * The one-time rule (AWS documents none for `at()`; this is RFC 5545's and Temporal's
 * "compatible" choice): a local time in a spring-forward gap moves forward by the gap's length
 * (02:30 in a 02:00→03:00 gap fires at 03:30), a repeated one fires at its first occurrence.
 */
export function compatibleInstantAt(zone: TimeZone, wallMs: number): number {
  const first = firstInstantAt(zone, wallMs);
  if (first !== undefined) return first;
  // In a gap the offset rose, so the offset in force before it is the smaller one.
  const offsetBefore = Math.min(zone.offsetAt(wallMs - DAY_MS), zone.offsetAt(wallMs + DAY_MS));
  return wallMs - offsetBefore;
}
