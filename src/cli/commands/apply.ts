/**
 * `sluice apply [--config file] [--prune] [--dry-run]`: stores the config file's event source mappings
 * (`triggers`, `streamTriggers`), its functions' settings (reserved concurrency) and its schedules in
 * the store through a node, all in one store transaction, so every node runs them, managed by the file
 * (the Lambda API refuses to change them). It prints the plan, then carries it out unless --dry-run;
 * --prune deletes what the file applied before and no longer declares.
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

interface FunctionStep {
  action: string;
  function: string;
  reservedConcurrency?: number | null;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description("Store the config file's triggers, stream triggers, functions' settings and schedules for the cluster, atomically (plan, then apply).")
    .option('-c, --config <file>', 'the config file (default: the one in the current directory)')
    .option('--prune', 'delete the mappings this file applied before and no longer declares')
    .option('--dry-run', 'print the plan only')
    .action(
      action(async (options: { config?: string; prune?: boolean; dryRun?: boolean }, command: Command) => {
        const context = commandContext(command);
        const file = options.config ? resolve(options.config) : findConfigFile(process.cwd());
        if (!file) throw new Error('no config file here; give one with --config');
        const { config, path } = await loadConfigFile(file);
        const functions = Object.fromEntries(Object.entries(config.functions ?? {}).map(([name, fn]) => [name, { reservedConcurrency: fn.reservedConcurrency ?? null }]));
        const result = await context.client.post<{ plan: PlanStep[]; functions?: FunctionStep[]; schedules?: Array<{ action: string; schedule: string }>; applied: boolean }>('/v1/apply', {
          source: path,
          functions,
          ...(config.schedules ? { schedules: config.schedules } : {}),
          ...(config.triggers ? { triggers: config.triggers } : {}),
          ...(config.streamTriggers ? { streamTriggers: config.streamTriggers } : {}),
          prune: Boolean(options.prune),
          dryRun: Boolean(options.dryRun),
        });
        context.print(result, () => {
          const rows = [
            ...result.plan.map((s) => ({ action: s.action, resource: s.mapping, detail: s.uuid ?? '(new)' })),
            ...(result.functions ?? []).map((s) => ({
              action: s.action,
              resource: `function ${s.function}`,
              detail: s.action === 'delete' || s.action === 'keep' ? '' : `reserved concurrency ${s.reservedConcurrency ?? 'none'}`,
            })),
            ...(result.schedules ?? []).map((s) => ({ action: s.action, resource: `schedule ${s.schedule}`, detail: '' })),
          ];
          const table = formatTable(rows, [
            { header: 'action', value: (s) => s.action },
            { header: 'resource', value: (s) => s.resource },
            { header: 'uuid / settings', value: (s) => s.detail },
          ]);
          const changes = rows.filter((s) => s.action !== 'unchanged' && s.action !== 'keep').length;
          return `${table}\n${result.applied ? `applied ${changes} change(s)` : `${changes} change(s) planned (--dry-run: nothing applied)`}`;
        });
      }),
    );
}
