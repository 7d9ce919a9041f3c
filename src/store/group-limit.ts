/**
 * A group's limits as the store keeps them and as the claim rules read them (rules/claim-plan.ts). The
 * group-limits feature validates callers' input into this form (limits/service.ts).
 */

/** At most `limit` messages per `intervalMs`, with up to `burst` at once after an idle spell. */
export interface RateLimit {
  limit: number;
  intervalMs: number;
  burst: number;
}

/** A group's limits as stored: null means "no limit of that kind". */
export interface GroupLimit {
  /** The most messages of the group in flight at once. */
  maxConcurrency: number | null;
  rate: RateLimit | null;
}
