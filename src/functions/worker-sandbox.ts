/**
 * One worker thread running one function: Lambda's sandbox. It boots (registering tsx when the entry or
 * the handler is TypeScript), loads the handler, then serves one invocation at a time. At a timeout the
 * thread is terminated, which stops even a handler stuck in a CPU loop; the pool then starts a new one.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../model/clock.js';
import { errorPayload, runtimeExitPayload, timeoutPayload } from './error-payload.js';
import type { Execution, LambdaErrorPayload } from './types.js';
import type { InvokeRequest, WorkerReply, WorkerSetup } from './worker-protocol.js';

/** Lambda gives a function's initialisation 10 seconds, apart from the invocation's own timeout. */
export const INIT_TIMEOUT_MS = 10_000;

// Running from sources (tests, tsx) the entry is TypeScript; from the build it is JavaScript.
const entryUrl = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)
  .href;

let tsxApiUrl: string | undefined;
/** tsx's ESM API, found through its package exports so the worker can import it from any directory. */
export function typescriptLoaderUrl(): string {
  if (tsxApiUrl) return tsxApiUrl;
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } } | string>;
  };
  const entry = manifest.exports['./esm/api'];
  const relative = typeof entry === 'object' ? entry.import?.default : undefined;
  if (!relative)
    throw new Error('tsx does not export ./esm/api for import; cannot load TypeScript in worker threads');
  tsxApiUrl = pathToFileURL(join(dirname(manifestPath), relative)).href;
  return tsxApiUrl;
}

// An eval'd CommonJS bootstrap, so the same code starts the entry whether it is .ts or .js.
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApiUrl) (await import(workerData.tsxApiUrl)).register();
  await import(workerData.entryUrl);
})().catch((error) => { setImmediate(() => { throw error; }); });
`;

export class WorkerSandbox {
  private readonly worker: Worker;
  private alive = true;
  private pending:
    | ((reply: WorkerReply | { type: 'exit'; error: LambdaErrorPayload | null; code: number }) => void)
    | undefined;
  /** Settles when the handler is loaded: null, or the error that kept it from loading. */
  readonly ready: Promise<LambdaErrorPayload | null>;

  constructor(params: {
    setup: WorkerSetup;
    environment: Record<string, string>;
    memorySize: number;
    clock: Clock;
  }) {
    // Only running from sources needs tsx for the entry itself; a TypeScript handler is loaded with tsImport.
    const typescript = entryUrl.endsWith('.ts');
    this.worker = new Worker(BOOT, {
      eval: true,
      workerData: { ...params.setup, entryUrl, tsxApiUrl: typescript ? typescriptLoaderUrl() : undefined },
      env: params.environment,
      resourceLimits: { maxOldGenerationSizeMb: params.memorySize },
    });
    this.worker.on('message', (reply: WorkerReply) => this.pending?.(reply));
    let lastError: LambdaErrorPayload | null = null;
    this.worker.on('error', (error) => {
      lastError =
        (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? {
              errorType: 'Runtime.OutOfMemory',
              errorMessage: `Runtime exited: the function used more than its ${params.memorySize} MB`,
              trace: [],
            }
          : errorPayload(error);
    });
    this.worker.on('exit', (code) => {
      this.alive = false;
      this.pending?.({ type: 'exit', error: lastError, code });
    });
    this.ready = new Promise((resolve) => {
      const cancelInit = params.clock.setTimer(INIT_TIMEOUT_MS, () => {
        this.terminate();
        resolve({
          errorType: 'Runtime.InitTimeout',
          errorMessage: `the handler did not load within ${INIT_TIMEOUT_MS / 1000} seconds`,
          trace: [],
        });
      });
      this.pending = (reply) => {
        this.pending = undefined;
        cancelInit();
        if (reply.type === 'ready') return resolve(null);
        if (reply.type === 'initError') {
          this.terminate();
          return resolve(reply.error);
        }
        resolve(
          reply.type === 'exit'
            ? (reply.error ?? runtimeExitPayload('init', `exit status ${reply.code}`))
            : null,
        );
      };
    });
  }

  get usable(): boolean {
    return this.alive;
  }

  /** Runs one invocation; a timeout or a crash ends this sandbox (see `usable`). */
  invoke(request: InvokeRequest, params: { clock: Clock; timeoutSeconds: number }): Promise<Execution> {
    const deadline = params.clock.now() + request.remainingMs;
    return new Promise<Execution>((resolve) => {
      const cancelTimeout = params.clock.setTimer(request.remainingMs, () => {
        this.pending = undefined;
        this.terminate();
        resolve({
          ok: false,
          error: timeoutPayload(request.requestId, params.timeoutSeconds),
          timedOut: true,
        });
      });
      this.pending = (reply) => {
        this.pending = undefined;
        cancelTimeout();
        if (params.clock.now() >= deadline) {
          // Paused past the deadline (SIGSTOP, a VM freeze), the thread may answer before the timer runs:
          // the invocation timed out all the same, and the thread goes.
          this.terminate();
          resolve({
            ok: false,
            error: timeoutPayload(request.requestId, params.timeoutSeconds),
            timedOut: true,
          });
        } else if (reply.type === 'result') {
          resolve(
            reply.ok
              ? { ok: true, result: reply.result, log: reply.log }
              : { ok: false, error: reply.error, timedOut: false, log: reply.log },
          );
        } else if (reply.type === 'exit') {
          resolve({
            ok: false,
            error: reply.error ?? runtimeExitPayload(request.requestId, `exit status ${reply.code}`),
            timedOut: false,
          });
        } else {
          resolve({
            ok: false,
            error: runtimeExitPayload(request.requestId, `unexpected message ${reply.type}`),
            timedOut: false,
          });
        }
      };
      try {
        this.worker.postMessage(request);
      } catch {
        // An event structured clone refuses: Lambda events are JSON, so send its JSON form.
        this.worker.postMessage({
          ...request,
          event: JSON.parse(JSON.stringify(request.event ?? null)) as unknown,
        });
      }
    });
  }

  terminate(): void {
    if (!this.alive) return;
    this.alive = false;
    void this.worker.terminate();
  }
}
