import { describe, expect, it } from 'vitest';
import { fullAt, nextTokenAt, unitsAt, wholeTokens } from './token-bucket.js';
import {
  NEVER,
  planClaim,
  readBound,
  type ClaimRules,
  type GroupMessages,
  type LockedGroup,
} from './claim-plan.js';
import type { GroupLimit } from '../group-limit.js';

const now = 1_000_000;
const rules = (remaining: number, extra: Partial<ClaimRules> = {}): ClaimRules => ({
  now,
  visibleAt: now + 30_000,
  expiredBefore: 0,
  maxReceiveCount: null,
  remaining,
  ...extra,
});

let nextSeq = 1;
function group(
  key: string,
  limit: GroupLimit,
  messages: Partial<GroupMessages> & { visible?: number } = {},
): LockedGroup & GroupMessages {
  const count = messages.visible ?? 0;
  return {
    groupKey: key,
    readyAt: now - 100,
    limit,
    bucket: { tokens: null, refilledAt: 0 },
    inFlight: messages.inFlight ?? 0,
    nextHiddenAt: messages.nextHiddenAt ?? null,
    candidates:
      messages.candidates ??
      Array.from({ length: count }, () => ({ seq: nextSeq++, sentAt: now - 10, receiveCount: 0 })),
    truncated: messages.truncated ?? false,
  };
}
const free: GroupLimit = { maxConcurrency: null, rate: null };

describe('token bucket', () => {
  const rate = { limit: 3, intervalMs: 1000, burst: 2 };

  it('starts full and refills exactly, in whole milliseconds', () => {
    expect(unitsAt(rate, { tokens: null, refilledAt: 0 }, now)).toBe(2000);
    const empty = { tokens: 0, refilledAt: now };
    expect(wholeTokens(rate, unitsAt(rate, empty, now + 333))).toBe(0);
    expect(wholeTokens(rate, unitsAt(rate, empty, now + 334))).toBe(1);
    expect(nextTokenAt(rate, 0, now)).toBe(now + 334);
    expect(fullAt(rate, 0, now)).toBe(now + 667);
  });

  it('never holds more than the burst however long it was idle', () => {
    expect(unitsAt(rate, { tokens: 0.5, refilledAt: 0 }, Number.MAX_SAFE_INTEGER)).toBe(2000);
  });

  it('recovers the exact count from a stored fraction', () => {
    const third = { limit: 1, intervalMs: 3, burst: 1 };
    // 1/3 token as a double, then 2 ms later exactly one token.
    expect(wholeTokens(third, unitsAt(third, { tokens: 1 / 3, refilledAt: now }, now + 2))).toBe(1);
    expect(wholeTokens(third, unitsAt(third, { tokens: 1 / 3, refilledAt: now }, now + 1))).toBe(0);
  });
});

describe('claim plan', () => {
  it('takes one message per group per pass, in line order', () => {
    const a = group('a', free, { visible: 5 });
    const b = group('b', free, { visible: 1 });
    const c = group('c', free, { visible: 2 });
    const plan = planClaim([a, b, c], rules(6));
    const owner = (seq: number) => [a, b, c].find((g) => g.candidates.some((m) => m.seq === seq))!.groupKey;
    expect(plan.claimed.map(owner)).toEqual(['a', 'b', 'c', 'a', 'c', 'a']);
  });

  it('stops a group at its concurrency limit and sets it ready when a slot frees', () => {
    const a = group(
      'a',
      { maxConcurrency: 3, rate: null },
      { visible: 5, inFlight: 1, nextHiddenAt: now + 5_000 },
    );
    const plan = planClaim([a], rules(10));
    expect(plan.claimed).toHaveLength(2);
    expect(plan.updates[0]).toMatchObject({
      served: true,
      slotAt: now + 5_000,
      nextVisibleAt: now,
      readyAt: now + 5_000,
    });
  });

  it('stops a group at its rate and sets it ready when the next token is due', () => {
    const a = group(
      'a',
      { maxConcurrency: null, rate: { limit: 2, intervalMs: 1000, burst: 2 } },
      { visible: 5 },
    );
    const plan = planClaim([a], rules(10));
    expect(plan.claimed).toHaveLength(2);
    expect(plan.updates[0]).toMatchObject({
      tokens: 0,
      tokenAt: now + 500,
      readyAt: now + 500,
      fullAt: now + 1000,
    });
  });

  it('leaves groups the batch did not reach untouched, and keeps a reached but unserved group in its place', () => {
    const groups = ['a', 'b', 'c'].map((key) => group(key, free, { visible: 2 }));
    const plan = planClaim(groups, rules(2));
    expect(plan.updates.map((u) => u.groupKey)).toEqual(['a', 'b']);
    const four = planClaim(
      ['x', 'y'].map((key) => group(key, free, { visible: 3 })),
      rules(3),
    );
    // x served twice, y once: both served, both back of the line at now.
    expect(four.updates.map((u) => [u.groupKey, u.served, u.readyAt])).toEqual([
      ['x', true, now],
      ['y', true, now],
    ]);
  });

  it('takes at most pacedRemaining messages from rate-limited groups, and leaves the others ready in their place', () => {
    const paced: GroupLimit = { maxConcurrency: null, rate: { limit: 10, intervalMs: 1000, burst: 10 } };
    const groups = [
      group('r1', paced, { visible: 3 }),
      group('f', free, { visible: 4 }),
      group('r2', paced, { visible: 3 }),
    ];
    const plan = planClaim(groups, rules(5, { pacedRemaining: 2 }));
    const keyOf = new Map(groups.flatMap((g) => g.candidates.map((c) => [c.seq, g.groupKey] as const)));
    // Pass 1: r1, f, r2 (the bound is then spent); pass 2 and 3: f only.
    expect(plan.claimed.map((seq) => keyOf.get(seq))).toEqual(['r1', 'f', 'r2', 'f', 'f']);
    expect(plan.paced.map((seq) => keyOf.get(seq))).toEqual(['r1', 'r2']);
    // Skipped for pacing is not a refusal by the limit, and the groups stay ready now.
    expect(plan.updates.map((u) => [u.groupKey, u.refusedBy, u.readyAt <= now])).toEqual([
      ['r1', null, true],
      ['f', null, true],
      ['r2', null, true],
    ]);
    const unbounded = planClaim([group('r', paced, { visible: 3 })], rules(3));
    expect(unbounded.paced).toEqual(unbounded.claimed);
    expect(unbounded.claimed).toHaveLength(3);
  });

  it('drops expired messages and dead-letters exhausted ones without using capacity', () => {
    const a = group(
      'a',
      { maxConcurrency: 1, rate: null },
      {
        candidates: [
          { seq: 1, sentAt: 5, receiveCount: 0 },
          { seq: 2, sentAt: now, receiveCount: 3 },
          { seq: 3, sentAt: now, receiveCount: 1 },
        ],
      },
    );
    const plan = planClaim([a], rules(10, { expiredBefore: 100, maxReceiveCount: 3 }));
    expect(plan).toMatchObject({ expired: [1], deadLettered: [2], claimed: [3] });
  });

  it('removes the row of an emptied group, unless its bucket still refills', () => {
    const gone = planClaim([group('a', free, { visible: 0 })], rules(10));
    expect(gone.updates[0]).toMatchObject({ remove: true });
    const refilling = planClaim(
      [group('a', { maxConcurrency: null, rate: { limit: 1, intervalMs: 1000, burst: 1 } }, { visible: 1 })],
      rules(10),
    );
    // The message taken is in flight: the group is not empty.
    expect(refilling.updates[0]).toMatchObject({ remove: false, nextVisibleAt: now + 30_000 });
    const drained = planClaim(
      [
        {
          ...group('a', { maxConcurrency: null, rate: { limit: 1, intervalMs: 1000, burst: 1 } }),
          bucket: { tokens: 0, refilledAt: now - 400 },
        },
      ],
      rules(10),
    );
    expect(drained.updates[0]).toMatchObject({ remove: false, nextVisibleAt: NEVER, readyAt: now + 600 });
  });

  it('keeps a group ready when more messages may be visible than it read', () => {
    const plan = planClaim([group('a', free, { visible: 2, truncated: true })], rules(2));
    expect(plan.updates[0]).toMatchObject({ nextVisibleAt: now, readyAt: now, remove: false });
  });

  it('reads no more messages of a group than it could be given', () => {
    expect(readBound({ maxConcurrency: 2, rate: null }, 10, false)).toBe(2);
    expect(readBound({ maxConcurrency: null, rate: { limit: 5, intervalMs: 1, burst: 3 } }, 10, false)).toBe(3);
    expect(readBound(free, 7, false)).toBe(7);
  });
});
