/**
 * Applies `functions:`. Functions live in the engine's memory, so a node declares them at every start;
 * a handler module path is resolved from the config file's directory.
 */
import type { FunctionInput } from '../../functions/types.js';
import type { Sluice } from '../../engine/sluice.js';
import type { DestinationConfig, FunctionConfig } from './functions-schema.js';
import { FUNCTION_KIND } from '../../catalog/service.js';
import { SluiceError } from '../../model/errors.js';
import { atPath, type ConfigSection } from './section.js';

function destinationArn(sluice: Sluice, target: DestinationConfig | undefined): { destination: string } | null {
  if (!target) return null;
  return { destination: 'queue' in target ? sluice.queues.arnOf(target.queue) : sluice.functions.arnOf(target.function) };
}

export function functionInputOf(sluice: Sluice, name: string, fn: FunctionConfig, baseDir: string): FunctionInput {
  return {
    name,
    handler: fn.handler,
    baseDir,
    ...(fn.timeout !== undefined ? { timeout: fn.timeout } : {}),
    ...(fn.memorySize !== undefined ? { memorySize: fn.memorySize } : {}),
    reservedConcurrency: fn.reservedConcurrency ?? null,
    environment: fn.environment ?? {},
    ...(fn.execution !== undefined ? { execution: fn.execution } : {}),
    async: {
      ...(fn.async?.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: fn.async.maximumRetryAttempts } : {}),
      ...(fn.async?.maximumEventAgeInSeconds !== undefined ? { maximumEventAgeInSeconds: fn.async.maximumEventAgeInSeconds } : {}),
      onSuccess: destinationArn(sluice, fn.async?.onSuccess),
      onFailure: destinationArn(sluice, fn.async?.onFailure),
    },
  };
}

export const functionsSection: ConfigSection = {
  name: 'functions',
  async apply(context) {
    const { sluice } = context;
    for (const [name, fn] of Object.entries(context.config.functions ?? {})) {
      await atPath(`functions.${name}`, async () => {
        if (await sluice.catalog.heldFunction(name)) {
          throw new SluiceError(
            'ResourceConflictException',
            `the function ${name} was created through the Lambda API and is in the cluster catalog; ${context.source} cannot declare it too: delete it (aws lambda delete-function --function-name ${name}) or rename it in the file`,
            { field: 'FunctionName' },
          );
        }
        const input = functionInputOf(sluice, name, fn, context.baseDir);
        if (sluice.functions.exists(name)) {
          const { name: _name, ...changes } = input;
          await sluice.functions.update(name, changes);
          context.changes.push({ kind: 'function', name, action: 'updated' });
        } else {
          await sluice.functions.create(input);
          context.changes.push({ kind: 'function', name, action: 'created' });
        }
        sluice.catalog.manage(FUNCTION_KIND, name, context.source);
      });
    }
  },
  async prune(context, options) {
    const declared = context.config.functions ?? {};
    for (const fn of context.sluice.functions.list()) {
      if (fn.name in declared) continue;
      // Functions created through the Lambda API belong to the cluster catalog, not to this file.
      if (context.sluice.catalog.storedFunction(fn.name)) continue;
      // Versions (`name:N`) and aliases (`name:alias`) of those are the catalog's too.
      if (fn.name.includes(':')) continue;
      if (options.delete) await context.sluice.functions.delete(fn.name);
      context.changes.push({ kind: 'function', name: fn.name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};
