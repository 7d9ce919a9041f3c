/**
 * The group-limit half of the store (see rules/claim-plan.ts for the rules and docs/design/group-limits.md
 * for the design). A grouped queue's messages carry a `group_key`; one `queue_groups` row per group with
 * messages says when the group can next be served; limits are rows keyed by queue name and group.
 *
 * Every backend runs the same plan: lock the ready groups in line order (PostgreSQL: FOR UPDATE SKIP
 * LOCKED, so nodes never serve one group at once), read each group's in-flight count, bucket and oldest
 * visible messages after the lock, call `planClaim`, apply. Limits therefore hold cluster-wide.
 */
import type { GroupLimit } from './group-limit.js';
import type { ReceiveOutcome, ReceiveParams } from './queue-store.js';
import type { PlanObserver } from './rules/claim-plan.js';

export interface GroupClaimParams extends ReceiveParams {
  /** Limits are kept by queue name, so they outlive a queue being deleted and created again. */
  queueName: string;
  /**
   * At most this many of the claimed messages come from groups with a rate limit (none: no bound); they
   * are marked `paced`. A trigger claiming ahead passes what its waiting pollers take at once, and hands
   * those first (see ClaimRules.pacedRemaining).
   */
  pacedMax?: number;
  /** Told each plan the claim makes, per page of groups (the group activity metrics; claim-plan.ts). */
  onPlan?: PlanObserver | undefined;
}

export interface StoredGroupLimit {
  queueName: string;
  /** null: the queue's default, for groups without an entry. */
  groupKey: string | null;
  limit: GroupLimit;
  modifiedAt: number;
}

/** A message as the grouping rule reads it, when keys are assigned after the fact. */
export interface UnkeyedMessage {
  seq: number;
  groupId: string | null;
  messageAttributes: string | null;
  body: string;
}

export interface GroupRow {
  groupKey: string;
  readyAt: number;
  nextVisibleAt: number;
  slotAt: number;
  tokenAt: number;
  tokens: number | null;
}

export interface GroupStore {
  /** Claims up to maxMessages within every group's limits, round robin over ready groups. */
  messageClaimByGroup(p: GroupClaimParams): Promise<ReceiveOutcome>;
  /** Messages with seq > afterSeq in seq order (a grouping rule being applied to what is queued). */
  groupKeysRead(p: { queueId: number; afterSeq: number; limit: number }): Promise<UnkeyedMessage[]>;
  /** Writes keys computed by the rule and enters the groups; a null key list clears every key of the queue. */
  groupKeysWrite(p: {
    queueId: number;
    keys: Array<{ seq: number; groupKey: string }> | null;
    now: number;
  }): Promise<void>;
  /** Sets (or with null, deletes) a limit; groups it applies to are re-checked at the next claim. */
  groupLimitPut(p: {
    queueName: string;
    groupKey: string | null;
    limit: GroupLimit | null;
    now: number;
  }): Promise<boolean>;
  groupLimitGet(p: { queueName: string; groupKey: string | null }): Promise<StoredGroupLimit | undefined>;
  /** Group entries in key order after `after` (the default is not listed). */
  groupLimitList(p: { queueName: string; after: string | null; limit: number }): Promise<StoredGroupLimit[]>;
  /** The group rows of a queue (groups with messages, and recently emptied ones), for inspection and tests. */
  groupRows(p: { queueId: number; limit: number }): Promise<GroupRow[]>;
  /**
   * One group as an operator asks about it (the console's "why is this group waiting"): its messages by
   * state at `now` and its row. Reads the group's index range: O(messages of the group), on request only.
   */
  groupInspect(p: { queueId: number; groupKey: string; now: number }): Promise<GroupInspection>;
}

export interface GroupInspection {
  /** Visible now: waiting for a claim. */
  waiting: number;
  /** Received and not yet visible again: holding the group's concurrency slots. */
  inFlight: number;
  /** Not yet visible and never received (a send delay). */
  delayed: number;
  /** When the oldest waiting message was sent; null when none waits. */
  oldestWaitingSentAt: number | null;
  /** The group's row with its token bucket; null when the group has no row. */
  row: (GroupRow & { refilledAt: number }) | null;
}

/** A `queue_groups` row as both backends select it. */
export interface GroupRowColumns {
  group_key: string;
  ready_at: number;
  next_visible_at: number;
  slot_at: number;
  token_at: number;
  tokens: number | null;
}

export function groupRowOf(row: GroupRowColumns): GroupRow {
  return {
    groupKey: row.group_key,
    readyAt: row.ready_at,
    nextVisibleAt: row.next_visible_at,
    slotAt: row.slot_at,
    tokenAt: row.token_at,
    tokens: row.tokens,
  };
}

/** What both backends' `groupInspect` statements return, as the interface's shape. */
export function groupInspectionOf(
  counts:
    | {
        waiting: number | null;
        in_flight: number | null;
        delayed: number | null;
        oldest: number | string | null;
      }
    | undefined,
  row: (GroupRowColumns & { refilled_at: number }) | undefined,
): GroupInspection {
  return {
    waiting: Number(counts?.waiting ?? 0),
    inFlight: Number(counts?.in_flight ?? 0),
    delayed: Number(counts?.delayed ?? 0),
    oldestWaitingSentAt:
      counts?.oldest === null || counts?.oldest === undefined ? null : Number(counts.oldest),
    row: row ? { ...groupRowOf(row), refilledAt: row.refilled_at } : null,
  };
}
