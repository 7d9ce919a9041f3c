/**
 * Applies `stateMachines:`. A machine is created once and afterwards updated only when its definition,
 * role or description differs from the file (a definition change is a new revision; running executions
 * keep theirs). Machines are marked as managed by the config, and `--prune` deletes only those.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_ROLE } from '../../states/service.js';
import type { StateMachineConfig } from './state-machines-schema.js';
import { atPath, type ConfigSection } from './section.js';

export const CONFIG_MANAGER = 'config';

/** The definition's JSON text, inline or read from its file. */
export function definitionText(machine: StateMachineConfig, baseDir: string): string {
  if (machine.definition !== undefined) return JSON.stringify(machine.definition);
  return readFileSync(resolve(baseDir, machine.definitionFile as string), 'utf8');
}

export const stateMachinesSection: ConfigSection = {
  name: 'stateMachines',
  async apply(context) {
    const machines = context.sluice.stateMachines;
    for (const [name, machine] of Object.entries(context.config.stateMachines ?? {})) {
      await atPath(`stateMachines.${name}`, async () => {
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
