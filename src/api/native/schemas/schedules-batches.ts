/** The native API's contract for /v1/schedules and /v1/batches (see docs/http-api.md). */
import { z } from 'zod';

const definition = {
  expression: z.string(),
  timezone: z.string().optional(),
  /** `{ function, input? }`, `{ queue, body?, messageGroupId? }` or `{ batch: {...} }`; checked by the schedule service. */
  target: z.record(z.string(), z.unknown()),
  state: z.enum(['ENABLED', 'DISABLED']).optional(),
  catchUpWindowSeconds: z.number().int().optional(),
  /** ISO 8601 or epoch milliseconds: no tick before it; where rate() periods count from. */
  startDate: z.union([z.string(), z.number()]).optional(),
  /** ISO 8601 or epoch milliseconds: no tick after it; null clears it. */
  endDate: z.union([z.string(), z.number(), z.null()]).optional(),
  /** Each tick is delivered within this many minutes after it (1-1,440; 0: at the tick). */
  flexibleWindowMinutes: z.number().int().optional(),
  /** Delete the schedule once it has no more ticks. */
  deleteAfterCompletion: z.boolean().optional(),
};

export const scheduleRequests = {
  listQuery: z.strictObject({ prefix: z.string().optional() }),
  getQuery: z.strictObject({ next: z.coerce.number().int().optional() }),
  create: z.strictObject({ name: z.string(), ...definition }),
  update: z.strictObject({ ...Object.fromEntries(Object.entries(definition).map(([k, v]) => [k, v.optional()])) } as {
    [K in keyof typeof definition]: z.ZodOptional<(typeof definition)[K]>;
  }),
} as const;

export const batchRequests = {
  create: z.strictObject({
    id: z.string().optional(),
    processor: z.string(),
    items: z.array(z.unknown()),
    itemsPerMessage: z.number().int().optional(),
    maxAttempts: z.number().int().optional(),
    finalizer: z.union([z.strictObject({ function: z.string() }), z.strictObject({ queue: z.string(), messageGroupId: z.string().optional() })]).optional(),
    metadata: z.unknown().optional(),
  }),
  listQuery: z.strictObject({ processor: z.string().optional(), unfinished: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().optional() }),
  failedQuery: z.strictObject({ after: z.coerce.number().int().optional(), limit: z.coerce.number().int().optional() }),
  retry: z.strictObject({ limit: z.number().int().optional() }),
} as const;

export const taskRequests = {
  create: z.strictObject({
    timeoutSeconds: z.number().int().optional(),
    heartbeatSeconds: z.number().int().optional(),
    context: z.unknown().optional(),
    /** Send the task, with its token, to this queue, or invoke this function with it (asynchronously). */
    queue: z.string().optional(),
    function: z.string().optional(),
    input: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    tokenField: z.string().optional(),
  }),
  success: z.strictObject({ output: z.unknown() }),
  failure: z.strictObject({ error: z.string().optional(), cause: z.string().optional() }),
  waitQuery: z.strictObject({ seconds: z.coerce.number().int().min(1).max(20).optional() }),
} as const;
