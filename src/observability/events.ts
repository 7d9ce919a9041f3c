/**
 * What the engine does, as it does it: one typed event per invocation, throttle, retry, move to a
 * dead-letter queue, group-limit refusal and lease change. The node's logger, its Prometheus metrics and
 * the console's live view listen here; the features only emit. Emitting with no listener costs one
 * branch (`active`), and nothing here queries or computes on its own: an idle engine emits nothing.
 */

/** Who asked for an invocation, with the ids an operator needs to find the messages or records. */
export type InvocationOrigin =
  | { via: 'invoke' }
  | { via: 'async'; attempt: number }
  | { via: 'queue-trigger'; trigger: string; queue: string; messageIds: string[]; attempt: number }
  | {
      via: 'stream-trigger';
      trigger: string;
      table: string;
      shard: string;
      sequenceNumbers: string[];
      attempt: number;
    }
  | { via: 'batch'; batch: string; items: string[]; attempt: number }
  | { via: 'schedule'; schedule: string };

export interface InvocationError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type EngineEvent =
  | {
      type: 'invocation';
      function: string;
      requestId: string;
      origin: InvocationOrigin;
      ok: boolean;
      timedOut: boolean;
      durationMs: number;
      /** For records taken from a queue: how long each waited between its send and this start. */
      waitedMs?: number[];
      error?: InvocationError;
      at: number;
    }
  | { type: 'throttle'; function: string; reason: string; via: InvocationOrigin['via']; at: number }
  | {
      type: 'retry';
      function: string;
      origin: InvocationOrigin;
      /** Records that will be handed to the function again. */
      records: number;
      /** What happens next, in words ("visible again when the visibility timeout ends"). */
      next: string;
      at: number;
    }
  | { type: 'sent'; queue: string; messages: number; at: number }
  | {
      /** One item of a batch failed inside a processor that handled its other items (processBatchItems). */
      type: 'item-failure';
      function: string;
      batch: string;
      index: number;
      attempt: number;
      error: string;
      stack?: string;
      at: number;
    }
  | { type: 'dead-letter'; queue: string; deadLetterQueue: string; messages: number; at: number }
  | { type: 'group-throttle'; queue: string; group: string; reason: 'concurrency' | 'rate'; at: number }
  | {
      type: 'lease';
      group: string;
      resource: string;
      change: 'acquired' | 'released' | 'lost';
      token?: number;
      at: number;
    };

export type EngineEventListener = (event: EngineEvent) => void;

export class EngineEvents {
  private readonly listeners = new Set<EngineEventListener>();

  /** True while someone listens: emitters skip building events otherwise. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  on(listener: EngineEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure (a closed log stream) must not fail the invocation that emitted.
      }
    }
  }
}
