/**
 * The decisions of a claim by group, as pure functions both store backends call: which messages of the
 * locked groups are handed out, dropped (expired) or dead-lettered, and each group's new readiness.
 *
 * Fairness is round robin over ready groups: groups are taken in the order of their `ready_at` (ties:
 * their `turn`, which grows each time a group is served), and each pass over them takes at most one
 * message per group, so a group with a deep backlog gets one message per pass like a group with one.
 * A served group goes to the back of the line. A group is served only while its in-flight messages are
 * below its concurrency limit and its token bucket holds a whole token.
 *
 * A group row's times are lower bounds of when it can next be served (a send, a delete or a visibility
 * change lowers them without reading limits); a claim re-checks the group exactly and writes exact ones:
 *   ready_at = max(next_visible_at, slot_at, token_at)
 * - next_visible_at: now if a message is visible, else the earliest visible_at of its messages;
 * - slot_at: now below the concurrency limit, else the earliest visibility expiry of its messages
 *   (a delete lowers it to the delete's instant);
 * - token_at: when the bucket next holds a whole token.
 */
import { fullAt, nextTokenAt, tokensOf, unitsAt, wholeTokens, type Bucket } from './token-bucket.js';
import type { GroupLimit } from '../group-limit.js';

/**
 * Told each plan a claim makes: how a caller of the store learns what a claim decided per group
 * (group-activity.ts) without the stores knowing about metrics. It travels with the claim's parameters
 * (GroupClaimParams.onPlan), not in an async context: an AsyncLocalStorage turns on promise hooks for the
 * whole process on Node 20 and 22, about a third of a grouped drain's CPU.
 */
export type PlanObserver = (plan: ClaimPlan, now: number) => void;

/** A group row with no message left, kept only until its bucket is full again. */
export const NEVER = Number.MAX_SAFE_INTEGER;

export interface ClaimCandidate {
  seq: number;
  sentAt: number;
  receiveCount: number;
}

/** A locked group row, with its effective limit. */
export interface LockedGroup {
  groupKey: string;
  readyAt: number;
  limit: GroupLimit;
  bucket: Bucket;
}

/** What a claim read of a locked group's messages (after locking it, so it sees every earlier claim). */
export interface GroupMessages {
  /** Messages of the group in flight, counted up to its concurrency limit. */
  inFlight: number;
  /** The earliest visible_at after now of its messages (in flight or delayed), or null. */
  nextHiddenAt: number | null;
  /** Visible messages, oldest first, at most `readBound` of them. */
  candidates: ClaimCandidate[];
  /** `candidates` reached the read bound: more may be visible. */
  truncated: boolean;
}

export interface ClaimRules {
  now: number;
  /** visible_at of the messages handed out. */
  visibleAt: number;
  expiredBefore: number;
  /** Receives after which a message goes to the dead-letter queue, or null without one. */
  maxReceiveCount: number | null;
  /** Messages still wanted by this claim. */
  remaining: number;
  /**
   * How many of them may still come from groups with a rate limit (none: no bound). A trigger claiming
   * ahead bounds them by the messages its waiting pollers take at once: a message held ahead starts
   * late, and starts bunched together would exceed the rate its group's claims kept to.
   */
  pacedRemaining?: number;
  /** Told the plan once it is made (an observed claim also reads one message more per group: readBound). */
  observer?: PlanObserver | undefined;
}

/** Which limit kept a group from giving more messages to a claim that wanted them. */
export type ThrottleCause = 'concurrency' | 'rate';

export interface GroupUpdate {
  groupKey: string;
  /** Messages of the group this claim hands out. */
  taken: number;
  /**
   * Set when the claim still wanted messages, had a visible one of the group in hand, and the group's
   * limit refused it: 'concurrency' when its slots are all used (even if its bucket is empty too), else
   * 'rate'. Read by the activity metrics (group-activity.ts); the stores ignore it.
   */
  refusedBy: ThrottleCause | null;
  /** Delete the row: the group has no message left and a full bucket. */
  remove: boolean;
  /** Served by this claim: goes to the back of the line (a new turn). */
  served: boolean;
  nextVisibleAt: number;
  slotAt: number;
  tokenAt: number;
  readyAt: number;
  fullAt: number;
  tokens: number | null;
  refilledAt: number;
}

export interface ClaimPlan {
  /** In the order handed out: pass by pass, groups in line order within a pass. */
  claimed: number[];
  /** Those of `claimed` taken from groups with a rate limit. */
  paced: number[];
  expired: number[];
  deadLettered: number[];
  /** Only the groups this claim reached; the others keep their place. */
  updates: GroupUpdate[];
}

/**
 * How many visible messages to read for a group: never more than it could be given, plus one when the
 * claim is observed (a trigger's claim feeding the group activity metrics), so that a group its limit
 * stops is known to have had a message refused rather than guessed from `truncated`.
 */
export function readBound(limit: GroupLimit, remaining: number, observed: boolean): number {
  const bound = Math.max(
    1,
    Math.min(remaining, limit.maxConcurrency ?? remaining, limit.rate?.burst ?? remaining),
  );
  return observed ? bound + 1 : bound;
}

interface Progress {
  group: LockedGroup & GroupMessages;
  capacity: number;
  /** Free concurrency slots at the start of the claim (Infinity without a concurrency limit). */
  bySlots: number;
  /** The limit refused this group a message while the claim wanted more. */
  refused: boolean;
  units: number;
  next: number;
  taken: number;
  reached: boolean;
}

/** Decides one page of locked groups, given in line order (ready_at, then turn). */
export function planClaim(groups: Array<LockedGroup & GroupMessages>, rules: ClaimRules): ClaimPlan {
  const plan: ClaimPlan = { claimed: [], paced: [], expired: [], deadLettered: [], updates: [] };
  const progress: Progress[] = groups.map((group) => {
    const { maxConcurrency, rate } = group.limit;
    const units = rate ? unitsAt(rate, group.bucket, rules.now) : 0;
    const bySlots = maxConcurrency === null ? Infinity : Math.max(0, maxConcurrency - group.inFlight);
    const byTokens = rate ? wholeTokens(rate, units) : Infinity;
    return {
      group,
      capacity: Math.min(bySlots, byTokens),
      bySlots,
      refused: false,
      units,
      next: 0,
      taken: 0,
      reached: false,
    };
  });
  let remaining = rules.remaining;
  let pacedRemaining = rules.pacedRemaining ?? Infinity;
  passes: for (;;) {
    let tookAny = false;
    for (const p of progress) {
      if (remaining <= 0) break passes;
      p.reached = true;
      if (p.taken >= p.capacity) {
        // Only a message in hand counts (`truncated` may be a guess; an observed claim reads one more).
        if (p.next < p.group.candidates.length) p.refused = true;
        continue;
      }
      // Not refused by the group's limit: this claim's caller takes no more paced messages now, and the
      // group, unserved, keeps its place in line for the next claim.
      const paced = p.group.limit.rate !== null;
      if (paced && pacedRemaining <= 0) continue;
      if (takeOne(p, rules, plan)) {
        remaining--;
        tookAny = true;
        if (paced) {
          pacedRemaining--;
          plan.paced.push(plan.claimed[plan.claimed.length - 1]!);
        }
      }
    }
    if (!tookAny) break;
  }
  for (const p of progress) if (p.reached) plan.updates.push(groupUpdate(p, rules));
  rules.observer?.(plan, rules.now);
  return plan;
}

/** Takes the group's next message, dropping expired and dead-letter-bound ones on the way. */
function takeOne(p: Progress, rules: ClaimRules, plan: ClaimPlan): boolean {
  const candidates = p.group.candidates;
  while (p.next < candidates.length) {
    const candidate = candidates[p.next++]!;
    if (candidate.sentAt < rules.expiredBefore) plan.expired.push(candidate.seq);
    else if (rules.maxReceiveCount !== null && candidate.receiveCount >= rules.maxReceiveCount) {
      plan.deadLettered.push(candidate.seq);
    } else {
      plan.claimed.push(candidate.seq);
      p.taken++;
      return true;
    }
  }
  return false;
}

function groupUpdate(p: Progress, rules: ClaimRules): GroupUpdate {
  const { group, taken } = p;
  const { now } = rules;
  const { maxConcurrency, rate } = group.limit;
  const units = rate ? p.units - taken * rate.intervalMs : 0;
  const visibleLeft = p.next < group.candidates.length || group.truncated;
  let hiddenAt = group.nextHiddenAt;
  if (taken > 0 && (hiddenAt === null || rules.visibleAt < hiddenAt)) hiddenAt = rules.visibleAt;
  const inFlight = group.inFlight + taken;
  const slotAt = maxConcurrency === null || inFlight < maxConcurrency ? now : (hiddenAt ?? now);
  const tokenAt = rate ? nextTokenAt(rate, units, now) : now;
  const full = rate ? fullAt(rate, units, now) : now;
  const bucket = { tokens: rate ? tokensOf(rate, units) : null, refilledAt: now };
  const refusedBy: ThrottleCause | null = !p.refused ? null : taken >= p.bySlots ? 'concurrency' : 'rate';
  const base = {
    groupKey: group.groupKey,
    taken,
    refusedBy,
    served: taken > 0,
    slotAt,
    tokenAt,
    fullAt: full,
    ...bucket,
  };
  if (!visibleLeft && hiddenAt === null) {
    // No message left: the row goes, unless its bucket must remember what was taken.
    return { ...base, remove: full <= now, nextVisibleAt: NEVER, readyAt: full };
  }
  const nextVisibleAt = visibleLeft ? now : hiddenAt!;
  let readyAt = Math.max(nextVisibleAt, slotAt, tokenAt);
  // Still ready and not served (the batch filled first): keep its place in line.
  if (taken === 0 && readyAt <= now) readyAt = Math.min(readyAt, group.readyAt);
  return { ...base, remove: false, nextVisibleAt, readyAt };
}

/** A group's effective limit: its own entry, else the queue's default, else none. */
export function effectiveLimit(own: GroupLimit | null, fallback: GroupLimit | null): GroupLimit {
  return own ?? fallback ?? { maxConcurrency: null, rate: null };
}
