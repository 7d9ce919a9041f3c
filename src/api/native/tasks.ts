/**
 * /v1/tasks: task tokens (callback tasks) from outside a node: create one, describe it, report its
 * success, failure or a heartbeat, and wait for its outcome (a long poll of up to 20 seconds that answers
 * the task as it is when the time is up). Step Functions' own SendTask* calls are also served at `/`.
 */
import type { FastifyInstance } from 'fastify';
import { requestSignal } from '../request-signal.js';
import { definedOnly, pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { taskRequests } from './schemas/schedules-batches.js';
import { invalidValue } from '../../model/errors.js';

function register(app: FastifyInstance, { sluice, shutdown }: NativeContext): void {
  const { callbacks } = sluice;
  app.post('/tasks', async (request, reply) => {
    const { queue, function: functionName, input, tokenField, ...settings } = definedOnly(readBody(request, taskRequests.create));
    if (queue !== undefined && functionName !== undefined)
      throw invalidValue('queue', 'give a queue or a function to send the task to, not both');
    const sent = { ...settings, ...(tokenField !== undefined ? { tokenField } : {}) };
    if (queue !== undefined) {
      const task = await callbacks.sendToQueue(queue, { ...sent, ...(input !== undefined ? { input } : {}) });
      return reply.code(201).send({ taskToken: task.token, messageId: task.messageId });
    }
    if (functionName !== undefined) {
      const event = typeof input === 'string' ? { input } : input;
      const task = await callbacks.sendToFunction(functionName, { ...sent, ...(event !== undefined ? { input: event } : {}) });
      return reply.code(201).send({ taskToken: task.token, requestId: task.requestId });
    }
    const task = await callbacks.create(settings);
    return reply.code(201).send({ taskToken: task.token });
  });
  app.get('/tasks/:token', async (request) => ({ task: await callbacks.describe(pathParam(request, 'token')) }));
  app.post('/tasks/:token/success', async (request) => {
    await callbacks.sendTaskSuccess(pathParam(request, 'token'), readBody(request, taskRequests.success).output);
    return {};
  });
  app.post('/tasks/:token/failure', async (request) => {
    await callbacks.sendTaskFailure(pathParam(request, 'token'), definedOnly(readBody(request, taskRequests.failure)));
    return {};
  });
  app.post('/tasks/:token/heartbeat', async (request) => {
    await callbacks.sendTaskHeartbeat(pathParam(request, 'token'));
    return {};
  });
  app.get('/tasks/:token/outcome', async (request, reply) => {
    const token = pathParam(request, 'token');
    const seconds = readQuery(request, taskRequests.waitQuery).seconds ?? 20;
    await callbacks.describe(token); // an unknown or malformed token is refused at once
    const held = requestSignal(reply, shutdown);
    try {
      const outcome = await callbacks.wait(token, { signal: AbortSignal.any([held.signal, AbortSignal.timeout(seconds * 1000)]) });
      return { outcome };
    } catch (error) {
      if ((error as { name?: string }).name !== 'AbortError' && !(error instanceof DOMException)) throw error;
      return { outcome: null, task: await callbacks.describe(token) };
    } finally {
      held.release();
    }
  });
}

export const taskRoutes: NativeRouteModule = { name: 'tasks', register };
