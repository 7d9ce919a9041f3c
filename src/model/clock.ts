/**
 * Time as the engine sees it. Every time rule (delays, visibility, retention, deduplication windows,
 * batching windows, leases) reads `now()` and waits with `setTimer`, so tests can drive time by hand.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `callback` once after `delayMs`; returns a function that cancels it. A `background` timer does
   * not keep the process alive (housekeeping); others do (a caller is waiting on them).
   */
  setTimer(delayMs: number, callback: () => void, options?: { background?: boolean }): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback, options) {
    // Node caps timers at 2^31-1 ms (24.8 days), beyond any SQS or Lambda duration.
    const handle = setTimeout(callback, Math.min(Math.max(0, delayMs), 2_147_483_647));
    if (options?.background) handle.unref();
    return () => clearTimeout(handle);
  },
};

interface ManualTimer {
  dueAt: number;
  order: number;
  callback: () => void;
}

/** A clock that moves only when a test says so. Timers fire in due order during `advance`. */
export class ManualClock implements Clock {
  private current: number;
  private timers = new Set<ManualTimer>();
  private order = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer: ManualTimer = { dueAt: this.current + Math.max(0, delayMs), order: this.order++, callback };
    this.timers.add(timer);
    return () => {
      this.timers.delete(timer);
    };
  }

  /** Moves time forward, firing each due timer at its own instant and letting promises settle between. */
  async advance(ms: number): Promise<void> {
    // Let work started just before (a timer being armed over a networked store) land at the current time.
    await settle();
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue();
      if (!next || next.dueAt > target) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Number of timers still armed: lets a test assert that nothing is scheduled while idle. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  private nextDue(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.timers) {
      if (!best || timer.dueAt < best.dueAt || (timer.dueAt === best.dueAt && timer.order < best.order)) best = timer;
    }
    return best;
  }
}

const pendingWork = new Set<() => number>();

/** Registers a source of asynchronous work (a store's operations in flight) that `settle` waits out. */
export function trackPendingWork(pending: () => number): () => void {
  pendingWork.add(pending);
  return () => pendingWork.delete(pending);
}

const busy = () => [...pendingWork].some((pending) => pending() > 0);

/**
 * Lets queued promise callbacks and immediates run, so effects of a fired timer are visible; then, while
 * a tracked source (a networked store) still has work in flight, waits for it and settles again.
 */
export async function settle(): Promise<void> {
  for (;;) {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    if (!busy()) return;
    while (busy()) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}
