/**
 * The code of a function's worker thread: load the handler once, then run one invocation per request
 * and reply with its result or Lambda's error payload. The engine terminates this thread at a timeout,
 * which is what stops a runaway or CPU-bound handler.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { callHandler } from './call-handler.js';
import { InvocationContext } from './context.js';
import { errorPayload } from './error-payload.js';
import { HandlerLoadError, importHandler } from './module-loader.js';
import type { InvokeRequest, WorkerReply, WorkerSetup } from './worker-protocol.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;

function reply(message: WorkerReply): void {
  try {
    port.postMessage(message);
  } catch {
    // The result holds something structured clone refuses (a function, a class instance with private
    // state): send what Lambda would have sent, its JSON form.
    port.postMessage(JSON.parse(JSON.stringify(message)) as WorkerReply);
  }
}

async function main(): Promise<void> {
  let handler;
  try {
    handler = await importHandler(setup.handler);
  } catch (error) {
    reply({
      type: 'initError',
      error: error instanceof HandlerLoadError ? error.payload : errorPayload(error),
    });
    return;
  }
  const run = handler;
  port.on('message', (request: InvokeRequest) => {
    const context = new InvocationContext(
      setup.identity,
      request.requestId,
      Date.now() + request.remainingMs,
      Date.now,
      request.fencingToken,
    );
    callHandler(run, request.event, context).then(
      (result) => reply({ type: 'result', ok: true, result }),
      (error: unknown) => reply({ type: 'result', ok: false, error: errorPayload(error) }),
    );
  });
  reply({ type: 'ready' });
}

void main();
