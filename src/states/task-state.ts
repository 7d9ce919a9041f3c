/**
 * Task states: scheduling a task (its Scheduled and Started events, by resource kind: Lambda, activity,
 * or another integration) and recording its outcome (Succeeded, TimedOut, Failed), from which the state
 * leaves with its output or fails. How a task runs is the runner's (runner.ts, resources.ts).
 */
import type { TaskState } from './definition.js';
import { StatesError, StatesErrors } from './errors.js';
import type { Frame, TaskInFlight } from './execution-state.js';
import { effectiveInput, type PathEnv } from './io.js';
import type { Json, JsonObject } from './json.js';
import { evaluatePath } from './jsonpath.js';
import type { Run } from './run.js';
import { checkSize, isActivity, resourceParts, waitsForAnswer, type TaskOutcomeEvent } from './step.js';

/** A JSONPath Task state: its effective input (Parameters, `$$.Task.Token`) and deadlines, then `schedule`. */
export function enterTask(run: Run, frame: Frame, state: TaskState): void {
  const token = waitsForAnswer(state.Resource) ? run.env.newToken() : undefined;
  const env = run.pathEnv(frame, token ? { Task: { Token: token } } : {});
  const input = effectiveInput(state, frame.input, env);
  const timeoutSeconds = seconds(state.TimeoutSeconds, state.TimeoutSecondsPath, frame.input, env);
  const heartbeatSeconds = seconds(state.HeartbeatSeconds, state.HeartbeatSecondsPath, frame.input, env);
  schedule(run, frame, state, input, token, timeoutSeconds, heartbeatSeconds);
}

/** The task is scheduled with its effective input: TaskScheduled (or LambdaFunctionScheduled) and started. */
export function schedule(run: Run, frame: Frame, state: TaskState, input: Json, token: string | undefined, timeoutSeconds: number | undefined, heartbeatSeconds: number | undefined): void {
  checkSize(input, 'The state input after Parameters');
  const attempt = (frame.task?.attempt ?? 0) + 1;
  const task: TaskInFlight = {
    attempt,
    resource: state.Resource,
    input,
    ...(token ? { token } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
  };
  frame.task = task;
  frame.phase = 'task';
  // A token's deadlines live in the callback (the service reads them); other tasks time out here.
  if (timeoutSeconds !== undefined && !token) frame.dueAt = run.env.now + timeoutSeconds * 1000;
  else delete frame.dueAt;
  const { type, name } = resourceParts(state.Resource);
  const lambda = state.Resource.startsWith('arn:aws:lambda:');
  if (lambda) {
    frame.lastEventId = run.event(frame.lastEventId, 'LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', {
      resource: state.Resource,
      input: JSON.stringify(input),
      inputDetails: { truncated: false },
      ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
    });
    frame.lastEventId = run.event(frame.lastEventId, 'LambdaFunctionStarted');
  } else if (isActivity(state.Resource)) {
    frame.lastEventId = run.event(frame.lastEventId, 'ActivityScheduled', 'activityScheduledEventDetails', {
      resource: state.Resource,
      input: JSON.stringify(input),
      inputDetails: { truncated: false },
      ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
    });
  } else {
    frame.lastEventId = run.event(frame.lastEventId, 'TaskScheduled', 'taskScheduledEventDetails', {
      resourceType: type,
      resource: name,
      region: run.exec.meta.region,
      parameters: JSON.stringify(input),
      ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
    });
    frame.lastEventId = run.event(frame.lastEventId, 'TaskStarted', 'taskStartedEventDetails', { resourceType: type, resource: name });
  }
  run.step.tasks.push({ frameId: frame.id, task, stateName: frame.state });
}

function seconds(fixed: number | undefined, path: string | undefined, input: Json, env: PathEnv): number | undefined {
  if (fixed !== undefined) return fixed;
  if (path === undefined) return undefined;
  const value = evaluatePath(path, input, env.context, env.variables);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new StatesError(StatesErrors.Runtime, `${path} does not reference a positive integer`);
  return value;
}

/** A task's outcome: its Succeeded, TimedOut or Failed event, then the state's output or its failure. */
export function completeTask(run: Run, frameId: string, attempt: number, outcome: TaskOutcomeEvent, timedOut = false): void {
  const frame = run.exec.frames[frameId];
  if (!frame || frame.phase !== 'task' || !frame.task || frame.task.attempt !== attempt) return;
  const state = run.stateOf(frame) as TaskState;
  const lambda = state.Resource.startsWith('arn:aws:lambda:');
  const activity = isActivity(state.Resource);
  const { type, name } = resourceParts(state.Resource);
  delete frame.dueAt;
  if (outcome.status === 'SUCCEEDED') {
    frame.lastEventId = activity
      ? run.event(frame.lastEventId, 'ActivitySucceeded', 'activitySucceededEventDetails', { output: JSON.stringify(outcome.output), outputDetails: { truncated: false } })
      : lambda
      ? run.event(frame.lastEventId, 'LambdaFunctionSucceeded', 'lambdaFunctionSucceededEventDetails', { output: JSON.stringify(outcome.output), outputDetails: { truncated: false } })
      : run.event(frame.lastEventId, 'TaskSucceeded', 'taskSucceededEventDetails', { resourceType: type, resource: name, output: JSON.stringify(outcome.output), outputDetails: { truncated: false } });
    try {
      checkSize(outcome.output, 'The task result');
      const output = run.jsonata(frame)
        ? run.outputAndAssign(frame, state as unknown as JsonObject, run.scope(frame, { result: outcome.output }), outcome.output)
        : run.jsonPathOutput(frame, state, outcome.output);
      delete frame.task;
      run.leave(frame, output, 'Task');
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      run.fail(frame, error.failure);
    }
    return;
  }
  const failure = { error: outcome.error, cause: outcome.cause };
  if (timedOut || outcome.error === StatesErrors.Timeout || outcome.error === StatesErrors.HeartbeatTimeout) {
    frame.lastEventId = activity
      ? run.event(frame.lastEventId, 'ActivityTimedOut', 'activityTimedOutEventDetails', { ...failure })
      : lambda
      ? run.event(frame.lastEventId, 'LambdaFunctionTimedOut', 'lambdaFunctionTimedOutEventDetails', { ...failure })
      : run.event(frame.lastEventId, 'TaskTimedOut', 'taskTimedOutEventDetails', { resourceType: type, resource: name, ...failure });
  } else {
    frame.lastEventId = activity
      ? run.event(frame.lastEventId, 'ActivityFailed', 'activityFailedEventDetails', { ...failure })
      : lambda
      ? run.event(frame.lastEventId, 'LambdaFunctionFailed', 'lambdaFunctionFailedEventDetails', { ...failure })
      : run.event(frame.lastEventId, 'TaskFailed', 'taskFailedEventDetails', { resourceType: type, resource: name, ...failure });
  }
  run.fail(frame, failure);
}
