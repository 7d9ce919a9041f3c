/**
 * How a function's handler is executed: in the engine's thread, or in worker threads (worker-pool.ts).
 * Either way an execution ends at the function's timeout with Lambda's timeout error; only a worker can
 * also stop the handler itself.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { callHandler } from './call-handler.js';
import { functionIdentity, InvocationContext, type FunctionIdentity } from './context.js';
import { errorPayload, timeoutPayload } from './error-payload.js';
import { HandlerLoadError, importHandler } from './module-loader.js';
import { captureOutput } from './output-capture.js';
import { lambdaEnvironment, overlayOf, withEnvironment, type EnvironmentOverlay } from './invocation-env.js';
import type { Execution, FunctionHandler, ModuleHandler } from './types.js';

export interface Invocation {
  requestId: string;
  event: unknown;
  timeoutMs: number;
  /** See InvocationContext.fencingToken. */
  fencingToken?: number;
  /** Keep what the handler writes (LogType Tail): a worker always does; in-process, only when asked. */
  captureLog?: boolean;
  /** context.invokedFunctionArn when the caller named another ARN than the function's (an alias). */
  invokedFunctionArn?: string;
}

export interface HandlerRunner {
  run(invocation: Invocation): Promise<Execution>;
  /** Releases the runner's resources; executions under way finish unless `force` ends them. */
  close(options?: { force?: boolean }): Promise<void>;
}

export class InProcessRunner implements HandlerRunner {
  private handler: FunctionHandler<never, unknown> | undefined;
  private readonly identity: FunctionIdentity;
  private readonly now: () => number;
  /** What `process.env` shows this function's invocations (invocation-env.ts); its writes stay here. */
  private readonly environment: EnvironmentOverlay;

  constructor(
    private readonly params: {
      name: string;
      arn: string;
      memorySize: number;
      timeoutSeconds: number;
      handler: FunctionHandler<never, unknown> | ModuleHandler;
      clock: Clock;
      region: string;
      environment: Readonly<Record<string, string>>;
    },
  ) {
    if (typeof params.handler === 'function') this.handler = params.handler;
    this.identity = functionIdentity({
      name: params.name,
      arn: params.arn,
      memorySize: params.memorySize,
      startedAt: params.clock.now(),
      sandboxId: randomBytes(16).toString('hex'),
    });
    const clock = params.clock;
    this.now = () => clock.now();
    this.environment = overlayOf(
      lambdaEnvironment({
        name: params.name,
        memorySize: params.memorySize,
        region: params.region,
        logGroupName: this.identity.logGroupName,
        logStreamName: this.identity.logStreamName,
        handlerText: typeof params.handler === 'function' ? '(in-process value)' : params.handler.text,
        environment: params.environment,
      }),
    );
  }

  async run(invocation: Invocation): Promise<Execution> {
    const handler = this.handler ?? (await this.load());
    if (typeof handler !== 'function') return handler;
    const { clock, timeoutSeconds } = this.params;
    const deadline = clock.now() + invocation.timeoutMs;
    const context = new InvocationContext(
      invocation.invokedFunctionArn === undefined ? this.identity : { ...this.identity, invokedFunctionArn: invocation.invokedFunctionArn },
      invocation.requestId,
      deadline,
      this.now,
      invocation.fencingToken,
    );
    const call = () => withEnvironment(this.environment, () => callHandler(handler, invocation.event, context));
    // Started below, inside the promise: the handler runs once the timer is armed.
    let captured: ReturnType<typeof captureOutput<unknown>> | undefined;
    const withLog = (execution: Execution): Execution => (captured ? { ...execution, log: captured.output() } : execution);
    return new Promise<Execution>((resolve) => {
      let done = false;
      const timedOut = () => {
        done = true;
        resolve(withLog({ ok: false, error: timeoutPayload(invocation.requestId, timeoutSeconds), timedOut: true }));
      };
      // In-process, a timeout can only stop waiting: the handler's own work goes on unobserved.
      const cancel = clock.setTimer(invocation.timeoutMs, () => {
        if (!done) timedOut();
      });
      const settle = (execution: Execution) => {
        if (done) return;
        cancel();
        // A process paused (SIGSTOP, a VM freeze) past the deadline wakes with both the handler's result
        // and the timer ready; whichever runs first, the invocation is over: a late result is a timeout.
        if (clock.now() >= deadline) timedOut();
        else {
          done = true;
          resolve(execution);
        }
      };
      captured = invocation.captureLog ? captureOutput(call) : undefined;
      (captured?.done ?? call()).then(
        (result) => settle(withLog({ ok: true, result })),
        (error: unknown) => settle(withLog({ ok: false, error: errorPayload(error), timedOut: false })),
      );
    });
  }

  async close(): Promise<void> {}

  /** Loads a module handler once; a failed load is reported to this invocation and tried again next time. */
  private async load(): Promise<FunctionHandler<never, unknown> | Execution> {
    try {
      // Module-level code (a logger reading its service name, a cold-start flag) sees the function's environment.
      this.handler = await withEnvironment(this.environment, () => importHandler(this.params.handler as ModuleHandler));
      return this.handler;
    } catch (error) {
      return {
        ok: false,
        error: error instanceof HandlerLoadError ? error.payload : errorPayload(error),
        timedOut: false,
      };
    }
  }
}
