/**
 * /v1/apply: `sluice apply` stores a config file's event source mappings (its `triggers` and
 * `streamTriggers`) in the cluster catalog, so every node runs them, managed by that file: the plan
 * first (create, update, unchanged, and with `prune` the file's mappings it no longer declares), then,
 * unless `dryRun`, the plan carried out through the catalog (each mapping validated by the node that
 * receives the request, as the Lambda API does). Functions, queues and tables are not applied here.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeclaredMapping } from '../../catalog/service.js';
import { streamTriggerInputOf } from '../../config/sections/stream-triggers.js';
import { streamTriggersSchema } from '../../config/sections/stream-triggers-schema.js';
import { triggerInputOf } from '../../config/sections/triggers.js';
import { triggersSchema } from '../../config/sections/triggers-schema.js';
import { readBody, type NativeContext, type NativeRouteModule } from './route-module.js';

const applyRequest = z.strictObject({
  /** The config file's path, named when the API refuses to change what it applied. */
  source: z.string().min(1).max(1024),
  triggers: triggersSchema.optional(),
  streamTriggers: streamTriggersSchema.optional(),
  prune: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  app.post('/apply', async (request) => {
    const input = readBody(request, applyRequest);
    const declared: DeclaredMapping[] = [
      ...(input.triggers ?? []).map((entry) => ({ source: 'queue', input: triggerInputOf(entry) }) as const),
      ...(input.streamTriggers ?? []).map((entry) => ({ source: 'stream', input: streamTriggerInputOf(sluice, entry) }) as const),
    ];
    const params = { source: input.source, declared, prune: input.prune ?? false };
    if (input.dryRun) {
      const plan = (await sluice.catalog.planMappings(params)).map(({ declared: _declared, ...step }) => step);
      return { plan, applied: false };
    }
    return { plan: await sluice.catalog.applyMappings({ ...params, newUuid: randomUUID }), applied: true };
  });
}

export const catalogRoutes: NativeRouteModule = { name: 'catalog', register };
