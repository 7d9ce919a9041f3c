/**
 * The environment a handler sees: Lambda's reserved variables over the function's own, over the node's.
 *
 * A worker thread gets it as its `env` (worker-pool.ts). In-process handlers share one `process.env`
 * with the node and with each other, so it resolves per invocation instead: the first in-process
 * function installs, once, a Proxy in place of `process.env` that reads an overlay (the function's
 * variables) from the async context of the invocation under way (AsyncLocalStorage), falling through to
 * the node's real environment; outside any invocation it is the real environment, unchanged. Concurrent
 * invocations of different functions each see their own values, and what a handler's promises and
 * timers read later still sees its function's. Loading a module handler runs in the same context, so
 * reads at module load (Powertools' `AWS_LAMBDA_INITIALIZATION_TYPE`, `POWERTOOLS_SERVICE_NAME`) see them
 * too. A write from inside an invocation stays in its function's overlay (as in a Lambda sandbox, it
 * lasts for that function's later invocations and never reaches the node or other functions).
 *
 * Limits: code that captured `process.env` values before the Proxy was installed, or that reads the
 * environment natively (a C++ addon's getenv, a child process started without `env`), sees the node's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { functionNameParts } from './definition.js';

export interface LambdaEnvironmentParams {
  name: string;
  memorySize: number;
  region: string;
  logGroupName: string;
  logStreamName: string;
  /** `_HANDLER`: the handler as configured. */
  handlerText: string;
  /** The function's own variables (Lambda's reserved names win over them). */
  environment: Readonly<Record<string, string>>;
}

/** The variables Lambda defines for a function (docs: "Defined runtime environment variables"), over its own. */
export function lambdaEnvironment(p: LambdaEnvironmentParams): Record<string, string> {
  return {
    ...p.environment,
    AWS_LAMBDA_FUNCTION_NAME: functionNameParts(p.name).name,
    AWS_LAMBDA_FUNCTION_VERSION: functionNameParts(p.name).version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(p.memorySize),
    // Every sandbox starts on demand (no provisioned concurrency or SnapStart); Powertools reads it.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
    AWS_LAMBDA_LOG_GROUP_NAME: p.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: p.logStreamName,
    AWS_REGION: p.region,
    AWS_DEFAULT_REGION: p.region,
    _HANDLER: p.handlerText,
  };
}

/** A function's view of the environment: its values, and the names it deleted (undefined). */
export type EnvironmentOverlay = Map<string, string | undefined>;

export function overlayOf(variables: Readonly<Record<string, string>>): EnvironmentOverlay {
  return new Map(Object.entries(variables));
}

const current = new AsyncLocalStorage<EnvironmentOverlay>();
let installed = false;

/** Replaces `process.env` with the per-invocation Proxy (once per process). */
function installEnvironmentProxy(): void {
  if (installed) return;
  installed = true;
  const real = process.env;
  const proxy = new Proxy(real, {
    get(target, key, receiver) {
      const overlay = typeof key === 'string' ? current.getStore() : undefined;
      if (overlay?.has(key as string)) return overlay.get(key as string);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      const overlay = typeof key === 'string' ? current.getStore() : undefined;
      if (overlay?.has(key as string)) return overlay.get(key as string) !== undefined;
      return Reflect.has(target, key);
    },
    set(target, key, value) {
      const overlay = typeof key === 'string' ? current.getStore() : undefined;
      if (!overlay) return Reflect.set(target, key, value);
      // As the real process.env does: every value is kept as a string.
      overlay.set(key as string, String(value));
      return true;
    },
    deleteProperty(target, key) {
      const overlay = typeof key === 'string' ? current.getStore() : undefined;
      if (!overlay) return Reflect.deleteProperty(target, key);
      overlay.set(key as string, undefined);
      return true;
    },
    ownKeys(target) {
      const overlay = current.getStore();
      const keys = Reflect.ownKeys(target);
      if (!overlay) return keys;
      const names = new Set(keys);
      for (const [name, value] of overlay) {
        if (value === undefined) names.delete(name);
        else names.add(name);
      }
      return [...names];
    },
    getOwnPropertyDescriptor(target, key) {
      const overlay = typeof key === 'string' ? current.getStore() : undefined;
      if (overlay?.has(key as string)) {
        const value = overlay.get(key as string);
        return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
      }
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
  Object.defineProperty(process, 'env', { value: proxy, writable: true, enumerable: true, configurable: true });
}

/** Runs `work` (and everything it starts) with `process.env` showing `overlay` over the node's environment. */
export function withEnvironment<T>(overlay: EnvironmentOverlay, work: () => T): T {
  installEnvironmentProxy();
  return current.run(overlay, work);
}
