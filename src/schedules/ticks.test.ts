import { describe, expect, it } from 'vitest';
import { parseScheduleExpression } from './expression.js';
import { planTick } from './ticks.js';

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;

describe('the missed-tick policy', () => {
  const hourly = parseScheduleExpression('rate(1 hour)');

  it('fires a tick on time for that tick, and moves to the next', () => {
    const tick = at('2026-01-01T01:00:00Z');
    expect(planTick({ expression: hourly, tick, now: tick + 3, catchUpWindowMs: 5 * MINUTE })).toEqual({
      fire: true,
      scheduledTime: tick,
      next: at('2026-01-01T02:00:00Z'),
    });
  });

  it('fires a late tick once when it is inside the window', () => {
    const tick = at('2026-01-01T01:00:00Z');
    const plan = planTick({ expression: hourly, tick, now: tick + 4 * MINUTE, catchUpWindowMs: 5 * MINUTE });
    expect(plan).toEqual({ fire: true, scheduledTime: tick, next: at('2026-01-01T02:00:00Z') });
  });

  it('skips a tick missed by more than the window', () => {
    const tick = at('2026-01-01T01:00:00Z');
    expect(
      planTick({ expression: hourly, tick, now: tick + 6 * MINUTE, catchUpWindowMs: 5 * MINUTE }),
    ).toEqual({
      fire: false,
      scheduledTime: tick,
      next: at('2026-01-01T02:00:00Z'),
    });
  });

  it('fires once for the latest of many missed ticks, if it is inside the window', () => {
    const minutely = parseScheduleExpression('rate(1 minute)');
    const tick = at('2026-01-01T00:01:00Z');
    const now = at('2026-01-03T10:30:20Z'); // two days of missed ticks
    expect(planTick({ expression: minutely, tick, now, catchUpWindowMs: 5 * MINUTE })).toEqual({
      fire: true,
      scheduledTime: at('2026-01-03T10:30:00Z'),
      next: at('2026-01-03T10:31:00Z'),
    });
  });

  it('follows a cron in its time zone across a DST change', () => {
    // 02:30 every day in New York: on 8 March 2026 02:30 does not exist (clocks jump 02:00 -> 03:00), so it is skipped.
    const cron = parseScheduleExpression('cron(30 2 * * ? *)', { timezone: 'America/New_York' });
    const tick = at('2026-03-07T07:30:00Z'); // 02:30 EST
    const plan = planTick({ expression: cron, tick, now: tick, catchUpWindowMs: MINUTE });
    expect(plan.fire).toBe(true);
    expect(new Date(plan.next!).toISOString()).toBe('2026-03-09T06:30:00.000Z'); // 02:30 EDT, a day skipped
  });

  it('ends an at() schedule after its one tick', () => {
    const once = parseScheduleExpression('at(2026-05-01T12:00:00)', { timezone: 'Asia/Tokyo' });
    const tick = at('2026-05-01T03:00:00Z');
    expect(planTick({ expression: once, tick, now: tick + 10, catchUpWindowMs: MINUTE })).toEqual({
      fire: true,
      scheduledTime: tick,
      next: null,
    });
  });
});
