/**
 * `sluice apply [--config file] [--prune] [--dry-run]`: stores the config file's event source mappings
 * (`triggers`, `streamTriggers`) in the cluster catalog through a node, so every node runs them, managed
 * by the file (the Lambda API refuses to change them). It prints the plan, then carries it out unless
 * --dry-run; --prune deletes the mappings the file applied before and no longer declares.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { findConfigFile, loadConfigFile } from '../../config/load.js';
import { action, commandContext } from '../context.js';
import { formatTable } from '../table.js';

interface PlanStep {
  action: string;
  mapping: string;
  uuid?: string;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description("Store the config file's triggers and stream triggers in the cluster catalog (plan, then apply).")
    .option('-c, --config <file>', 'the config file (default: the one in the current directory)')
    .option('--prune', 'delete the mappings this file applied before and no longer declares')
    .option('--dry-run', 'print the plan only')
    .action(
      action(async (options: { config?: string; prune?: boolean; dryRun?: boolean }, command: Command) => {
        const context = commandContext(command);
        const file = options.config ? resolve(options.config) : findConfigFile(process.cwd());
        if (!file) throw new Error('no config file here; give one with --config');
        const { config, path } = await loadConfigFile(file);
        const result = await context.client.post<{ plan: PlanStep[]; applied: boolean }>('/v1/apply', {
          source: path,
          ...(config.triggers ? { triggers: config.triggers } : {}),
          ...(config.streamTriggers ? { streamTriggers: config.streamTriggers } : {}),
          prune: Boolean(options.prune),
          dryRun: Boolean(options.dryRun),
        });
        context.print(result, () => {
          const table = formatTable(result.plan, [
            { header: 'action', value: (s) => s.action },
            { header: 'mapping', value: (s) => s.mapping },
            { header: 'uuid', value: (s) => s.uuid ?? '(new)' },
          ]);
          const changes = result.plan.filter((s) => s.action !== 'unchanged' && s.action !== 'keep').length;
          return `${table}\n${result.applied ? `applied ${changes} change(s)` : `${changes} change(s) planned (--dry-run: nothing applied)`}`;
        });
      }),
    );
}
