/** Task tokens in Step Functions' words: a task waits for SendTaskSuccess, SendTaskFailure or a timeout. */
import type { CallbackStatus } from '../store/callback-store.js';

export interface TaskTimeouts {
  /** TimeoutSeconds: 1-99,999,999, default 99,999,999 (as a Step Functions Task). */
  timeoutSeconds?: number;
  /** HeartbeatSeconds: 1 to TimeoutSeconds - 1; when set, a heartbeat (or the outcome) must arrive within each interval. */
  heartbeatSeconds?: number;
}

export interface CreateTaskInput extends TaskTimeouts {
  /** Where the task went or what it is, kept for inspection (JSON). */
  context?: unknown;
}

export interface SendTaskToQueueInput extends TaskTimeouts {
  /**
   * The task's input. An object gets the token added as a field (`tokenField`) and is sent as JSON; a
   * string is sent as is. The token is always in the `TaskToken` message attribute as well.
   */
  input?: Record<string, unknown> | string;
  /** The body field that carries the token; default `TaskToken`. */
  tokenField?: string;
  delaySeconds?: number;
  /** FIFO queues. */
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export interface SendTaskToFunctionInput extends TaskTimeouts {
  /** The event; the token is added as a field (`tokenField`, default `TaskToken`). */
  input?: Record<string, unknown>;
  tokenField?: string;
}

export type TaskOutcome =
  | { status: 'SUCCEEDED'; output: unknown; outputText: string }
  | { status: 'FAILED'; error: string; cause: string }
  | { status: 'TIMED_OUT'; error: 'States.Timeout' | 'States.HeartbeatTimeout'; cause: string };

/** A task handed to a worker: its token and a way to await its outcome. */
export interface PendingTask {
  token: string;
  wait(options?: { signal?: AbortSignal }): Promise<TaskOutcome>;
}

export interface TaskView {
  status: CallbackStatus;
  createdAt: number;
  /** When the task times out if nothing happens (the earlier of the total and the heartbeat deadline). */
  deadlineAt: number | null;
  settledAt: number | null;
  context: unknown;
}

/** Step Functions' limits on the callback calls. */
export const taskLimits = {
  maxTimeoutSeconds: 99_999_999,
  maxOutputLength: 262_144,
  maxErrorLength: 256,
  maxCauseLength: 32_768,
} as const;
