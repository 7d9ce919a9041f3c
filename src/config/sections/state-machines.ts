/**
 * Applies `stateMachines:`. A machine is created once and afterwards updated only when its definition,
 * role or description differs from the file (a definition change is a new revision; running executions
 * keep theirs). Machines are marked as managed by the config, and `--prune` deletes only those.
 * Then `publish:` and `aliases:` (applyVersionsAndAliases).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_ROLE } from '../../states/service.js';
import { routesOf, type StateMachineConfig } from './state-machines-schema.js';
import { atPath, type ApplyContext, type ConfigSection } from './section.js';

export const CONFIG_MANAGER = 'config';

/** The definition's JSON text, inline or read from its file. */
export function definitionText(machine: StateMachineConfig, baseDir: string): string {
  if (machine.definition !== undefined) return JSON.stringify(machine.definition);
  return readFileSync(resolve(baseDir, machine.definitionFile as string), 'utf8');
}

/** Creates the machine, or updates what differs from the file. */
async function applyMachine(context: ApplyContext, name: string, machine: StateMachineConfig): Promise<void> {
  const machines = context.sluice.stateMachines;
  const text = definitionText(machine, context.baseDir);
  const roleArn = machine.roleArn ?? DEFAULT_ROLE(context.sluice.arn.accountId);
  const current = await machines.describe(name).catch(() => undefined);
  if (!current) {
    await machines.create({
      name,
      definition: text,
      roleArn,
      ...(machine.type ? { type: machine.type } : {}),
      ...(machine.description !== undefined ? { description: machine.description } : {}),
      ...(machine.tags ? { tags: machine.tags } : {}),
      managedBy: CONFIG_MANAGER,
    });
    context.changes.push({ kind: 'state machine', name, action: 'created' });
    return;
  }
  const sameDefinition = JSON.stringify(JSON.parse(current.definition)) === JSON.stringify(JSON.parse(text));
  if (sameDefinition && current.roleArn === roleArn && current.description === (machine.description ?? current.description)) {
    context.changes.push({ kind: 'state machine', name, action: 'unchanged' });
    return;
  }
  await machines.update(name, {
    ...(sameDefinition ? {} : { definition: text }),
    roleArn,
    ...(machine.description !== undefined ? { description: machine.description } : {}),
    managedBy: CONFIG_MANAGER,
  });
  context.changes.push({ kind: 'state machine', name, action: 'updated' });
}

/**
 * `publish: true`: publishes the current revision (a no-op when it is already the latest version);
 * `aliases:`: creates or updates each declared alias, `latest` being the version just published.
 * Aliases the file does not declare are left alone (they may have been made through the API).
 */
async function applyVersionsAndAliases(context: ApplyContext, name: string, machine: StateMachineConfig): Promise<void> {
  const { versions } = context.sluice.stateMachines;
  let latest: number | undefined;
  if (machine.publish) {
    const arn = context.sluice.stateMachines.stateMachineArn(name);
    const before = (await versions.list(arn, { maxResults: 1 })).stateMachineVersions[0]?.stateMachineVersionArn;
    const published = await versions.publish(arn, machine.versionDescription !== undefined ? { description: machine.versionDescription } : {});
    latest = Number(published.stateMachineVersionArn.slice(published.stateMachineVersionArn.lastIndexOf(':') + 1));
    context.changes.push({ kind: 'state machine version', name: `${name}:${latest}`, action: before === published.stateMachineVersionArn ? 'unchanged' : 'created' });
  }
  for (const [alias, config] of Object.entries(machine.aliases ?? {})) {
    await atPath(`aliases.${alias}`, async () => {
      const routing = routesOf(config).map((r) => ({ version: r.version === 'latest' ? (latest as number) : r.version, weight: r.weight }));
      const result = await versions.putAlias(name, alias, { routing, ...(config.description !== undefined ? { description: config.description } : {}) });
      context.changes.push({ kind: 'state machine alias', name: `${name}:${alias}`, action: result.action });
    });
  }
}

export const stateMachinesSection: ConfigSection = {
  name: 'stateMachines',
  async apply(context) {
    for (const [name, machine] of Object.entries(context.config.stateMachines ?? {})) {
      await atPath(`stateMachines.${name}`, async () => {
        await applyMachine(context, name, machine);
        await applyVersionsAndAliases(context, name, machine);
      });
    }
  },
  async prune(context, options) {
    const declared = context.config.stateMachines ?? {};
    let nextToken: string | undefined;
    do {
      const page = await context.sluice.stateMachines.list(nextToken ? { nextToken } : {});
      for (const machine of page.stateMachines) {
        if (machine.name in declared || machine.managedBy !== CONFIG_MANAGER) continue;
        if (options.delete) await context.sluice.stateMachines.delete(machine.name);
        context.changes.push({ kind: 'state machine', name: machine.name, action: options.delete ? 'deleted' : 'kept (not in config)' });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  },
};
