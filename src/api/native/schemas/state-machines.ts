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

const route = z.strictObject({ version: z.number().int().min(1), weight: z.number().int().min(0).max(100) });

/** Versions and aliases (/v1/state-machines/:name/versions|aliases): versions are numbers, not ARNs. */
export const versionRequests = {
  publish: z.strictObject({ description: z.string().max(256).optional(), revisionId: z.string().optional() }),
  putAlias: z.strictObject({ description: z.string().max(256).optional(), routing: z.array(route).min(1).max(2) }),
} as const;
