/**
 * /v1/apply: `sluice apply` stores a config file's event source mappings (its `triggers` and
 * `streamTriggers`), its functions' settings (reserved concurrency, timeout, memory, environment,
 * handler), its queues, tables and schedules in the store, so every node runs them, managed by that
 * file: the plan first (create, update, unchanged, with `adopt` the existing resources no file manages,
 * and with `prune` what the file applied before and no longer declares), then, unless `dryRun`, the
 * whole plan checked by the node that receives the request and written in one store transaction
 * (catalog/catalog-apply.ts). A function's zip is not applied here (the Lambda API stores it).
 */
import { randomUUID } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeclaredMapping } from '../../catalog/service.js';
import { streamTriggerInputOf } from '../../config/sections/stream-triggers.js';
import { streamTriggersSchema } from '../../config/sections/stream-triggers-schema.js';
import { triggerInputOf } from '../../config/sections/triggers.js';
import { triggersSchema } from '../../config/sections/triggers-schema.js';
import { schedulesSchema } from '../../config/sections/schedules-schema.js';
import { scheduleInputOf } from '../../config/sections/schedules.js';
import { queueAttributesOf } from '../../config/sections/queues.js';
import { queuesSchema } from '../../config/sections/queues-schema.js';
import { tableInputOf } from '../../config/sections/tables.js';
import { tablesSchema } from '../../config/sections/tables-schema.js';
import { readBody, type NativeContext, type NativeRouteModule } from './route-module.js';

/** A handler module path as every node will load it: resolved against the config file's directory, as a config does. */
function absoluteHandler(handler: string, source: string): string {
  if (handler.startsWith('file:') || isAbsolute(handler)) return handler;
  return resolve(dirname(source), handler);
}

function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

const applyRequest = z.strictObject({
  /** The config file's path, named when the API refuses to change what it applied. */
  source: z.string().min(1).max(1024),
  triggers: triggersSchema.optional(),
  streamTriggers: streamTriggersSchema.optional(),
  /** The file's functions' settings that every node applies to its function of that name. */
  schedules: schedulesSchema.optional(),
  queues: queuesSchema.optional(),
  tables: tablesSchema.optional(),
  functions: z
    .record(
      z.string().min(1).max(64),
      z.strictObject({
        reservedConcurrency: z.number().int().min(0).nullable().optional(),
        timeout: z.number().optional(),
        memorySize: z.number().optional(),
        environment: z.record(z.string(), z.string()).optional(),
        /** A module path, relative to the config file's directory or absolute. */
        handler: z.string().min(1).max(4096).optional(),
      }),
    )
    .optional(),
  prune: z.boolean().optional(),
  /** Take over the queues, tables and schedules the file declares that exist and no file manages. */
  adopt: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  app.post('/apply', async (request) => {
    const input = readBody(request, applyRequest);
    const declared: DeclaredMapping[] = [
      ...(input.triggers ?? []).map((entry) => ({ source: 'queue', input: triggerInputOf(entry) }) as const),
      ...(input.streamTriggers ?? []).map((entry) => ({ source: 'stream', input: streamTriggerInputOf(sluice, entry) }) as const),
    ];
    const functions = Object.entries(input.functions ?? {}).map(([name, { reservedConcurrency, handler, ...settings }]) => ({
      name,
      reservedConcurrency: reservedConcurrency ?? null,
      ...definedOnly(settings),
      ...(handler !== undefined ? { handler: absoluteHandler(handler, input.source) } : {}),
    }));
    const schedules = Object.entries(input.schedules ?? {}).map(([name, schedule]) => scheduleInputOf(name, schedule));
    const queues = Object.entries(input.queues ?? {}).map(([name, queue]) => ({
      name,
      attributes: queueAttributesOf(name, queue, (queueName) => sluice.queues.arnOf(queueName)),
      ...(queue.tags !== undefined ? { tags: queue.tags } : {}),
    }));
    const tables = Object.entries(input.tables ?? {}).map(([name, table]) => tableInputOf(name, table));
    const params = { source: input.source, declared, functions, schedules, queues, tables, prune: input.prune ?? false, adopt: input.adopt ?? false };
    if (input.dryRun) {
      const plan = await sluice.catalog.planApply(params);
      return { plan: plan.mappings.map(({ declared: _declared, ...step }) => step), functions: plan.functions, schedules: plan.schedules, queues: plan.queues, tables: plan.tables, applied: false };
    }
    const done = await sluice.catalog.apply({ ...params, newUuid: randomUUID });
    return { plan: done.mappings, functions: done.functions, schedules: done.schedules, queues: done.queues, tables: done.tables, applied: true };
  });
}

export const catalogRoutes: NativeRouteModule = { name: 'catalog', register };
