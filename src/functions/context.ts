/**
 * The context object a handler receives, with Lambda's fields. What is the same for every invocation of
 * a sandbox (names, ARN, log stream) is built once; an invocation adds only its request id and deadline.
 */
import type { Context } from 'aws-lambda';
import { functionNameParts } from './definition.js';

/** The per-sandbox part of the context. */
export interface FunctionIdentity {
  functionName: string;
  /** `$LATEST`, or the published version a qualified function (`orders:3`) runs. */
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
}

export function functionIdentity(params: {
  name: string;
  arn: string;
  memorySize: number;
  startedAt: number;
  sandboxId: string;
}): FunctionIdentity {
  const day = new Date(params.startedAt).toISOString().slice(0, 10).replaceAll('-', '/');
  const { name, version } = functionNameParts(params.name);
  return {
    functionName: name,
    functionVersion: version,
    invokedFunctionArn: params.arn,
    memoryLimitInMB: String(params.memorySize),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `${day}/[${version}]${params.sandboxId}`,
  };
}

/** Settles an invocation; `context.done/succeed/fail` (deprecated in Lambda, still typed) route here. */
export type Settle = (error: unknown, result?: unknown) => void;

export class InvocationContext implements Context {
  callbackWaitsForEmptyEventLoop = true;
  readonly functionVersion: string;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** @internal set by the caller of the handler */
  settle: Settle | undefined;
  /**
   * A Sluice extension: a number that grows each time the work this invocation holds changes hands. Set
   * for stream-trigger invocations in a cluster (the token of the shard's lease, which rises with every
   * takeover). A handler that writes with a condition on it (store it, and refuse a write whose token is
   * lower than the stored one) is protected from a copy of itself that lost the shard, was paused, and
   * woke up to finish late (see README "Fencing a handler's writes").
   */
  readonly fencingToken: number | undefined;

  constructor(
    identity: FunctionIdentity,
    readonly awsRequestId: string,
    private readonly deadline: number,
    private readonly now: () => number,
    fencingToken?: number,
  ) {
    this.fencingToken = fencingToken;
    this.functionName = identity.functionName;
    this.functionVersion = identity.functionVersion;
    this.invokedFunctionArn = identity.invokedFunctionArn;
    this.memoryLimitInMB = identity.memoryLimitInMB;
    this.logGroupName = identity.logGroupName;
    this.logStreamName = identity.logStreamName;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - this.now());
  }

  done(error?: Error, result?: unknown): void {
    this.settle?.(error ?? null, result);
  }

  fail(error: Error | string): void {
    this.settle?.(error);
  }

  succeed(result: unknown): void {
    this.settle?.(null, result);
  }
}
