/**
 * The time rules of a task token, shared by every store backend (each applies them inside its own
 * transaction): a token is due when its total timeout or its current heartbeat interval has ended, and
 * the error it times out with says which (`States.Timeout` or `States.HeartbeatTimeout`, as Step Functions).
 */
import type { StoredCallback } from '../callback-store.js';

type Deadlines = Pick<StoredCallback, 'timeoutAt' | 'heartbeatAt'>;

/** The earliest instant the token times out, or null when it never does. */
export function callbackDeadline(callback: Deadlines): number | null {
  const { timeoutAt, heartbeatAt } = callback;
  if (timeoutAt === null) return heartbeatAt;
  if (heartbeatAt === null) return timeoutAt;
  return Math.min(timeoutAt, heartbeatAt);
}

/** The error a WAITING token times out with at `now`, or undefined when no deadline has passed. */
export function timeoutErrorAt(
  callback: Deadlines,
  now: number,
): 'States.Timeout' | 'States.HeartbeatTimeout' | undefined {
  if (callback.timeoutAt !== null && callback.timeoutAt <= now) return 'States.Timeout';
  if (callback.heartbeatAt !== null && callback.heartbeatAt <= now) return 'States.HeartbeatTimeout';
  return undefined;
}

export function timeoutCause(error: 'States.Timeout' | 'States.HeartbeatTimeout'): string {
  return error === 'States.Timeout'
    ? 'The task did not finish within its TimeoutSeconds.'
    : 'No heartbeat was received within the task\u2019s HeartbeatSeconds.';
}
