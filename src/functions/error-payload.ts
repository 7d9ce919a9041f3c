/**
 * Lambda's error payload, `{errorType, errorMessage, trace}`, built the way the Node.js runtime builds it:
 * an Error gives its name, message and stack lines; anything else thrown gives its type and its text.
 */
import type { LambdaErrorPayload } from './types.js';

export function errorPayload(error: unknown): LambdaErrorPayload {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/** `Task timed out after 3.00 seconds`, in the shape Lambda reports a timeout. */
export function timeoutPayload(requestId: string, timeoutSeconds: number): LambdaErrorPayload {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
    trace: [],
  };
}

/** The sandbox died under the handler (an uncaught error in a worker, an exit, memory exhaustion). */
export function runtimeExitPayload(requestId: string, reason: string): LambdaErrorPayload {
  return {
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${reason}`,
    trace: [],
  };
}
