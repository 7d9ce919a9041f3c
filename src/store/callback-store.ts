/**
 * The task-token half of the store (Step Functions' `.waitForTaskToken`). A callback row is keyed by the
 * SHA-256 of its token, so the database never holds a usable token. Every transition is one transaction
 * that re-reads the row and applies the rules of rules/callback-deadline.ts, so a token is finished exactly
 * once whoever races: a success, a failure, a heartbeat, a timeout on any node.
 *
 * Each transition publishes `callbackChannel(id)`, so a waiter on another node wakes and re-reads.
 */

export type CallbackStatus = 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface StoredCallback {
  /** Hex SHA-256 of the token. */
  id: string;
  status: CallbackStatus;
  createdAt: number;
  /** The total deadline (TimeoutSeconds), or null for none. */
  timeoutAt: number | null;
  /** HeartbeatSeconds in ms, or null when no heartbeat is required. */
  heartbeatMs: number | null;
  /** When the current heartbeat interval ends, or null. */
  heartbeatAt: number | null;
  settledAt: number | null;
  /** SUCCEEDED: the output JSON text. */
  output: string | null;
  /** FAILED: the worker's error; TIMED_OUT: States.Timeout or States.HeartbeatTimeout. */
  error: string | null;
  cause: string | null;
  /** JSON the creator attached (where the task was sent), for inspection. */
  context: string | null;
  /** An activity's task: when a worker first took it (GetActivityTask), and the workerName it gave. */
  startedAt: number | null;
  workerName: string | null;
}

export interface NewCallback {
  id: string;
  createdAt: number;
  timeoutAt: number | null;
  heartbeatMs: number | null;
  context: string | null;
}

export type CallbackCompletion =
  { status: 'SUCCEEDED'; output: string } | { status: 'FAILED'; error: string; cause: string };

/**
 * - `applied`: the transition happened (completed, heartbeat recorded, or timed out by `callbackExpire`);
 * - `finished`: the token had already finished, or its deadline had passed (it is now TIMED_OUT);
 * - `pending`: `callbackExpire` only: the deadline is still ahead (the row tells the new one);
 * - `missing`: no such token.
 */
export type CallbackTransition =
  { outcome: 'applied' | 'finished' | 'pending'; callback: StoredCallback } | { outcome: 'missing' };

export interface CallbackStore {
  callbackCreate(p: { callback: NewCallback }): Promise<void>;
  callbackGet(p: { id: string }): Promise<StoredCallback | undefined>;
  /** SendTaskSuccess / SendTaskFailure: WAITING and within its deadlines → finished with the outcome. */
  callbackComplete(p: {
    id: string;
    now: number;
    completion: CallbackCompletion;
  }): Promise<CallbackTransition>;
  /** SendTaskHeartbeat: WAITING and within its deadlines → the heartbeat interval starts again at `now`. */
  callbackHeartbeat(p: { id: string; now: number }): Promise<CallbackTransition>;
  /** A deadline timer fired: WAITING and past a deadline → TIMED_OUT. */
  callbackExpire(p: { id: string; now: number }): Promise<CallbackTransition>;
  /** Deletes finished callbacks settled before `settledBefore` (after that, their tokens are unknown). */
  callbackPurge(p: { settledBefore: number; limit: number }): Promise<number>;
}

export const callbackChannel = (id: string): string => `callback:${id}`;
