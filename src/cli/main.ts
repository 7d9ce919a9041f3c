#!/usr/bin/env node
/**
 * The `sluice` command. `start` runs a node; `init` scaffolds a project; every other command talks to a
 * running node over its native HTTP API (--endpoint, --token), never to its store directly, so the CLI
 * works the same against a local or a remote node. Each command group lives in its own module under
 * src/cli/commands/; this file only assembles them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerBatches } from './commands/batches.js';
import { registerFunctions } from './commands/functions.js';
import { registerGroups } from './commands/groups.js';
import { registerInit } from './commands/init.js';
import { registerMessages } from './commands/messages.js';
import { registerMetrics } from './commands/metrics.js';
import { registerQueues } from './commands/queues.js';
import { registerSchedules } from './commands/schedules.js';
import { registerStart } from './commands/start.js';
import { registerTables } from './commands/tables.js';
import { registerStateMachines } from './commands/state-machines.js';
import { registerTasks } from './commands/tasks.js';
import { addGlobalOptions } from './context.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sluice')
    .description('Self-hosted serverless task processing with AWS semantics (SQS, Lambda, DynamoDB Streams, Step Functions).')
    .version(packageJson.version)
    .showHelpAfterError();
  addGlobalOptions(program);
  registerStart(program);
  registerInit(program);
  registerQueues(program);
  registerMessages(program);
  registerFunctions(program);
  registerGroups(program);
  registerTables(program);
  registerSchedules(program);
  registerBatches(program);
  registerTasks(program);
  registerApply(program);
  registerMetrics(program);
  registerStateMachines(program);
  return program;
}

/** `.env` in the working directory supplies credentials; variables already set win. */
function loadEnvFile(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

/**
 * `npm run sluice -- ...` runs in the package root whatever the directory it was typed in; go back
 * there, so `sluice start` finds that directory's config and `.env`.
 */
function returnToInvocationDirectory(): void {
  if (process.env.npm_lifecycle_event === 'sluice' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/sluice')) {
  returnToInvocationDirectory();
  loadEnvFile();
  await buildProgram().parseAsync(process.argv);
}
