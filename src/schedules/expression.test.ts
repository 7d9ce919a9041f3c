import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../model/errors.js';
import { parseScheduleExpression, type ScheduleExpressionOptions } from './expression.js';

/** The next `count` fire times strictly after `after`, as ISO strings. */
function fires(
  text: string,
  after: string,
  count: number,
  options: ScheduleExpressionOptions = {},
): string[] {
  return parseScheduleExpression(text, options)
    .nextFireTimes(new Date(after), count)
    .map((date) => date.toISOString());
}

function next(text: string, after: string, options: ScheduleExpressionOptions = {}): string | undefined {
  return parseScheduleExpression(text, options).next(new Date(after))?.toISOString();
}

/** The message of the SluiceError the call throws; fails the test for anything else. */
function validationError(call: () => unknown): { message: string; field: string | undefined } {
  try {
    call();
  } catch (error) {
    if (isSluiceError(error, 'ValidationException')) return { message: error.message, field: error.field };
    throw error;
  }
  throw new Error('expected a ValidationException');
}

describe('cron() in UTC', () => {
  it('fires every 5 minutes with 0/5, starting strictly after the given time', () => {
    expect(fires('cron(0/5 * * * ? *)', '2024-01-01T00:02:00Z', 3)).toEqual([
      '2024-01-01T00:05:00.000Z',
      '2024-01-01T00:10:00.000Z',
      '2024-01-01T00:15:00.000Z',
    ]);
    expect(fires('cron(*/5 * * * ? *)', '2024-01-01T23:52:30Z', 3)).toEqual([
      '2024-01-01T23:55:00.000Z',
      '2024-01-02T00:00:00.000Z',
      '2024-01-02T00:05:00.000Z',
    ]);
  });

  it('never returns the given time itself, even when it is a fire time', () => {
    expect(next('cron(0/5 * * * ? *)', '2024-01-01T00:05:00Z')).toBe('2024-01-01T00:10:00.000Z');
  });

  it('reads a/k as "from a, every k" (the AWS example 1/10)', () => {
    expect(fires('cron(1/10 * * * ? *)', '2024-01-01T00:00:00Z', 3)).toEqual([
      '2024-01-01T00:01:00.000Z',
      '2024-01-01T00:11:00.000Z',
      '2024-01-01T00:21:00.000Z',
    ]);
  });

  it('fires at 9:15 on weekdays only, from a Friday afternoon to the next Friday', () => {
    // 2024-01-05 is a Friday.
    const expected = [
      '2024-01-08T09:15:00.000Z',
      '2024-01-09T09:15:00.000Z',
      '2024-01-10T09:15:00.000Z',
      '2024-01-11T09:15:00.000Z',
      '2024-01-12T09:15:00.000Z',
      '2024-01-15T09:15:00.000Z',
    ];
    expect(fires('cron(15 9 ? * MON-FRI *)', '2024-01-05T10:00:00Z', 6)).toEqual(expected);
    expect(fires('cron(15 9 ? * 2-6 *)', '2024-01-05T10:00:00Z', 6)).toEqual(expected);
    expect(fires('cron(15 9 ? * mon-fri *)', '2024-01-05T10:00:00Z', 6)).toEqual(expected);
  });

  it('numbers days of the week 1-7 from Sunday, not 0-6 as Unix cron does', () => {
    // 2024-01-01 is a Monday: in Unix cron "1" would fire that day; in AWS cron it is Sunday the 7th.
    expect(next('cron(0 10 ? * 1 *)', '2024-01-01T00:00:00Z')).toBe('2024-01-07T10:00:00.000Z');
    expect(next('cron(0 10 ? * SUN *)', '2024-01-01T00:00:00Z')).toBe('2024-01-07T10:00:00.000Z');
    expect(next('cron(0 10 ? * 7 *)', '2024-01-01T00:00:00Z')).toBe('2024-01-06T10:00:00.000Z');
  });

  it('fires on the last day of February with L, in leap and non-leap years', () => {
    expect(fires('cron(0 12 L 2 ? *)', '2023-01-01T00:00:00Z', 3)).toEqual([
      '2023-02-28T12:00:00.000Z',
      '2024-02-29T12:00:00.000Z',
      '2025-02-28T12:00:00.000Z',
    ]);
  });

  it('fires on the last day of every month with L', () => {
    expect(fires('cron(0 0 L * ? *)', '2024-01-31T00:00:00Z', 3)).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2024-03-31T00:00:00.000Z',
      '2024-04-30T00:00:00.000Z',
    ]);
  });

  it('moves 1W on a Saturday forward to Monday the 3rd, never back into the previous month', () => {
    // 2022-01-01 is a Saturday, 2022-05-01 a Sunday; Feb, Mar and Apr start on weekdays.
    expect(fires('cron(0 12 1W * ? 2022)', '2021-12-31T00:00:00Z', 5)).toEqual([
      '2022-01-03T12:00:00.000Z',
      '2022-02-01T12:00:00.000Z',
      '2022-03-01T12:00:00.000Z',
      '2022-04-01T12:00:00.000Z',
      '2022-05-02T12:00:00.000Z',
    ]);
  });

  it('moves 15W to the nearest weekday: Saturday to Friday, Sunday to Monday', () => {
    // 2024-06-15 is a Saturday, 2024-07-15 a Monday, 2024-08-15 a Thursday, 2024-09-15 a Sunday.
    expect(fires('cron(0 12 15W * ? 2024)', '2024-06-01T00:00:00Z', 4)).toEqual([
      '2024-06-14T12:00:00.000Z',
      '2024-07-15T12:00:00.000Z',
      '2024-08-15T12:00:00.000Z',
      '2024-09-16T12:00:00.000Z',
    ]);
  });

  it('moves 31W on a weekend back to Friday, and skips months without a 31st', () => {
    // 2024-03-31 is a Sunday, 2024-05-31 a Friday, 2024-07-31 a Wednesday, 2024-08-31 a Saturday.
    expect(fires('cron(0 12 31W * ? 2024)', '2024-03-01T00:00:00Z', 4)).toEqual([
      '2024-03-29T12:00:00.000Z',
      '2024-05-31T12:00:00.000Z',
      '2024-07-31T12:00:00.000Z',
      '2024-08-30T12:00:00.000Z',
    ]);
  });

  it('fires on the last weekday of the month with LW', () => {
    // Mar 2024 ends on Sunday the 31st, Jun 2024 on Sunday the 30th.
    expect(fires('cron(0 12 LW * ? *)', '2024-01-01T00:00:00Z', 6)).toEqual([
      '2024-01-31T12:00:00.000Z',
      '2024-02-29T12:00:00.000Z',
      '2024-03-29T12:00:00.000Z',
      '2024-04-30T12:00:00.000Z',
      '2024-05-31T12:00:00.000Z',
      '2024-06-28T12:00:00.000Z',
    ]);
  });

  it('fires on the last Friday of the month with 6L (or FRIL)', () => {
    const expected = ['2024-01-26T12:00:00.000Z', '2024-02-23T12:00:00.000Z', '2024-03-29T12:00:00.000Z'];
    expect(fires('cron(0 12 ? * 6L *)', '2024-01-01T00:00:00Z', 3)).toEqual(expected);
    expect(fires('cron(0 12 ? * FRIL *)', '2024-01-01T00:00:00Z', 3)).toEqual(expected);
  });

  it('reads a bare L in day-of-week as the last day of the week, Saturday', () => {
    expect(fires('cron(0 12 ? * L *)', '2024-01-01T00:00:00Z', 2)).toEqual([
      '2024-01-06T12:00:00.000Z',
      '2024-01-13T12:00:00.000Z',
    ]);
  });

  it('fires on the second Tuesday of the month with 3#2', () => {
    expect(fires('cron(0 12 ? * 3#2 *)', '2024-01-01T00:00:00Z', 3)).toEqual([
      '2024-01-09T12:00:00.000Z',
      '2024-02-13T12:00:00.000Z',
      '2024-03-12T12:00:00.000Z',
    ]);
  });

  it('fires only in months that have a fifth Sunday with 1#5', () => {
    expect(fires('cron(0 12 ? * 1#5 2024)', '2024-01-01T00:00:00Z', 5)).toEqual([
      '2024-03-31T12:00:00.000Z',
      '2024-06-30T12:00:00.000Z',
      '2024-09-29T12:00:00.000Z',
      '2024-12-29T12:00:00.000Z',
    ]);
  });

  it('accepts month and day names: the first Monday of January and July', () => {
    // Jan 2024 starts on a Monday (08:00 has passed), Jul 2024 on a Monday, Jan 2025 on a Wednesday,
    // Jul 2025 on a Tuesday.
    expect(fires('cron(0 8 ? JAN,JUL MON#1 *)', '2024-01-01T09:00:00Z', 3)).toEqual([
      '2024-07-01T08:00:00.000Z',
      '2025-01-06T08:00:00.000Z',
      '2025-07-07T08:00:00.000Z',
    ]);
  });

  it('steps through months with 1/3: January, April, July, October', () => {
    expect(fires('cron(0 0 1 1/3 ? *)', '2024-01-15T00:00:00Z', 4)).toEqual([
      '2024-04-01T00:00:00.000Z',
      '2024-07-01T00:00:00.000Z',
      '2024-10-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
    ]);
  });

  it('fires only in the listed years and then has no next fire time', () => {
    const expression = parseScheduleExpression('cron(0 0 1 1 ? 2025-2026)');
    expect(expression.nextFireTimes(new Date('2024-06-01T00:00:00Z'), 5).map((d) => d.toISOString())).toEqual(
      ['2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    );
    expect(expression.next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('steps through years with 2020/4', () => {
    expect(fires('cron(0 0 1 1 ? 2020/4)', '2024-06-01T00:00:00Z', 3)).toEqual([
      '2028-01-01T00:00:00.000Z',
      '2032-01-01T00:00:00.000Z',
      '2036-01-01T00:00:00.000Z',
    ]);
  });

  it('stops after 2199, the last year AWS cron allows', () => {
    expect(next('cron(0 0 31 12 ? *)', '2199-12-30T00:00:00Z')).toBe('2199-12-31T00:00:00.000Z');
    expect(next('cron(0 0 31 12 ? *)', '2199-12-31T00:00:00Z')).toBeUndefined();
  });

  it('has no fire time for a day that never exists, such as February 30th', () => {
    expect(next('cron(0 12 30 2 ? *)', '2024-01-01T00:00:00Z')).toBeUndefined();
  });

  it('exposes the parsed fields as plain data, days of the week in AWS numbering', () => {
    const expression = parseScheduleExpression('cron(0,30 9-10 ? JAN-MAR MON#2 2030)');
    expect(expression.kind).toBe('cron');
    expect(expression.kind === 'cron' && expression.fields).toEqual({
      minutes: [0, 30],
      hours: [9, 10],
      dayOfMonth: { kind: 'any' },
      months: [1, 2, 3],
      dayOfWeek: { kind: 'nth', day: 2, nth: 2 },
      years: [2030],
    });
  });

  it('does not depend on the time zone of the process', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'America/New_York';
      const inNewYork = fires('cron(30 2 * * ? *)', '2024-03-09T00:00:00Z', 3);
      process.env.TZ = 'Asia/Kolkata';
      const inKolkata = fires('cron(30 2 * * ? *)', '2024-03-09T00:00:00Z', 3);
      const expected = ['2024-03-09T02:30:00.000Z', '2024-03-10T02:30:00.000Z', '2024-03-11T02:30:00.000Z'];
      expect(inNewYork).toEqual(expected);
      expect(inKolkata).toEqual(expected);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('cron() in a time zone', () => {
  it('fires at 9:00 on weekdays in Tokyo, which is midnight UTC', () => {
    // 2024-01-05T00:00Z is Friday 09:00 in Tokyo: a fire time, so the next one is Monday's.
    expect(fires('cron(0 9 ? * MON-FRI *)', '2024-01-05T00:00:00Z', 2, { timezone: 'Asia/Tokyo' })).toEqual([
      '2024-01-08T00:00:00.000Z',
      '2024-01-09T00:00:00.000Z',
    ]);
  });

  it('applies a half-hour offset (Asia/Kolkata, UTC+5:30)', () => {
    expect(next('cron(30 9 * * ? *)', '2024-01-01T00:00:00Z', { timezone: 'Asia/Kolkata' })).toBe(
      '2024-01-01T04:00:00.000Z',
    );
  });

  it('finds the last day of the month on the local calendar, across a DST change', () => {
    // 20:00 in Los Angeles is already the next day in UTC; PST is UTC-8, PDT (from March 10) UTC-7.
    // 2024-01-02T00:00Z is January 1st in Los Angeles, after December 31st's fire time.
    expect(
      fires('cron(0 20 L * ? *)', '2024-01-02T00:00:00Z', 3, { timezone: 'America/Los_Angeles' }),
    ).toEqual(['2024-02-01T04:00:00.000Z', '2024-03-01T04:00:00.000Z', '2024-04-01T03:00:00.000Z']);
  });
});

describe('DST (EventBridge Scheduler: a skipped local time does not fire, a repeated one fires once)', () => {
  const newYork = { timezone: 'America/New_York' };
  const berlin = { timezone: 'Europe/Berlin' };

  it('skips a daily 02:30 on the day New York springs forward from 02:00 to 03:00', () => {
    // 2024-03-10: 02:30 does not exist. 02:30 EST = 07:30Z before, 02:30 EDT = 06:30Z after.
    expect(fires('cron(30 2 * * ? *)', '2024-03-09T00:00:00Z', 3, newYork)).toEqual([
      '2024-03-09T07:30:00.000Z',
      '2024-03-11T06:30:00.000Z',
      '2024-03-12T06:30:00.000Z',
    ]);
  });

  it('runs a half-hourly schedule straight from 01:30 EST to 03:00 EDT across the gap', () => {
    expect(fires('cron(0/30 * * * ? *)', '2024-03-10T05:00:00Z', 5, newYork)).toEqual([
      '2024-03-10T05:30:00.000Z',
      '2024-03-10T06:00:00.000Z',
      '2024-03-10T06:30:00.000Z',
      '2024-03-10T07:00:00.000Z',
      '2024-03-10T07:30:00.000Z',
    ]);
  });

  it('fires a daily 01:30 once, at its first (EDT) occurrence, when New York falls back', () => {
    // 2024-11-03: 01:00-01:59 happens twice, EDT (UTC-4) then EST (UTC-5).
    expect(fires('cron(30 1 * * ? *)', '2024-11-02T00:00:00Z', 3, newYork)).toEqual([
      '2024-11-02T05:30:00.000Z',
      '2024-11-03T05:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
  });

  it('does not repeat the half-hourly fire times of the repeated hour', () => {
    expect(fires('cron(0/30 * * * ? *)', '2024-11-03T04:00:00Z', 5, newYork)).toEqual([
      '2024-11-03T04:30:00.000Z',
      '2024-11-03T05:00:00.000Z',
      '2024-11-03T05:30:00.000Z',
      '2024-11-03T07:00:00.000Z',
      '2024-11-03T07:30:00.000Z',
    ]);
  });

  it('asked from inside the second pass of the repeated hour, fires at the next new local time', () => {
    // 06:10Z is 01:10 EST, the second 01:10 of the day.
    expect(next('cron(0/30 * * * ? *)', '2024-11-03T06:10:00Z', newYork)).toBe('2024-11-03T07:00:00.000Z');
    expect(next('cron(30 1 * * ? *)', '2024-11-03T06:00:00Z', newYork)).toBe('2024-11-04T06:30:00.000Z');
  });

  it('skips a daily 02:30 when Berlin springs forward and fires it once when Berlin falls back', () => {
    // 2024-03-31: 02:00 CET → 03:00 CEST. 2024-10-27: 03:00 CEST → 02:00 CET.
    expect(fires('cron(30 2 * * ? *)', '2024-03-29T00:00:00Z', 3, berlin)).toEqual([
      '2024-03-29T01:30:00.000Z',
      '2024-03-30T01:30:00.000Z',
      '2024-04-01T00:30:00.000Z',
    ]);
    expect(fires('cron(30 2 * * ? *)', '2024-10-26T00:00:00Z', 3, berlin)).toEqual([
      '2024-10-26T00:30:00.000Z',
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
  });

  it('counts rate() days as 24 hours, so the local hour moves across DST', () => {
    // 12:00Z is 07:00 EST on March 9 and 08:00 EDT from March 10.
    expect(
      fires('rate(1 day)', '2024-03-09T12:00:00Z', 2, {
        ...newYork,
        anchor: new Date('2024-03-09T12:00:00Z'),
      }),
    ).toEqual(['2024-03-10T12:00:00.000Z', '2024-03-11T12:00:00.000Z']);
  });

  it('moves an at() time inside the spring-forward gap forward by the gap, and fires a repeated one first', () => {
    expect(parseScheduleExpression('at(2024-03-10T02:30:00)', newYork).next(new Date(0))?.toISOString()).toBe(
      '2024-03-10T07:30:00.000Z',
    );
    expect(parseScheduleExpression('at(2024-11-03T01:30:00)', newYork).next(new Date(0))?.toISOString()).toBe(
      '2024-11-03T05:30:00.000Z',
    );
  });
});

describe('rate()', () => {
  const anchor = new Date('2024-01-01T00:00:30Z');

  it('fires every minute counted from its anchor', () => {
    expect(fires('rate(1 minute)', '2024-01-01T00:05:00Z', 3, { anchor })).toEqual([
      '2024-01-01T00:05:30.000Z',
      '2024-01-01T00:06:30.000Z',
      '2024-01-01T00:07:30.000Z',
    ]);
  });

  it('fires first at the anchor itself when asked from before it', () => {
    expect(fires('rate(1 minute)', '2023-12-31T00:00:00Z', 2, { anchor })).toEqual([
      '2024-01-01T00:00:30.000Z',
      '2024-01-01T00:01:30.000Z',
    ]);
    expect(next('rate(1 minute)', '2024-01-01T00:00:30Z', { anchor })).toBe('2024-01-01T00:01:30.000Z');
  });

  it('fires every 5 hours and every 2 days from the anchor', () => {
    const midnight = new Date('2024-01-01T00:00:00Z');
    expect(fires('rate(5 hours)', '2024-01-01T12:00:00Z', 3, { anchor: midnight })).toEqual([
      '2024-01-01T15:00:00.000Z',
      '2024-01-01T20:00:00.000Z',
      '2024-01-02T01:00:00.000Z',
    ]);
    const start = new Date('2024-02-27T06:00:00Z');
    expect(fires('rate(2 days)', '2024-02-27T06:00:00Z', 3, { anchor: start })).toEqual([
      '2024-02-29T06:00:00.000Z',
      '2024-03-02T06:00:00.000Z',
      '2024-03-04T06:00:00.000Z',
    ]);
  });

  it('counts from the Unix epoch when no anchor is given, so rates align on UTC boundaries', () => {
    expect(fires('rate(5 minutes)', '2024-01-01T00:02:00Z', 2)).toEqual([
      '2024-01-01T00:05:00.000Z',
      '2024-01-01T00:10:00.000Z',
    ]);
    expect(next('rate(1 day)', '2024-01-01T12:00:00Z')).toBe('2024-01-02T00:00:00.000Z');
  });

  it('exposes its value, unit, period and anchor as plain data', () => {
    const expression = parseScheduleExpression('rate(5 hours)', { anchor });
    expect(expression).toMatchObject({
      kind: 'rate',
      value: 5,
      unit: 'hours',
      periodMs: 18_000_000,
      anchor,
      timezone: 'UTC',
    });
  });
});

describe('at()', () => {
  it('fires once, at the local time in its time zone', () => {
    const expression = parseScheduleExpression('at(2030-06-01T09:00:00)', { timezone: 'Europe/Berlin' });
    expect(expression.kind === 'at' && expression.fireAt.toISOString()).toBe('2030-06-01T07:00:00.000Z');
    expect(expression.nextFireTimes(new Date('2025-01-01T00:00:00Z'), 3).map((d) => d.toISOString())).toEqual(
      ['2030-06-01T07:00:00.000Z'],
    );
    expect(expression.next(new Date('2030-06-01T07:00:00Z'))).toBeUndefined();
  });

  it('has no fire time once its time has passed', () => {
    const expression = parseScheduleExpression('at(2020-01-01T00:00:00)');
    expect(expression.next(new Date('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(expression.nextFireTimes(new Date('2024-01-01T00:00:00Z'), 3)).toEqual([]);
  });
});

describe('validation', () => {
  const invalidExpressions: [string, string][] = [
    // Form
    ['', 'ScheduleExpression: must be a string of 1-256 characters'],
    [`cron(${'0'.repeat(251)})`, 'ScheduleExpression: must be a string of 1-256 characters'],
    [
      'garbage',
      "ScheduleExpression: 'garbage' must be rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)",
    ],
    [
      'CRON(0 12 * * ? *)',
      "ScheduleExpression: 'CRON(0 12 * * ? *)' must be rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)",
    ],
    [
      'cron(0 12 * * ?)',
      'ScheduleExpression: cron() takes 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got 5',
    ],
    [
      'cron(0 12 * * ? * *)',
      'ScheduleExpression: cron() takes 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got 7',
    ],
    [
      'cron()',
      'ScheduleExpression: cron() takes 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got 0',
    ],
    // Minutes
    ['cron(60 * * * ? *)', "ScheduleExpression: minutes '60' is outside 0-59"],
    ['cron(L * * * ? *)', "ScheduleExpression: minutes 'L' is not valid: minutes takes 0-59 and , - * /"],
    ['cron(0/0 * * * ? *)', "ScheduleExpression: minutes '0/0': the step after '/' must be 1-60"],
    ['cron(1/2/3 * * * ? *)', "ScheduleExpression: minutes '1/2/3' has more than one '/'"],
    ['cron(1,,2 * * * ? *)', "ScheduleExpression: minutes '1,,2' has an empty list element"],
    // Hours
    ['cron(0 24 * * ? *)', "ScheduleExpression: hours '24' is outside 0-23"],
    [
      'cron(0 5-2 * * ? *)',
      "ScheduleExpression: hours range '5-2' runs backwards: ranges go from the smaller value to the larger",
    ],
    ['cron(0 1-2-3 * * ? *)', "ScheduleExpression: hours '1-2-3' has more than one '-'"],
    // Day-of-month
    ['cron(0 12 32 * ? *)', "ScheduleExpression: day-of-month '32' is outside 1-31"],
    ['cron(0 12 0W * ? *)', "ScheduleExpression: day-of-month '0' is outside 1-31"],
    [
      'cron(0 12 L,15 * ? *)',
      "ScheduleExpression: day-of-month 'L,15' is not valid: L, LW and nW (e.g. 15W) stand alone in the field",
    ],
    [
      'cron(0 12 L-2 * ? *)',
      "ScheduleExpression: day-of-month 'L-2' is not valid: L, LW and nW (e.g. 15W) stand alone in the field",
    ],
    [
      'cron(0 12 # * ? *)',
      "ScheduleExpression: day-of-month '#' is not valid: day-of-month takes 1-31 and , - * ? / L W",
    ],
    // Month
    ['cron(0 12 1 13 ? *)', "ScheduleExpression: month '13' is outside 1-12"],
    [
      'cron(0 12 1 JANUARY ? *)',
      "ScheduleExpression: month 'JANUARY' is not valid: month takes 1-12 or JAN-DEC and , - * /",
    ],
    [
      'cron(0 12 1 ? ? *)',
      "ScheduleExpression: month '?' is not valid: '?' stands alone, in day-of-month or day-of-week only",
    ],
    // Day-of-week
    ['cron(0 12 ? * 8 *)', "ScheduleExpression: day-of-week '8' is outside 1-7"],
    ['cron(0 12 ? * 0 *)', "ScheduleExpression: day-of-week '0' is outside 1-7"],
    ['cron(0 12 ? * 9L *)', "ScheduleExpression: day-of-week '9' is outside 1-7"],
    ['cron(0 12 ? * 3#6 *)', "ScheduleExpression: day-of-week '3#6': the occurrence after '#' must be 1-5"],
    [
      'cron(0 12 ? * 3#1,6#3 *)',
      "ScheduleExpression: day-of-week '3#1,6#3' is not valid: '#' takes one day and one occurrence (e.g. 3#2), alone in the field",
    ],
    ['cron(0 12 ? * */2 *)', "ScheduleExpression: day-of-week '*/2' is not valid: day-of-week takes no '/'"],
    [
      'cron(0 12 ? * FRI-MON *)',
      "ScheduleExpression: day-of-week range 'FRI-MON' runs backwards: ranges go from the smaller value to the larger",
    ],
    [
      'cron(0 12 ? * W *)',
      "ScheduleExpression: day-of-week 'W' is not valid: day-of-week takes 1-7 or SUN-SAT and , - * ? L #",
    ],
    // Year
    ['cron(0 12 * * ? 1969)', "ScheduleExpression: year '1969' is outside 1970-2199"],
    ['cron(0 12 * * ? 2200)', "ScheduleExpression: year '2200' is outside 1970-2199"],
    // The day-of-month / day-of-week rule
    [
      'cron(0 12 * * * *)',
      "ScheduleExpression: day-of-month '*' and day-of-week '*' are both set: exactly one of them must be '?'",
    ],
    [
      'cron(0 12 1 * MON *)',
      "ScheduleExpression: day-of-month '1' and day-of-week 'MON' are both set: exactly one of them must be '?'",
    ],
    [
      'cron(0 12 ? * ? *)',
      "ScheduleExpression: day-of-month and day-of-week are both '?': exactly one of them must be '?'",
    ],
    // rate()
    [
      'rate(1 minutes)',
      "ScheduleExpression: rate unit 'minutes' must be singular when the value is 1 (rate(1 minute))",
    ],
    [
      'rate(5 minute)',
      "ScheduleExpression: rate unit 'minute' must be plural when the value is not 1 (rate(5 minutes))",
    ],
    ['rate(0 minutes)', "ScheduleExpression: rate value '0' must be a positive whole number"],
    ['rate(-5 minutes)', "ScheduleExpression: rate value '-5' must be a positive whole number"],
    ['rate(1.5 hours)', "ScheduleExpression: rate value '1.5' must be a positive whole number"],
    [
      'rate(5 weeks)',
      "ScheduleExpression: rate unit 'weeks' is not valid: use minute | minutes | hour | hours | day | days",
    ],
    ['rate(5)', "ScheduleExpression: rate() takes a value and a unit, e.g. rate(5 minutes), got '5'"],
    [
      'rate(100000001 days)',
      "ScheduleExpression: rate '100000001 days' is too long: the period must be at most 100,000,000 days",
    ],
    // at()
    [
      'at(2024-01-01 00:00:00)',
      "ScheduleExpression: at() takes a local date and time as yyyy-mm-ddThh:mm:ss, got '2024-01-01 00:00:00'",
    ],
    [
      'at(2023-02-29T00:00:00)',
      'ScheduleExpression: at(2023-02-29T00:00:00) is not a real date and time (month 01-12, day within the month, hh 00-23, mm and ss 00-59)',
    ],
    [
      'at(2024-01-01T24:00:00)',
      'ScheduleExpression: at(2024-01-01T24:00:00) is not a real date and time (month 01-12, day within the month, hh 00-23, mm and ss 00-59)',
    ],
  ];

  it.each(invalidExpressions)(
    'rejects %j with a ValidationException naming the field and the rule',
    (text, message) => {
      expect(validationError(() => parseScheduleExpression(text))).toEqual({
        message,
        field: 'ScheduleExpression',
      });
    },
  );

  it('rejects a time zone that is not an IANA name', () => {
    for (const timezone of ['Mars/Olympus', '+01:00', 'America/New York']) {
      expect(validationError(() => parseScheduleExpression('rate(5 minutes)', { timezone }))).toEqual({
        message: `ScheduleExpressionTimezone: '${timezone}' is not an IANA time zone name (e.g. America/New_York, Europe/Berlin, UTC)`,
        field: 'ScheduleExpressionTimezone',
      });
    }
    expect(validationError(() => parseScheduleExpression('rate(5 minutes)', { timezone: '' })).field).toBe(
      'ScheduleExpressionTimezone',
    );
  });

  it('rejects an anchor, an after time or a count that is not valid', () => {
    expect(
      validationError(() => parseScheduleExpression('rate(5 minutes)', { anchor: new Date(NaN) })).field,
    ).toBe('StartDate');
    const expression = parseScheduleExpression('rate(5 minutes)');
    expect(validationError(() => expression.next(new Date(NaN))).field).toBe('after');
    for (const count of [-1, 1.5, 10_001]) {
      expect(validationError(() => expression.nextFireTimes(new Date(0), count))).toEqual({
        message: 'count: must be a whole number from 0 to 10000',
        field: 'count',
      });
    }
  });

  it('accepts names and letters in any case, and extra spaces between fields', () => {
    expect(fires('cron(0  12 ? jan Mon#1  2025)', '2024-01-01T00:00:00Z', 1)).toEqual([
      '2025-01-06T12:00:00.000Z',
    ]);
    expect(fires('cron(0 12 lw * ? 2024)', '2024-01-01T00:00:00Z', 1)).toEqual(['2024-01-31T12:00:00.000Z']);
  });

  it('never throws anything but a ValidationException, whatever the text', () => {
    const token = fc.stringMatching(/^[0-9*,\-/?LW#A-Z]{1,6}$/);
    const nearCron = fc
      .array(token, { minLength: 4, maxLength: 7 })
      .map((tokens) => `cron(${tokens.join(' ')})`);
    const nearRate = fc
      .tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 8 }))
      .map(([a, b]) => `rate(${a} ${b})`);
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), nearCron, nearRate, fc.constant('at('));
    fc.assert(
      fc.property(text, (input) => {
        try {
          const expression = parseScheduleExpression(input);
          expression.nextFireTimes(new Date('2024-01-01T00:00:00Z'), 3);
        } catch (error) {
          if (!isSluiceError(error, 'ValidationException')) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
