/** The messages between the engine and a function's worker thread. One invocation at a time per worker. */
import type { FunctionIdentity } from './context.js';
import type { LambdaErrorPayload, ModuleHandler } from './types.js';

export interface WorkerSetup {
  handler: ModuleHandler;
  identity: FunctionIdentity;
}

export interface InvokeRequest {
  requestId: string;
  event: unknown;
  /** The worker cannot see the engine's clock, so it gets the time left and keeps its own deadline. */
  remainingMs: number;
  fencingToken?: number;
  /** The alias ARN an invocation came through (context.invokedFunctionArn). */
  invokedFunctionArn?: string;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'initError'; error: LambdaErrorPayload }
  | { type: 'result'; ok: true; result: unknown; log: string }
  | { type: 'result'; ok: false; error: LambdaErrorPayload; log: string };
