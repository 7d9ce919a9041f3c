/**
 * The native API's contract for a queue's group limits (/v1/queues/:name/groups, see docs/http-api.md).
 * zod checks shapes and types; the ranges (1-100,000 in flight, a rate of 1-1,000,000 per 0.001-86,400
 * seconds) are checked by the library's own parser, so both give the same messages.
 */
import { z } from 'zod';

export const groupLimitBody = z.strictObject({
  /** Messages of the group in flight at once; null or absent: no concurrency limit. */
  maxConcurrency: z.number().nullable().optional(),
  /** `limit` per `intervalSeconds` (default 1), `burst` (default `limit`); null or absent: no rate limit. */
  rate: z
    .strictObject({
      limit: z.number(),
      intervalSeconds: z.number().optional(),
      burst: z.number().optional(),
    })
    .nullable()
    .optional(),
});

export const groupRequests = {
  put: groupLimitBody,
  listQuery: z.strictObject({
    after: z.string().optional(),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be an integer from 1 to 1000')
      .optional(),
  }),
} as const;

const rate = z.object({ limit: z.number(), intervalSeconds: z.number(), burst: z.number() });

export const groupLimitView = z.object({
  queue: z.string(),
  group: z.string().nullable(),
  maxConcurrency: z.number().nullable(),
  rate: rate.nullable(),
  modifiedAt: z.number(),
});

export const groupActivityView = z.object({
  group: z.string(),
  started: z.number(),
  throttledByConcurrency: z.number(),
  throttledByRate: z.number(),
  inFlight: z.number(),
  recentEvents: z.number(),
  lastActiveAt: z.number(),
});

export const queueGroupActivityView = z.object({
  queue: z.string(),
  totals: z.object({
    started: z.number(),
    throttledByConcurrency: z.number(),
    throttledByRate: z.number(),
    inFlight: z.number(),
  }),
  trackedGroups: z.number(),
  groups: z.array(groupActivityView),
});

export const groupResponses = {
  list: z.object({
    queue: z.string(),
    /** The queue's grouping rule (SluiceGroupKey), null when its messages are not grouped. */
    groupBy: z.string().nullable(),
    default: groupLimitView.nullable(),
    groups: z.array(groupLimitView),
    /** Pass as `after` for the next page; absent on the last page. */
    nextAfter: z.string().optional(),
  }),
  /** A group: its own entry (null: it follows the default) and the limits it runs under. */
  group: z.object({
    queue: z.string(),
    group: z.string(),
    limit: groupLimitView.nullable(),
    effective: z.object({ maxConcurrency: z.number().nullable(), rate: rate.nullable() }),
  }),
  default: z.object({ queue: z.string(), limit: groupLimitView.nullable() }),
  put: z.object({ limit: groupLimitView }),
  metrics: queueGroupActivityView,
} as const;
