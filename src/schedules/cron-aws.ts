/**
 * AWS cron expressions: `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, as EventBridge
 * and EventBridge Scheduler read them, parsed into plain data and evaluated with croner.
 *
 * The syntax follows the AWS "Cron expressions reference": six fields; `, - * /` in Minutes, Hours,
 * Day-of-month, Month and Year; `?`, `L` and `W` (and `LW`) in Day-of-month; `?`, `L` and `#` in
 * Day-of-week, where 1-7 (or SUN-SAT) are Sunday-Saturday (Unix cron says 0-6); Year 1970-2199;
 * exactly one of Day-of-month and Day-of-week is `?`. Like Quartz, names and letters are
 * case-insensitive, `L`, `LW`, `nW`, `nL` and `n#k` stand alone in their field, and `a/k` means
 * "from a to the field's maximum, every k". Ranges must run upwards (`FRI-MON` is rejected).
 *
 * How croner is used: the parser expands every list, range and step itself (so it owns every error
 * message), then hands croner a canonical 7-part pattern (seconds first, weekdays renumbered to
 * 0-6, `?` written as `*`, day-of-month AND day-of-week). Croner runs in UTC and only does calendar
 * arithmetic on wall-clock values (see zoned-time.ts): last days, nearest weekdays, nth weekdays,
 * leap years, the year field. The time zone and DST are applied afterwards by `nextCronFire`, because
 * croner's own DST rules (Vixie cron's) are not EventBridge Scheduler's.
 */
import { Cron } from 'croner';
import { invalidSchedule, quoted } from './schedule-error.js';
import { firstInstantAt, toWallClock, type TimeZone } from './zoned-time.js';

export type DayOfMonthRule =
  | { kind: 'any' }
  | { kind: 'days'; days: readonly number[] }
  /** `L`: the last day of the month. */
  | { kind: 'last' }
  /** `LW`: the last weekday (Monday-Friday) of the month. */
  | { kind: 'lastWeekday' }
  /**
   * `15W`: the weekday nearest the 15th, never leaving the month (`1W` on a Saturday is Monday the
   * 3rd). A day the month lacks never fires: `31W` skips 30-day months (croner's rule; AWS is silent).
   */
  | { kind: 'nearestWeekday'; day: number };

/** Days of the week use AWS numbering: 1 = Sunday … 7 = Saturday. */
export type DayOfWeekRule =
  | { kind: 'any' }
  | { kind: 'days'; days: readonly number[] }
  /** `6L`: the last Friday of the month. A bare `L` is "the last day of the week", Saturday: `days: [7]`. */
  | { kind: 'last'; day: number }
  /** `3#2`: the second Tuesday of the month. */
  | { kind: 'nth'; day: number; nth: number };

/** A parsed AWS cron expression. Number lists are sorted, without repeats. */
export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthRule;
  /** 1-12. */
  readonly months: readonly number[];
  readonly dayOfWeek: DayOfWeekRule;
  /** 1970-2199. */
  readonly years: readonly number[];
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly step: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59, step: true };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23, step: true };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31, step: true };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES, step: true };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, step: false };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199, step: true };

const FIELD_ORDER = 'Minutes Hours Day-of-month Month Day-of-week Year';

/** Parses the text between `cron(` and `)`. Throws a `ValidationException` naming the field and rule. */
export function parseAwsCron(body: string): CronFields {
  const parts = body.trim().toUpperCase().split(/\s+/);
  if (body.trim() === '' || parts.length !== 6) {
    const got = body.trim() === '' ? 0 : parts.length;
    throw invalidSchedule('ScheduleExpression', `cron() takes 6 fields (${FIELD_ORDER}), got ${got}`);
  }
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = parts;
  const fields: CronFields = {
    minutes: parseList(MINUTES, minutes),
    hours: parseList(HOURS, hours),
    dayOfMonth: parseDayOfMonth(dayOfMonth),
    months: parseList(MONTH, month),
    dayOfWeek: parseDayOfWeek(dayOfWeek),
    years: parseList(YEAR, year),
  };
  if (dayOfMonth === '?' && dayOfWeek === '?') {
    throw invalidSchedule(
      'ScheduleExpression',
      `day-of-month and day-of-week are both '?': exactly one of them must be '?'`,
    );
  }
  if (dayOfMonth !== '?' && dayOfWeek !== '?') {
    throw invalidSchedule(
      'ScheduleExpression',
      `day-of-month ${quoted(dayOfMonth)} and day-of-week ${quoted(dayOfWeek)} are both set: exactly one of them must be '?'`,
    );
  }
  return fields;
}

function parseDayOfMonth(text: string): DayOfMonthRule {
  if (text === '?' || text === '*') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) return { kind: 'nearestWeekday', day: parseValue(DAY_OF_MONTH, nearest[1] ?? '') };
  if (/[LW]/.test(text)) {
    throw invalidSchedule(
      'ScheduleExpression',
      `day-of-month ${quoted(text)} is not valid: L, LW and nW (e.g. 15W) stand alone in the field`,
    );
  }
  return { kind: 'days', days: parseList(DAY_OF_MONTH, text) };
}

function parseDayOfWeek(text: string): DayOfWeekRule {
  if (text === '?' || text === '*') return { kind: 'any' };
  if (text === 'L') return { kind: 'days', days: [7] };
  if (text.includes('#')) {
    const nth = /^([A-Z0-9]+)#(\d+)$/.exec(text);
    if (!nth) {
      throw invalidSchedule(
        'ScheduleExpression',
        `day-of-week ${quoted(text)} is not valid: '#' takes one day and one occurrence (e.g. 3#2), alone in the field`,
      );
    }
    const occurrence = Number(nth[2]);
    if (!(occurrence >= 1 && occurrence <= 5)) {
      throw invalidSchedule(
        'ScheduleExpression',
        `day-of-week ${quoted(text)}: the occurrence after '#' must be 1-5`,
      );
    }
    return { kind: 'nth', day: parseValue(DAY_OF_WEEK, nth[1] ?? ''), nth: occurrence };
  }
  const last = /^([A-Z0-9]+)L$/.exec(text);
  if (last) return { kind: 'last', day: parseValue(DAY_OF_WEEK, last[1] ?? '') };
  return { kind: 'days', days: parseList(DAY_OF_WEEK, text) };
}

/** A field of `,`-separated `*`, values, `a-b` ranges and (where allowed) `/k` steps. */
function parseList(spec: FieldSpec, text: string): number[] {
  const values = new Set<number>();
  for (const element of text.split(',')) {
    if (element === '') {
      throw invalidSchedule('ScheduleExpression', `${spec.name} ${quoted(text)} has an empty list element`);
    }
    if (element === '?') {
      throw invalidSchedule(
        'ScheduleExpression',
        `${spec.name} ${quoted(text)} is not valid: '?' stands alone, in day-of-month or day-of-week only`,
      );
    }
    const [base = '', stepText, ...extra] = element.split('/');
    if (stepText !== undefined && !spec.step) {
      throw invalidSchedule(
        'ScheduleExpression',
        `${spec.name} ${quoted(element)} is not valid: ${spec.name} takes no '/'`,
      );
    }
    if (extra.length > 0) {
      throw invalidSchedule('ScheduleExpression', `${spec.name} ${quoted(element)} has more than one '/'`);
    }
    const [from, to] = parseRange(spec, base, stepText !== undefined);
    const step = stepText === undefined ? 1 : parseStep(spec, element, stepText);
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

function parseRange(spec: FieldSpec, base: string, stepped: boolean): [number, number] {
  if (base === '*') return [spec.min, spec.max];
  const bounds = base.split('-');
  if (bounds.length > 2) {
    throw invalidSchedule('ScheduleExpression', `${spec.name} ${quoted(base)} has more than one '-'`);
  }
  const from = parseValue(spec, bounds[0] ?? '');
  // `a/k` (Quartz style, as in the AWS example `1/10`) runs from a to the field's maximum.
  const to = bounds[1] === undefined ? (stepped ? spec.max : from) : parseValue(spec, bounds[1]);
  if (from > to) {
    throw invalidSchedule(
      'ScheduleExpression',
      `${spec.name} range ${quoted(base)} runs backwards: ranges go from the smaller value to the larger`,
    );
  }
  return [from, to];
}

function parseStep(spec: FieldSpec, element: string, text: string): number {
  const span = spec.max - spec.min + 1;
  const step = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(step >= 1 && step <= span)) {
    throw invalidSchedule(
      'ScheduleExpression',
      `${spec.name} ${quoted(element)}: the step after '/' must be 1-${span}`,
    );
  }
  return step;
}

function parseValue(spec: FieldSpec, token: string): number {
  const named = spec.names?.indexOf(token) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(token)) {
    const names = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : '';
    const wildcards =
      spec === DAY_OF_WEEK ? ', - * ? L #' : spec === DAY_OF_MONTH ? ', - * ? / L W' : ', - * /';
    throw invalidSchedule(
      'ScheduleExpression',
      `${spec.name} ${quoted(token)} is not valid: ${spec.name} takes ${spec.min}-${spec.max}${names} and ${wildcards}`,
    );
  }
  const value = token.length > 6 ? Infinity : Number(token);
  if (value < spec.min || value > spec.max) {
    throw invalidSchedule(
      'ScheduleExpression',
      `${spec.name} ${quoted(token)} is outside ${spec.min}-${spec.max}`,
    );
  }
  return value;
}

/** Sorted numbers as croner list syntax, consecutive runs as ranges: [1970 … 2199] → `1970-2199`. */
function compact(values: readonly number[]): string {
  const pieces: string[] = [];
  let index = 0;
  while (index < values.length) {
    const start = values[index] as number;
    let end = start;
    while (values[index + 1] === end + 1) {
      end += 1;
      index += 1;
    }
    pieces.push(start === end ? `${start}` : `${start}-${end}`);
    index += 1;
  }
  return pieces.join(',');
}

/** The croner pattern for the fields: `second minute hour day month weekday year`, weekdays 0-6. */
export function cronerPattern(fields: CronFields): string {
  const dom = fields.dayOfMonth;
  const dayOfMonth =
    dom.kind === 'any'
      ? '*'
      : dom.kind === 'days'
        ? compact(dom.days)
        : dom.kind === 'last'
          ? 'L'
          : dom.kind === 'lastWeekday'
            ? 'LW'
            : `${dom.day}W`;
  const dow = fields.dayOfWeek;
  const dayOfWeek =
    dow.kind === 'any'
      ? '*'
      : dow.kind === 'days'
        ? compact(dow.days.map((day) => day - 1))
        : dow.kind === 'last'
          ? `${dow.day - 1}#L`
          : `${dow.day - 1}#${dow.nth}`;
  return [
    0,
    compact(fields.minutes),
    compact(fields.hours),
    dayOfMonth,
    compact(fields.months),
    dayOfWeek,
    compact(fields.years),
  ].join(' ');
}

/** Fields compiled against a time zone: `next(afterMs)` is the first fire time strictly after. */
export interface CompiledCron {
  next(afterMs: number): number | undefined;
}

/** Nothing fires before 1970-01-01 local time, i.e. before 1969-12-31T10:00Z (UTC+14). */
const EARLIEST_MS = Date.UTC(1969, 11, 30);

export function compileCron(fields: CronFields, zone: TimeZone): CompiledCron {
  let croner: Cron;
  try {
    // utcOffset 0: croner sees wall-clock values in a zone without DST, whatever the process TZ is.
    croner = new Cron(cronerPattern(fields), { utcOffset: 0, mode: '7-part', domAndDow: true });
  } catch (cause) {
    // Not expected: the parser only emits patterns croner accepts. Reported as the caller's input.
    throw invalidSchedule('ScheduleExpression', 'is not a cron expression croner can evaluate', cause);
  }
  const lastYear = fields.years[fields.years.length - 1] ?? YEAR.max;
  return {
    next(afterMs) {
      // Walk matching wall-clock times upwards and return the first whose instant is after `afterMs`.
      // A wall time is rejected only when it falls in a spring-forward gap (no instant: skipped, as
      // EventBridge Scheduler documents) or when `afterMs` is in the second pass of a repeated hour
      // and the wall time's first occurrence has already passed (so a repeated time fires once).
      // Both reject at most an hour's worth of candidates, so the loop ends.
      let wall = toWallClock(zone, Math.max(afterMs, EARLIEST_MS));
      for (;;) {
        if (new Date(wall).getUTCFullYear() > lastYear) return undefined;
        const candidate = croner.nextRun(new Date(wall));
        if (candidate === null) return undefined;
        wall = candidate.getTime();
        const instant = firstInstantAt(zone, wall);
        if (instant !== undefined && instant > afterMs) return instant;
      }
    },
  };
}
