/**
 * Group activity metrics: what a claim's plan reports per group, the tracker's bounds (only recently
 * active groups, at most `topGroups` listed, idle ones forgotten), and the counts of a small scenario on
 * the manual clock, through the library and the Prometheus exposition.
 */
import { describe, expect, it } from 'vitest';
import { collectMetrics, toPrometheus } from '../api/native/metrics.js';
import { gate, openTestEngine } from '../testkit/engine.js';
import { planClaim, readBound, type ClaimPlan } from '../store/rules/claim-plan.js';
import { GroupActivity, type GroupActivityCounts } from './group-activity.js';
import type { GroupLimit } from '../store/group-limit.js';

const now = Date.UTC(2026, 0, 1);
const rules = (remaining: number) => ({
  now,
  visibleAt: now + 30_000,
  expiredBefore: 0,
  maxReceiveCount: null,
  remaining,
});

function group(key: string, limit: GroupLimit, visible: number, inFlight = 0) {
  return {
    groupKey: key,
    readyAt: now,
    limit,
    bucket: { tokens: null, refilledAt: now },
    inFlight,
    nextHiddenAt: inFlight > 0 ? now + 30_000 : null,
    candidates: Array.from({ length: visible }, (_, i) => ({ seq: i + 1, sentAt: now, receiveCount: 0 })),
    truncated: false,
  };
}

describe('what a claim plan reports per group', () => {
  it('names the limit that refused a message in hand, and nothing when the claim wanted no more', () => {
    const plan = planClaim(
      [
        group('busy', { maxConcurrency: 1, rate: null }, 2),
        group('slow', { maxConcurrency: null, rate: { limit: 1, intervalMs: 10_000, burst: 1 } }, 2),
        group('both', { maxConcurrency: 1, rate: { limit: 1, intervalMs: 10_000, burst: 1 } }, 2),
        group('free', { maxConcurrency: null, rate: null }, 1),
      ],
      rules(10),
    );
    const by = Object.fromEntries(plan.updates.map((u) => [u.groupKey, [u.taken, u.refusedBy]]));
    expect(by).toEqual({
      busy: [1, 'concurrency'],
      slow: [1, 'rate'],
      both: [1, 'concurrency'],
      free: [1, null],
    });
    // The claim was full after one message: nothing was refused.
    const full = planClaim([group('busy', { maxConcurrency: 1, rate: null }, 2)], rules(1));
    expect(full.updates[0]).toMatchObject({ taken: 1, refusedBy: null });
    // Blocked from the start (its slots all in flight), with a message visible.
    const blocked = planClaim([group('busy', { maxConcurrency: 1, rate: null }, 1, 1)], rules(5));
    expect(blocked.updates[0]).toMatchObject({ taken: 0, refusedBy: 'concurrency' });
  });

  it('reads one message more per group only for an observed claim, and tells the observer its plan', () => {
    const limit = { maxConcurrency: 1, rate: null };
    expect(readBound(limit, 10, false)).toBe(1);
    expect(readBound(limit, 10, true)).toBe(2);
    const plans: ClaimPlan[] = [];
    const plan = planClaim([group('g', limit, 2)], { ...rules(10), observer: (made) => plans.push(made) });
    expect(plans).toEqual([plan]);
  });
});

describe('the activity tracker', () => {
  it('lists only recently active groups, busiest first, at most topGroups, and forgets idle ones', async () => {
    const activity = new GroupActivity({ windowMs: 1000, topGroups: 2, maxTrackedGroups: 100 });
    // A claim as a trigger makes it: planClaim inside the tracker's observed context.
    const run = (at: number, batchId: string, groups: Array<ReturnType<typeof group>>, remaining = 10) =>
      activity.claim({ queue: 'q', batchId, expiresAt: at + 30_000 }, async (observer) =>
        planClaim(groups, { ...rules(remaining), now: at, observer }),
      );
    await run(now, 'b1', [
      group('a', { maxConcurrency: 1, rate: null }, 3),
      group('b', { maxConcurrency: null, rate: null }, 2),
    ]);
    await run(now + 10, 'b2', [group('c', { maxConcurrency: null, rate: null }, 1)]);
    let [q] = activity.snapshot(now + 20);
    expect(q!.totals).toEqual({ started: 4, throttledByConcurrency: 1, throttledByRate: 0, inFlight: 4 });
    expect(q!.trackedGroups).toBe(3);
    // b: 2 started; a: 1 started + 1 refused; c: 1 started. Top 2 by recent events, ties by in-flight, then name.
    expect(q!.groups.map((g) => [g.group, g.started, g.throttledByConcurrency, g.inFlight])).toEqual([
      ['b', 2, 0, 2],
      ['a', 1, 1, 1],
    ]);
    activity.settle('b1');
    activity.settle('b1'); // once only
    [q] = activity.snapshot(now + 20);
    expect(q!.totals.inFlight).toBe(1);
    // Two windows later: a and b are idle and forgotten; c still has a message under invocation.
    [q] = activity.snapshot(now + 2500);
    expect(q!.groups.map((g) => g.group)).toEqual(['c']);
    expect(q!.trackedGroups).toBe(1);
    // Its batch never settles: when the claim's visibility ends, it is no longer counted in flight.
    [q] = activity.snapshot(now + 40_000);
    expect(q!.totals).toEqual({ started: 4, throttledByConcurrency: 1, throttledByRate: 0, inFlight: 0 });
    expect(q!.groups).toEqual([]);
    expect(q!.trackedGroups).toBe(0);
  });

  it('keeps at most about maxTrackedGroups entries, dropping the least recently busy', async () => {
    const activity = new GroupActivity({ windowMs: 60_000, topGroups: 5, maxTrackedGroups: 100 });
    for (let i = 0; i < 1000; i++) {
      await activity.claim({ queue: 'q', batchId: `b${i}`, expiresAt: now + 30_000 }, async (observer) =>
        planClaim([group(`g${i}`, { maxConcurrency: null, rate: null }, 1)], { ...rules(1), now: now + i, observer }),
      );
      activity.settle(`b${i}`);
    }
    const [q] = activity.snapshot(now + 1000);
    expect(q!.trackedGroups).toBeLessThanOrEqual(110);
    expect(q!.totals.started).toBe(1000);
    expect(q!.groups).toHaveLength(5);
    // The most recent groups survived.
    expect(q!.groups.every((g) => Number(g.group.slice(1)) >= 890)).toBe(true);
  });
});

describe('group activity of a grouped trigger (manual clock)', () => {
  it('counts started, throttled by concurrency and by rate, and in-flight, for active groups only', async () => {
    const t = await openTestEngine();
    try {
      const { sluice } = t;
      const running = new Map<string, () => void>();
      await sluice.queues.create('tasks', { VisibilityTimeout: 30 });
      await sluice.functions.create({
        name: 'work',
        timeout: 10,
        handler: async (event: {
          Records: Array<{ attributes: { MessageGroupId?: string }; body: string }>;
        }) => {
          const release = gate();
          running.set(event.Records.map((r) => r.body).join(','), release.open);
          await release.promise;
        },
      });
      // 1,000 groups with limits and no messages: no entry, no cost.
      for (let i = 0; i < 1000; i++)
        await sluice.groupLimits.set('tasks', `idle-${i}`, { maxConcurrency: 1 });
      await sluice.groupLimits.set('tasks', 'a', { maxConcurrency: 1 });
      await sluice.groupLimits.set('tasks', 'b', { rate: { limit: 1, intervalSeconds: 10, burst: 1 } });
      await sluice.triggers.create({
        queue: 'tasks',
        functionName: 'work',
        batchSize: 10,
        groupBy: 'MessageGroupId',
      });
      await sluice.queues.sendBatch('tasks', [
        { id: '1', body: 'a1', messageGroupId: 'a' },
        { id: '2', body: 'a2', messageGroupId: 'a' },
        { id: '3', body: 'b1', messageGroupId: 'b' },
        { id: '4', body: 'b2', messageGroupId: 'b' },
        { id: '5', body: 'c1', messageGroupId: 'c' },
      ]);
      await t.until(() => running.size === 1, { stepMs: 10 });
      // One claim of up to 10: a1, b1, c1 in one batch; a2 refused by concurrency, b2 by rate.
      expect([...running.keys()]).toEqual(['a1,b1,c1']);
      const [first] = sluice.groupLimits.activity('tasks');
      // [started, throttled by concurrency, throttled by rate, in flight]
      const row = (c: GroupActivityCounts) => [
        c.started,
        c.throttledByConcurrency,
        c.throttledByRate,
        c.inFlight,
      ];
      expect(row(first!.totals)).toEqual([3, 1, 1, 3]);
      expect(first!.trackedGroups).toBe(3);
      const counts = (q: typeof first) => Object.fromEntries(q!.groups.map((g) => [g.group, row(g)]));
      expect(counts(first)).toEqual({ a: [1, 1, 0, 1], b: [1, 0, 1, 1], c: [1, 0, 0, 1] });

      // The batch ends: a2 is served at once (a's slot is free); b2 waits for b's next token (10 s).
      running.get('a1,b1,c1')!();
      await t.until(() => running.has('a2'), { stepMs: 10 });
      expect(counts(sluice.groupLimits.activity('tasks')[0])).toEqual({
        a: [2, 1, 0, 1],
        b: [1, 0, 1, 0],
        c: [1, 0, 0, 0],
      });
      running.get('a2')!();
      await t.until(() => running.has('b2'), { stepMs: 100 });
      running.get('b2')!();
      await t.until(() => sluice.groupLimits.activity('tasks')[0]!.totals.inFlight === 0, { stepMs: 10 });
      const [done] = sluice.groupLimits.activity('tasks');
      expect(row(done!.totals)).toEqual([5, 1, 1, 0]);
      expect(counts(done)).toEqual({ a: [2, 1, 0, 0], b: [2, 0, 1, 0], c: [1, 0, 0, 0] });

      const text = (await toPrometheus(await collectMetrics(sluice))).text;
      expect(text).toContain('sluice_group_messages_started_total{queue="tasks",group="a"} 2');
      expect(text).toContain(
        'sluice_group_throttled_claims_total{queue="tasks",group="a",reason="concurrency"} 1',
      );
      expect(text).toContain('sluice_group_throttled_claims_total{queue="tasks",group="b",reason="rate"} 1');
      expect(text).toContain('sluice_group_in_flight{queue="tasks",group="c"} 0');
      expect(text).toContain('sluice_queue_group_messages_started_total{queue="tasks"} 5');
      expect(text).toContain('sluice_queue_groups_tracked{queue="tasks"} 3');
      expect(text).not.toContain('idle-');

      // Two quiet minutes later the groups are no longer listed; the totals stay.
      await t.clock.advance(121_000);
      const [quiet] = sluice.groupLimits.activity('tasks');
      expect(quiet!.groups).toEqual([]);
      expect(quiet!.totals.started).toBe(5);
    } finally {
      await t.close();
    }
  });
});
