/**
 * `sluice schedules list|show|create|update|delete`: schedules over the native API, with their next fire
 * times. `create` is idempotent: running it again with the same definition changes nothing.
 */
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, commandContext } from '../context.js';
import { formatPairs, formatTable } from '../table.js';

interface ScheduleView {
  name: string;
  expression: string;
  timezone: string;
  target: Record<string, unknown>;
  state: string;
  nextFireTime: string | null;
  lastFiredTime: string | null;
}

interface DefinitionOptions {
  expression?: string;
  timezone?: string;
  function?: string;
  queue?: string;
  input?: string;
  body?: string;
  disabled?: boolean;
  enabled?: boolean;
}

function targetOf(options: DefinitionOptions): Record<string, unknown> | undefined {
  if (options.function !== undefined && options.queue !== undefined) throw new Error('give --function or --queue, not both');
  if (options.function !== undefined) {
    let input: unknown;
    if (options.input !== undefined) {
      try {
        input = JSON.parse(options.input);
      } catch {
        throw new Error(`--input must be JSON (got ${options.input.slice(0, 60)})`);
      }
    }
    return { function: options.function, ...(input !== undefined ? { input } : {}) };
  }
  if (options.queue !== undefined) return { queue: options.queue, ...(options.body !== undefined ? { body: options.body } : {}) };
  return undefined;
}

function definitionOf(options: DefinitionOptions): Record<string, unknown> {
  const target = targetOf(options);
  return {
    ...(options.expression !== undefined ? { expression: options.expression } : {}),
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
    ...(target ? { target } : {}),
    ...(options.disabled ? { state: 'DISABLED' } : options.enabled ? { state: 'ENABLED' } : {}),
  };
}

const targetText = (target: Record<string, unknown>) =>
  target.kind === 'function' ? `function ${String(target.functionName)}` : target.kind === 'queue' ? `queue ${String(target.queue)}` : `batch ${String(target.processor)}`;

function withDefinitionOptions(command: Command): Command {
  return command
    .option('--timezone <zone>', 'IANA time zone of a cron() or at() expression (default UTC)')
    .option('--function <name>', 'target: invoke this function')
    .option('--input <json>', 'the function target\'s event (default: EventBridge\'s Scheduled Event)')
    .option('--queue <name>', 'target: send to this queue')
    .option('--body <text>', 'the queue target\'s message body')
    .option('--disabled', 'create or set the schedule DISABLED');
}

export function registerSchedules(program: Command): void {
  const schedules = program.command('schedules').description('Schedules: rate(), cron() and at() firing a function or a queue.');
  schedules
    .command('list')
    .description('Every schedule with its next fire time.')
    .option('--prefix <text>', 'only names starting with this')
    .action(
      action(async (options: { prefix?: string }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ schedules: ScheduleView[] }>(`/v1/schedules${options.prefix ? `?prefix=${segment(options.prefix)}` : ''}`);
        context.print(result, () =>
          formatTable(result.schedules, [
            { header: 'name', value: (s) => s.name },
            { header: 'expression', value: (s) => s.expression },
            { header: 'zone', value: (s) => s.timezone },
            { header: 'target', value: (s) => targetText(s.target) },
            { header: 'state', value: (s) => s.state },
            { header: 'next fire (UTC)', value: (s) => s.nextFireTime ?? '-' },
          ]),
        );
      }),
    );
  schedules
    .command('show <name>')
    .description("A schedule's definition and its next fire times.")
    .option('--next <count>', 'how many next fire times (1-100)', '5')
    .action(
      action(async (name: string, options: { next: string }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ schedule: ScheduleView; nextFireTimes: string[] }>(`/v1/schedules/${segment(name)}?next=${segment(options.next)}`);
        context.print(result, () => `${formatPairs({ ...result.schedule, target: targetText(result.schedule.target) })}\nnext fire times:\n${result.nextFireTimes.map((t) => `  ${t}`).join('\n') || '  (none)'}`);
      }),
    );
  withDefinitionOptions(schedules.command('create <name> <expression>').description('Create a schedule; unchanged when it exists with the same definition.')).action(
    action(async (name: string, expression: string, options: DefinitionOptions, command: Command) => {
      const context = commandContext(command);
      const definition = definitionOf({ ...options, expression });
      if (definition.target === undefined) throw new Error('give a target: --function <name> or --queue <name>');
      const result = await context.client.post<{ schedule: ScheduleView }>('/v1/schedules', { name, ...definition });
      context.print(result, () => `${result.schedule.name}: next fire ${result.schedule.nextFireTime ?? '(none)'}`);
    }),
  );
  withDefinitionOptions(schedules.command('update <name>').description('Change a schedule: its expression, zone, target or state.'))
    .option('--expression <expression>', 'a new rate(), cron() or at() expression')
    .option('--enabled', 'set the schedule ENABLED')
    .action(
      action(async (name: string, options: DefinitionOptions, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.request<{ schedule: ScheduleView }>('PATCH', `/v1/schedules/${segment(name)}`, definitionOf(options));
        context.print(result, () => `${result.schedule.name}: ${result.schedule.state}, next fire ${result.schedule.nextFireTime ?? '(none)'}`);
      }),
    );
  schedules
    .command('delete <name>')
    .description('Delete a schedule.')
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.request('DELETE', `/v1/schedules/${segment(name)}`);
        context.print({ deleted: name }, () => `deleted ${name}`);
      }),
    );
}
