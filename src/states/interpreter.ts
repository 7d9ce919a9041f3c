/**
 * The pure interpreter: given a definition, an execution's state and what happened (it started, a task
 * finished, time passed, it was stopped), it moves every branch of the execution forward until each one
 * waits, and returns the history events to record and the tasks to perform. It knows nothing of storage
 * or of how a task runs; the service (service.ts) persists each call's result in one store transaction.
 *
 * Frames: the top level is one frame; a Parallel state's branches and a Map state's running iterations
 * are child frames of the frame that entered the state. A frame waits in phase `task` (a task is in
 * flight), `wait` (a Wait state, until dueAt), `retry` (a retrier's interval, until dueAt) or `children`.
 *
 * This file is the interpreter's API, one function per thing that can happen to an execution; each
 * makes a `Run` (run.ts), whose parts live in enter-jsonpath.ts, enter-jsonata.ts, task-state.ts,
 * branches.ts and retry-catch.ts, with the shared vocabulary in step.ts.
 */
import type { Definition } from './definition.js';
import type { ExecutionMeta, ExecutionState } from './execution-state.js';
import type { Json } from './json.js';
import { Run } from './run.js';
import { isActivity, resourceParts, type InterpreterEnv, type Step, type TaskOutcomeEvent } from './step.js';

export { isObject } from './json.js';
export { retryDelayMs } from './retry-catch.js';
export {
  HISTORY_LIMIT_CAUSE,
  isMapOrParallel,
  MAX_HISTORY_EVENTS,
  MAX_PAYLOAD_BYTES,
  resolveMachine,
  resourceParts,
  waitsForAnswer,
  type InterpreterEnv,
  type Step,
  type TaskEffect,
  type TaskOutcomeEvent,
} from './step.js';

export function startExecution(def: Definition, meta: ExecutionMeta, input: Json, env: InterpreterEnv): { state: ExecutionState; step: Step } {
  const state: ExecutionState = {
    meta,
    input,
    startedAt: env.now,
    status: 'RUNNING',
    frames: {},
    nextFrame: 1,
    lastEventId: 0,
    transitions: 0,
  };
  const deadline = executionDeadline(def, meta, env.now);
  if (deadline !== undefined) state.deadlineAt = deadline;
  const run = new Run(def, state, env);
  const started = run.event(0, 'ExecutionStarted', 'executionStartedEventDetails', {
    input: JSON.stringify(input),
    inputDetails: { truncated: false },
    roleArn: meta.roleArn,
  });
  run.newFrame({ machine: [], state: def.StartAt, input, lastEventId: started });
  run.guard(() => run.advance());
  return { state, step: run.step };
}

/** AWS runs an Express execution for at most five minutes. */
export const EXPRESS_MAX_DURATION_MS = 5 * 60_000;

/** The machine's TimeoutSeconds as an instant; an Express execution's is five minutes at the latest. */
function executionDeadline(def: Definition, meta: ExecutionMeta, now: number): number | undefined {
  const own = def.TimeoutSeconds === undefined ? undefined : now + def.TimeoutSeconds * 1000;
  if (!meta.express) return own;
  return Math.min(own ?? Infinity, now + EXPRESS_MAX_DURATION_MS);
}

/** Time passed: Wait states and retry intervals that are due move on; overdue tasks time out. */
export function advanceExecution(def: Definition, state: ExecutionState, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  run.guard(() => run.advance());
  return run.step;
}

/** A task's outcome. An outcome for a frame or attempt that no longer waits for it is ignored. */
export function completeTask(def: Definition, state: ExecutionState, frameId: string, attempt: number, outcome: TaskOutcomeEvent, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  run.guard(() => {
    run.completeTask(frameId, attempt, outcome);
    run.advance();
  });
  return run.step;
}

/** The worker got the task (message sent, function invoked): TaskSubmitted. */
export function submitTask(def: Definition, state: ExecutionState, frameId: string, attempt: number, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  const frame = state.frames[frameId];
  if (frame?.task && frame.task.attempt === attempt && !frame.task.submitted) {
    frame.task.submitted = true;
    // An activity's task is now waiting for a worker; AWS records ActivityStarted only when one takes it.
    if (isActivity(frame.task.resource)) return run.step;
    run.guard(() => {
      frame.lastEventId = run.event(frame.lastEventId, 'TaskSubmitted', 'taskSubmittedEventDetails', {
        resourceType: resourceParts(frame.task!.resource).type,
        resource: resourceParts(frame.task!.resource).name,
        output: '{}',
      });
    });
  }
  return run.step;
}

/**
 * A worker took an activity's task (GetActivityTask): ActivityStarted, with the workerName it gave.
 * Recorded once per attempt, before the attempt's outcome.
 */
export function startActivity(def: Definition, state: ExecutionState, frameId: string, attempt: number, workerName: string | null, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  const frame = state.frames[frameId];
  if (frame?.phase === 'task' && frame.task?.attempt === attempt && !frame.task.started && isActivity(frame.task.resource)) {
    frame.task.started = true;
    run.guard(() => {
      frame.lastEventId = run.event(frame.lastEventId, 'ActivityStarted', 'activityStartedEventDetails', workerName === null ? {} : { workerName });
    });
  }
  return run.step;
}

/** StopExecution: ABORTED with the given error and cause. */
export function abortExecution(def: Definition, state: ExecutionState, failure: { error?: string; cause?: string }, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  if (state.status !== 'RUNNING') return run.step;
  state.status = 'ABORTED';
  state.redrive = { frames: structuredClone(state.frames) };
  run.abortStatesWithinLimit();
  state.frames = {};
  run.event(state.lastEventId, 'ExecutionAborted', 'executionAbortedEventDetails', {
    ...(failure.error !== undefined ? { error: failure.error } : {}),
    ...(failure.cause !== undefined ? { cause: failure.cause } : {}),
  });
  return run.step;
}

/** The execution fails as a whole (not through a state's Catch): FAILED with the given error and cause. */
export function failExecution(def: Definition, state: ExecutionState, failure: { error: string; cause: string }, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  if (state.status !== 'RUNNING') return run.step;
  state.status = 'FAILED';
  state.failure = failure;
  run.abortStatesWithinLimit();
  state.frames = {};
  run.event(state.lastEventId, 'ExecutionFailed', 'executionFailedEventDetails', { ...failure });
  return run.step;
}

/**
 * RedriveExecution: the execution runs again from where it ended. The states that failed or were
 * aborted (and their Parallel branches and Map iterations) are entered again with the input they had,
 * with fresh retry counts; finished branches and items keep their results; the machine's TimeoutSeconds
 * counts from now. ExecutionRedriven is recorded. The caller checks that the execution is redrivable.
 */
export function redriveExecution(def: Definition, state: ExecutionState, env: InterpreterEnv): Step {
  const run = new Run(def, state, env);
  const frames = state.redrive?.frames ?? {};
  const redriveCount = (state.redriveCount ?? 0) + 1;
  state.status = 'RUNNING';
  delete state.failure;
  delete state.output;
  delete state.redrive;
  state.redriveCount = redriveCount;
  state.redrivenAt = env.now;
  if (def.TimeoutSeconds !== undefined) state.deadlineAt = env.now + def.TimeoutSeconds * 1000;
  else delete state.deadlineAt;
  const redriven = run.event(state.lastEventId, 'ExecutionRedriven', 'executionRedrivenEventDetails', { redriveCount });
  for (const frame of Object.values(frames)) {
    if (frame.phase === 'children') continue;
    frame.phase = 'enter';
    frame.retryCount = 0;
    frame.attempts = [];
    frame.lastEventId = redriven;
    delete frame.dueAt;
    delete frame.task;
  }
  state.frames = frames;
  run.guard(() => run.advance());
  return run.step;
}

/** The earliest instant something of this execution becomes due (a wait, a retry, a timeout). */
export function nextDueAt(state: ExecutionState): number | undefined {
  if (state.status !== 'RUNNING') return undefined;
  let due = state.deadlineAt;
  for (const frame of Object.values(state.frames))
    if (frame.dueAt !== undefined && (due === undefined || frame.dueAt < due)) due = frame.dueAt;
  return due;
}
