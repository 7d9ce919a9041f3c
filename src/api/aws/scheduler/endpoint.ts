/**
 * The EventBridge Scheduler API on the node (`/schedules/{Name}`, `/schedule-groups/{Name}`), signed
 * with SigV4 for the service `scheduler`, so `@aws-sdk/client-scheduler` and `aws scheduler
 * --endpoint-url` manage Sluice schedules. Errors in Scheduler's shape: `{"Message": ...}` with
 * ValidationException, ResourceNotFoundException, ConflictException, ThrottlingException or
 * InternalServerException. The mapping onto Sluice schedules is in operations.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { AuthSettings } from '../../auth/credentials.js';
import { jsonBody, pathParam, queryValue, registerRestJsonService, restJson, restJsonError, sendRestJson, type ErrorCodes } from '../rest-json.js';
import {
  createSchedule,
  createScheduleGroup,
  deleteSchedule,
  deleteScheduleGroup,
  getSchedule,
  getScheduleGroup,
  listScheduleGroups,
  listSchedules,
  updateSchedule,
  type SchedulerContext,
} from './operations.js';

export const SCHEDULER_SIGNING_NAME = 'scheduler';

const schedulerCodes: ErrorCodes = {
  ValidationException: { code: 'ValidationException', status: 400 },
  InvalidParameterValue: { code: 'ValidationException', status: 400 },
  MissingParameter: { code: 'ValidationException', status: 400 },
  SerializationException: { code: 'ValidationException', status: 400 },
  InvalidMessageContents: { code: 'ValidationException', status: 400 },
  ResourceNotFoundException: { code: 'ResourceNotFoundException', status: 404 },
  ResourceConflictException: { code: 'ConflictException', status: 409 },
  TooManyRequestsException: { code: 'ThrottlingException', status: 429 },
  InternalFailure: { code: 'InternalServerException', status: 500 },
  ServiceUnavailable: { code: 'InternalServerException', status: 503 },
};

function routes(scope: FastifyInstance, context: SchedulerContext): void {
  const ok = (body: unknown, id: string) => restJson(body, id);
  scope.post('/schedules/:name', async (request, reply) => sendRestJson(reply, ok(await createSchedule(context, pathParam(request, 'name'), jsonBody(request)), request.id)));
  scope.put('/schedules/:name', async (request, reply) => sendRestJson(reply, ok(await updateSchedule(context, pathParam(request, 'name'), jsonBody(request)), request.id)));
  scope.get('/schedules/:name', async (request, reply) =>
    sendRestJson(reply, ok(await getSchedule(context, pathParam(request, 'name'), queryValue(request.query, 'groupName')), request.id)),
  );
  scope.delete('/schedules/:name', async (request, reply) =>
    sendRestJson(reply, ok(await deleteSchedule(context, pathParam(request, 'name'), queryValue(request.query, 'groupName')), request.id)),
  );
  scope.get('/schedules', async (request, reply) => {
    const q = (name: string) => queryValue(request.query, name);
    const query = Object.fromEntries(
      Object.entries({ group: q('ScheduleGroup'), prefix: q('NamePrefix'), state: q('State'), token: q('NextToken'), max: q('MaxResults') }).filter(([, v]) => v !== undefined),
    );
    return sendRestJson(reply, ok(await listSchedules(context, query), request.id));
  });
  scope.post('/schedule-groups/:name', async (request, reply) => sendRestJson(reply, ok(await createScheduleGroup(context, pathParam(request, 'name'), jsonBody(request)), request.id)));
  scope.get('/schedule-groups/:name', async (request, reply) => sendRestJson(reply, ok(await getScheduleGroup(context, pathParam(request, 'name')), request.id)));
  scope.delete('/schedule-groups/:name', async (request, reply) => sendRestJson(reply, ok(await deleteScheduleGroup(context, pathParam(request, 'name')), request.id)));
  scope.get('/schedule-groups', async (request, reply) => {
    const q = (name: string) => queryValue(request.query, name);
    const query = Object.fromEntries(Object.entries({ prefix: q('NamePrefix'), token: q('NextToken'), max: q('MaxResults') }).filter(([, v]) => v !== undefined));
    return sendRestJson(reply, ok(await listScheduleGroups(context, query), request.id));
  });
}

export async function registerSchedulerEndpoint(app: FastifyInstance, options: { context: SchedulerContext; auth: AuthSettings }): Promise<void> {
  await registerRestJsonService(app, {
    signingName: SCHEDULER_SIGNING_NAME,
    auth: options.auth,
    renderError: (error, requestId) => restJsonError({ error, requestId, codes: schedulerCodes, members: (failure) => ({ Message: failure.message }) }),
    routes: (scope) => routes(scope, options.context),
  });
}
