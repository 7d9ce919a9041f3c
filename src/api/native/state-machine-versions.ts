/**
 * /v1/state-machines/:name/versions and /aliases: publish, list, show and delete a state machine's
 * versions; list, show, set and delete its aliases. The native API names versions by number and aliases
 * by name under their machine, where the Step Functions API takes ARNs; the library does the work
 * (src/states/versions.ts), so both APIs answer alike. Executions start on a version or alias through
 * POST /v1/state-machines/<name>:<version or alias>/executions (state-machines.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SluiceError } from '../../model/errors.js';
import type { VersionView } from '../../states/versions.js';
import { definedOnly, pathParam, readBody, type NativeContext, type NativeRouteModule } from './route-module.js';
import { versionRequests as req } from './schemas/state-machines.js';

/** `<machine ARN>:<n>` → n. */
export function versionNumber(arn: string): number {
  return Number(arn.slice(arn.lastIndexOf(':') + 1));
}

function versionItem(v: VersionView): { version: number; stateMachineVersionArn: string; creationDate: Date } {
  return { version: versionNumber(v.stateMachineVersionArn), ...v };
}

function register(app: FastifyInstance, { sluice }: NativeContext): void {
  const machines = sluice.stateMachines;
  const { versions } = machines;
  const machineOf = (request: FastifyRequest) => pathParam(request, 'name');
  const versionOf = (request: FastifyRequest) => {
    const text = pathParam(request, 'version');
    if (!/^[1-9]\d{0,8}$/.test(text)) throw new SluiceError('ValidationException', `version: '${text}' is not a version number`, { field: 'version' });
    return Number(text);
  };
  /** The machine's own ARN; StateMachineDoesNotExist when it is missing. */
  const arnOf = async (request: FastifyRequest) => (await machines.describe(machineOf(request))).stateMachineArn;
  const aliasArnOf = async (request: FastifyRequest) => {
    const { name } = await machines.describe(machineOf(request));
    return versions.aliasArn(name, pathParam(request, 'alias'));
  };
  const aliasItem = (view: Awaited<ReturnType<typeof versions.describeAlias>>) => ({
    name: view.name,
    stateMachineAliasArn: view.stateMachineAliasArn,
    description: view.description,
    routing: view.routingConfiguration.map((r) => ({ version: versionNumber(r.stateMachineVersionArn), weight: r.weight })),
    creationDate: view.creationDate,
    updateDate: view.updateDate,
  });

  app.get('/state-machines/:name/versions', async (request) => {
    const arn = await arnOf(request);
    const all = [];
    let nextToken: string | undefined;
    do {
      const page = await versions.list(arn, { maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
      all.push(...page.stateMachineVersions.map(versionItem));
      nextToken = page.nextToken;
    } while (nextToken);
    return { versions: all };
  });
  app.post('/state-machines/:name/versions', async (request, reply) => {
    const input = definedOnly(readBody(request, req.publish));
    const published = await versions.publish(await arnOf(request), input);
    return reply.code(201).send({ version: versionItem(published) });
  });
  app.get('/state-machines/:name/versions/:version', async (request) => {
    const { name } = await machines.describe(machineOf(request));
    return { version: { version: versionOf(request), ...(await machines.describe(versions.versionArn(name, versionOf(request)))) } };
  });
  app.delete('/state-machines/:name/versions/:version', async (request, reply) => {
    const { name } = await machines.describe(machineOf(request));
    await versions.delete(versions.versionArn(name, versionOf(request)));
    return reply.code(204).send();
  });

  app.get('/state-machines/:name/aliases', async (request) => {
    const arn = await arnOf(request);
    const all = [];
    let nextToken: string | undefined;
    do {
      const page = await versions.listAliases(arn, { maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
      for (const a of page.stateMachineAliases) all.push(aliasItem(await versions.describeAlias(a.stateMachineAliasArn)));
      nextToken = page.nextToken;
    } while (nextToken);
    return { aliases: all };
  });
  app.get('/state-machines/:name/aliases/:alias', async (request) => ({ alias: aliasItem(await versions.describeAlias(await aliasArnOf(request))) }));
  app.put('/state-machines/:name/aliases/:alias', async (request, reply) => {
    const input = definedOnly(readBody(request, req.putAlias));
    const result = await versions.putAlias(machineOf(request), pathParam(request, 'alias'), input);
    return reply.code(result.action === 'created' ? 201 : 200).send({ alias: aliasItem(result.alias), action: result.action });
  });
  app.delete('/state-machines/:name/aliases/:alias', async (request, reply) => {
    await versions.deleteAlias(await aliasArnOf(request));
    return reply.code(204).send();
  });
}

export const stateMachineVersionRoutes: NativeRouteModule = { name: 'state machine versions and aliases', register };
