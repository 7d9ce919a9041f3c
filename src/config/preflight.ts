/**
 * Checks what the schema cannot before anything is applied, so a bad config changes nothing: every
 * schedule expression and time zone parses, and every function's handler module loads and exports the
 * named function. Handlers are imported in a throwaway worker thread (their top-level code runs there,
 * as in Lambda's init phase, not in the node's thread), all at once; every problem is reported together.
 */
import { Worker } from 'node:worker_threads';
import { parseModuleHandler } from '../functions/definition.js';
import { typescriptLoaderUrl } from '../functions/worker-sandbox.js';
import type { ModuleHandler } from '../functions/types.js';
import { SluiceError } from '../model/errors.js';
import { parseScheduleExpression } from '../schedules/expression.js';
import type { SluiceConfig } from './schema.js';
import { stateMachineDiagnostics } from '../states/validate.js';
import { definitionText } from './sections/state-machines.js';

const loaderUrl = new URL(`../functions/module-loader${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApiUrl) (await import(workerData.tsxApiUrl)).register();
  const { importHandler } = await import(workerData.loaderUrl);
  const problems = [];
  for (const { path, handler } of workerData.handlers) {
    try {
      await importHandler(handler);
    } catch (error) {
      problems.push(path + ': ' + (error.payload ? error.payload.errorType + ': ' : '') + error.message);
    }
  }
  parentPort.postMessage(problems);
})().catch((error) => parentPort.postMessage(['handlers could not be checked: ' + String(error)]));
`;

interface HandlerToCheck {
  path: string;
  handler: ModuleHandler;
}

async function handlerProblems(handlers: HandlerToCheck[]): Promise<string[]> {
  if (handlers.length === 0) return [];
  const worker = new Worker(BOOT, {
    eval: true,
    workerData: { handlers, loaderUrl, tsxApiUrl: loaderUrl.endsWith('.ts') ? typescriptLoaderUrl() : undefined },
    stdout: true,
    stderr: true,
  });
  try {
    return await new Promise<string[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the handler check exited with ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** Throws one ValidationException listing every problem, each with its config path. */
export async function preflightConfig(config: SluiceConfig, baseDir: string): Promise<void> {
  const problems: string[] = [];
  for (const [name, schedule] of Object.entries(config.schedules ?? {})) {
    try {
      parseScheduleExpression(schedule.expression, schedule.timezone ? { timezone: schedule.timezone } : {});
    } catch (error) {
      problems.push(`schedules.${name}.expression: ${(error as Error).message}`);
    }
  }
  for (const [name, machine] of Object.entries(config.stateMachines ?? {})) {
    const field = machine.definitionFile !== undefined ? 'definitionFile' : 'definition';
    try {
      for (const d of stateMachineDiagnostics(definitionText(machine, baseDir)).slice(0, 5))
        problems.push(`stateMachines.${name}.${field}: ${d.code}: ${d.message} at ${d.location || '/'}`);
    } catch (error) {
      problems.push(`stateMachines.${name}.${field}: ${(error as Error).message}`);
    }
  }
  const handlers: HandlerToCheck[] = [];
  for (const [name, fn] of Object.entries(config.functions ?? {})) {
    if (typeof fn.handler !== 'string') continue; // a function value in a .ts/.js config: nothing to load
    try {
      handlers.push({ path: `functions.${name}.handler`, handler: parseModuleHandler(fn.handler, baseDir) });
    } catch (error) {
      problems.push(`functions.${name}.handler: ${(error as Error).message}`);
    }
  }
  problems.push(...(await handlerProblems(handlers)));
  if (problems.length > 0) {
    throw new SluiceError('ValidationException', `Invalid config (nothing was applied):\n  ${problems.join('\n  ')}`, {
      field: problems[0]!.slice(0, problems[0]!.indexOf(':')),
    });
  }
}
