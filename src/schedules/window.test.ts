import { describe, expect, it } from 'vitest';
import { parseScheduleExpression } from './expression.js';
import { boundedExpression, flexibleDeliveryAt } from './window.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const HOUR = 3_600_000;

describe('schedule bounds', () => {
  const hourly = parseScheduleExpression('cron(0 * * * ? *)');
  const start = Date.UTC(2026, 0, 1, 3);
  const end = Date.UTC(2026, 0, 1, 5);

  it('keeps ticks within [start, end], both inclusive', () => {
    const bounded = boundedExpression(hourly, { startAt: start, endAt: end });
    expect(iso(bounded.nextFireTimes(new Date(Date.UTC(2026, 0, 1)), 10))).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T04:00:00.000Z',
      '2026-01-01T05:00:00.000Z',
    ]);
    expect(bounded.next(new Date(end))).toBeUndefined();
  });

  it('leaves an unbounded expression as it is', () => {
    expect(boundedExpression(hourly, {})).toBe(hourly);
  });

  it('spreads within the window in whole seconds, and not at all without one', () => {
    const tick = start;
    const at = flexibleDeliveryAt('report', tick, HOUR);
    expect(at).toBeGreaterThanOrEqual(tick);
    expect(at).toBeLessThan(tick + HOUR);
    expect((at - tick) % 1000).toBe(0);
    expect(flexibleDeliveryAt('report', tick + HOUR, HOUR) - (tick + HOUR)).not.toBe(at - tick);
    expect(flexibleDeliveryAt('report', tick, undefined)).toBe(tick);
  });
});
