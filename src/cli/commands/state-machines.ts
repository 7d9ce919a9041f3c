/**
 * `sluice state-machines list|show`, `sluice executions start|list|show|history|stop` and
 * `sluice tasks create|show|succeed|fail|heartbeat`: state machines, their executions (with a readable
 * history: the path taken and the failing state's error), and task tokens without a state machine.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, commandContext, integerOption } from '../context.js';
import { formatPairs, formatTable } from '../table.js';
import { registerStateMachineVersions } from './state-machine-versions.js';

interface MachineView {
  name: string;
  stateMachineArn: string;
  type: string;
  creationDate: string;
  revisionId: string;
  managedBy: string | null;
  definition: string;
}
interface ExecutionItem {
  executionArn: string;
  name: string;
  status: string;
  startDate: string;
  stopDate?: string;
}
interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: string;
  type: string;
  [details: string]: unknown;
}

function jsonArgument(text: string | undefined, file: string | undefined): unknown {
  const source = file !== undefined ? readFileSync(file === '-' ? 0 : file, 'utf8') : text;
  if (source === undefined) return undefined;
  try {
    return JSON.parse(source);
  } catch {
    throw new Error(`the input must be JSON (got ${source.slice(0, 60)})`);
  }
}

/** The history for humans: one line per event, then the path of states taken and how it ended. */
export function renderHistory(events: HistoryEvent[]): string {
  if (events.length === 0) return '(no events)';
  const start = Date.parse(events[0]!.timestamp);
  const lines: string[] = [];
  const path: string[] = [];
  let lastState: string | undefined;
  let ending = '';
  for (const event of events) {
    const details = Object.entries(event).find(([key]) => key.endsWith('EventDetails'))?.[1] as Record<string, unknown> | undefined;
    const offset = `+${((Date.parse(event.timestamp) - start) / 1000).toFixed(3)}s`.padStart(10);
    let note = '';
    if (event.type.endsWith('StateEntered') && typeof details?.name === 'string') {
      lastState = details.name;
      path.push(details.name);
      note = details.name;
    } else if (event.type.endsWith('StateExited') && typeof details?.name === 'string') note = details.name;
    else if (details && typeof details.error === 'string') note = `${details.error}${details.cause ? `: ${String(details.cause).slice(0, 120)}` : ''}`;
    if (event.type === 'ExecutionFailed' || event.type === 'ExecutionTimedOut' || event.type === 'ExecutionAborted')
      ending = `${event.type.replace('Execution', '').toLowerCase()}${lastState ? ` in state '${lastState}'` : ''}${details?.error ? `: ${String(details.error)}${details.cause ? ` (${String(details.cause).slice(0, 200)})` : ''}` : ''}`;
    if (event.type === 'ExecutionSucceeded') ending = 'succeeded';
    lines.push(`${String(event.id).padStart(4)}  ${offset}  ${event.type}${note ? `  ${note}` : ''}`);
  }
  lines.push('', `path: ${path.join(' → ') || '(none)'}`);
  if (ending) lines.push(`result: ${ending}`);
  return lines.join('\n');
}

export function registerStateMachines(program: Command): void {
  const machines = program.command('state-machines').description('Step Functions state machines (declared in the config file or created through the API).');
  machines
    .command('list')
    .description('Every state machine.')
    .action(
      action(async (_options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ stateMachines: MachineView[] }>('/v1/state-machines');
        context.print(result, () =>
          formatTable(result.stateMachines, [
            { header: 'name', value: (m) => m.name },
            { header: 'type', value: (m) => m.type },
            { header: 'revision', value: (m) => m.revisionId },
            { header: 'managed by', value: (m) => m.managedBy ?? 'api' },
            { header: 'created', value: (m) => m.creationDate },
          ]),
        );
      }),
    );
  machines
    .command('show <name>')
    .description("A state machine's settings and definition.")
    .action(
      action(async (name: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ stateMachine: MachineView }>(`/v1/state-machines/${segment(name)}`);
        const { definition, ...rest } = result.stateMachine;
        context.print(result, () => `${formatPairs(rest)}\n\n${JSON.stringify(JSON.parse(definition), null, 2)}`);
      }),
    );
  registerStateMachineVersions(machines);

  const executions = program.command('executions').description('Executions of state machines.');
  executions
    .command('start <stateMachine> [input]')
    .description('Start an execution with a JSON input (--wait: until it ends, printing its output); <name>:<version> or <name>:<alias> runs that version.')
    .option('-f, --file <path>', 'read the JSON input from a file ("-" for stdin)')
    .option('--input <json>', 'the JSON input (or give it as the second argument)')
    .option('--name <name>', 'the execution name (default a UUID); starting the same name and input again is idempotent')
    .option('--wait', 'wait for the execution to end and print it')
    .action(
      action(async (machine: string, inputArgument: string | undefined, options: { file?: string; input?: string; name?: string; wait?: boolean }, command: Command) => {
        const context = commandContext(command);
        const input = jsonArgument(options.input ?? inputArgument, options.file);
        const result = await context.client.post<{ executionArn?: string; execution?: ExecutionItem & { output?: string; error?: string; cause?: string } }>(
          `/v1/state-machines/${segment(machine)}/executions`,
          { ...(input !== undefined ? { input } : {}), ...(options.name ? { name: options.name } : {}), ...(options.wait ? { wait: true } : {}) },
        );
        context.print(result, () => {
          if (!result.execution) return result.executionArn ?? '';
          const e = result.execution;
          return e.status === 'SUCCEEDED' ? (e.output ?? '') : `${e.status}: ${e.error ?? ''}${e.cause ? ` (${e.cause})` : ''}`;
        });
        if (result.execution && result.execution.status !== 'SUCCEEDED') process.exitCode = 1;
      }),
    );
  executions
    .command('list <stateMachine>')
    .description("A state machine's executions, newest first.")
    .option('--status <status>', 'RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED')
    .option('--limit <n>', 'at most this many', integerOption('--limit', 1, 1000))
    .action(
      action(async (machine: string, options: { status?: string; limit?: number }, command: Command) => {
        const context = commandContext(command);
        const query = new URLSearchParams({ ...(options.status ? { status: options.status } : {}), ...(options.limit ? { limit: String(options.limit) } : {}) });
        const result = await context.client.get<{ executions: ExecutionItem[] }>(`/v1/state-machines/${segment(machine)}/executions?${query}`);
        context.print(result, () =>
          formatTable(result.executions, [
            { header: 'name', value: (e) => e.name },
            { header: 'status', value: (e) => e.status },
            { header: 'started', value: (e) => e.startDate },
            { header: 'stopped', value: (e) => e.stopDate },
          ]),
        );
      }),
    );
  executions
    .command('show <executionArn>')
    .description("An execution's status, input and output.")
    .action(
      action(async (arn: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ execution: Record<string, unknown> }>(`/v1/executions/${segment(arn)}`);
        context.print(result, () => formatPairs(result.execution));
      }),
    );
  executions
    .command('history <executionArn>')
    .description('The events of an execution, the path of states it took and how it ended.')
    .action(
      action(async (arn: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const events: HistoryEvent[] = [];
        let nextToken: string | undefined;
        do {
          const page = await context.client.get<{ events: HistoryEvent[]; nextToken?: string }>(
            `/v1/executions/${segment(arn)}/history?limit=1000${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`,
          );
          events.push(...page.events);
          nextToken = page.nextToken;
        } while (nextToken);
        context.print({ events }, () => renderHistory(events));
      }),
    );
  executions
    .command('stop <executionArn>')
    .description('Stop a running execution (ABORTED).')
    .option('--error <error>', 'the error to record')
    .option('--cause <cause>', 'the cause to record')
    .action(
      action(async (arn: string, options: { error?: string; cause?: string }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ stopDate: string }>(`/v1/executions/${segment(arn)}/stop`, options);
        context.print(result, () => `stopped at ${result.stopDate}`);
      }),
    );
}
