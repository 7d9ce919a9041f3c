/**
 * /v1/batches: create a batch from a list of items, follow it, list and retry its failed items, cancel
 * it. The items travel in the request body, so a batch is bounded by the node's request size
 * (maxRequestBytes); larger ones are created through the library, which streams its items.
 */
import type { FastifyInstance } from 'fastify';
import { definedOnly, pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { batchRequests } from './schemas/schedules-batches.js';

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const { batches } = sluice;
  app.post('/batches', async (request, reply) => {
    const input = readBody(request, batchRequests.create);
    return reply.code(201).send({ batch: await batches.create(definedOnly(input)) });
  });
  app.get('/batches', async (request) => {
    const query = readQuery(request, batchRequests.listQuery);
    return { batches: await batches.list(definedOnly({ processor: query.processor, limit: query.limit, unfinished: query.unfinished === undefined ? undefined : query.unfinished === 'true' })) };
  });
  app.get('/batches/:id', async (request) => ({ batch: await batches.get(pathParam(request, 'id')) }));
  app.get('/batches/:id/failed', async (request) => ({
    items: await batches.failedItems(pathParam(request, 'id'), definedOnly(readQuery(request, batchRequests.failedQuery))),
  }));
  app.post('/batches/:id/retry', async (request) => batches.retryFailed(pathParam(request, 'id'), definedOnly(readBody(request, batchRequests.retry))));
  app.post('/batches/:id/cancel', async (request) => ({ batch: await batches.cancel(pathParam(request, 'id')) }));
}

export const batchRoutes: NativeRouteModule = { name: 'batches', register };
