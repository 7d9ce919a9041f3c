/**
 * Task tokens with Step Functions' callback semantics (`.waitForTaskToken`). A sender creates a token,
 * hands it to a worker (in a queue message or a function's event) and waits; the worker answers with
 * `sendTaskSuccess`, `sendTaskFailure` or keeps the task alive with `sendTaskHeartbeat`.
 *
 * State lives in the store, so the worker may answer from any process or node: every transition
 * publishes on the token's channel and a waiter anywhere re-reads. Timeouts are armed by due time: a
 * waiter sets one timer for the token's current deadline and re-arms it when a heartbeat moves it; a
 * token nobody waits for times out when it is next touched (the store applies the deadline rule in
 * every transition). Nothing polls.
 */
import type { FunctionService } from '../functions/service.js';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { QueueService } from '../queues/service.js';
import type { MessageAttributeInput } from '../queues/message-attributes.js';
import {
  callbackChannel,
  type CallbackCompletion,
  type CallbackTransition,
  type StoredCallback,
} from '../store/callback-store.js';
import type { Store } from '../store/store.js';
import { callbackDeadline } from '../store/rules/callback-deadline.js';
import { waitOnChannel } from './channel-wait.js';
import { FinishedTaskRetention } from './finished-retention.js';
import { callbackIdOf, newTaskToken } from './token.js';
import {
  taskLimits,
  type CreateTaskInput,
  type PendingTask,
  type SendTaskToFunctionInput,
  type SendTaskToQueueInput,
  type TaskOutcome,
  type TaskTimeouts,
  type TaskView,
} from './types.js';
import type { Service } from '../model/service.js';

export interface CallbackServiceOptions {
  store: Store;
  clock: Clock;
  queues: QueueService;
  functions: FunctionService;
  /** How long a finished task is remembered before it is purged; null keeps it until `purgeFinished`. */
  finishedRetentionMs?: number | null;
  onError?: (error: unknown) => void;
}

/** Finished tasks are remembered for a day by default. */
export const DEFAULT_FINISHED_RETENTION_SECONDS = 86_400;

export const TASK_TOKEN_ATTRIBUTE = 'TaskToken';

export class CallbackService implements Service {
  private readonly retention: FinishedTaskRetention | undefined;

  constructor(private readonly options: CallbackServiceOptions) {
    const retentionMs = options.finishedRetentionMs === undefined ? DEFAULT_FINISHED_RETENTION_SECONDS * 1000 : options.finishedRetentionMs;
    if (retentionMs !== null) {
      this.retention = new FinishedTaskRetention({
        clock: options.clock,
        retentionMs,
        purge: (settledBefore) => this.purgeSettledBefore(settledBefore),
        onError: options.onError ?? ((error: unknown) => console.error('[sluice] purging finished tasks failed', error)),
      });
    }
  }

  /** Nothing to arm: the purge timer is armed when a task finishes. */
  async start(): Promise<void> {}

  /** Stops the purge timer (the engine is closing). */
  async stop(): Promise<void> {
    this.retention?.stop();
  }

  /** Creates a task token. The task times out after `timeoutSeconds`, or `heartbeatSeconds` without a heartbeat. */
  async create(input: CreateTaskInput = {}): Promise<PendingTask> {
    const { timeoutMs, heartbeatMs } = parseTimeouts(input);
    const token = newTaskToken();
    const id = callbackIdOf(token);
    const now = this.options.clock.now();
    await this.options.store.callbackCreate({
      callback: {
        id,
        createdAt: now,
        timeoutAt: now + timeoutMs,
        heartbeatMs,
        context: input.context === undefined ? null : JSON.stringify(input.context),
      },
    });
    return { token, wait: (options) => this.wait(token, options) };
  }

  /**
   * Sends a task to a queue with a fresh token: in the body (as `tokenField` of an object input) and in
   * the `TaskToken` message attribute. The token exists before the message does, so a fast worker
   * always finds it.
   */
  async sendToQueue(
    queue: string,
    input: SendTaskToQueueInput = {},
  ): Promise<PendingTask & { messageId: string }> {
    const task = await this.create({ ...input, context: { queue } });
    const body =
      typeof input.input === 'string'
        ? input.input
        : JSON.stringify({ ...(input.input ?? {}), [input.tokenField ?? TASK_TOKEN_ATTRIBUTE]: task.token });
    const messageAttributes: Record<string, MessageAttributeInput> = {
      [TASK_TOKEN_ATTRIBUTE]: { dataType: 'String', stringValue: task.token },
    };
    try {
      const sent = await this.options.queues.send(queue, {
        body,
        messageAttributes,
        ...(input.delaySeconds !== undefined ? { delaySeconds: input.delaySeconds } : {}),
        ...(input.messageGroupId !== undefined ? { messageGroupId: input.messageGroupId } : {}),
        ...(input.messageDeduplicationId !== undefined
          ? { messageDeduplicationId: input.messageDeduplicationId }
          : {}),
      });
      return { ...task, messageId: sent.messageId };
    } catch (error) {
      await this.abandon(task.token, error);
      throw error;
    }
  }

  /** Invokes a function asynchronously (Event) with the token as a field of its event. */
  async sendToFunction(
    functionName: string,
    input: SendTaskToFunctionInput = {},
  ): Promise<PendingTask & { requestId: string }> {
    const task = await this.create({ ...input, context: { function: functionName } });
    try {
      const event = { ...(input.input ?? {}), [input.tokenField ?? TASK_TOKEN_ATTRIBUTE]: task.token };
      const accepted = await this.options.functions.invokeAsync(functionName, event);
      return { ...task, requestId: accepted.requestId };
    } catch (error) {
      await this.abandon(task.token, error);
      throw error;
    }
  }

  /** SendTaskSuccess: `output` is JSON text (a non-string value is serialised for you). */
  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    const id = callbackIdOf(token);
    const text = typeof output === 'string' ? output : JSON.stringify(output);
    if (typeof text !== 'string')
      throw new SluiceError('InvalidOutput', 'output: must be JSON text', { field: 'output' });
    if (text.length > taskLimits.maxOutputLength) {
      throw new SluiceError(
        'ValidationException',
        `output: ${text.length} characters is too long; at most ${taskLimits.maxOutputLength}`,
        { field: 'output' },
      );
    }
    try {
      JSON.parse(text);
    } catch {
      throw new SluiceError('InvalidOutput', 'output: is not valid JSON', { field: 'output' });
    }
    await this.complete(id, { status: 'SUCCEEDED', output: text });
  }

  /** SendTaskFailure: `error` up to 256 characters, `cause` up to 32,768. */
  async sendTaskFailure(token: string, failure: { error?: string; cause?: string } = {}): Promise<void> {
    const id = callbackIdOf(token);
    const error = checkedText('error', failure.error, taskLimits.maxErrorLength);
    const cause = checkedText('cause', failure.cause, taskLimits.maxCauseLength);
    await this.complete(id, { status: 'FAILED', error, cause });
  }

  /** SendTaskHeartbeat: the heartbeat interval starts again now. */
  async sendTaskHeartbeat(token: string): Promise<void> {
    const id = callbackIdOf(token);
    this.check(await this.options.store.callbackHeartbeat({ id, now: this.options.clock.now() }));
  }

  /** Resolves with the task's outcome once it succeeds, fails or times out (at once if it already has). */
  wait(token: string, options: { signal?: AbortSignal } = {}): Promise<TaskOutcome> {
    const id = callbackIdOf(token);
    const { clock } = this.options;
    const store = this.options.store;
    return waitOnChannel<TaskOutcome>({
      notifier: store.notifier,
      channel: callbackChannel(id),
      clock,
      signal: options.signal,
      check: async (wakeAt) => {
        // Reads the row, timing it out first if a deadline has passed: one call, one transaction.
        const transition = this.observed(await store.callbackExpire({ id, now: clock.now() }));
        if (transition.outcome === 'missing') throw doesNotExist();
        const callback = transition.callback;
        if (callback.status !== 'WAITING') return outcomeOf(callback);
        wakeAt(callbackDeadline(callback));
        return undefined;
      },
    });
  }

  /** The task's state now (a task past its deadline is reported, and recorded, as timed out). */
  async describe(token: string): Promise<TaskView> {
    const transition = this.observed(
      await this.options.store.callbackExpire({ id: callbackIdOf(token), now: this.options.clock.now() }),
    );
    if (transition.outcome === 'missing') throw doesNotExist();
    const callback = transition.callback;
    return {
      status: callback.status,
      createdAt: callback.createdAt,
      deadlineAt: callback.status === 'WAITING' ? callbackDeadline(callback) : null,
      settledAt: callback.settledAt,
      context: callback.context === null ? null : JSON.parse(callback.context),
    };
  }

  /** Forgets finished tasks settled more than `olderThanSeconds` ago; their tokens become unknown. */
  async purgeFinished(olderThanSeconds: number): Promise<number> {
    return this.purgeSettledBefore(this.options.clock.now() - olderThanSeconds * 1000);
  }

  private async purgeSettledBefore(settledBefore: number): Promise<number> {
    let total = 0;
    for (;;) {
      const purged = await this.options.store.callbackPurge({ settledBefore, limit: 1000 });
      total += purged;
      if (purged < 1000) return total;
    }
  }

  private async complete(id: string, completion: CallbackCompletion): Promise<void> {
    this.check(await this.options.store.callbackComplete({ id, now: this.options.clock.now(), completion }));
  }

  /** The message or invocation could not be sent: the task fails at once rather than waiting for its timeout. */
  private async abandon(token: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.options.store
      .callbackComplete({
        id: callbackIdOf(token),
        now: this.options.clock.now(),
        completion: {
          status: 'FAILED',
          error: 'Sluice.SendFailed',
          cause: message.slice(0, taskLimits.maxCauseLength),
        },
      })
      .then((transition) => this.observed(transition))
      .catch(() => undefined);
  }

  /** A transition that left the task finished starts its retention period. */
  private observed(transition: CallbackTransition): CallbackTransition {
    if (transition.outcome !== 'missing' && transition.callback.status !== 'WAITING')
      this.retention?.noteFinished(transition.callback.settledAt ?? this.options.clock.now());
    return transition;
  }

  private check(transition: CallbackTransition): void {
    this.observed(transition);
    if (transition.outcome === 'missing') throw doesNotExist();
    if (transition.outcome === 'finished') {
      const status = transition.callback.status;
      throw new SluiceError(
        'TaskTimedOut',
        status === 'TIMED_OUT'
          ? 'taskToken: the task has timed out'
          : `taskToken: the task has already ${status === 'SUCCEEDED' ? 'succeeded' : 'failed'}`,
        { field: 'taskToken' },
      );
    }
  }

}

function doesNotExist(): SluiceError {
  return new SluiceError(
    'TaskDoesNotExist',
    'taskToken: no task has this token (it never existed or was purged)',
    { field: 'taskToken' },
  );
}

function outcomeOf(callback: StoredCallback): TaskOutcome {
  if (callback.status === 'SUCCEEDED') {
    const outputText = callback.output ?? 'null';
    return { status: 'SUCCEEDED', output: JSON.parse(outputText), outputText };
  }
  if (callback.status === 'FAILED')
    return { status: 'FAILED', error: callback.error ?? '', cause: callback.cause ?? '' };
  return {
    status: 'TIMED_OUT',
    error: callback.error === 'States.HeartbeatTimeout' ? 'States.HeartbeatTimeout' : 'States.Timeout',
    cause: callback.cause ?? '',
  };
}

function checkedText(field: string, value: unknown, max: number): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string')
    throw new SluiceError('ValidationException', `${field}: must be a string`, { field });
  if (value.length > max) {
    throw new SluiceError(
      'ValidationException',
      `${field}: ${value.length} characters is too long; at most ${max}`,
      { field },
    );
  }
  return value;
}

function parseTimeouts(input: TaskTimeouts): { timeoutMs: number; heartbeatMs: number | null } {
  const timeout = input.timeoutSeconds ?? taskLimits.maxTimeoutSeconds;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > taskLimits.maxTimeoutSeconds) {
    throw new SluiceError(
      'InvalidParameterValue',
      `timeoutSeconds: ${JSON.stringify(timeout)} is invalid; must be an integer from 1 to ${taskLimits.maxTimeoutSeconds}`,
      {
        field: 'timeoutSeconds',
      },
    );
  }
  const heartbeat = input.heartbeatSeconds;
  if (heartbeat === undefined) return { timeoutMs: timeout * 1000, heartbeatMs: null };
  if (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat >= timeout) {
    throw new SluiceError(
      'InvalidParameterValue',
      `heartbeatSeconds: ${JSON.stringify(heartbeat)} is invalid; must be an integer from 1 to ${timeout - 1} (below timeoutSeconds)`,
      {
        field: 'heartbeatSeconds',
      },
    );
  }
  return { timeoutMs: timeout * 1000, heartbeatMs: heartbeat * 1000 };
}
