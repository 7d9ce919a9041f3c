/**
 * `sluice batches create|follow|list|show|failed|retry|cancel`: batches over the native API. `create`
 * reads items from a file or stdin (JSON lines, or one JSON array) and can follow the batch to its end
 * with a progress bar; `follow` does the same for a batch created elsewhere.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, commandContext, integerOption, type CommandContext } from '../context.js';
import { createProgress } from '../progress.js';
import { formatPairs, formatTable } from '../table.js';

interface BatchView {
  id: string;
  status: string;
  processor: string;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  inFlight: number;
  createdAt: string;
  finalizedAt: string | null;
}

interface FailedItem {
  index: number;
  item: unknown;
  error: string;
  attempts: number;
}

/** Items from a file ("-" for stdin): one JSON array, or one JSON value per line. */
export function readItems(file: string): unknown[] {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  if (text.startsWith('[')) {
    const parsed = JSON.parse(text) as unknown;
    if (Array.isArray(parsed)) return parsed;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new Error(`line ${index + 1} of ${file === '-' ? 'stdin' : file} is not JSON: ${line.slice(0, 60)}`);
      }
    });
}

const summary = (b: BatchView) => `${b.id}: ${b.status}, ${b.succeeded} succeeded, ${b.failed} failed, ${b.cancelled} cancelled of ${b.total}`;

/** Follows a batch until it is finalized, drawing progress; the exit status is 1 when items failed. */
async function follow(context: CommandContext, id: string, intervalMs: number): Promise<BatchView> {
  let batch = (await context.client.get<{ batch: BatchView }>(`/v1/batches/${segment(id)}`)).batch;
  const progress = createProgress({ label: id, total: batch.total });
  while (batch.finalizedAt === null) {
    progress.update(batch.succeeded + batch.failed + batch.cancelled, batch.total);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    batch = (await context.client.get<{ batch: BatchView }>(`/v1/batches/${segment(id)}`)).batch;
  }
  progress.finish(context.json ? '' : summary(batch));
  if (batch.failed > 0) process.exitCode = 1;
  return batch;
}

export function registerBatches(program: Command): void {
  const batches = program.command('batches').description('Batches: items processed by a function, with a finalizer that fires once.');
  batches
    .command('create <processor>')
    .description('Create a batch from a file or stdin (JSON lines or a JSON array) processed by a function.')
    .requiredOption('-f, --file <path>', 'the items ("-" for stdin)')
    .option('--id <id>', 'the batch id (default: a new one)')
    .option('--items-per-message <n>', 'items handed to the processor per invocation', integerOption('--items-per-message', 1, 10_000))
    .option('--max-attempts <n>', 'attempts per item before it counts as failed', integerOption('--max-attempts', 1, 100))
    .option('--finalizer-function <name>', 'invoke this function once the batch is done')
    .option('--finalizer-queue <name>', 'send the summary to this queue once the batch is done')
    .option('--follow', 'follow the batch to its end with a progress bar')
    .option('--interval <ms>', 'how often --follow asks (ms)', integerOption('--interval', 50, 60_000), 500)
    .action(
      action(async (processor: string, options: { file: string; id?: string; itemsPerMessage?: number; maxAttempts?: number; finalizerFunction?: string; finalizerQueue?: string; follow?: boolean; interval: number }, command: Command) => {
        const context = commandContext(command);
        const items = readItems(options.file);
        const finalizer = options.finalizerFunction ? { function: options.finalizerFunction } : options.finalizerQueue ? { queue: options.finalizerQueue } : undefined;
        const created = await context.client.post<{ batch: BatchView }>('/v1/batches', {
          processor,
          items,
          ...(options.id ? { id: options.id } : {}),
          ...(options.itemsPerMessage ? { itemsPerMessage: options.itemsPerMessage } : {}),
          ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
          ...(finalizer ? { finalizer } : {}),
        });
        const batch = options.follow ? await follow(context, created.batch.id, options.interval) : created.batch;
        context.print({ batch }, () => (options.follow ? '' : `created ${summary(batch)}`));
      }),
    );
  batches
    .command('follow <id>')
    .description('Follow a batch to its end with a progress bar (exit status 1 when items failed).')
    .option('--interval <ms>', 'how often to ask (ms)', integerOption('--interval', 50, 60_000), 500)
    .action(
      action(async (id: string, options: { interval: number }, command: Command) => {
        const context = commandContext(command);
        const batch = await follow(context, id, options.interval);
        if (context.json) context.print({ batch }, () => '');
      }),
    );
  batches
    .command('list')
    .description('Batches, newest first.')
    .option('--processor <name>', 'only batches of this function')
    .option('--unfinished', 'only batches not finalized yet')
    .action(
      action(async (options: { processor?: string; unfinished?: boolean }, command: Command) => {
        const context = commandContext(command);
        const query = new URLSearchParams({ ...(options.processor ? { processor: options.processor } : {}), ...(options.unfinished ? { unfinished: 'true' } : {}) });
        const result = await context.client.get<{ batches: BatchView[] }>(`/v1/batches?${query}`);
        context.print(result, () =>
          formatTable(result.batches, [
            { header: 'id', value: (b) => b.id },
            { header: 'processor', value: (b) => b.processor },
            { header: 'status', value: (b) => b.status },
            { header: 'total', value: (b) => b.total },
            { header: 'ok', value: (b) => b.succeeded },
            { header: 'failed', value: (b) => b.failed },
            { header: 'created', value: (b) => b.createdAt },
          ]),
        );
      }),
    );
  batches
    .command('show <id>')
    .description("A batch's progress.")
    .action(
      action(async (id: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ batch: BatchView }>(`/v1/batches/${segment(id)}`);
        context.print(result, () => formatPairs({ ...result.batch }));
      }),
    );
  batches
    .command('failed <id>')
    .description("A batch's failed items with their errors.")
    .option('--after <index>', 'items after this index', integerOption('--after', -1, Number.MAX_SAFE_INTEGER))
    .option('--limit <n>', 'at most this many (1-1000)', integerOption('--limit', 1, 1000))
    .action(
      action(async (id: string, options: { after?: number; limit?: number }, command: Command) => {
        const context = commandContext(command);
        const query = new URLSearchParams({ ...(options.after !== undefined ? { after: String(options.after) } : {}), ...(options.limit ? { limit: String(options.limit) } : {}) });
        const result = await context.client.get<{ items: FailedItem[] }>(`/v1/batches/${segment(id)}/failed?${query}`);
        context.print(result, () =>
          formatTable(result.items, [
            { header: 'index', value: (i) => i.index },
            { header: 'attempts', value: (i) => i.attempts },
            { header: 'error', value: (i) => i.error, max: 60 },
            { header: 'item', value: (i) => JSON.stringify(i.item), max: 60 },
          ]),
        );
      }),
    );
  batches
    .command('retry <id>')
    .description("Run a batch's failed items again.")
    .option('--limit <n>', 'retry at most this many', integerOption('--limit', 1, 1_000_000))
    .action(
      action(async (id: string, options: { limit?: number }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ retried: number }>(`/v1/batches/${segment(id)}/retry`, options.limit ? { limit: options.limit } : {});
        context.print(result, () => `retried ${result.retried} item(s) of ${id}`);
      }),
    );
  batches
    .command('cancel <id>')
    .description('Cancel a batch: items not yet processed are not run; its finalizer fires.')
    .action(
      action(async (id: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ batch: BatchView }>(`/v1/batches/${segment(id)}/cancel`, {});
        context.print(result, () => `cancelled ${summary(result.batch)}`);
      }),
    );
}
