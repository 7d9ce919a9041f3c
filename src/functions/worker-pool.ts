/**
 * A function's worker threads. A sandbox is started when an execution finds none idle, so the pool
 * never holds more threads than the function's peak concurrency (callers take a concurrency slot before
 * running); a sandbox that timed out or crashed is dropped and replaced on the next demand.
 */
import { lambdaEnvironment } from './invocation-env.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { functionIdentity } from './context.js';
import type { HandlerRunner, Invocation } from './runner.js';
import type { Execution, ModuleHandler } from './types.js';
import { WorkerSandbox } from './worker-sandbox.js';

export interface WorkerPoolParams {
  name: string;
  arn: string;
  region: string;
  handler: ModuleHandler;
  memorySize: number;
  timeoutSeconds: number;
  environment: Record<string, string>;
  clock: Clock;
}

export class WorkerPool implements HandlerRunner {
  private readonly idle: WorkerSandbox[] = [];
  private readonly all = new Set<WorkerSandbox>();
  private closed = false;

  constructor(private readonly params: WorkerPoolParams) {}

  get size(): number {
    return this.all.size;
  }

  async run(invocation: Invocation): Promise<Execution> {
    let sandbox = this.idle.pop();
    while (sandbox && !sandbox.usable) {
      this.all.delete(sandbox);
      sandbox = this.idle.pop();
    }
    if (!sandbox) {
      sandbox = this.start();
      const initError = await sandbox.ready;
      if (initError) {
        this.all.delete(sandbox);
        return { ok: false, error: initError, timedOut: false };
      }
    }
    const execution = await sandbox.invoke(
      {
        requestId: invocation.requestId,
        event: invocation.event,
        remainingMs: invocation.timeoutMs,
        ...(invocation.fencingToken !== undefined ? { fencingToken: invocation.fencingToken } : {}),
        ...(invocation.invokedFunctionArn !== undefined ? { invokedFunctionArn: invocation.invokedFunctionArn } : {}),
      },
      { clock: this.params.clock, timeoutSeconds: this.params.timeoutSeconds },
    );
    if (sandbox.usable && !this.closed) this.idle.push(sandbox);
    else {
      sandbox.terminate();
      this.all.delete(sandbox);
    }
    return execution;
  }

  /** Ends idle sandboxes now and busy ones when their execution ends; `force` ends them all now. */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const sandbox of options.force ? this.all : this.idle) sandbox.terminate();
    if (options.force) this.all.clear();
    this.idle.length = 0;
  }

  private start(): WorkerSandbox {
    const { params } = this;
    const sandboxId = randomBytes(16).toString('hex');
    const now = params.clock.now();
    const identity = functionIdentity({
      name: params.name,
      arn: params.arn,
      memorySize: params.memorySize,
      startedAt: now,
      sandboxId,
    });
    const sandbox = new WorkerSandbox({
      setup: { handler: params.handler, identity },
      memorySize: params.memorySize,
      clock: params.clock,
      environment: {
        ...(process.env as Record<string, string>),
        // Lambda's reserved variables win over the function's own, as in Lambda.
        ...lambdaEnvironment({
          name: params.name,
          memorySize: params.memorySize,
          region: params.region,
          logGroupName: identity.logGroupName,
          logStreamName: identity.logStreamName,
          handlerText: params.handler.text,
          environment: params.environment,
        }),
      },
    });
    this.all.add(sandbox);
    return sandbox;
  }
}
