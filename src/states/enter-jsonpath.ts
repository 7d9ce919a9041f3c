/**
 * Entering a state in JSONPath (the default query language): Pass, Succeed, Fail, Choice and Wait are
 * decided here; Task, Parallel and Map start in task-state.ts and branches.ts. InputPath, Parameters,
 * ResultPath, OutputPath and Assign are io.ts's; a StatesError thrown here fails the state (run.ts).
 */
import { parallel, map } from './branches.js';
import { matchChoice } from './choice.js';
import type { FailState, State, WaitState } from './definition.js';
import { StatesError, StatesErrors } from './errors.js';
import type { Frame } from './execution-state.js';
import { evaluateIntrinsic, isIntrinsic } from './intrinsics.js';
import { applyResultPath, applySelectPath, effectiveInput, evaluateJsonPathAssign } from './io.js';
import { evaluatePath } from './jsonpath.js';
import type { Run } from './run.js';
import { enterTask } from './task-state.js';

export function enterJsonPath(run: Run, frame: Frame, state: State): void {
  switch (state.Type) {
    case 'Pass': {
      const env = run.pathEnv(frame);
      const effective = effectiveInput(state, frame.input, env);
      const result = state.Result !== undefined ? state.Result : effective;
      const assigned = evaluateJsonPathAssign(state.Assign, result, env);
      const output = applySelectPath('OutputPath', state.OutputPath, applyResultPath(state.ResultPath, frame.input, result), env);
      run.setVariables(frame, assigned);
      return run.leave(frame, output, 'Pass');
    }
    case 'Succeed': {
      const output = applySelectPath('OutputPath', state.OutputPath, applySelectPath('InputPath', state.InputPath, frame.input, run.pathEnv(frame)), run.pathEnv(frame));
      return run.leave(frame, output, 'Succeed', true);
    }
    case 'Fail':
      return failState(run, frame, state);
    case 'Choice': {
      const env = run.pathEnv(frame);
      const input = applySelectPath('InputPath', state.InputPath, frame.input, env);
      const rule = matchChoice(state.Choices, input, env.context, env.variables);
      const next = (rule?.Next as string | undefined) ?? state.Default;
      if (next === undefined) throw new StatesError(StatesErrors.NoChoiceMatched, `No Choice Rules matched and no Default was specified in state '${frame.state}'`);
      // The matched rule's Assign, or the state's when the rule has none (or the Default is taken).
      const assigned = evaluateJsonPathAssign(rule?.Assign ?? state.Assign, input, env);
      const output = applySelectPath('OutputPath', state.OutputPath, input, env);
      run.setVariables(frame, assigned);
      return run.leave(frame, output, 'Choice', false, next);
    }
    case 'Wait':
      return wait(run, frame, state);
    case 'Task':
      return enterTask(run, frame, state);
    case 'Parallel':
      return parallel(run, frame, state);
    case 'Map':
      return map(run, frame, state);
  }
}

function failState(run: Run, frame: Frame, state: FailState): void {
  const env = run.pathEnv(frame);
  const read = (path: string | undefined, literal: string | undefined): string | undefined => {
    if (path === undefined) return literal;
    const value = isIntrinsic(path) ? evaluateIntrinsic(path, { input: frame.input, context: env.context, variables: env.variables ?? {} }) : evaluatePath(path, frame.input, env.context, env.variables);
    return typeof value === 'string' ? value : value === undefined ? undefined : JSON.stringify(value);
  };
  const failure = { error: read(state.ErrorPath, state.Error) ?? '', cause: read(state.CausePath, state.Cause) ?? '' };
  // A Fail state cannot be caught by itself: it fails its branch (or the execution).
  run.failFrame(frame, failure);
}

function wait(run: Run, frame: Frame, state: WaitState): void {
  const env = run.pathEnv(frame);
  const input = applySelectPath('InputPath', state.InputPath, frame.input, env);
  let dueAt: number;
  if (state.Seconds !== undefined) dueAt = run.env.now + state.Seconds * 1000;
  else if (state.Timestamp !== undefined) dueAt = Date.parse(state.Timestamp);
  else if (state.SecondsPath !== undefined) {
    const seconds = evaluatePath(state.SecondsPath, input, env.context, env.variables);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
      throw new StatesError(StatesErrors.Runtime, `The SecondsPath parameter does not reference a valid integer: '${state.SecondsPath}'`);
    dueAt = run.env.now + seconds * 1000;
  } else {
    const stamp = evaluatePath(state.TimestampPath as string, input, env.context, env.variables);
    const t = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
    if (Number.isNaN(t)) throw new StatesError(StatesErrors.Runtime, `The TimestampPath parameter does not reference a valid ISO-8601 timestamp: '${state.TimestampPath}'`);
    dueAt = t;
  }
  run.setVariables(frame, evaluateJsonPathAssign(state.Assign, input, env));
  frame.input = input;
  frame.phase = 'wait';
  frame.dueAt = dueAt;
  if (dueAt <= run.env.now) run.leave(frame, input, 'Wait');
}
