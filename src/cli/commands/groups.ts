/**
 * `sluice groups list|get|set|delete|get-default|set-default|delete-default|activity <queue> ...`: a
 * queue's group limits on a running node, through the native API (/v1/queues/:name/groups...).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commandContext, integerOption, type CommandContext } from '../context.js';
import { segment } from '../http-client.js';
import { formatPairs, formatTable } from '../table.js';

interface LimitView {
  queue: string;
  group: string | null;
  maxConcurrency: number | null;
  rate: { limit: number; intervalSeconds: number; burst: number } | null;
  modifiedAt: number;
}
interface ListView {
  queue: string;
  groupBy: string | null;
  default: LimitView | null;
  groups: LimitView[];
  nextAfter?: string;
}
interface GroupView {
  queue: string;
  group: string;
  limit: LimitView | null;
  effective: Pick<LimitView, 'maxConcurrency' | 'rate'>;
}
interface ActivityCounts {
  started: number;
  throttledByConcurrency: number;
  throttledByRate: number;
  inFlight: number;
}
interface ActivityView {
  queue: string;
  totals: ActivityCounts;
  trackedGroups: number;
  groups: Array<ActivityCounts & { group: string; recentEvents: number; lastActiveAt: number }>;
}
interface LimitOptions {
  maxConcurrency?: number;
  rate?: number;
  interval?: number;
  burst?: number;
  unlimited?: boolean;
}

const bounds = { maxConcurrency: 100_000, rate: 1_000_000 } as const;

export function formatRate(rate: LimitView['rate']): string {
  if (!rate) return '-';
  const per = rate.intervalSeconds === 1 ? 's' : `${rate.intervalSeconds}s`;
  return `${rate.limit}/${per}${rate.burst === rate.limit ? '' : ` burst ${rate.burst}`}`;
}

function limitTable(rows: LimitView[]): string {
  return formatTable(rows, [
    { header: 'group', value: (l) => (l.group === null ? '(default)' : l.group) },
    { header: 'max concurrency', value: (l) => l.maxConcurrency ?? '-' },
    { header: 'rate', value: (l) => formatRate(l.rate) },
    { header: 'modified', value: (l) => new Date(l.modifiedAt).toISOString() },
  ]);
}

/** The request body of a set: what the options say, checked for what only the CLI can tell. */
export function limitBody(options: LimitOptions): Record<string, unknown> {
  const { maxConcurrency, rate, interval, burst, unlimited } = options;
  const limited = maxConcurrency !== undefined || rate !== undefined;
  if (unlimited && (limited || interval !== undefined || burst !== undefined))
    throw new Error('--unlimited takes no other limit option');
  if (!limited && !unlimited) {
    if (interval !== undefined || burst !== undefined) throw new Error('--interval and --burst need --rate');
    throw new Error('give --max-concurrency and/or --rate (or --unlimited for an entry without limits)');
  }
  if (rate === undefined && (interval !== undefined || burst !== undefined))
    throw new Error('--interval and --burst need --rate');
  return {
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    ...(rate !== undefined
      ? {
          rate: {
            limit: rate,
            ...(interval !== undefined ? { intervalSeconds: interval } : {}),
            ...(burst !== undefined ? { burst } : {}),
          },
        }
      : {}),
  };
}

function seconds(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0.001 || number > 86_400)
    throw new InvalidArgumentError(`--interval must be from 0.001 to 86400 seconds, got '${value}'`);
  return number;
}

function withLimitOptions(command: Command): Command {
  return command
    .option(
      '--max-concurrency <n>',
      `messages of the group in flight at once (1-${bounds.maxConcurrency})`,
      integerOption('--max-concurrency', 1, bounds.maxConcurrency),
    )
    .option(
      '--rate <n>',
      `messages started per interval (1-${bounds.rate})`,
      integerOption('--rate', 1, bounds.rate),
    )
    .option('--interval <seconds>', 'the rate interval (default 1)', seconds)
    .option(
      '--burst <n>',
      'messages at once after an idle spell (default: the rate)',
      integerOption('--burst', 1, bounds.rate),
    )
    .option('--unlimited', 'an entry without limits (the group escapes the default)');
}

/** The HTTP API addresses a group by a path segment, which cannot be empty. */
function groupPath(queue: string, group: string): string {
  if (group === '')
    throw new Error(
      "the group '' (messages without a key) cannot be named over HTTP: set the queue's default, or use sluice.groupLimits",
    );
  return `/v1/queues/${segment(queue)}/groups/${segment(group)}`;
}

async function printGroup(context: CommandContext, queue: string, group: string): Promise<void> {
  const view = await context.client.get<GroupView>(groupPath(queue, group));
  context.print(view, () =>
    formatPairs({
      queue: view.queue,
      group: view.group,
      entry: view.limit ? 'own' : 'none (follows the default)',
      'max concurrency': view.effective.maxConcurrency ?? '-',
      rate: formatRate(view.effective.rate),
    }),
  );
}

export function registerGroups(program: Command): void {
  const groups = program
    .command('groups')
    .description("A queue's group limits: per-group concurrency and rate, and the default for other groups.");

  groups
    .command('list <queue>')
    .description("The queue's default and its group entries, a page at a time, in key order.")
    .option('--after <group>', 'start after this group (the previous page printed it)')
    .option('--limit <n>', 'entries per page (1-1000, default 100)', integerOption('--limit', 1, 1000))
    .action(
      action(async (queue: string, options: { after?: string; limit?: number }, command: Command) => {
        const context = commandContext(command);
        const query = new URLSearchParams({
          ...(options.after !== undefined ? { after: options.after } : {}),
          ...(options.limit !== undefined ? { limit: String(options.limit) } : {}),
        });
        const view = await context.client.get<ListView>(`/v1/queues/${segment(queue)}/groups?${query}`);
        context.print(view, () =>
          [
            `queue ${view.queue}, grouped by ${view.groupBy ?? '(not grouped: no trigger with groupBy yet)'}`,
            limitTable([...(view.default ? [view.default] : []), ...view.groups]),
            ...(view.nextAfter !== undefined ? [`more: --after ${JSON.stringify(view.nextAfter)}`] : []),
          ].join('\n'),
        );
      }),
    );

  groups
    .command('get <queue> <group>')
    .description('The limits a group runs under: its own entry, else the default.')
    .action(
      action(async (queue: string, group: string, _options: unknown, command: Command) => {
        await printGroup(commandContext(command), queue, group);
      }),
    );

  withLimitOptions(
    groups
      .command('set <queue> <group>')
      .description("Sets a group's limits (replacing the default for it); applies at the next claim."),
  ).action(
    action(async (queue: string, group: string, options: LimitOptions, command: Command) => {
      const context = commandContext(command);
      const body = limitBody(options);
      const result = await context.client.request<{ limit: LimitView }>('PUT', groupPath(queue, group), body);
      context.print(result, () => limitTable([result.limit]));
    }),
  );

  groups
    .command('delete <queue> <group>')
    .description("Removes a group's entry: it follows the default again.")
    .action(
      action(async (queue: string, group: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.request<{ deleted: boolean }>('DELETE', groupPath(queue, group));
        context.print(result, () =>
          result.deleted ? `deleted the entry of ${group}` : `${group} had no entry`,
        );
      }),
    );

  const defaultPath = (queue: string) => `/v1/queues/${segment(queue)}/group-default`;
  groups
    .command('get-default <queue>')
    .description("The queue's default limits, for groups without an entry.")
    .action(
      action(async (queue: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ limit: LimitView | null }>(defaultPath(queue));
        context.print(result, () =>
          result.limit ? limitTable([result.limit]) : 'no default: groups without an entry are not limited',
        );
      }),
    );

  withLimitOptions(
    groups
      .command('set-default <queue>')
      .description('Sets the limits of every group without an entry of its own.'),
  ).action(
    action(async (queue: string, options: LimitOptions, command: Command) => {
      const context = commandContext(command);
      const result = await context.client.request<{ limit: LimitView }>(
        'PUT',
        defaultPath(queue),
        limitBody(options),
      );
      context.print(result, () => limitTable([result.limit]));
    }),
  );

  groups
    .command('delete-default <queue>')
    .description('Removes the default: groups without an entry are no longer limited.')
    .action(
      action(async (queue: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.request<{ deleted: boolean }>('DELETE', defaultPath(queue));
        context.print(result, () => (result.deleted ? 'deleted the default' : 'the queue had no default'));
      }),
    );

  groups
    .command('activity <queue>')
    .description("What the queue's grouped triggers did on this node: the busiest recently active groups.")
    .action(
      action(async (queue: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const view = await context.client.get<ActivityView>(`/v1/queues/${segment(queue)}/group-activity`);
        const t = view.totals;
        context.print(view, () =>
          [
            `all groups: ${t.started} started, ${t.throttledByConcurrency} claims refused by concurrency, ` +
              `${t.throttledByRate} by rate, ${t.inFlight} in flight; ${view.trackedGroups} groups active recently`,
            formatTable(view.groups, [
              { header: 'group', value: (g) => g.group },
              { header: 'started', value: (g) => g.started },
              { header: 'refused (conc.)', value: (g) => g.throttledByConcurrency },
              { header: 'refused (rate)', value: (g) => g.throttledByRate },
              { header: 'in flight', value: (g) => g.inFlight },
              { header: 'last active', value: (g) => new Date(g.lastActiveAt).toISOString() },
            ]),
          ].join('\n'),
        );
      }),
    );
}
