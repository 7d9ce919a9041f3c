/**
 * Validates a function's definition against Lambda's limits and applies its defaults. A module path is
 * resolved to a file URL here, once, and checked to exist so a typo fails at definition time rather than
 * at the first invocation.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArn } from '../model/arn.js';
import { invalidValue } from '../model/errors.js';
import type { FunctionDefinition, FunctionInput, FunctionUpdate, ModuleHandler } from './types.js';

export const functionLimits = {
  minTimeout: 1,
  maxTimeout: 900,
  defaultTimeout: 3,
  minMemory: 128,
  maxMemory: 10_240,
  defaultMemory: 128,
  maxRetryAttempts: 2,
  minEventAge: 60,
  maxEventAge: 21_600,
  defaultAccountConcurrency: 1000,
} as const;

/**
 * A name; a published version (`orders:3`, FunctionInput.publishedVersion) runs on each node as its own
 * function under the qualified name (catalog/catalog-versions.ts), which nothing else may take.
 */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION_NAME = /^[A-Za-z0-9_-]{1,64}:[1-9][0-9]{0,9}$/;

/** A function's name and version: `orders:3` is version 3 of `orders`; a plain name is `$LATEST`. */
export function functionNameParts(name: string): { name: string; version: string } {
  const colon = name.indexOf(':');
  return colon === -1 ? { name, version: '$LATEST' } : { name: name.slice(0, colon), version: name.slice(colon + 1) };
}
const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/;

function integerIn(field: string, value: unknown, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidValue(
      field,
      `${JSON.stringify(value)} is invalid; must be an integer from ${min} to ${max} ${unit}`,
    );
  }
  return value;
}

export function validateFunctionName(name: unknown, field = 'FunctionName', publishedVersion = false): string {
  if (typeof name !== 'string' || !(publishedVersion ? VERSION_NAME : NAME).test(name)) {
    throw invalidValue(field, `${JSON.stringify(name)} is invalid; must be 1-64 letters, digits, '-' or '_'`);
  }
  return name;
}

/** `./handlers/orders.ts#handler` → the file's URL and the export; the export defaults to `handler`. */
export function parseModuleHandler(text: string, baseDir: string): ModuleHandler {
  const hash = text.lastIndexOf('#');
  const path = hash === -1 ? text : text.slice(0, hash);
  const exportName = hash === -1 ? 'handler' : text.slice(hash + 1);
  if (path.length === 0 || exportName.length === 0) {
    throw invalidValue(
      'Handler',
      `'${text}' is invalid; write a module path with an optional export, like ./handlers/orders.ts#handler`,
    );
  }
  const file = path.startsWith('file:')
    ? fileURLToPath(path)
    : isAbsolute(path)
      ? path
      : resolve(baseDir, path);
  if (!existsSync(file)) throw invalidValue('Handler', `the module '${file}' does not exist`);
  return { moduleUrl: pathToFileURL(file).href, exportName, text };
}

export function isModuleHandler(handler: FunctionDefinition['handler']): handler is ModuleHandler {
  return typeof handler === 'object';
}

export function needsTypeScriptLoader(handler: ModuleHandler): boolean {
  return TYPESCRIPT.test(new URL(handler.moduleUrl).pathname);
}

function validateDestination(field: string, target: unknown): string | null {
  if (target === undefined || target === null) return null;
  const arn = (target as { destination?: unknown }).destination;
  const parsed = typeof arn === 'string' ? parseArn(arn) : undefined;
  const kind = parsed?.service;
  if (!parsed || (kind !== 'sqs' && !(kind === 'lambda' && parsed.resource.startsWith('function:')))) {
    throw invalidValue(
      `${field}.destination`,
      `${JSON.stringify(arn)} is not the ARN of a queue or a function`,
    );
  }
  return arn as string;
}

/** Builds a definition from scratch (`previous` undefined) or applies an update over an existing one. */
export function buildDefinition(
  input: FunctionInput | (FunctionUpdate & { name: string }),
  previous?: FunctionDefinition,
): FunctionDefinition {
  // A published version keeps its qualified name through updates.
  const name = validateFunctionName(input.name, 'FunctionName', ('publishedVersion' in input && input.publishedVersion === true) || (previous !== undefined && previous.name === input.name && input.name.includes(':')));
  let handler = previous?.handler;
  if (input.handler !== undefined) {
    if (typeof input.handler === 'function') handler = input.handler;
    else if (typeof input.handler === 'string')
      handler = parseModuleHandler(input.handler, input.baseDir ?? process.cwd());
    else
      throw invalidValue(
        'Handler',
        'must be a function or a module path such as ./handlers/orders.ts#handler',
      );
  }
  if (!handler) throw invalidValue('Handler', 'is required');
  const execution =
    input.execution ??
    (input.handler !== undefined ? undefined : previous?.execution) ??
    (isModuleHandler(handler) ? 'worker' : 'in-process');
  if (execution !== 'worker' && execution !== 'in-process')
    throw invalidValue('Execution', `must be 'worker' or 'in-process', got ${JSON.stringify(execution)}`);
  if (execution === 'worker' && !isModuleHandler(handler)) {
    throw invalidValue(
      'Execution',
      'a handler given as a value runs in-process; give a module path to run it in a worker thread',
    );
  }
  const environment = input.environment ?? previous?.environment ?? {};
  if (
    typeof environment !== 'object' ||
    environment === null ||
    Object.values(environment).some((v) => typeof v !== 'string')
  ) {
    throw invalidValue('Environment', 'must be an object of string values');
  }
  const reserved =
    input.reservedConcurrency === undefined
      ? (previous?.reservedConcurrency ?? null)
      : input.reservedConcurrency;
  const asyncInput = input.async ?? {};
  const asyncPrevious = previous?.async;
  return {
    name,
    handler,
    timeoutSeconds: integerIn(
      'Timeout',
      input.timeout ?? previous?.timeoutSeconds ?? functionLimits.defaultTimeout,
      functionLimits.minTimeout,
      functionLimits.maxTimeout,
      'seconds',
    ),
    memorySize: integerIn(
      'MemorySize',
      input.memorySize ?? previous?.memorySize ?? functionLimits.defaultMemory,
      functionLimits.minMemory,
      functionLimits.maxMemory,
      'MB',
    ),
    reservedConcurrency:
      reserved === null
        ? null
        : integerIn('ReservedConcurrentExecutions', reserved, 0, 1_000_000, 'executions'),
    environment: { ...environment },
    execution,
    async: {
      maximumRetryAttempts: integerIn(
        'MaximumRetryAttempts',
        asyncInput.maximumRetryAttempts ??
          asyncPrevious?.maximumRetryAttempts ??
          functionLimits.maxRetryAttempts,
        0,
        functionLimits.maxRetryAttempts,
        'attempts',
      ),
      maximumEventAgeInSeconds: integerIn(
        'MaximumEventAgeInSeconds',
        asyncInput.maximumEventAgeInSeconds ??
          asyncPrevious?.maximumEventAgeInSeconds ??
          functionLimits.maxEventAge,
        functionLimits.minEventAge,
        functionLimits.maxEventAge,
        'seconds',
      ),
      onSuccess:
        'onSuccess' in asyncInput
          ? validateDestination('DestinationConfig.OnSuccess', asyncInput.onSuccess)
          : (asyncPrevious?.onSuccess ?? null),
      onFailure:
        'onFailure' in asyncInput
          ? validateDestination('DestinationConfig.OnFailure', asyncInput.onFailure)
          : (asyncPrevious?.onFailure ?? null),
    },
  };
}
