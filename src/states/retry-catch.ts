/**
 * A state's failure, as the States Language orders it: the first retrier whose ErrorEquals matches
 * retries while it has attempts left (after its interval, with backoff and jitter); else the first
 * matching catcher moves the frame to its Next with the error output; else the frame fails, and with it
 * the execution, or the Parallel or Map state it is a branch of (branches.ts), which fails in turn.
 * RedriveExecution resumes from a snapshot of the frames taken where the failure began.
 */
import { branchFailed } from './branches.js';
import type { Catcher, Retrier } from './definition.js';
import { errorMatches, StatesError, type StatesFailure } from './errors.js';
import type { Frame } from './execution-state.js';
import { applyResultPath, evaluateJsonPathAssign } from './io.js';
import type { Json, JsonObject } from './json.js';
import type { Run } from './run.js';

/** A failure of the frame's current state: Retry, then Catch, then the frame fails. */
export function fail(run: Run, frame: Frame, failure: StatesFailure): void {
  withFailureSnapshot(run, () => failOrRecover(run, frame, failure));
}

/**
 * The frames as they were when a failure began to propagate (the failing state still in place, a
 * Parallel's or Map's finished branches and items with their results): what RedriveExecution resumes
 * from if the failure ends the execution. Taken once per failure, at its outermost call.
 */
function withFailureSnapshot(run: Run, propagate: () => void): void {
  if (run.failing === 0) run.failureSnapshot = structuredClone(run.exec.frames);
  run.failing++;
  try {
    propagate();
  } finally {
    run.failing--;
  }
}

function failOrRecover(run: Run, frame: Frame, failure: StatesFailure): void {
  const state = run.stateOf(frame);
  const retriers: Retrier[] = 'Retry' in state && state.Retry ? state.Retry : [];
  const catchers: Catcher[] = 'Catch' in state && state.Catch ? state.Catch : [];
  dropChildren(run, frame);
  const index = retriers.findIndex((r) => errorMatches(r.ErrorEquals, failure.error));
  if (index >= 0) {
    const retrier = retriers[index] as Retrier;
    const used = frame.attempts[index] ?? 0;
    if (used < (retrier.MaxAttempts ?? 3)) {
      frame.attempts[index] = used + 1;
      frame.retryCount++;
      frame.phase = 'retry';
      frame.dueAt = run.env.now + retryDelayMs(retrier, used, run.env.random ?? Math.random);
      return;
    }
  }
  const catcher = catchers.find((c) => errorMatches(c.ErrorEquals, failure.error));
  if (catcher) {
    const errorOutput = { Error: failure.error, Cause: failure.cause };
    let output: Json;
    try {
      output = run.jsonata(frame)
        ? run.outputAndAssign(frame, catcher as unknown as JsonObject, run.scope(frame, { errorOutput }), errorOutput)
        : caughtOutput(run, frame, catcher, errorOutput);
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      return run.failFrame(frame, error.failure);
    }
    frame.lastEventId = run.event(frame.lastEventId, `${state.Type}StateExited`, 'stateExitedEventDetails', {
      name: frame.state,
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    delete frame.dueAt;
    delete frame.task;
    frame.state = catcher.Next;
    frame.input = output;
    frame.phase = 'enter';
    frame.retryCount = 0;
    frame.attempts = [];
    return;
  }
  run.failFrame(frame, failure);
}

/** A JSONPath catcher: its Assign reads the error output as `$`; ResultPath places it in the input. */
function caughtOutput(run: Run, frame: Frame, catcher: Catcher, errorOutput: JsonObject): Json {
  const assigned = evaluateJsonPathAssign(catcher.Assign, errorOutput, run.pathEnv(frame));
  const output = applyResultPath(catcher.ResultPath, frame.input, errorOutput);
  run.setVariables(frame, assigned);
  return output;
}

function dropChildren(run: Run, frame: Frame): void {
  for (const id of frame.children ?? []) {
    const child = run.exec.frames[id];
    if (child) dropChildren(run, child);
    delete run.exec.frames[id];
  }
  delete frame.children;
  delete frame.results;
  delete frame.items;
  delete frame.maxConcurrency;
}

/** The frame failed for good: the execution fails, or the parent's state does. */
export function failFrame(run: Run, frame: Frame, failure: StatesFailure): void {
  withFailureSnapshot(run, () => failFrameNow(run, frame, failure));
}

function failFrameNow(run: Run, frame: Frame, failure: StatesFailure): void {
  dropChildren(run, frame);
  delete run.exec.frames[frame.id];
  if (frame.parent === undefined) {
    const exec = run.exec;
    exec.status = 'FAILED';
    exec.failure = failure;
    if (run.failureSnapshot) exec.redrive = { frames: run.failureSnapshot };
    exec.frames = {};
    run.event(frame.lastEventId, 'ExecutionFailed', 'executionFailedEventDetails', { error: failure.error, cause: failure.cause });
    return;
  }
  branchFailed(run, frame, failure);
}

/** A retrier's interval before attempt `used + 1`: IntervalSeconds × BackoffRate^used, capped, with jitter. */
export function retryDelayMs(retrier: Retrier, used: number, random: () => number): number {
  const interval = retrier.IntervalSeconds ?? 1;
  const rate = retrier.BackoffRate ?? 2;
  let seconds = interval * Math.pow(rate, used);
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds = random() * seconds;
  return Math.round(seconds * 1000);
}
