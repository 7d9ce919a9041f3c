/**
 * /v1/queues/:name/groups...: a queue's group limits (docs/design/group-limits.md) at run time: list
 * the entries, read, set and delete a group's entry and the queue's default, and see what its groups
 * did lately (group activity). Shapes are in schemas/groups.ts and docs/http-api.md.
 *
 * Every route names an existing queue (QueueDoesNotExist otherwise), so a typo in a queue name fails
 * instead of setting limits nothing reads. Limits are kept by queue name; those of a deleted queue come
 * back with it, and stay manageable through the library (`sluice.groupLimits`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseGroupLimit } from '../../limits/service.js';
import {
  definedOnly,
  pathParam,
  readBody,
  readQuery,
  type NativeContext,
  type NativeRouteModule,
} from './route-module.js';
import { groupRequests as req } from './schemas/groups.js';

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const { queues, groupLimits } = sluice;
  /** The queue named by the path, which must exist. */
  const queueOf = async (request: FastifyRequest) => queues.definition(pathParam(request, 'name'));
  const groupOf = (request: FastifyRequest) => pathParam(request, 'group');
  /** The body validated for shape (zod) and ranges (the library's parser, naming `rate.limit`...). */
  const limitOf = (request: FastifyRequest) => {
    const input = definedOnly(readBody(request, req.put));
    parseGroupLimit(input, '');
    return input;
  };

  app.get('/queues/:name/groups', async (request) => {
    const query = readQuery(request, req.listQuery);
    const queue = await queueOf(request);
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    const groups = await groupLimits.list(queue.name, {
      ...(query.after !== undefined ? { after: query.after } : {}),
      limit,
    });
    const last = groups.at(-1);
    return {
      queue: queue.name,
      groupBy: typeof queue.settings.SluiceGroupKey === 'string' ? queue.settings.SluiceGroupKey : null,
      default: (await groupLimits.getDefault(queue.name)) ?? null,
      groups,
      ...(groups.length === limit && last?.group != null ? { nextAfter: last.group } : {}),
    };
  });

  app.get('/queues/:name/groups/:group', async (request) => {
    const queue = await queueOf(request);
    const group = groupOf(request);
    const [limit, effective] = await Promise.all([
      groupLimits.get(queue.name, group),
      groupLimits.effective(queue.name, group),
    ]);
    return { queue: queue.name, group, limit: limit ?? null, effective };
  });
  app.get('/queues/:name/groups/:group/inspect', async (request) => {
    const queue = await queueOf(request);
    return groupLimits.inspect(queue.name, groupOf(request));
  });
  app.put('/queues/:name/groups/:group', async (request) => {
    const input = limitOf(request);
    const queue = await queueOf(request);
    return { limit: await groupLimits.set(queue.name, groupOf(request), input) };
  });
  app.delete('/queues/:name/groups/:group', async (request) => {
    const queue = await queueOf(request);
    return { deleted: await groupLimits.delete(queue.name, groupOf(request)) };
  });

  app.get('/queues/:name/group-default', async (request) => {
    const queue = await queueOf(request);
    return { queue: queue.name, limit: (await groupLimits.getDefault(queue.name)) ?? null };
  });
  app.put('/queues/:name/group-default', async (request) => {
    const input = limitOf(request);
    const queue = await queueOf(request);
    return { limit: await groupLimits.setDefault(queue.name, input) };
  });
  app.delete('/queues/:name/group-default', async (request) => {
    const queue = await queueOf(request);
    return { deleted: await groupLimits.deleteDefault(queue.name) };
  });

  app.get('/queues/:name/group-activity', async (request) => {
    const queue = await queueOf(request);
    const [activity] = groupLimits.activity(queue.name);
    return (
      activity ?? {
        queue: queue.name,
        totals: { started: 0, throttledByConcurrency: 0, throttledByRate: 0, inFlight: 0 },
        trackedGroups: 0,
        groups: [],
      }
    );
  });
}

export const groupRoutes: NativeRouteModule = { name: 'groups', register };
