/**
 * Group limits: a concurrency and a rate limit per task group (tenant, API key, website) of a queue.
 * A queue groups its messages by a key (its grouping rule, see group-key.ts); each group runs within its
 * own limit, or the queue's default limit when it has no entry of its own.
 */
import type { GroupLimit } from '../store/group-limit.js';

/** What a caller passes: a rate in seconds, burst defaulting to the limit. */
export interface GroupLimitInput {
  /** 1-100,000 messages of the group in flight at once; null or absent: no concurrency limit. */
  maxConcurrency?: number | null;
  /** `limit` messages per `intervalSeconds` (default 1), `burst` (default `limit`) at once; null or absent: no rate limit. */
  rate?: { limit: number; intervalSeconds?: number; burst?: number } | null;
}

/** A group's limits as the API returns them. */
export interface GroupLimitView {
  queue: string;
  /** The group key, or null for the queue's default. */
  group: string | null;
  maxConcurrency: number | null;
  rate: { limit: number; intervalSeconds: number; burst: number } | null;
  modifiedAt: number;
}

/** One group now, as `groupLimits.inspect` reports it (every node's messages, from the store). */
export interface GroupInspectionView {
  queue: string;
  group: string;
  limits: Pick<GroupLimitView, 'maxConcurrency' | 'rate'>;
  /** Visible messages waiting for a claim. */
  waiting: number;
  /** Messages received and not yet visible again: the group's concurrency slots they hold. */
  inFlight: number;
  delayed: number;
  /** Age of the oldest waiting message, or null when none waits. */
  oldestWaitSeconds: number | null;
  /** Whole rate tokens in the group's bucket now (null without a rate limit). */
  rateTokens: number | null;
  /** When the next token arrives, if the bucket has none (ms since the epoch). */
  nextTokenAt: number | null;
}

export const unlimited: GroupLimit = { maxConcurrency: null, rate: null };

export const groupLimitBounds = {
  maxConcurrency: 100_000,
  rateLimit: 1_000_000,
  burst: 1_000_000,
  /** From 1 ms to one day. */
  minIntervalMs: 1,
  maxIntervalMs: 86_400_000,
  /** Longest group key kept; a longer one counts as missing (the message joins the default group ''). */
  maxKeyLength: 256,
} as const;
