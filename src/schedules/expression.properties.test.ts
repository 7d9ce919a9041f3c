/**
 * Properties of cron() fire times, checked against a brute-force reference written independently of
 * the module: it walks the local calendar day by day, applies the AWS day rules directly, and finds
 * the instants of each local time with Intl and the zones' known offsets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScheduleExpression } from './expression.js';

interface FieldArbitrary {
  text: string;
  values: number[];
}

function rangeOf(from: number, to: number, step = 1): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

function numberField(min: number, max: number, names?: string[]): fc.Arbitrary<FieldArbitrary> {
  const value = fc.integer({ min, max });
  const show = (n: number, useName: boolean) => (useName && names ? (names[n - min] as string) : `${n}`);
  return fc.oneof(
    fc.constant({ text: '*', values: rangeOf(min, max) }),
    fc.tuple(value, fc.boolean()).map(([n, useName]) => ({ text: show(n, useName), values: [n] })),
    fc.tuple(value, value, fc.boolean()).map(([a, b, useName]) => {
      const [from, to] = a <= b ? [a, b] : [b, a];
      return { text: `${show(from, useName)}-${show(to, useName)}`, values: rangeOf(from, to) };
    }),
    fc
      .tuple(value, fc.integer({ min: 1, max: Math.max(1, Math.floor((max - min) / 2)) }))
      .map(([from, step]) => ({
        text: `${from}/${step}`,
        values: rangeOf(from, max, step),
      })),
    fc
      .integer({ min: 1, max: Math.max(1, max - min) })
      .map((step) => ({ text: `*/${step}`, values: rangeOf(min, max, step) })),
    fc.uniqueArray(value, { minLength: 2, maxLength: 4 }).map((list) => ({
      text: list.join(','),
      values: [...list].sort((a, b) => a - b),
    })),
  );
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

type DayRule =
  | { field: 'dom'; text: string; kind: 'set'; values: number[] }
  | { field: 'dom'; text: 'L' | 'LW'; kind: 'L' | 'LW' }
  | { field: 'dom'; text: string; kind: 'W'; day: number }
  | { field: 'dow'; text: string; kind: 'set'; values: number[] }
  | { field: 'dow'; text: string; kind: 'last'; day: number }
  | { field: 'dow'; text: string; kind: 'nth'; day: number; nth: number };

const dayRule: fc.Arbitrary<DayRule> = fc.oneof(
  numberField(1, 31).map((f): DayRule => ({ field: 'dom', text: f.text, kind: 'set', values: f.values })),
  fc.constantFrom<DayRule>({ field: 'dom', text: 'L', kind: 'L' }, { field: 'dom', text: 'LW', kind: 'LW' }),
  fc.integer({ min: 1, max: 31 }).map((day): DayRule => ({ field: 'dom', text: `${day}W`, kind: 'W', day })),
  numberField(1, 7, DAY_NAMES)
    .filter((f) => !f.text.includes('/'))
    .map((f): DayRule => ({ field: 'dow', text: f.text, kind: 'set', values: f.values })),
  fc
    .integer({ min: 1, max: 7 })
    .map((day): DayRule => ({ field: 'dow', text: `${day}L`, kind: 'last', day })),
  fc
    .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }))
    .map(([day, nth]): DayRule => ({ field: 'dow', text: `${day}#${nth}`, kind: 'nth', day, nth })),
);

const yearField: fc.Arbitrary<FieldArbitrary> = fc.oneof(
  fc.constant({ text: '*', values: rangeOf(1970, 2199) }),
  fc.integer({ min: 2020, max: 2032 }).map((year) => ({ text: `${year}`, values: [year] })),
  fc
    .tuple(fc.integer({ min: 2020, max: 2032 }), fc.integer({ min: 0, max: 6 }))
    .map(([from, span]) => ({ text: `${from}-${from + span}`, values: rangeOf(from, from + span) })),
);

/** Hours that often land on the DST changes (01:00-03:00). */
const hourField = fc.oneof(
  numberField(0, 23),
  fc.integer({ min: 0, max: 3 }).map((h) => ({ text: `${h}`, values: [h] })),
);

const cronSpec = fc.record({
  minutes: numberField(0, 59),
  hours: hourField,
  day: dayRule,
  months: numberField(1, 12, MONTH_NAMES),
  years: yearField,
});
type CronSpec = typeof cronSpec extends fc.Arbitrary<infer T> ? T : never;

function specText(spec: CronSpec): string {
  const dom = spec.day.field === 'dom' ? spec.day.text : '?';
  const dow = spec.day.field === 'dow' ? spec.day.text : '?';
  return `cron(${spec.minutes.text} ${spec.hours.text} ${dom} ${spec.months.text} ${dow} ${spec.years.text})`;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** AWS numbering: 1 = Sunday … 7 = Saturday. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function dayMatches(rule: DayRule, year: number, month: number, day: number): boolean {
  const last = daysIn(year, month);
  const dow = weekday(year, month, day);
  if (rule.field === 'dow') {
    if (rule.kind === 'set') return rule.values.includes(dow);
    if (rule.kind === 'last') return dow === rule.day && day + 7 > last;
    return dow === rule.day && Math.ceil(day / 7) === rule.nth;
  }
  if (rule.kind === 'set') return rule.values.includes(day);
  if (rule.kind === 'L') return day === last;
  if (rule.kind === 'W') {
    if (rule.day > last) return false;
    const target = weekday(year, month, rule.day);
    let nearest = rule.day;
    if (target === 7) nearest = rule.day === 1 ? 3 : rule.day - 1;
    if (target === 1) nearest = rule.day === last ? rule.day - 2 : rule.day + 1;
    return day === nearest;
  }
  let lastWeekday = last;
  while (weekday(year, month, lastWeekday) === 1 || weekday(year, month, lastWeekday) === 7) lastWeekday -= 1;
  return day === lastWeekday;
}

/** Every matching local (wall-clock) time from `fromWall` up to `untilWall`, as floating UTC milliseconds. */
function referenceWalls(spec: CronSpec, fromWall: number, untilWall: number, limit: number): number[] {
  const walls: number[] = [];
  const start = new Date(fromWall);
  for (
    let dayMs = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
    dayMs < untilWall;
    dayMs += 86_400_000
  ) {
    const date = new Date(dayMs);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (
      !spec.years.values.includes(year) ||
      !spec.months.values.includes(month) ||
      !dayMatches(spec.day, year, month, day)
    )
      continue;
    for (const hour of spec.hours.values) {
      for (const minute of spec.minutes.values) {
        const wall = dayMs + hour * 3_600_000 + minute * 60_000;
        if (wall >= fromWall) walls.push(wall);
        if (walls.length >= limit) return walls;
      }
    }
  }
  return walls;
}

const wallFormats = new Map<string, Intl.DateTimeFormat>();
/** The local time at an instant, as floating UTC milliseconds, straight from Intl. */
function wallOf(timezone: string, instant: number): number {
  let format = wallFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallFormats.set(timezone, format);
  }
  const parts = format.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((entry) => entry.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
}

/** Known offsets of the test zones, in hours; enough to find every instant of a wall time. */
const ZONE_OFFSETS: Record<string, number[]> = {
  UTC: [0],
  'Asia/Kolkata': [5.5],
  'America/New_York': [-5, -4],
  'Europe/Berlin': [1, 2],
};

/** The expected fire times: the first instant of each reference wall time, skipping those that do not exist. */
function referenceFires(
  spec: CronSpec,
  timezone: string,
  after: number,
  count: number,
  until: number,
): number[] {
  const instants: number[] = [];
  for (const wall of referenceWalls(spec, wallOf(timezone, after) - 3 * 3_600_000, until, count + 1000)) {
    const matches = (ZONE_OFFSETS[timezone] ?? [])
      .map((hours) => wall - hours * 3_600_000)
      .filter((instant) => wallOf(timezone, instant) === wall);
    const first = Math.min(...matches);
    if (matches.length > 0 && first > after) instants.push(first);
    if (instants.length === count) break;
  }
  return instants;
}

/** Within a day of a DST change in New York or Berlin (2024 and 2031). */
const nearDstChange = fc
  .tuple(
    fc.constantFrom(
      Date.UTC(2024, 2, 10, 7),
      Date.UTC(2024, 10, 3, 6),
      Date.UTC(2024, 2, 31, 1),
      Date.UTC(2024, 9, 27, 1),
      Date.UTC(2031, 2, 9, 7),
      Date.UTC(2031, 10, 2, 6),
      Date.UTC(2031, 2, 30, 1),
      Date.UTC(2031, 9, 26, 1),
    ),
    fc.integer({ min: -86_400_000, max: 86_400_000 }),
  )
  .map(([change, offset]) => change + offset);

/** After times in 2020-2032, one in three near a DST change. */
const afterTime = fc.oneof(
  fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2032, 0, 1) }),
  nearDstChange,
);

/** Daily schedules (any day, month and year), so a DST change day always matches. */
const dailySpec: fc.Arbitrary<CronSpec> = fc.record({
  minutes: numberField(0, 59),
  hours: hourField,
  day: fc.constant<DayRule>({ field: 'dom', text: '*', kind: 'set', values: rangeOf(1, 31) }),
  months: fc.constant({ text: '*', values: rangeOf(1, 12) }),
  years: fc.constant({ text: '*', values: rangeOf(1970, 2199) }),
});

describe('properties', () => {
  const windowEnd = Date.UTC(2034, 0, 1);

  function checkFireTimes(spec: CronSpec, timezone: string, after: number): void {
    const expression = parseScheduleExpression(specText(spec), { timezone });
    const times = expression.nextFireTimes(new Date(after), 5).map((date) => date.getTime());
    let previous = after;
    for (const time of times) {
      expect(time).toBeGreaterThan(previous);
      previous = time;
      const wall = new Date(wallOf(timezone, time));
      const [year, month, day] = [wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate()];
      expect(spec.years.values).toContain(year);
      expect(spec.months.values).toContain(month);
      expect(dayMatches(spec.day, year, month, day)).toBe(true);
      expect(spec.hours.values).toContain(wall.getUTCHours());
      expect(spec.minutes.values).toContain(wall.getUTCMinutes());
      expect(wall.getUTCSeconds()).toBe(0);
      // A repeated local time fires at its first occurrence only (overlaps here last an hour).
      expect(wallOf(timezone, time - 3_600_000)).not.toBe(wallOf(timezone, time));
    }
    const expected = referenceFires(spec, timezone, after, 5, windowEnd);
    expect(times.filter((time) => time < windowEnd)).toEqual(expected.filter((time) => time < windowEnd));
  }

  for (const timezone of Object.keys(ZONE_OFFSETS)) {
    it(`fire times in ${timezone} are strictly increasing, match every field and miss none`, () => {
      fc.assert(
        fc.property(cronSpec, afterTime, (spec, after) => checkFireTimes(spec, timezone, after)),
        { numRuns: 150 },
      );
    });
  }

  for (const timezone of ['America/New_York', 'Europe/Berlin']) {
    it(`daily fire times around ${timezone}'s DST changes skip the gap, fire repeated times once and miss none`, () => {
      fc.assert(
        fc.property(dailySpec, nearDstChange, (spec, after) => checkFireTimes(spec, timezone, after)),
        { numRuns: 200 },
      );
    });
  }

  it('next() agrees with nextFireTimes() for rate() at any anchor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.constantFrom('minutes', 'hours', 'days'),
        fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
        (value, unit, anchorMs, after) => {
          const text = value === 1 ? `rate(1 ${unit.slice(0, -1)})` : `rate(${value} ${unit})`;
          const expression = parseScheduleExpression(text, { anchor: new Date(anchorMs) });
          const periodMs = expression.kind === 'rate' ? expression.periodMs : NaN;
          const times = expression.nextFireTimes(new Date(after), 4).map((date) => date.getTime());
          expect(times).toHaveLength(4);
          expect(times[0]).toBe(expression.next(new Date(after))?.getTime());
          for (const [index, time] of times.entries()) {
            expect(time).toBeGreaterThan(index === 0 ? after : (times[index - 1] as number));
            expect((time - anchorMs) % periodMs).toBe(0);
          }
          // The first fire time is the anchor itself, or the first period boundary after `after`.
          if (after < anchorMs) expect(times[0]).toBe(anchorMs);
          else expect((times[0] as number) - periodMs).toBeLessThanOrEqual(after);
        },
      ),
    );
  });
});
