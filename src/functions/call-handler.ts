/**
 * Calls a handler in either Node.js style and settles on the first outcome: a returned promise, a
 * returned value (two-parameter handlers only), the callback, or `context.done/succeed/fail`. A
 * callback-style handler is one that declares the third parameter, as the Lambda runtime decides.
 */
import type { InvocationContext } from './context.js';
import type { FunctionHandler } from './types.js';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

export function callHandler(
  handler: FunctionHandler<never, unknown>,
  event: unknown,
  context: InvocationContext,
): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, result?: unknown) => {
      if (settled) return;
      settled = true;
      context.settle = undefined;
      // Lambda treats any non-null first argument as a failure, including a string or `false`.
      if (error !== null && error !== undefined) reject(error);
      else resolve(result);
    };
    context.settle = settle;
    let returned: unknown;
    try {
      returned = handler(event as never, context, settle);
    } catch (error) {
      settle(error ?? new Error('the handler threw null'));
      return;
    }
    if (isThenable(returned)) {
      returned.then(
        (value) => settle(null, value),
        (error: unknown) => settle(error ?? new Error('the handler rejected with null')),
      );
    } else if (handler.length < 3) {
      settle(null, returned);
    }
  });
}
