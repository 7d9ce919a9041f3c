/**
 * `sluice queues list|show|create|delete|purge|redrive`: queue administration over the native API.
 */
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, collect, commandContext, integerOption, keyValues } from '../context.js';
import { createProgress } from '../progress.js';
import { formatPairs, formatTable } from '../table.js';

interface Counts {
  visible: number;
  inFlight: number;
  delayed: number;
  oldestAgeSeconds: number;
}
interface QueueRow {
  name: string;
  fifo: boolean;
  counts?: Counts;
}
interface MoveTask {
  taskHandle: string;
  status: string;
  approximateNumberOfMessagesMoved: number;
  approximateNumberOfMessagesToMove: number;
  failureReason?: string;
}

function attributesFrom(pairs: string[] | undefined): Record<string, string> {
  return keyValues(pairs, '--attribute');
}

export function registerQueues(program: Command): void {
  const queues = program.command('queues').description('List, inspect, create, delete, purge and redrive queues.');

  queues
    .command('list')
    .description('Queues with their backlog.')
    .option('--prefix <prefix>', 'only queues whose name starts with this')
    .action(
      action(async (options: { prefix?: string }, command: Command) => {
        const context = commandContext(command);
        const query = new URLSearchParams({ counts: 'true', ...(options.prefix ? { prefix: options.prefix } : {}) });
        const result = await context.client.get<{ queues: QueueRow[] }>(`/v1/queues?${query}`);
        context.print(result, () =>
          formatTable(result.queues, [
            { header: 'name', value: (q) => q.name },
            { header: 'type', value: (q) => (q.fifo ? 'fifo' : 'standard') },
            { header: 'visible', value: (q) => q.counts?.visible },
            { header: 'in flight', value: (q) => q.counts?.inFlight },
            { header: 'delayed', value: (q) => q.counts?.delayed },
            { header: 'oldest (s)', value: (q) => q.counts?.oldestAgeSeconds },
          ]),
        );
      }),
    );

  queues
    .command('show <name>')
    .description("A queue's attributes, backlog and tags.")
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ attributes: Record<string, string>; counts: Counts; tags: Record<string, string> }>(`/v1/queues/${segment(name)}`);
        context.print(result, () => formatPairs({ ...result.attributes, ...Object.fromEntries(Object.entries(result.tags).map(([k, v]) => [`tag:${k}`, v])) }));
      }),
    );

  queues
    .command('create <name>')
    .description('Create a queue (a name ending in .fifo makes a FIFO queue).')
    .option('-a, --attribute <name=value>', "an SQS attribute, repeatable (e.g. VisibilityTimeout=60, RedrivePolicy='{...}')", collect)
    .option('-t, --tag <key=value>', 'a tag, repeatable', collect)
    .action(
      action(async (name: string, options: { attribute?: string[]; tag?: string[] }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ queue: { name: string; arn: string } }>('/v1/queues', {
          name,
          attributes: attributesFrom(options.attribute),
          tags: keyValues(options.tag, '--tag'),
        });
        context.print(result, () => `created ${result.queue.name} (${result.queue.arn})`);
      }),
    );

  queues
    .command('delete <name>')
    .description('Delete a queue and its messages.')
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.request('DELETE', `/v1/queues/${segment(name)}`);
        context.print({ deleted: name }, () => `deleted ${name}`);
      }),
    );

  queues
    .command('purge <name>')
    .description('Delete every message of a queue (once per 60 seconds).')
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.post(`/v1/queues/${segment(name)}/purge`);
        context.print({ purged: name }, () => `purged ${name}`);
      }),
    );

  queues
    .command('redrive <dead-letter-queue>')
    .description('Move the messages of a dead-letter queue back to their source queues (or to --to), with progress.')
    .option('--to <queue>', 'move every message to this queue instead of its source')
    .option('--rate <n>', 'at most n messages per second (1-500)', integerOption('--rate', 1, 500))
    .option('--no-wait', 'start the move task and return at once')
    .action(
      action(async (dlq: string, options: { to?: string; rate?: number; wait: boolean }, command: Command) => {
        const context = commandContext(command);
        const path = `/v1/queues/${segment(dlq)}/move-tasks`;
        const started = await context.client.post<{ taskHandle: string }>(path, {
          ...(options.to ? { destination: options.to } : {}),
          ...(options.rate ? { maxNumberOfMessagesPerSecond: options.rate } : {}),
        });
        if (!options.wait) {
          context.print(started, () => `move task started: ${started.taskHandle}`);
          return;
        }
        const progress = createProgress({ label: `redrive ${dlq}`, total: 0 });
        for (;;) {
          const { tasks } = await context.client.get<{ tasks: MoveTask[] }>(`${path}?maxResults=1`);
          const task = tasks[0];
          if (!task) throw new Error('the move task disappeared');
          progress.update(task.approximateNumberOfMessagesMoved, task.approximateNumberOfMessagesToMove);
          if (task.status !== 'RUNNING') {
            const summary = `redrive ${task.status.toLowerCase()}: ${task.approximateNumberOfMessagesMoved} of ${task.approximateNumberOfMessagesToMove} messages moved${task.failureReason ? ` (${task.failureReason})` : ''}`;
            progress.finish('');
            context.print(task, () => summary);
            if (task.status === 'FAILED') process.exitCode = 1;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }),
    );
}
