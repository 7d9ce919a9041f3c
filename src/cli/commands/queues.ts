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

/**
 * A move task moves the messages it can receive, as SQS's does: one in flight (received and not yet
 * deleted, e.g. by `aws sqs receive-message` a moment ago) stays behind until its visibility timeout ends.
 */
export async function whyNotMoved(
  client: { get<T>(path: string): Promise<T> },
  dlq: string,
): Promise<{ inFlight: number; delayed: number; visibilityTimeout: number; text: string } | undefined> {
  const queue = await client.get<{ attributes: Record<string, string>; counts: Counts }>(`/v1/queues/${segment(dlq)}`).catch(() => undefined);
  if (!queue) return undefined;
  const { inFlight, delayed } = queue.counts;
  if (inFlight === 0 && delayed === 0) return undefined;
  const visibilityTimeout = Number(queue.attributes.VisibilityTimeout ?? 30);
  const parts = [
    inFlight > 0
      ? `${inFlight} message${inFlight === 1 ? ' was' : 's were'} in flight in ${dlq} (received and not deleted), so not movable yet; ` +
        `${inFlight === 1 ? 'it becomes' : 'they become'} movable when the visibility timeout of that receive ends ` +
        `(${dlq}'s VisibilityTimeout is ${visibilityTimeout} s, unless the receive set its own): run the redrive again then`
      : '',
    delayed > 0 ? `${delayed} delayed message${delayed === 1 ? '' : 's'} in ${dlq} become movable when ${delayed === 1 ? 'its' : 'their'} delay ends` : '',
  ].filter(Boolean);
  return { inFlight, delayed, visibilityTimeout, text: parts.join('; ') + '.' };
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
            const left = task.approximateNumberOfMessagesToMove - task.approximateNumberOfMessagesMoved;
            const why = task.status === 'COMPLETED' && left > 0 ? await whyNotMoved(context.client, dlq) : undefined;
            context.print(why ? { ...task, notMoved: why } : task, () => (why ? `${summary}\n${why.text}` : summary));
            if (task.status === 'FAILED') process.exitCode = 1;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }),
    );
}
