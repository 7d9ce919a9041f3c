/**
 * `at(yyyy-mm-ddThh:mm:ss)`: EventBridge Scheduler's one-time schedule, a local date and time in
 * the schedule's time zone. It fires once; after that it has no next fire time.
 */
import { invalidSchedule, quoted } from './schedule-error.js';
import { wallFromFields } from './zoned-time.js';

const AT_FORMAT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Parses the text between `at(` and `)` into a wall-clock value (see zoned-time.ts). */
export function parseAt(body: string): number {
  const match = AT_FORMAT.exec(body);
  if (!match) {
    throw invalidSchedule(
      'ScheduleExpression',
      `at() takes a local date and time as yyyy-mm-ddThh:mm:ss, got ${quoted(body)}`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = wallFromFields(year, month, day, hour, minute, second);
  const check = new Date(wall);
  const valid =
    year >= 1 &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    check.getUTCFullYear() === year &&
    check.getUTCMonth() + 1 === month &&
    check.getUTCDate() === day;
  if (!valid) {
    throw invalidSchedule(
      'ScheduleExpression',
      `at(${body}) is not a real date and time (month 01-12, day within the month, hh 00-23, mm and ss 00-59)`,
    );
  }
  return wall;
}
