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

/** What an invocation may keep of its own output: Lambda's LogType Tail returns the last 4 KB. */
const LOG_TAIL_CHARS = 8192;
/** The output written during the invocation under way (one at a time per worker), for LogType Tail. */
let log: string | undefined;

// Every write to stdout and stderr (console.* included) still goes to the node's output, and is also
// kept, trimmed to its tail, while an invocation runs.
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (log !== undefined) {
      log += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      if (log.length > LOG_TAIL_CHARS * 2) log = log.slice(-LOG_TAIL_CHARS);
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

function takeLog(): string {
  const text = (log ?? '').slice(-LOG_TAIL_CHARS);
  log = undefined;
  return text;
}

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
      request.invokedFunctionArn === undefined ? setup.identity : { ...setup.identity, invokedFunctionArn: request.invokedFunctionArn },
      request.requestId,
      Date.now() + request.remainingMs,
      Date.now,
      request.fencingToken,
    );
    log = '';
    callHandler(run, request.event, context).then(
      (result) => reply({ type: 'result', ok: true, result, log: takeLog() }),
      (error: unknown) => reply({ type: 'result', ok: false, error: errorPayload(error), log: takeLog() }),
    );
  });
  reply({ type: 'ready' });
}

void main();
