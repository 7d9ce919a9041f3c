/** The native API's contract for /v1/state-machines, /v1/executions and /v1/tasks (see docs/http-api.md). */
import { z } from 'zod';

const status = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const limit = z.coerce.number().int().min(1).max(1000).optional();

export const stateMachineRequests = {
  start: z.strictObject({ name: z.string().optional(), input: z.unknown().optional(), wait: z.boolean().optional() }),
  listExecutionsQuery: z.strictObject({ status: status.optional(), limit, nextToken: z.string().optional() }),
  historyQuery: z.strictObject({ reverse: z.enum(['true', 'false']).optional(), limit, nextToken: z.string().optional() }),
  stop: z.strictObject({ error: z.string().max(256).optional(), cause: z.string().max(32_768).optional() }),
} as const;
