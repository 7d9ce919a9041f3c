/**
 * The one life cycle of every background service, as River gives each of its loops:
 * - `start()` arms what the service runs in the background (subscriptions, timers, a sweep of work left
 *   while no node ran); a service with nothing to arm resolves at once.
 * - `stop(deadline)` stops taking new work and lets work under way finish until `deadline`, an instant
 *   of real time (`Date.now()`), not of the engine clock: it bounds how long a process takes to shut
 *   down. What still runs then is abandoned as the service documents. Stop is idempotent and safe before
 *   start.
 * The engine holds its services in one list: it starts them in order and stops them in reverse order.
 */
export interface Service {
  start(): Promise<void>;
  stop(deadline: number): Promise<void>;
  /**
   * Stops taking new work at once, synchronously, before any service's `stop` runs: the engine closes
   * its services one after another, and a trigger still claiming while an earlier one stopped would
   * start work after `close()` was called. Optional; `stop` must still do it.
   */
  quiesce?(): void;
}

/** Real-time milliseconds left until `deadline`, never negative. */
export function msUntil(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}
