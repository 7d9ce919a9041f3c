/**
 * ScheduleStore and OutboxStore on their own: a tick is claimed once, its delivery enters the outbox in
 * the same transaction, and an outbox entry is held by one claim at a time (its lease), on every backend.
 */
import { describe, expect, it, vi } from 'vitest';
import type { NewOutboxEntry } from '../../store/outbox-store.js';
import { scheduleCatalogChannel, type StoredSchedule } from '../../store/schedule-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = Date.UTC(2026, 0, 1);
const minute = 60_000;

const schedule = (name: string, overrides: Partial<StoredSchedule> = {}): StoredSchedule => ({
  name,
  expression: 'rate(1 minute)',
  timezone: 'UTC',
  target: { kind: 'queue', queue: 'ticks' },
  state: 'ENABLED',
  catchUpWindowMs: 5 * minute,
  anchorAt: t0,
  nextFireAt: t0 + minute,
  policy: null,
  lastTickAt: null,
  lastFiredAt: null,
  createdAt: t0,
  modifiedAt: t0,
  ...overrides,
});

const delivery = (name: string, tick: number): NewOutboxEntry => ({
  key: `schedule:${name}:${tick}`,
  topic: 'schedule',
  payload: JSON.stringify({ name, tick }),
});

export function scheduleOutboxStoreConformance(backend: BackendUnderTest): void {
  describe(`schedule and outbox stores [${backend.name}]`, () => {
    const t = useStore(backend);

    it('creates a schedule once and lists the enabled ones that are due, with the next due instant', async () => {
      expect(await t.store.scheduleCreate({ schedule: schedule('a') })).toBe('created');
      expect(await t.store.scheduleCreate({ schedule: schedule('a') })).toBe('exists');
      await t.store.scheduleCreate({ schedule: schedule('later', { nextFireAt: t0 + 10 * minute }) });
      await t.store.scheduleCreate({ schedule: schedule('off', { state: 'DISABLED' }) });
      const { due, nextDueAt } = await t.store.scheduleDue({ now: t0 + minute, limit: 10 });
      expect(due.map((s) => s.name)).toEqual(['a']);
      expect(nextDueAt).toBe(t0 + 10 * minute);
    });

    it('replaces a schedule’s definition, finds it by name and prefix, deletes it, and publishes each change', async () => {
      let heard = 0;
      const stop = t.store.notifier.subscribe(scheduleCatalogChannel, () => heard++);
      await t.store.scheduleCreate({ schedule: schedule('nightly') });
      await t.store.scheduleCreate({ schedule: schedule('night_x') });
      await t.store.scheduleCreate({ schedule: schedule('hourly') });
      const updated = await t.store.scheduleUpdate({
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        timezone: 'Europe/Paris',
        target: { kind: 'function', functionName: 'report' },
        state: 'DISABLED',
        catchUpWindowMs: 0,
        anchorAt: t0 + 1,
        nextFireAt: t0 + 2 * minute,
        policy: { endAt: t0 + 60 * minute, flexibleWindowMs: 5 * minute, deleteAfterCompletion: true },
        now: t0 + 5,
      });
      expect(updated).toEqual({
        ...schedule('nightly'),
        expression: 'cron(0 2 * * ? *)',
        timezone: 'Europe/Paris',
        target: { kind: 'function', functionName: 'report' },
        state: 'DISABLED',
        catchUpWindowMs: 0,
        anchorAt: t0 + 1,
        nextFireAt: t0 + 2 * minute,
        policy: { endAt: t0 + 60 * minute, flexibleWindowMs: 5 * minute, deleteAfterCompletion: true },
        modifiedAt: t0 + 5,
      });
      expect(await t.store.scheduleGet({ name: 'nightly' })).toEqual(updated);
      expect(await t.store.scheduleUpdate({ ...updated!, name: 'missing', now: t0 })).toBeUndefined();
      expect((await t.store.scheduleList({ prefix: 'night' })).map((s) => s.name).sort()).toEqual([
        'night_x',
        'nightly',
      ]);
      expect((await t.store.scheduleList({ prefix: 'night_' })).map((s) => s.name)).toEqual(['night_x']);
      expect(await t.store.scheduleList({})).toHaveLength(3);
      expect(await t.store.scheduleDelete({ name: 'nightly' })).toBe(true);
      expect(await t.store.scheduleDelete({ name: 'nightly' })).toBe(false);
      expect(await t.store.scheduleGet({ name: 'nightly' })).toBeUndefined();
      await vi.waitFor(() => expect(heard).toBeGreaterThanOrEqual(5));
      stop();
    });

    it('claims a tick once: the claim moves the next tick and puts the delivery in the outbox', async () => {
      await t.store.scheduleCreate({ schedule: schedule('a') });
      const claim = { name: 'a', tick: t0 + minute, nextFireAt: t0 + 2 * minute, now: t0 + minute };
      expect(await t.store.scheduleClaimTick({ ...claim, delivery: delivery('a', t0 + minute) })).toBe(true);
      expect(await t.store.scheduleClaimTick({ ...claim, delivery: delivery('a', t0 + minute) })).toBe(false);
      expect(await t.store.scheduleGet({ name: 'a' })).toMatchObject({
        nextFireAt: t0 + 2 * minute,
        lastTickAt: t0 + minute,
      });
      expect(await t.store.outboxGet({ key: `schedule:a:${t0 + minute}` })).toMatchObject({
        topic: 'schedule',
        attempts: 0,
        deliveredAt: null,
      });
    });

    it('puts a delivery with a later due time (a flexible window) in the outbox, not claimable before it', async () => {
      await t.store.scheduleCreate({ schedule: schedule('flex') });
      const dueAt = t0 + minute + 90_000;
      const claimed = await t.store.scheduleClaimTick({
        name: 'flex',
        tick: t0 + minute,
        nextFireAt: t0 + 2 * minute,
        now: t0 + minute,
        delivery: { ...delivery('flex', t0 + minute), dueAt },
      });
      expect(claimed).toBe(true);
      expect(await t.store.outboxGet({ key: `schedule:flex:${t0 + minute}` })).toMatchObject({ dueAt, createdAt: t0 + minute });
      expect(await t.store.outboxClaim({ now: dueAt - 1, leaseMs: minute, claimToken: 'x', limit: 10 })).toEqual([]);
      expect((await t.store.outboxClaim({ now: dueAt, leaseMs: minute, claimToken: 'x', limit: 10 })).map((e) => e.key)).toEqual([`schedule:flex:${t0 + minute}`]);
    });

    it('claims a tick once however many callers race for it', async () => {
      await t.store.scheduleCreate({ schedule: schedule('race') });
      const tick = t0 + minute;
      const claims = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          t.store.scheduleClaimTick({
            name: 'race',
            tick,
            nextFireAt: tick + minute,
            delivery: { key: `schedule:race:${tick}`, topic: 'schedule', payload: `{"n":${i}}` },
            now: tick,
          }),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await t.store.outboxGet({ key: `schedule:race:${tick}` })).toBeDefined();
    });

    it('does not claim a tick of a disabled schedule, nor a tick it no longer holds', async () => {
      await t.store.scheduleCreate({ schedule: schedule('off', { state: 'DISABLED' }) });
      await t.store.scheduleCreate({ schedule: schedule('a') });
      const claim = { tick: t0 + minute, nextFireAt: t0 + 2 * minute, delivery: null, now: t0 + minute };
      expect(await t.store.scheduleClaimTick({ ...claim, name: 'off' })).toBe(false);
      expect(await t.store.scheduleClaimTick({ ...claim, name: 'a', tick: t0 + 3 * minute })).toBe(false);
      expect(await t.store.outboxNextDue({})).toBeNull();
    });

    it('leases an outbox entry to one claim at a time; a lost claim can neither complete nor extend it', async () => {
      await t.store.scheduleCreate({ schedule: schedule('a') });
      const now = t0 + minute;
      await t.store.scheduleClaimTick({
        name: 'a',
        tick: now,
        nextFireAt: now + minute,
        delivery: delivery('a', now),
        now,
      });
      const [first] = await t.store.outboxClaim({ now, leaseMs: 30_000, claimToken: 'one', limit: 10 });
      expect(first).toMatchObject({ key: `schedule:a:${now}`, attempts: 1, dueAt: now + 30_000 });
      expect(
        await t.store.outboxClaim({ now: now + 1, leaseMs: 30_000, claimToken: 'two', limit: 10 }),
      ).toEqual([]);
      expect(await t.store.outboxNextDue({})).toBe(now + 30_000);

      // The lease ends (the first claimer died): another claim takes the entry, the first one is refused.
      const [second] = await t.store.outboxClaim({
        now: now + 30_000,
        leaseMs: 30_000,
        claimToken: 'two',
        limit: 10,
      });
      expect(second).toMatchObject({ id: first!.id, attempts: 2 });
      expect(await t.store.outboxExtend({ id: first!.id, claimToken: 'one', dueAt: now + 90_000 })).toBe(
        false,
      );
      expect(await t.store.outboxComplete({ id: first!.id, claimToken: 'one', now: now + 30_001 })).toBe(
        false,
      );
      expect(await t.store.outboxComplete({ id: first!.id, claimToken: 'two', now: now + 30_002 })).toBe(
        true,
      );
      expect(await t.store.outboxGet({ key: `schedule:a:${now}` })).toMatchObject({
        deliveredAt: now + 30_002,
      });
      expect(await t.store.outboxNextDue({})).toBeNull();
    });

    it('gives a failed delivery back for a later attempt, recording why', async () => {
      await t.store.scheduleCreate({ schedule: schedule('a') });
      const now = t0 + minute;
      await t.store.scheduleClaimTick({
        name: 'a',
        tick: now,
        nextFireAt: now + minute,
        delivery: delivery('a', now),
        now,
      });
      const [entry] = await t.store.outboxClaim({ now, leaseMs: 30_000, claimToken: 'one', limit: 10 });
      expect(
        await t.store.outboxRetry({
          id: entry!.id,
          claimToken: 'one',
          dueAt: now + 2_000,
          error: 'throttled',
        }),
      ).toBe(true);
      expect(await t.store.outboxGet({ key: entry!.key })).toMatchObject({
        dueAt: now + 2_000,
        lastError: 'throttled',
        deliveredAt: null,
      });
      expect(
        await t.store.outboxClaim({ now: now + 1_999, leaseMs: 30_000, claimToken: 'two', limit: 10 }),
      ).toEqual([]);
      expect(
        await t.store.outboxClaim({ now: now + 2_000, leaseMs: 30_000, claimToken: 'two', limit: 10 }),
      ).toHaveLength(1);
    });
  });
}
