/**
 * /v1/functions and /v1/triggers: list and inspect functions, invoke one (synchronously, or as an
 * event), list triggers and change them at run time (enable, disable, batch size, concurrency).
 * Definitions come from the config file or the library; they are not created over HTTP, since a
 * handler is code on the node's disk. POST /v1/code-location-key/rotate rotates the key GetFunction's
 * Code.Location URLs are signed with (URLs signed before stay valid until they expire).
 */
import type { FastifyInstance } from 'fastify';
import { MAPPING_KIND } from '../../catalog/catalog-entries.js';
import { CODE_KEY_SECRET } from '../../catalog/signing-keys.js';
import { SluiceError } from '../../model/errors.js';
import { pathParam, readBody, readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import { functionRequests, triggerRequests } from './schemas/functions.js';

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const { functions, triggers } = sluice;

  app.get('/functions', async () => ({ functions: functions.list() }));
  app.post('/code-location-key/rotate', async () => {
    const keys = await sluice.catalog.rotateSecret(CODE_KEY_SECRET);
    return { rotatedAt: keys.createdAt, retiredKeys: keys.previous.length };
  });
  app.get('/functions/:name', async (request) => {
    const name = pathParam(request, 'name');
    return { function: functions.get(name), metrics: functions.metrics(name) };
  });
  app.post('/functions/:name/invoke', async (request, reply) => {
    const input = readBody(request, functionRequests.invoke);
    const name = pathParam(request, 'name');
    if (input.invocationType === 'Event') return reply.code(202).send(await functions.invokeAsync(name, input.payload ?? {}));
    return functions.invoke(name, input.payload ?? {});
  });

  app.get('/triggers', async (request) => {
    const query = readQuery(request, triggerRequests.listQuery);
    return {
      triggers: triggers.list({
        ...(query.queue !== undefined ? { queue: query.queue } : {}),
        ...(query.function !== undefined ? { functionName: query.function } : {}),
      }),
    };
  });
  app.get('/triggers/:uuid', async (request) => {
    const uuid = pathParam(request, 'uuid');
    return { trigger: triggers.get(uuid), metrics: triggers.metrics(uuid) };
  });
  app.patch('/triggers/:uuid', async (request) => {
    const input = readBody(request, triggerRequests.update);
    const uuid = pathParam(request, 'uuid');
    // A config file's trigger runs on every node that loads the file: changing it here alone would leave
    // the nodes disagreeing, so it is refused, naming the file, unless asked for this node only.
    const manager = sluice.catalog.managedBy(MAPPING_KIND, uuid);
    if (manager !== undefined && input.thisNodeOnly !== true)
      throw new SluiceError(
        'ResourceConflictException',
        `The trigger ${uuid} is declared by the config file ${manager}, which every node loading it applies; change it there, or pass thisNodeOnly (sluice triggers ${input.enabled === false ? 'disable' : 'enable'} --this-node) to change it on this node until its restart`,
        { field: 'thisNodeOnly' },
      );
    // A mapping of the cluster catalog changes on every node; any other trigger on this node only.
    const update = (changes: Parameters<typeof triggers.update>[1]) =>
      sluice.catalog.holds(uuid) && manager === undefined
        ? sluice.catalog.updateMapping(uuid, changes).then((found) => found.view)
        : triggers.update(uuid, changes);
    const trigger = await update({
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.batchSize !== undefined ? { batchSize: input.batchSize } : {}),
      ...(input.maximumBatchingWindowInSeconds !== undefined ? { maximumBatchingWindowInSeconds: input.maximumBatchingWindowInSeconds } : {}),
      ...(input.maximumConcurrency !== undefined
        ? { scalingConfig: input.maximumConcurrency === null ? null : { maximumConcurrency: input.maximumConcurrency } }
        : {}),
    });
    return { trigger };
  });
}

export const functionRoutes: NativeRouteModule = { name: 'functions', register };
