/**
 * /v1/state-machines and /v1/executions: list and inspect state machines, start, inspect and
 * stop executions, read their history; and task tokens without a state machine (issue one to a queue or
 * a function, or alone; answer it). `:name` may carry a version or alias (`orders:3`, `orders:live`) to
 * start or list that version's or alias's executions; versions and aliases themselves are in
 * state-machine-versions.ts. Definitions are created by the config file, the library or the Step
 * Functions API. Executions are addressed by their ARN, URL-encoded.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { definedOnly, pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { stateMachineRequests } from './schemas/state-machines.js';

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const machines = sluice.stateMachines;
  /** `orders:3` or `orders:live` (a version or an alias, as Lambda's qualified names) → its ARN. */
  const target = (request: FastifyRequest) => {
    const name = pathParam(request, 'name');
    const at = name.indexOf(':');
    return at < 0 || name.startsWith('arn:') ? name : `${machines.stateMachineArn(name.slice(0, at))}:${name.slice(at + 1)}`;
  };

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
    if (input.wait) return { execution: await machines.startAndWait(target(request), options) };
    return machines.startExecution(target(request), options);
  });
  app.get('/state-machines/:name/executions', async (request) => {
    const query = readQuery(request, stateMachineRequests.listExecutionsQuery);
    return machines.listExecutions(target(request), {
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
    return machines.stopExecution(pathParam(request, 'arn'), definedOnly(input));
  });
}

export const stateMachineRoutes: NativeRouteModule = { name: 'state machines', register };
