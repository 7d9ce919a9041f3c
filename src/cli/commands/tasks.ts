/**
 * `sluice tasks create|show|succeed|fail|heartbeat|wait`: callback tasks (task tokens) over the native
 * API, for a person or a script answering a task a workflow waits on.
 */
import type { Command } from 'commander';
import { segment } from '../http-client.js';
import { action, commandContext, integerOption } from '../context.js';
import { formatPairs } from '../table.js';

function parseJson(text: string, option: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${option} must be JSON (got ${text.slice(0, 60)})`);
  }
}

export function registerTasks(program: Command): void {
  const tasks = program.command('tasks').description('Callback tasks: a task token a workflow waits on until it is answered or times out.');
  tasks
    .command('create')
    .description('Create a task token: printed alone, or sent with the task to a queue (--queue) or a function (--function).')
    .option('--queue <name>', 'send the task (with its token) to this queue')
    .option('--function <name>', 'invoke this function asynchronously with the task (and its token)')
    .option('--input <json>', 'the task input (a JSON object gets the token as a field)')
    .option('--timeout <seconds>', 'the task times out after this long', integerOption('--timeout', 1, 99_999_999))
    .option('--heartbeat <seconds>', 'the task times out without a heartbeat this often', integerOption('--heartbeat', 1, 99_999_999))
    .option('--context <json>', 'data kept with the task')
    .action(
      action(async (options: { queue?: string; function?: string; input?: string; timeout?: number; heartbeat?: number; context?: string }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.post<{ taskToken: string }>('/v1/tasks', {
          ...(options.queue ? { queue: options.queue } : {}),
          ...(options.function ? { function: options.function } : {}),
          ...(options.input !== undefined ? { input: parseJson(options.input, '--input') } : {}),
          ...(options.timeout ? { timeoutSeconds: options.timeout } : {}),
          ...(options.heartbeat ? { heartbeatSeconds: options.heartbeat } : {}),
          ...(options.context !== undefined ? { context: parseJson(options.context, '--context') } : {}),
        });
        context.print(result, () => result.taskToken);
      }),
    );
  tasks
    .command('show <token>')
    .description("A task's status and deadlines.")
    .action(
      action(async (token: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ task: Record<string, unknown> }>(`/v1/tasks/${segment(token)}`);
        context.print(result, () => formatPairs({ ...result.task, context: JSON.stringify(result.task.context) }));
      }),
    );
  tasks
    .command('succeed <token> [output]')
    .description('Report success with a JSON output (default {}).')
    .action(
      action(async (token: string, output: string | undefined, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.post(`/v1/tasks/${segment(token)}/success`, { output: parseJson(output ?? '{}', '<output>') });
        context.print({ succeeded: true }, () => 'succeeded');
      }),
    );
  tasks
    .command('fail <token>')
    .description('Report failure.')
    .option('--error <name>', 'the error name')
    .option('--cause <text>', 'what went wrong')
    .action(
      action(async (token: string, options: { error?: string; cause?: string }, command: Command) => {
        const context = commandContext(command);
        await context.client.post(`/v1/tasks/${segment(token)}/failure`, { ...(options.error ? { error: options.error } : {}), ...(options.cause ? { cause: options.cause } : {}) });
        context.print({ failed: true }, () => 'failed');
      }),
    );
  tasks
    .command('heartbeat <token>')
    .description('Report that the task is still being worked on.')
    .action(
      action(async (token: string, _options: unknown, command: Command) => {
        const context = commandContext(command);
        await context.client.post(`/v1/tasks/${segment(token)}/heartbeat`, {});
        context.print({ heartbeat: true }, () => 'heartbeat sent');
      }),
    );
  tasks
    .command('wait <token>')
    .description("Wait for a task's outcome (exit status 1 unless it succeeded; 2 when still waiting).")
    .option('--seconds <n>', 'wait at most this long (1-20)', integerOption('--seconds', 1, 20), 20)
    .action(
      action(async (token: string, options: { seconds: number }, command: Command) => {
        const context = commandContext(command);
        const result = await context.client.get<{ outcome: { status: string } | null }>(`/v1/tasks/${segment(token)}/outcome?seconds=${options.seconds}`);
        context.print(result, () => (result.outcome ? JSON.stringify(result.outcome) : 'still waiting'));
        if (result.outcome === null) process.exitCode = 2;
        else if (result.outcome.status !== 'SUCCEEDED') process.exitCode = 1;
      }),
    );
}
