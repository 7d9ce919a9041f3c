/**
 * The vocabulary of functions, in Lambda's words: a handler with a timeout, a memory size, a reserved
 * concurrency and an environment; invoked synchronously (a result or Lambda's error payload) or
 * asynchronously (retries, a maximum event age and destinations).
 */
import type { Context } from 'aws-lambda';

/** Lambda's callback: `callback(error)` fails the invocation, `callback(null, result)` succeeds. */
export type HandlerCallback<TResult = unknown> = (error?: unknown, result?: TResult) => void;

/**
 * A handler in either of Lambda's Node.js styles: `async (event, context) => result`, or
 * `(event, context, callback) => void` (recognised by declaring the third parameter).
 */
/** Lambda's context, and what Sluice adds to it (see InvocationContext in functions/context.ts). */
export interface SluiceContext extends Context {
  /** Set where the invocation's work is held under a lease (stream triggers in a cluster). */
  readonly fencingToken?: number | undefined;
}

export type FunctionHandler<TEvent = unknown, TResult = unknown> = (
  event: TEvent,
  context: SluiceContext,
  callback: HandlerCallback<TResult>,
) => void | TResult | Promise<TResult>;

/** Where an asynchronous invocation's outcome is sent: the ARN of a standard queue or of a function. */
export interface DestinationTarget {
  destination: string;
}

export interface AsyncInvokeConfigInput {
  /** 0-2, default 2: how many times a failed asynchronous invocation is retried (1 then 2 minutes apart). */
  maximumRetryAttempts?: number;
  /** 60-21,600 seconds, default 21,600: an event older than this is dropped (and sent to onFailure). */
  maximumEventAgeInSeconds?: number;
  onSuccess?: DestinationTarget | null;
  onFailure?: DestinationTarget | null;
}

export interface FunctionInput {
  /** 1-64 letters, digits, `-` and `_`. */
  name: string;
  /** Internal: the catalog defines a published version as the function `name:N` (catalog/catalog-versions.ts). */
  publishedVersion?: boolean;
  /**
   * The handler itself, or a module path with an optional export name: `./handlers/orders.ts#handler`
   * (TypeScript or JavaScript; the export defaults to `handler`). Relative paths start at `baseDir`.
   */
  handler: FunctionHandler<never, unknown> | string;
  /** Directory relative module paths are resolved from; default the process's working directory. */
  baseDir?: string;
  /** 1-900 seconds, default 3. */
  timeout?: number;
  /** 128-10,240 MB, default 128. Worker-thread functions get it as their heap limit. */
  memorySize?: number;
  /** The most concurrent executions this function may have, taken out of the account's pool; 0 disables it. */
  reservedConcurrency?: number | null;
  /** Environment variables. Worker-thread functions see them in `process.env`; in-process ones cannot be isolated. */
  environment?: Record<string, string>;
  /**
   * `worker` (the default for module paths) runs each execution in a worker thread that is terminated at
   * its timeout; `in-process` (the only choice for handler values) is faster but cannot stop a runaway handler.
   */
  execution?: 'worker' | 'in-process';
  async?: AsyncInvokeConfigInput;
}

export type FunctionUpdate = Partial<Omit<FunctionInput, 'name'>>;

/** A function's definition after validation, with every default applied. */
export interface FunctionDefinition {
  name: string;
  handler: FunctionHandler<never, unknown> | ModuleHandler;
  timeoutSeconds: number;
  memorySize: number;
  reservedConcurrency: number | null;
  environment: Record<string, string>;
  execution: 'worker' | 'in-process';
  async: {
    maximumRetryAttempts: number;
    maximumEventAgeInSeconds: number;
    onSuccess: string | null;
    onFailure: string | null;
  };
}

/** A handler named by module: an absolute file URL and the export to call. */
export interface ModuleHandler {
  moduleUrl: string;
  exportName: string;
  /** As the user wrote it, for error messages and the `_HANDLER` variable. */
  text: string;
}

/** Lambda's error payload: what a failed synchronous invoke returns and what destinations record. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** The outcome of one execution of a handler, before it is shaped for a caller. */
export type Execution = (
  { ok: true; result: unknown } | { ok: false; error: LambdaErrorPayload; timedOut: boolean }
) & {
  /**
   * What the handler wrote to stdout and stderr during this execution (its tail), when the runner can
   * tell: worker threads capture their own output; an in-process handler shares the node's, so none.
   */
  log?: string;
};

export interface InvokeResponse {
  statusCode: 200;
  executedVersion: '$LATEST';
  /** The handler's result, or Lambda's error payload when `functionError` is set. */
  payload: unknown;
  /** Present when the function failed (threw, called back with an error, or timed out). */
  functionError?: 'Unhandled';
  /** With `invoke(..., { withLog: true })`: the execution's output tail (see Execution.log) and duration. */
  log?: { text: string; durationMs: number; requestId: string };
}

export interface AsyncInvokeResponse {
  statusCode: 202;
  requestId: string;
}

export interface FunctionView {
  name: string;
  arn: string;
  handler: string;
  timeout: number;
  memorySize: number;
  reservedConcurrency: number | null;
  environment: Record<string, string>;
  execution: 'worker' | 'in-process';
  async: FunctionDefinition['async'];
  /** A function's published version numbers on this node (each runs as `name:N`), when it has any. */
  versions?: string[];
  /** Its aliases' names on this node (each runs as `name:alias`), when it has any. */
  aliases?: string[];
}

export interface FunctionMetricsView {
  invocations: number;
  errors: number;
  timeouts: number;
  throttles: number;
  concurrentExecutions: number;
  peakConcurrentExecutions: number;
  /** Over the most recent executions (up to 4,096); 0 before the first. Real elapsed time. */
  durationP50Ms: number;
  durationP99Ms: number;
}
