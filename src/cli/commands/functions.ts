/**
 * `sluice functions list|show`, `sluice invoke` and `sluice triggers list|enable|disable`: the
 * functions and triggers a node runs (declared in its config file).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, commandContext, type CommandContext } from '../context.js';
import { formatPairs, formatTable } from '../table.js';

interface FunctionView {
  name: string;
  handler: string;
  timeout: number;
  memorySize: number;
  reservedConcurrency: number | null;
  execution: string;
  versions?: string[];
  aliases?: string[];
}
interface TriggerView {
  uuid: string;
  queue: string;
  functionName: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  scalingConfig: { maximumConcurrency?: number };
  state: string;
  stateTransitionReason: string;
  lastProcessingResult: string;
}

function parsePayload(text: string | undefined, file: string | undefined): unknown {
  const source = file !== undefined ? readFileSync(file === '-' ? 0 : file, 'utf8') : text;
  if (source === undefined) return {};
  try {
    return JSON.parse(source);
  } catch {
    throw new Error(`the payload must be JSON (got ${source.slice(0, 60)})`);
  }
}

/** A trigger named by its uuid, a unique uuid prefix, or `queue:function`. */
async function findTrigger(context: CommandContext, reference: string): Promise<TriggerView> {
  const { triggers } = await context.client.get<{ triggers: TriggerView[] }>('/v1/triggers');
  const matches = triggers.filter((t) => t.uuid.startsWith(reference) || `${t.queue}:${t.functionName}` === reference);
  if (matches.length === 1) return matches[0]!;
  throw new Error(matches.length === 0 ? `no trigger matches '${reference}' (give its uuid or queue:function)` : `'${reference}' matches ${matches.length} triggers; give more of the uuid`);
}

function triggerTable(triggers: TriggerView[]): string {
  return formatTable(triggers, [
    { header: 'uuid', value: (t) => t.uuid.slice(0, 8) },
    { header: 'queue', value: (t) => t.queue },
    { header: 'function', value: (t) => t.functionName },
    { header: 'batch', value: (t) => t.batchSize },
    { header: 'window (s)', value: (t) => t.maximumBatchingWindowInSeconds },
    { header: 'max conc.', value: (t) => t.scalingConfig.maximumConcurrency ?? '-' },
    { header: 'state', value: (t) => t.state },
    { header: 'last result', value: (t) => t.lastProcessingResult },
  ]);
}

export function registerFunctions(program: Command): void {
  const functions = program.command('functions').description('Functions the node runs (declared in its config file).');
  functions
    .command('list')
    .description('Every function with its limits.')
    .action(
      action(async (_options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ functions: FunctionView[] }>('/v1/functions');
        context.print(result, () =>
          formatTable(result.functions, [
            { header: 'name', value: (f) => f.name },
            { header: 'handler', value: (f) => f.handler, max: 50 },
            { header: 'timeout (s)', value: (f) => f.timeout },
            { header: 'memory (MB)', value: (f) => f.memorySize },
            { header: 'reserved', value: (f) => f.reservedConcurrency ?? '-' },
            { header: 'execution', value: (f) => f.execution },
            // Versions and aliases run as `name:N` and `name:alias`: invoke or show them by that name.
            { header: 'versions / aliases', value: (f) => [(f.versions ?? []).join(', '), (f.aliases ?? []).join(', ')].filter(Boolean).join('; ') || '-' },
          ]),
        );
      }),
    );
  functions
    .command('rotate-code-key')
    .description("Rotate the cluster's key for GetFunction's Code.Location URLs; URLs given before stay valid until they expire (10 minutes).")
    .action(
      action(async (_options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ rotatedAt: number; retiredKeys: number }>('/v1/code-location-key/rotate', {});
        context.print(result, () => `rotated at ${new Date(result.rotatedAt).toISOString()}; ${result.retiredKeys} retired key(s) still accepted for the URLs they signed`);
      }),
    );
  functions
    .command('show <name>')
    .description("A function's settings and metrics.")
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ function: FunctionView; metrics: Record<string, number> }>(`/v1/functions/${segment(name)}`);
        context.print(result, () => formatPairs({ ...result.function, ...result.metrics }));
      }),
    );

  program
    .command('invoke <function> [payload]')
    .description('Invoke a function with a JSON payload and print its result (--async: queue it and return).')
    .option('-f, --file <path>', 'read the JSON payload from a file ("-" for stdin)')
    .option('--async', 'invoke as an event (InvocationType Event): retries and destinations apply')
    .action(
      action(async (name: string, payload: string | undefined, options: { file?: string; async?: boolean }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ payload?: unknown; functionError?: string; requestId?: string }>(`/v1/functions/${segment(name)}/invoke`, {
          payload: parsePayload(payload, options.file),
          invocationType: options.async ? 'Event' : 'RequestResponse',
        });
        context.print(result, () => (options.async ? `accepted (request ${result.requestId})` : JSON.stringify(result.payload ?? null, null, 2)));
        if (result.functionError) process.exitCode = 1;
      }),
    );

  const triggers = program.command('triggers').description('Triggers: a queue read in batches by a function.');
  triggers
    .command('list')
    .description('Every trigger with its settings and state.')
    .option('--queue <name>', 'only triggers reading this queue')
    .option('--function <name>', 'only triggers invoking this function')
    .action(
      action(async (options: { queue?: string; function?: string }, command: Command) => {
        const context = commandContext(command);
        const query = new URLSearchParams({ ...(options.queue ? { queue: options.queue } : {}), ...(options.function ? { function: options.function } : {}) });
        const result = await context.client.get<{ triggers: TriggerView[] }>(`/v1/triggers?${query}`);
        context.print(result, () => triggerTable(result.triggers));
      }),
    );
  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    triggers
      .command(`${verb} <trigger>`)
      .description(`${enabled ? 'Resume' : 'Pause'} a trigger (by uuid, uuid prefix, or queue:function).`)
      .option('--this-node', "a trigger a config file declares: change it on this node only, until the node's restart (without it, refused)")
      .action(
        action(async (reference: string, options: { thisNode?: boolean }, command: Command) => {
          const context = commandContext(command);
          const trigger = await findTrigger(context, reference);
          const body = { enabled, ...(options.thisNode ? { thisNodeOnly: true } : {}) };
          const result = await context.client.request<{ trigger: TriggerView }>('PATCH', `/v1/triggers/${segment(trigger.uuid)}`, body);
          context.print(result, () => triggerTable([result.trigger]));
        }),
      );
  }
}
