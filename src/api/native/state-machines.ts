/**
 * /v1/state-machines, /v1/executions and /v1/tasks: list and inspect state machines, start, inspect and
 * stop executions, read their history; and task tokens without a state machine (issue one to a queue or
 * a function, or alone; answer it). Definitions are created by the config file, the library or the Step
 * Functions API. Executions are addressed by their ARN, URL-encoded.
 */
import type { FastifyInstance } from 'fastify';
import { pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { stateMachineRequests, taskRequests } from './schemas/state-machines.js';

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const machines = sluice.stateMachines;

  app.get('/state-machines', async () => {
    const all = [];
    let nextToken: string | undefined;
    do {
      const page = await machines.list(nextToken ? { nextToken } : {});
      all.push(...page.stateMachines);
      nextToken = page.nextToken;
    } while (nextToken);
    return { stateMachines: all };
  });
  app.get('/state-machines/:name', async (request) => ({ stateMachine: await machines.describe(pathParam(request, 'name')) }));
  app.post('/state-machines/:name/executions', async (request) => {
    const input = readBody(request, stateMachineRequests.start);
    const options = { ...(input.name !== undefined ? { name: input.name } : {}), ...(input.input !== undefined ? { input: JSON.stringify(input.input) } : {}) };
    if (input.wait) return { execution: await machines.startSyncExecution(pathParam(request, 'name'), options) };
    return machines.startExecution(pathParam(request, 'name'), options);
  });
  app.get('/state-machines/:name/executions', async (request) => {
    const query = readQuery(request, stateMachineRequests.listExecutionsQuery);
    return machines.listExecutions(pathParam(request, 'name'), {
      ...(query.status ? { statusFilter: query.status } : {}),
      ...(query.limit ? { maxResults: query.limit } : {}),
      ...(query.nextToken ? { nextToken: query.nextToken } : {}),
    });
  });
  app.get('/executions/:arn', async (request) => ({ execution: await machines.describeExecution(pathParam(request, 'arn')) }));
  app.get('/executions/:arn/history', async (request) => {
    const query = readQuery(request, stateMachineRequests.historyQuery);
    return machines.history(pathParam(request, 'arn'), {
      reverseOrder: query.reverse === 'true',
      ...(query.limit ? { maxResults: query.limit } : {}),
      ...(query.nextToken ? { nextToken: query.nextToken } : {}),
    });
  });
  app.post('/executions/:arn/stop', async (request) => {
    const input = readBody(request, stateMachineRequests.stop);
    return machines.stopExecution(pathParam(request, 'arn'), input);
  });

  const callbacks = sluice.callbacks;
  app.post('/tasks', async (request) => {
    const input = readBody(request, taskRequests.create);
    const timeouts = {
      ...(input.timeoutSeconds !== undefined ? { timeoutSeconds: input.timeoutSeconds } : {}),
      ...(input.heartbeatSeconds !== undefined ? { heartbeatSeconds: input.heartbeatSeconds } : {}),
      ...(input.tokenField !== undefined ? { tokenField: input.tokenField } : {}),
    };
    if (input.queue !== undefined) {
      const task = await callbacks.sendToQueue(input.queue, { ...timeouts, ...(input.input !== undefined ? { input: input.input } : {}) });
      return { token: task.token, messageId: task.messageId };
    }
    if (input.function !== undefined) {
      const event = typeof input.input === 'string' ? { input: input.input } : input.input;
      const task = await callbacks.sendToFunction(input.function, { ...timeouts, ...(event !== undefined ? { input: event } : {}) });
      return { token: task.token, requestId: task.requestId };
    }
    const task = await callbacks.create(timeouts);
    return { token: task.token };
  });
  app.get('/tasks/:token', async (request) => ({ task: await callbacks.describe(pathParam(request, 'token')) }));
  app.post('/tasks/:token/success', async (request) => {
    await callbacks.sendTaskSuccess(pathParam(request, 'token'), readBody(request, taskRequests.success).output);
    return {};
  });
  app.post('/tasks/:token/failure', async (request) => {
    await callbacks.sendTaskFailure(pathParam(request, 'token'), readBody(request, taskRequests.failure));
    return {};
  });
  app.post('/tasks/:token/heartbeat', async (request) => {
    await callbacks.sendTaskHeartbeat(pathParam(request, 'token'));
    return {};
  });
}

export const stateMachineRoutes: NativeRouteModule = { name: 'state machines', register };
