/**
 * The token bucket behind a group's rate limit: `burst` tokens at most, refilled at `limit` tokens per
 * `intervalMs`; each message handed out takes one. It admits at most burst + limit * W / intervalMs
 * messages in any window of W milliseconds.
 *
 * The arithmetic is exact: tokens are counted in integer units of 1/intervalMs of a token, so a bucket
 * refills by `limit` units per millisecond. The store keeps a plain token count (units / intervalMs, a
 * double); reading it back rounds to the nearest unit, which recovers the exact value (a double's error
 * is far below one unit).
 */
import type { RateLimit } from '../group-limit.js';

/** A bucket as stored: `tokens` null means full (a group never limited, or not since it was created). */
export interface Bucket {
  tokens: number | null;
  refilledAt: number;
}

export const fullBucket: Bucket = { tokens: null, refilledAt: 0 };

export function capacityUnits(rate: RateLimit): number {
  return rate.burst * rate.intervalMs;
}

/** The bucket's content at `now`, in units. */
export function unitsAt(rate: RateLimit, bucket: Bucket, now: number): number {
  const capacity = capacityUnits(rate);
  if (bucket.tokens === null) return capacity;
  const start = Math.min(capacity, Math.max(0, Math.round(bucket.tokens * rate.intervalMs)));
  const elapsed = Math.max(0, now - bucket.refilledAt);
  // Compare before multiplying: elapsed * limit could pass 2^53 after a long idle spell.
  if (elapsed >= Math.ceil((capacity - start) / rate.limit)) return capacity;
  return start + elapsed * rate.limit;
}

/** Whole tokens available in `units`. */
export function wholeTokens(rate: RateLimit, units: number): number {
  return Math.floor(units / rate.intervalMs);
}

/** The first instant at or after `now` when the bucket holds a whole token. */
export function nextTokenAt(rate: RateLimit, units: number, now: number): number {
  return units >= rate.intervalMs ? now : now + Math.ceil((rate.intervalMs - units) / rate.limit);
}

/** The first instant at or after `now` when the bucket is full again. */
export function fullAt(rate: RateLimit, units: number, now: number): number {
  const missing = capacityUnits(rate) - units;
  return missing <= 0 ? now : now + Math.ceil(missing / rate.limit);
}

export function tokensOf(rate: RateLimit, units: number): number {
  return units / rate.intervalMs;
}
