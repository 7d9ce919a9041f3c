/**
 * The output of in-process handlers, for LogType Tail. They share the node's stdout and stderr, so what
 * each one writes is told apart by its async context: while an invocation that asked for its log runs
 * (`captureOutput`), every write made from that invocation's context (to the streams or through the
 * console, and whatever its promises and timers go on to write) is also kept, trimmed to its tail; it
 * still reaches the node's output. Concurrent invocations keep their own lines. The streams are wrapped on first use only, and an
 * invocation that asks for no log runs outside any context: the hot path pays nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

/** Kept per invocation: more than Lambda's 4 KB tail, which the API cuts from START to REPORT. */
const LOG_TAIL_CHARS = 8192;

class CapturedOutput {
  private text = '';

  append(chunk: unknown): void {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    if (this.text.length > LOG_TAIL_CHARS * 2) this.text = this.text.slice(-LOG_TAIL_CHARS);
  }

  take(): string {
    return this.text.slice(-LOG_TAIL_CHARS);
  }
}

const current = new AsyncLocalStorage<CapturedOutput>();
let wrapped = false;
/** Set while a console method runs: its own write to the stream is not kept twice. */
let inConsole = false;

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Wraps the streams (direct writes) and the console's methods: a console need not write through
 * `process.stdout` (a test runner or an APM agent may replace it), so its lines are kept as formatted.
 */
function wrapOutputs(): void {
  if (wrapped) return;
  wrapped = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (!inConsole) current.getStore()?.append(chunk);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  for (const method of CONSOLE_METHODS) {
    const original = console[method].bind(console) as (...args: unknown[]) => void;
    console[method] = (...args: unknown[]) => {
      const captured = current.getStore();
      if (!captured) return original(...args);
      captured.append(`${format(...args)}\n`);
      inConsole = true;
      try {
        original(...args);
      } finally {
        inConsole = false;
      }
    };
  }
}

/** Runs `work` with its output kept; `output()` is what it wrote so far (its tail). */
export function captureOutput<T>(work: () => Promise<T>): { done: Promise<T>; output: () => string } {
  wrapOutputs();
  const captured = new CapturedOutput();
  return { done: current.run(captured, work), output: () => captured.take() };
}
