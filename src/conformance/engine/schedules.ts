import { describe, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import { settle } from '../../model/clock.js';
import type { ScheduledEvent } from '../../schedules/types.js';
import { flexibleDeliveryAt } from '../../schedules/window.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

const MINUTE = 60_000;

export function scheduleConformance(backend: BackendUnderTest): void {
  describe(`schedules [${backend.name}]`, () => {
    const t = useEngine(backend);
    const schedules = () => t.sluice.schedules;

    /** Lets claims and outbox deliveries triggered by the last clock move finish. */
    async function drain(): Promise<void> {
      await settle();
      await schedules().idle();
      await t.sluice.outbox.idle();
      await settle();
    }

    async function bodies(queue: string): Promise<string[]> {
      const out: string[] = [];
      for (;;) {
        const batch = await t.sluice.queues.receive(queue, {
          maxNumberOfMessages: 10,
          visibilityTimeout: 3600,
        });
        if (batch.length === 0) return out;
        out.push(...batch.map((m) => m.body));
      }
    }

    it('fires a queue target once at each tick of a rate', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 'every-5',
        expression: 'rate(5 minutes)',
        target: { queue: 'ticks', body: 'tick' },
      });
      await t.clock.advance(5 * MINUTE - 1);
      await drain();
      expect(await bodies('ticks')).toEqual([]);
      await t.clock.advance(1);
      await drain();
      expect(await bodies('ticks')).toEqual(['tick']);
      await t.clock.advance(10 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual(['tick', 'tick']);
    });

    it('invokes a function target with its fixed input', async () => {
      const events: unknown[] = [];
      await t.sluice.functions.create({
        name: 'nightly',
        handler: async (event: unknown) => void events.push(event),
      });
      await schedules().create({
        name: 'n',
        expression: 'cron(0 3 * * ? *)',
        target: { function: 'nightly', input: { job: 'compact' } },
      });
      await t.clock.advance(3 * 60 * MINUTE);
      await drain();
      expect(events).toEqual([{ job: 'compact' }]);
    });

    it("sends EventBridge's Scheduled Event, timed at the tick, when no input is given", async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({ name: 'hourly', expression: 'rate(1 hour)', target: { queue: 'ticks' } });
      await t.clock.advance(60 * MINUTE);
      await drain();
      const [body] = await bodies('ticks');
      const event = JSON.parse(body!) as ScheduledEvent;
      expect(event).toMatchObject({
        'detail-type': 'Scheduled Event',
        source: 'aws.scheduler',
        time: '2026-01-01T01:00:00.000Z',
        detail: {},
      });
      expect(event.resources[0]).toMatch(/:schedule\/default\/hourly$/);
    });

    it('shows the next fire times, in UTC, of a cron in a time zone', async () => {
      // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC after the change to summer time on 29 March 2026.
      const view = await schedules().create({
        name: 'paris',
        expression: 'cron(0 9 ? * MON-FRI *)',
        timezone: 'Europe/Paris',
        target: { function: 'f' },
      });
      expect(view.nextFireTime).toBe('2026-01-01T08:00:00.000Z');
      expect(await schedules().nextFireTimes('paris', 3)).toEqual([
        '2026-01-01T08:00:00.000Z',
        '2026-01-02T08:00:00.000Z',
        '2026-01-05T08:00:00.000Z',
      ]);
      await schedules().update('paris', { startDate: Date.UTC(2026, 0, 1) });
      const later = await schedules().update('paris', { expression: 'cron(0 9 30 3 ? 2026)' });
      expect(later.nextFireTime).toBe('2026-03-30T07:00:00.000Z');
    });

    it('returns the schedule when created again unchanged, and refuses another definition under its name', async () => {
      const input = { name: 'nightly', expression: 'cron(0 2 * * ? *)', target: { queue: 'ticks', body: 'go' } };
      const first = await schedules().create(input);
      await t.clock.advance(60_000);
      expect(await schedules().create(input)).toEqual(first);
      await expectSluiceError(schedules().create({ ...input, expression: 'cron(0 3 * * ? *)' }), 'ResourceConflictException');
      expect((await schedules().get('nightly')).expression).toBe('cron(0 2 * * ? *)');
    });

    it('fires an at() schedule once, then has no next fire time', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 'once',
        expression: 'at(2026-01-01T00:30:00)',
        target: { queue: 'ticks', body: 'once' },
      });
      await t.clock.advance(24 * 60 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual(['once']);
      expect((await schedules().get('once')).nextFireTime).toBeNull();
    });

    it('fires a tick missed while down once, late, when it is within the catch-up window', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 'hourly',
        expression: 'rate(1 hour)',
        target: { queue: 'ticks' },
        catchUpWindowSeconds: 600,
      });
      await schedules().stop(); // the node is down across 01:00
      await t.clock.advance(60 * MINUTE + 4 * MINUTE);
      await schedules().start();
      await drain();
      const fired = (await bodies('ticks')).map((b) => (JSON.parse(b) as ScheduledEvent).time);
      expect(fired).toEqual(['2026-01-01T01:00:00.000Z']);
      expect((await schedules().get('hourly')).nextFireTime).toBe('2026-01-01T02:00:00.000Z');
    });

    it('coalesces several missed ticks into one firing for the latest', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 'minutely',
        expression: 'rate(1 minute)',
        target: { queue: 'ticks' },
        catchUpWindowSeconds: 300,
      });
      await schedules().stop();
      await t.clock.advance(4 * MINUTE + 30_000);
      await schedules().start();
      await drain();
      const fired = (await bodies('ticks')).map((b) => (JSON.parse(b) as ScheduledEvent).time);
      expect(fired).toEqual(['2026-01-01T00:04:00.000Z']);
    });

    it('skips ticks missed by more than the catch-up window', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 'hourly',
        expression: 'rate(1 hour)',
        target: { queue: 'ticks' },
        catchUpWindowSeconds: 300,
      });
      await schedules().stop();
      await t.clock.advance(60 * MINUTE + 6 * MINUTE);
      await schedules().start();
      await drain();
      expect(await bodies('ticks')).toEqual([]);
      expect((await schedules().get('hourly')).nextFireTime).toBe('2026-01-01T02:00:00.000Z');
    });

    it('fires each tick once when two engines share the store', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 'shared',
        expression: 'rate(1 minute)',
        target: { queue: 'ticks', body: 'x' },
      });
      const other = await Sluice.open({ store: t.sluice.store, clock: t.clock });
      try {
        await t.clock.advance(10 * MINUTE);
        await drain();
        await other.schedules.idle();
        await other.outbox.idle();
        expect(await bodies('ticks')).toHaveLength(10);
      } finally {
        await other.schedules.stop();
        await other.outbox.stop();
      }
    });

    it('delivers a tick once when its function runs longer than the outbox lease, with another engine waiting', async () => {
      let started = 0;
      await t.sluice.functions.create({
        name: 'slow',
        timeout: 900,
        handler: async () => {
          started++;
          // Twice the relay's 5-minute lease: the claim is renewed while the handler runs.
          await new Promise<void>((resolve) => t.clock.setTimer(10 * MINUTE, resolve));
        },
      });
      await schedules().create({
        name: 'hourly-slow',
        expression: 'rate(1 hour)',
        target: { function: 'slow' },
      });
      const other = await Sluice.open({ store: t.sluice.store, clock: t.clock });
      try {
        await other.functions.create({ name: 'slow', timeout: 900, handler: async () => void started++ });
        for (let minute = 0; minute < 80; minute++) {
          // Not drain(): the relays stay busy until the handler's timer fires.
          await t.clock.advance(MINUTE);
          await settle();
        }
        await drain();
        await other.outbox.idle();
        expect(started).toBe(1);
      } finally {
        await other.schedules.stop();
        await other.outbox.stop();
      }
    });

    it('does not fire a disabled schedule, and fires again from now once enabled', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 's',
        expression: 'rate(1 minute)',
        target: { queue: 'ticks', body: 't' },
        state: 'DISABLED',
      });
      expect((await schedules().get('s')).nextFireTime).toBeNull();
      await t.clock.advance(5 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual([]);
      await schedules().update('s', { state: 'ENABLED' });
      await t.clock.advance(MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual(['t']);
    });

    it('stops firing a deleted schedule', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({
        name: 's',
        expression: 'rate(1 minute)',
        target: { queue: 'ticks', body: 't' },
      });
      await schedules().delete('s');
      await t.clock.advance(5 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual([]);
      expect(t.clock.pendingTimers).toBe(0);
      await expectSluiceError(schedules().get('s'), 'ResourceNotFoundException');
    });

    it('queries nothing between ticks', async () => {
      await t.sluice.queues.create('ticks');
      await schedules().create({ name: 'hourly', expression: 'rate(1 hour)', target: { queue: 'ticks' } });
      await drain();
      t.counter.reset();
      await t.clock.advance(59 * MINUTE);
      expect(Object.fromEntries(t.counter.calls)).toEqual({});
    });

    it('retries a delivery that fails, and delivers once the target exists', async () => {
      await schedules().create({
        name: 's',
        expression: 'rate(1 minute)',
        target: { queue: 'late', body: 'hello' },
      });
      await t.clock.advance(MINUTE);
      await drain();
      await t.sluice.queues.create('late');
      await t.clock.advance(1_000); // the first retry is due 1 s after the failure
      await drain();
      expect(await bodies('late')).toEqual(['hello']);
    });

    it('fires no tick before its StartDate, for a cron as for a rate', async () => {
      await t.sluice.queues.create('ticks');
      const t0 = t.clock.now();
      const view = await schedules().create({
        name: 'later',
        expression: 'cron(0 * * * ? *)',
        target: { queue: 'ticks', body: 'tick' },
        startDate: t0 + 3 * 60 * MINUTE,
      });
      expect(view.nextFireTime).toBe(new Date(t0 + 3 * 60 * MINUTE).toISOString());
      await t.clock.advance(3 * 60 * MINUTE - 1);
      await drain();
      expect(await bodies('ticks')).toEqual([]);
      await t.clock.advance(1);
      await drain();
      expect(await bodies('ticks')).toEqual(['tick']);
    });

    it('fires no tick after its EndDate, then keeps the schedule with no next fire time', async () => {
      await t.sluice.queues.create('ticks');
      const t0 = t.clock.now();
      const view = await schedules().create({
        name: 'bounded',
        expression: 'rate(1 hour)',
        target: { queue: 'ticks', body: 'tick' },
        endDate: t0 + 2 * 60 * MINUTE,
      });
      expect(view.endDate).toBe(new Date(t0 + 2 * 60 * MINUTE).toISOString());
      expect(await schedules().nextFireTimes('bounded', 5)).toHaveLength(2);
      await t.clock.advance(5 * 60 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual(['tick', 'tick']); // at 1 h and 2 h, none at 3, 4 or 5 h
      const after = await schedules().get('bounded');
      expect(after.nextFireTime).toBeNull();
      expect(after.lastFiredTime).toBe(new Date(t0 + 2 * 60 * MINUTE).toISOString());
    });

    it('ignores StartDate and EndDate for a one-time at() schedule, as Scheduler does', async () => {
      await t.sluice.queues.create('ticks');
      const t0 = t.clock.now();
      const view = await schedules().create({
        name: 'one-time',
        expression: 'at(2026-01-01T02:00:00)',
        target: { queue: 'ticks', body: 'once' },
        startDate: t0 + 3 * 60 * MINUTE,
        endDate: t0 + 4 * 60 * MINUTE,
      });
      expect(view.nextFireTime).toBe('2026-01-01T02:00:00.000Z');
      await t.clock.advance(2 * 60 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual(['once']);
    });

    it('fires each tick up to the EndDate, and deletes the schedule after its last tick when asked', async () => {
      await t.sluice.queues.create('ticks');
      const t0 = t.clock.now();
      await schedules().create({
        name: 'once-more',
        expression: 'rate(1 hour)',
        target: { queue: 'ticks', body: 'tick' },
        endDate: t0 + 2 * 60 * MINUTE,
        deleteAfterCompletion: true,
      });
      await t.clock.advance(60 * MINUTE);
      await drain();
      await t.clock.advance(60 * MINUTE);
      await drain();
      expect(await bodies('ticks')).toEqual(['tick', 'tick']);
      expect(await schedules().list()).toEqual([]);
    });

    it('deletes a schedule after completion only once its last invocation has its outcome, retries included', async () => {
      const t0 = t.clock.now();
      let calls = 0;
      await t.sluice.functions.create({
        name: 'recovering',
        handler: async () => {
          calls++;
          if (calls < 3) throw new Error('not yet');
        },
      });
      await schedules().create({
        name: 'once-more',
        expression: `at(${new Date(t0 + 60 * MINUTE).toISOString().slice(0, 19)})`,
        target: { function: 'recovering', onFailure: { maximumRetryAttempts: 5, maximumEventAgeSeconds: 3600 } },
        deleteAfterCompletion: true,
      });
      await t.clock.advance(60 * MINUTE);
      await drain();
      expect(calls).toBe(1);
      // The last tick is claimed and failed once: its invocation is under way, so the schedule stays.
      expect((await schedules().list()).map((view) => view.name)).toEqual(['once-more']);
      await t.clock.advance(1_000);
      await drain();
      expect(calls).toBe(2);
      expect((await schedules().list()).map((view) => view.name)).toEqual(['once-more']);
      await t.clock.advance(2_000);
      await drain();
      expect(calls).toBe(3);
      expect(await schedules().list()).toEqual([]);
    });

    it('retries a failing function by its RetryPolicy, then sends the event to the dead-letter queue', async () => {
      await t.sluice.queues.create('dlq');
      let calls = 0;
      await t.sluice.functions.create({
        name: 'broken',
        handler: async () => {
          calls++;
          throw new Error('nope');
        },
      });
      await schedules().create({
        name: 'failing',
        expression: 'rate(1 hour)',
        target: { function: 'broken', input: { job: 1 }, onFailure: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 3600, deadLetterQueue: 'dlq' } },
      });
      await t.clock.advance(60 * MINUTE);
      const scheduledAt = t.clock.now();
      await drain();
      expect(calls).toBe(1);
      expect(await bodies('dlq')).toEqual([]);
      await t.clock.advance(1_000);
      await drain();
      await t.clock.advance(2_000);
      await drain();
      expect(calls).toBe(3);
      const [dead] = await t.sluice.queues.receive('dlq', { maxNumberOfMessages: 10 });
      expect(dead?.body).toBe('{"job":1}');
      const attribute = (name: string) => dead?.messageAttributes[name]?.stringValue;
      expect(attribute('EXHAUSTED_RETRY_CONDITION')).toBe('MaximumRetryAttempts');
      expect(attribute('IS_PAYLOAD_TRUNCATED')).toBe('false');
      // The invocation's scheduled time (the tick), not the time of the last attempt.
      expect(attribute('SCHEDULED_TIME')).toBe(new Date(scheduledAt).toISOString().replace('.000Z', 'Z'));
      expect(attribute('RETRY_ATTEMPTS')).toBe('2');
      expect(attribute('ERROR_MESSAGE')).toMatch(/nope/);
      expect(attribute('SCHEDULE_ARN')).toMatch(/:schedule\/default\/failing$/);
      expect(attribute('TARGET_ARN')).toMatch(/:function:broken$/);
      // EXECUTION_ID names the invocation: a UUID, the same for every attempt of it.
      expect(attribute('EXECUTION_ID')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(dead?.messageAttributes.RETRY_ATTEMPTS?.dataType).toBe('String');
      await t.clock.advance(60 * MINUTE - 3_000 - 1);
      await drain();
      expect(calls).toBe(3);
    });

    it('stops retrying once the event is older than MaximumEventAgeInSeconds', async () => {
      await t.sluice.queues.create('dlq');
      let calls = 0;
      await t.sluice.functions.create({
        name: 'broken',
        handler: async () => {
          calls++;
          throw new Error('still down');
        },
      });
      await schedules().create({
        name: 'aging',
        expression: 'rate(1 hour)',
        target: { function: 'broken', onFailure: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 60, deadLetterQueue: 'dlq' } },
      });
      await t.clock.advance(60 * MINUTE);
      await drain();
      // Backoff 1, 2, 4, 8, 16, 32 s: the retry due at 63 s finds the event older than 60 s.
      for (const step of [1, 2, 4, 8, 16, 32]) {
        await t.clock.advance(step * 1000);
        await drain();
      }
      expect(calls).toBe(6);
      const [dead] = await t.sluice.queues.receive('dlq', { maxNumberOfMessages: 10 });
      expect(dead?.messageAttributes.EXHAUSTED_RETRY_CONDITION?.stringValue).toBe('MaximumEventAgeInSeconds');
      expect(dead?.messageAttributes.RETRY_ATTEMPTS?.stringValue).toBe('5');
    });

    it('sends to the dead-letter queue what could not go to a queue that is gone, and drops it without one', async () => {
      await t.sluice.queues.create('dlq');
      await schedules().create({
        name: 'to-nowhere',
        expression: 'rate(1 hour)',
        target: { queue: 'gone', body: 'lost?', onFailure: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60, deadLetterQueue: 'dlq' } },
      });
      await schedules().create({
        name: 'dropped',
        expression: 'rate(1 hour)',
        target: { queue: 'gone', body: 'lost', onFailure: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 } },
      });
      await t.clock.advance(60 * MINUTE);
      await drain();
      const [dead] = await t.sluice.queues.receive('dlq', { maxNumberOfMessages: 10 });
      expect(dead?.body).toBe('lost?');
      expect(dead?.messageAttributes.ERROR_CODE?.stringValue).toMatch(/NonExistentQueue|QueueDoesNotExist/);
      expect(dead?.messageAttributes.TARGET_ARN?.stringValue).toMatch(/:sqs:.*:gone$/);
      const entry = await t.sluice.store.outboxGet({ key: `schedule:dropped:${t.clock.now()}` });
      expect(entry).toMatchObject({ attempts: 1 });
      expect(entry?.deliveredAt).not.toBeNull();
      expect(entry?.lastError).toMatch(/MaximumRetryAttempts/);
    });

    it('delivers a tick within its flexible window, at a point derived from the schedule and the tick', async () => {
      await t.sluice.queues.create('ticks');
      const t0 = t.clock.now();
      await schedules().create({ name: 'spread', expression: 'rate(1 hour)', target: { queue: 'ticks' }, flexibleWindowMinutes: 15 });
      const tick = t0 + 60 * MINUTE;
      const at = flexibleDeliveryAt('spread', tick, 15 * MINUTE);
      expect(at).toBeGreaterThan(tick); // this name and tick give a non-zero offset
      expect(at).toBeLessThan(tick + 15 * MINUTE);
      await t.clock.advance(at - t0 - 1);
      await drain();
      expect(await bodies('ticks')).toEqual([]);
      await t.clock.advance(1);
      await drain();
      const [body] = await bodies('ticks');
      expect((JSON.parse(body!) as ScheduledEvent).time).toBe(new Date(tick).toISOString());
      expect((await schedules().get('spread')).flexibleWindowMinutes).toBe(15);
    });

    it('spreads ticks of schedules sharing one expression, never before the tick', () => {
      const tick = Date.UTC(2026, 0, 1, 3);
      const offsets = Array.from({ length: 200 }, (_, i) => flexibleDeliveryAt(`s${i}`, tick, 10 * MINUTE) - tick);
      expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...offsets)).toBeLessThan(10 * MINUTE);
      expect(new Set(offsets).size).toBeGreaterThan(150);
      expect(flexibleDeliveryAt('s1', tick, 10 * MINUTE)).toBe(flexibleDeliveryAt('s1', tick, 10 * MINUTE));
      expect(flexibleDeliveryAt('s1', tick, 0)).toBe(tick);
    });

    it('validates EndDate, the flexible window and the failure policy', async () => {
      const now = t.clock.now();
      const target = { function: 'f' };
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ startDate: now + MINUTE, endDate: now + MINUTE }, /EndDate/],
        [{ flexibleWindowMinutes: 1441 }, /MaximumWindowInMinutes/],
        [{ target: { function: 'f', onFailure: { maximumRetryAttempts: 186, maximumEventAgeSeconds: 60 } } }, /maximumRetryAttempts/],
        [{ target: { function: 'f', onFailure: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 59 } } }, /maximumEventAgeSeconds/],
        [{ target: { function: 'f', onFailure: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 60, deadLetterQueue: 'd.fifo' } } }, /FIFO/],
      ];
      for (const [extra, field] of cases) {
        await expectSluiceError(schedules().create({ name: 'x', expression: 'rate(1 hour)', target, ...extra }), 'InvalidParameterValue', field);
      }
      expect(await schedules().list()).toEqual([]);
    });

    it('validates names, expressions, targets and windows', async () => {
      await expectSluiceError(
        schedules().create({ name: 'bad name', expression: 'rate(1 hour)', target: { function: 'f' } }),
        'InvalidParameterValue',
        /Name/,
      );
      await expectSluiceError(
        schedules().create({ name: 'x', expression: 'rate(0 hours)', target: { function: 'f' } }),
        'ValidationException',
      );
      await expectSluiceError(
        schedules().create({ name: 'x', expression: 'rate(1 hour)', target: {} as never }),
        'InvalidParameterValue',
        /Target/,
      );
      await expectSluiceError(
        schedules().create({
          name: 'x',
          expression: 'rate(1 hour)',
          target: { function: 'f' },
          catchUpWindowSeconds: 0,
        }),
        'InvalidParameterValue',
        /catchUpWindowSeconds/,
      );
      await schedules().create({ name: 'x', expression: 'rate(1 hour)', target: { function: 'f' } });
      await expectSluiceError(
        schedules().create({ name: 'x', expression: 'rate(2 hours)', target: { function: 'f' } }),
        'ResourceConflictException',
      );
    });
  });
}
