/**
 * /v1/queues: every queue operation of the library over JSON. Shapes are in schemas/queues.ts and
 * documented in docs/http-api.md. Queues are addressed by name; redrive destinations too (the routes
 * turn names into the ARNs the service uses).
 */
import type { FastifyInstance } from 'fastify';
import type { QueueService } from '../../queues/service.js';
import { requestSignal } from '../request-signal.js';
import { definedOnly, pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { empty } from './schemas/common.js';
import { queueRequests as req } from './schemas/queues.js';

async function listQueues(queues: QueueService, prefix: string, withCounts: boolean) {
  const names = await queues.list(prefix);
  return Promise.all(
    names.map(async (name) => {
      const view = await queues.get(name);
      return withCounts ? { ...view, counts: await queues.counts(name) } : view;
    }),
  );
}

function register(app: FastifyInstance, { sluice, shutdown }: NativeContext): void {
  const queues = sluice.queues;
  const name = (request: Parameters<typeof pathParam>[0]) => pathParam(request, 'name');

  app.get('/queues', async (request) => {
    const query = readQuery(request, req.listQuery);
    return { queues: await listQueues(queues, query.prefix ?? '', query.counts === 'true') };
  });
  app.post('/queues', async (request, reply) => {
    const input = readBody(request, req.create);
    const queue = await queues.create(input.name, input.attributes ?? {}, { tags: input.tags ?? {} });
    return reply.code(201).send({ queue });
  });
  app.get('/queues/:name', async (request) => {
    const queueName = name(request);
    const queue = await queues.get(queueName);
    const [attributes, counts, tags] = await Promise.all([
      queues.getAttributes(queueName),
      queues.counts(queueName),
      queues.listTags(queueName),
    ]);
    return { queue, attributes, counts, tags };
  });
  app.patch('/queues/:name', async (request) => {
    const input = readBody(request, req.setAttributes);
    await queues.setAttributes(name(request), input.attributes);
    return { attributes: await queues.getAttributes(name(request)) };
  });
  app.delete('/queues/:name', async (request, reply) => {
    await queues.delete(name(request));
    return reply.code(204).send();
  });
  app.post('/queues/:name/purge', async (request, reply) => {
    readBody(request, empty);
    await queues.purge(name(request));
    return reply.code(204).send();
  });
  app.get('/queues/:name/counts', async (request) => queues.counts(name(request)));

  app.post('/queues/:name/messages', async (request, reply) => {
    const input = readBody(request, req.send);
    return reply.code(201).send(await queues.send(name(request), definedOnly(input)));
  });
  app.post('/queues/:name/messages/batch', async (request) => {
    const input = readBody(request, req.sendBatch);
    return queues.sendBatch(
      name(request),
      input.entries.map(({ id, ...fields }) => ({ id, ...definedOnly(fields) })),
    );
  });
  app.post('/queues/:name/messages/receive', async (request, reply) => {
    const input = readBody(request, req.receive);
    const { signal, release } = requestSignal(reply, shutdown);
    try {
      const messages = await queues.receive(name(request), { ...definedOnly(input), signal });
      return { messages };
    } finally {
      release();
    }
  });
  app.post('/queues/:name/messages/delete', async (request, reply) => {
    const input = readBody(request, req.deleteMessage);
    await queues.deleteMessage(name(request), input.receiptHandle);
    return reply.code(204).send();
  });
  app.post('/queues/:name/messages/delete-batch', async (request) => {
    const input = readBody(request, req.deleteBatch);
    return queues.deleteMessageBatch(name(request), input.entries);
  });
  app.post('/queues/:name/messages/visibility', async (request, reply) => {
    const input = readBody(request, req.changeVisibility);
    await queues.changeMessageVisibility(name(request), input.receiptHandle, input.visibilityTimeout);
    return reply.code(204).send();
  });
  app.post('/queues/:name/messages/visibility-batch', async (request) => {
    const input = readBody(request, req.changeVisibilityBatch);
    return queues.changeMessageVisibilityBatch(name(request), input.entries);
  });

  // Sluice's extension: the first messages, read without receiving them (queues.peek).
  app.get('/queues/:name/messages', async (request) => {
    const query = readQuery(request, req.peekQuery);
    return { messages: await queues.peek(name(request), query.limit !== undefined ? { limit: Number(query.limit) } : {}) };
  });
  app.get('/queues/:name/dead-letter-sources', async (request) => ({
    queues: await queues.listDeadLetterSourceQueues(name(request)),
  }));
  app.post('/queues/:name/move-tasks', async (request, reply) => {
    const input = readBody(request, req.startMove);
    const task = await queues.startMessageMoveTask({
      sourceArn: queues.arnOf(name(request)),
      ...(input.destination !== undefined ? { destinationArn: queues.arnOf(input.destination) } : {}),
      ...(input.maxNumberOfMessagesPerSecond !== undefined ? { maxNumberOfMessagesPerSecond: input.maxNumberOfMessagesPerSecond } : {}),
    });
    return reply.code(201).send(task);
  });
  app.get('/queues/:name/move-tasks', async (request) => {
    const query = readQuery(request, req.listMovesQuery);
    const tasks = await queues.listMessageMoveTasks({
      sourceArn: queues.arnOf(name(request)),
      ...(query.maxResults !== undefined ? { maxResults: Number(query.maxResults) } : {}),
    });
    return { tasks };
  });
  app.post('/move-tasks/:taskHandle/cancel', async (request) => queues.cancelMessageMoveTask(pathParam(request, 'taskHandle')));

  app.get('/queues/:name/tags', async (request) => ({ tags: await queues.listTags(name(request)) }));
  app.patch('/queues/:name/tags', async (request) => {
    const input = readBody(request, req.tag);
    await queues.tag(name(request), input.tags);
    return { tags: await queues.listTags(name(request)) };
  });
  app.delete('/queues/:name/tags/:key', async (request) => {
    await queues.untag(name(request), [pathParam(request, 'key')]);
    return { tags: await queues.listTags(name(request)) };
  });
}

export const queueRoutes: NativeRouteModule = { name: 'queues', register };
