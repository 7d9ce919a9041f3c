/**
 * `sluice apply [--config file] [--prune] [--dry-run]`: stores the config file's event source mappings
 * (`triggers`, `streamTriggers`), its functions' settings (reserved concurrency) and its schedules in
 * the store through a node, all in one store transaction, so every node runs them, managed by the file
 * (the Lambda API refuses to change them). It prints the plan, then carries it out unless --dry-run;
 * --prune deletes what the file applied before and no longer declares; --adopt takes over the queues,
 * tables and schedules it declares that exist but no file manages (plan action `adopt`).
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
  changes?: Record<string, { from?: unknown; to: unknown }>;
}

interface FunctionStep {
  action: string;
  function: string;
  reservedConcurrency?: number | null;
  changes?: Record<string, { from?: unknown; to: unknown }>;
}

/** A step's diff as `field: old -> new` (a field the catalog lacked shows only its new value). */
function describeChanges(changes: Record<string, { from?: unknown; to: unknown }> | undefined): string {
  return Object.entries(changes ?? {})
    .map(([field, { from, to }]) => `${field}: ${from !== undefined ? `${JSON.stringify(from)} -> ` : ''}${JSON.stringify(to)}`)
    .join(', ');
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description("Store the config file's triggers, stream triggers, functions' settings and schedules for the cluster, atomically (plan, then apply).")
    .option('-c, --config <file>', 'the config file (default: the one in the current directory)')
    .option('--prune', 'delete the mappings this file applied before and no longer declares')
    .option('--adopt', 'take over the queues, tables and schedules the file declares that exist but no file manages (made by a node config, an API or a program): update them to the file and manage them from it')
    .option('--dry-run', 'print the plan only')
    .action(
      action(async (options: { config?: string; prune?: boolean; adopt?: boolean; dryRun?: boolean }, command: Command) => {
        const context = commandContext(command);
        const file = options.config ? resolve(options.config) : findConfigFile(process.cwd());
        if (!file) throw new Error('no config file here; give one with --config');
        const { config, path } = await loadConfigFile(file);
        const functions = Object.fromEntries(
          Object.entries(config.functions ?? {}).map(([name, fn]) => [
            name,
            {
              reservedConcurrency: fn.reservedConcurrency ?? null,
              ...(fn.timeout !== undefined ? { timeout: fn.timeout } : {}),
              ...(fn.memorySize !== undefined ? { memorySize: fn.memorySize } : {}),
              ...(fn.environment !== undefined ? { environment: fn.environment } : {}),
              // A handler given as a value (a TypeScript config) is code only that program has: not sent.
              ...(typeof fn.handler === 'string' ? { handler: fn.handler } : {}),
            },
          ]),
        );
        const result = await context.client.post<{ plan: PlanStep[]; functions?: FunctionStep[]; schedules?: Array<{ action: string; schedule: string; changed?: boolean }>; queues?: Array<{ action: string; queue: string; changes?: FunctionStep['changes'] }>; tables?: Array<{ action: string; table: string; changes?: FunctionStep['changes']; indexes?: { add?: string[]; remove?: string[] } }>; applied: boolean }>('/v1/apply', {
          source: path,
          functions,
          ...(config.schedules ? { schedules: config.schedules } : {}),
          ...(config.queues ? { queues: config.queues } : {}),
          ...(config.tables ? { tables: config.tables } : {}),
          ...(config.triggers ? { triggers: config.triggers } : {}),
          ...(config.streamTriggers ? { streamTriggers: config.streamTriggers } : {}),
          prune: Boolean(options.prune),
          ...(options.adopt ? { adopt: true } : {}),
          dryRun: Boolean(options.dryRun),
        });
        context.print(result, () => {
          const rows = [
            ...(result.queues ?? []).map((s) => ({ action: s.action, resource: `queue ${s.queue}`, detail: describeChanges(s.changes) })),
            ...(result.tables ?? []).map((s) => ({
              action: s.action,
              resource: `table ${s.table}`,
              detail: [describeChanges(s.changes), ...(s.indexes?.add ?? []).map((name) => `+ index ${name}`), ...(s.indexes?.remove ?? []).map((name) => `- index ${name}`)].filter(Boolean).join(', '),
            })),
            ...result.plan.map((s) => ({ action: s.action, resource: s.mapping, detail: [s.uuid ?? '(new)', describeChanges(s.changes)].filter(Boolean).join(' ') })),
            ...(result.functions ?? []).map((s) => {
              const { reservedConcurrency: _reserved, ...others } = s.changes ?? {};
              const detail = s.action === 'delete' || s.action === 'keep' ? '' : [`reserved concurrency ${s.reservedConcurrency ?? 'none'}`, describeChanges(others)].filter(Boolean).join('; ');
              return { action: s.action, resource: `function ${s.function}`, detail };
            }),
            ...(result.schedules ?? []).map((s) => ({ action: s.action, resource: `schedule ${s.schedule}`, detail: s.changed ? 'updated to the file' : '' })),
          ];
          const table = formatTable(rows, [
            { header: 'action', value: (s) => s.action },
            { header: 'resource', value: (s) => s.resource },
            // The diff is the point of a plan: never cut.
            { header: 'uuid / changes', value: (s) => s.detail, max: 4000 },
          ]);
          const changes = rows.filter((s) => s.action !== 'unchanged' && s.action !== 'keep').length;
          return `${table}\n${result.applied ? `applied ${changes} change(s)` : `${changes} change(s) planned (--dry-run: nothing applied)`}`;
        });
      }),
    );
}
