/**
 * `sluice state-machines versions|publish|delete-version|aliases|set-alias|delete-alias`: a state
 * machine's versions (numbered, immutable snapshots) and aliases (a name routing executions to one
 * version, or two by weight), over /v1/state-machines/:name/versions|aliases. Start an execution on one
 * with `sluice executions start orders:3` or `orders:live`.
 */
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, collect, commandContext } from '../context.js';
import { formatPairs, formatTable } from '../table.js';

interface VersionItem {
  version: number;
  stateMachineVersionArn: string;
  creationDate: string;
}
interface AliasItem {
  name: string;
  stateMachineAliasArn: string;
  description: string;
  routing: { version: number; weight: number }[];
  creationDate: string;
  updateDate: string;
}

const routingText = (routing: AliasItem['routing']) => routing.map((r) => `${r.version}=${r.weight}%`).join(', ');

/** `--route 3=90 --route 4=10`, or `--to 3` for all of it. */
export function parseRouting(routes: string[] | undefined, version: string | undefined): { version: number; weight: number }[] {
  if (version !== undefined && routes?.length) throw new Error('give --to or --route, not both');
  if (version !== undefined) return [{ version: Number(version), weight: 100 }];
  if (!routes?.length) throw new Error('give --to <version> or one or two --route <version>=<weight>');
  return routes.map((route) => {
    const m = /^(\d+)=(\d+)%?$/.exec(route);
    if (!m) throw new Error(`--route ${route}: expected <version>=<weight>, such as 3=90`);
    return { version: Number(m[1]), weight: Number(m[2]) };
  });
}

export function registerStateMachineVersions(machines: Command): void {
  machines
    .command('versions <name>')
    .description("A state machine's published versions, newest first.")
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ versions: VersionItem[] }>(`/v1/state-machines/${segment(name)}/versions`);
        context.print(result, () =>
          formatTable(result.versions, [
            { header: 'version', value: (v) => String(v.version) },
            { header: 'arn', value: (v) => v.stateMachineVersionArn },
            { header: 'created', value: (v) => v.creationDate },
          ]),
        );
      }),
    );
  machines
    .command('publish <name>')
    .description("Publish the machine's current revision as a version (the latest version again when it is unchanged).")
    .option('--description <text>', "the version's description")
    .option('--revision <id>', 'publish only if this is still the current revision')
    .action(
      action(async (name: string, options: { description?: string; revision?: string }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ version: VersionItem }>(`/v1/state-machines/${segment(name)}/versions`, {
          ...(options.description !== undefined ? { description: options.description } : {}),
          ...(options.revision !== undefined ? { revisionId: options.revision } : {}),
        });
        context.print(result, () => `version ${result.version.version}: ${result.version.stateMachineVersionArn}`);
      }),
    );
  machines
    .command('delete-version <name> <version>')
    .description('Delete a version (refused while an alias routes to it).')
    .action(
      action(async (name: string, version: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.request('DELETE', `/v1/state-machines/${segment(name)}/versions/${segment(version)}`);
        context.print({ deleted: true }, () => `deleted version ${version} of ${name}`);
      }),
    );
  machines
    .command('aliases <name>')
    .description("A state machine's aliases and the versions they route to.")
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ aliases: AliasItem[] }>(`/v1/state-machines/${segment(name)}/aliases`);
        context.print(result, () =>
          formatTable(result.aliases, [
            { header: 'alias', value: (a) => a.name },
            { header: 'routing', value: (a) => routingText(a.routing) },
            { header: 'description', value: (a) => a.description },
            { header: 'updated', value: (a) => a.updateDate },
          ]),
        );
      }),
    );
  machines
    .command('set-alias <name> <alias>')
    .description('Create an alias, or set its routing and description: --to 3, or --route 3=90 --route 4=10.')
    .option('--to <version>', 'route every execution to this version')
    .option('--route <version=weight>', 'a version and its share in percent, once or twice (the weights add up to 100)', collect)
    .option('--description <text>', "the alias's description")
    .action(
      action(async (name: string, alias: string, options: { to?: string; route?: string[]; description?: string }, command: Command) => {
        const context = commandContext(command);
        const routing = parseRouting(options.route, options.to);
        const result = await context.client.request<{ alias: AliasItem; action: string }>('PUT', `/v1/state-machines/${segment(name)}/aliases/${segment(alias)}`, {
          routing,
          ...(options.description !== undefined ? { description: options.description } : {}),
        });
        context.print(result, () => `${result.action}\n${formatPairs({ ...result.alias, routing: routingText(result.alias.routing) })}`);
      }),
    );
  machines
    .command('delete-alias <name> <alias>')
    .description('Delete an alias (its versions stay).')
    .action(
      action(async (name: string, alias: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.request('DELETE', `/v1/state-machines/${segment(name)}/aliases/${segment(alias)}`);
        context.print({ deleted: true }, () => `deleted alias ${alias} of ${name}`);
      }),
    );
}
