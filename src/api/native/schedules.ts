/**
 * /v1/schedules: create (idempotent when the definition is unchanged), list, show with the next fire
 * times, update and delete schedules. Schedules live in the store, so every node serves the same ones.
 */
import type { FastifyInstance } from 'fastify';
import { definedOnly, pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { scheduleRequests } from './schemas/schedules-batches.js';

const startDateOf = (value: string | number | undefined) => (typeof value === 'string' ? Date.parse(value) : value);
/** endDate as the service takes it: absent stays absent (an update keeps it), null clears it. */
const endDateOf = (value: string | number | null | undefined) => (value === undefined ? {} : { endDate: typeof value === 'string' ? Date.parse(value) : value });

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const { schedules } = sluice;
  app.get('/schedules', async (request) => ({ schedules: await schedules.list(readQuery(request, scheduleRequests.listQuery).prefix) }));
  app.get('/schedules/:name', async (request) => {
    const name = pathParam(request, 'name');
    const query = readQuery(request, scheduleRequests.getQuery);
    return { schedule: await schedules.get(name), nextFireTimes: await schedules.nextFireTimes(name, query.next ?? 5) };
  });
  app.post('/schedules', async (request, reply) => {
    const { endDate, ...input } = readBody(request, scheduleRequests.create);
    const existed = (await schedules.list(input.name)).some((view) => view.name === input.name);
    const schedule = await schedules.create(definedOnly({ ...input, target: input.target as never, startDate: startDateOf(input.startDate), ...endDateOf(endDate) }));
    return reply.code(existed ? 200 : 201).send({ schedule });
  });
  app.patch('/schedules/:name', async (request) => {
    const { endDate, ...input } = readBody(request, scheduleRequests.update);
    const schedule = await schedules.update(pathParam(request, 'name'), definedOnly({ ...input, target: input.target as never, startDate: startDateOf(input.startDate), ...endDateOf(endDate) }));
    return { schedule };
  });
  app.delete('/schedules/:name', async (request, reply) => {
    await schedules.delete(pathParam(request, 'name'));
    return reply.code(204).send();
  });
}

export const scheduleRoutes: NativeRouteModule = { name: 'schedules', register };
