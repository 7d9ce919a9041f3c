/**
 * The pure interpreter: given a definition, an execution's state and what happened (it started, a task
 * finished, time passed, it was stopped), it moves every branch of the execution forward until each one
 * waits, and returns the history events to record and the tasks to perform. It knows nothing of storage
 * or of how a task runs; the service (service.ts) persists each call's result in one store transaction.
 *
 * Frames: the top level is one frame; a Parallel state's branches and a Map state's running iterations
 * are child frames of the frame that entered the state. A frame waits in phase `task` (a task is in
 * flight), `wait` (a Wait state, until dueAt), `retry` (a retrier's interval, until dueAt) or `children`.
 */
import { matchChoice } from './choice.js';
import type { Catcher, Definition, FailState, Machine, MapState, ParallelState, Retrier, State, TaskState, WaitState } from './definition.js';
import { errorMatches, StatesError, StatesErrors, type StatesFailure } from './errors.js';
import type { ExecutionMeta, ExecutionState, Frame, TaskInFlight } from './execution-state.js';
import type { HistoryEvent } from './history.js';
import { evaluateIntrinsic, isIntrinsic } from './intrinsics.js';
import { applyResultPath, applySelectPath, applyTemplate, effectiveInput, evaluateJsonPathAssign, stateOutput, type PathEnv } from './io.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { evaluatePath } from './jsonpath.js';
import { evaluateAssign, evaluateTemplate, isJsonataExpression, type JsonataScope } from './jsonata.js';

/** The most a state's input or output may hold, in UTF-8 bytes (AWS's 256 KiB quota). */
export const MAX_PAYLOAD_BYTES = 262_144;

export interface InterpreterEnv {
  now: number;
  /** A fresh task token for `.waitForTaskToken` tasks. */
  newToken: () => string;
  uuid?: () => string;
  random?: () => number;
}

export interface TaskEffect {
  frameId: string;
  task: TaskInFlight;
  stateName: string;
}

export interface Step {
  events: HistoryEvent[];
  /** Tasks to start now (new ones and retries). */
  tasks: TaskEffect[];
}

export type TaskOutcomeEvent = { status: 'SUCCEEDED'; output: Json } | { status: 'FAILED'; error: string; cause: string };

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

/** `arn:aws:states:::sqs:sendMessage.waitForTaskToken` → type `sqs`, name `sendMessage.waitForTaskToken`. */
export function resourceParts(resource: string): { type: string; name: string } {
  const parts = resource.split(':');
  if (parts[2] === 'states' && parts[5]) return { type: parts[5], name: parts.slice(6).join(':') || parts[5] };
  if (parts[2] === 'lambda') return { type: 'lambda', name: resource };
  return { type: parts[2] ?? 'unknown', name: resource };
}

export function resolveMachine(def: Machine, path: (string | number)[]): Machine {
  let node: unknown = def;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node as Machine;
}

/** AWS's quota: an execution's history holds at most 25,000 events; the last one is its failure. */
export const MAX_HISTORY_EVENTS = 25_000;
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`;
const ENDING_EVENTS = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

/** Thrown by `Run.event` when one more event would leave no room for the execution's failure. */
class HistoryLimitReached extends Error {}

class Run {
  readonly step: Step = { events: [], tasks: [] };
  /** See `withFailureSnapshot`. */
  private failureSnapshot: Record<string, Frame> | undefined;
  private failing = 0;

  constructor(
    private readonly def: Definition | undefined,
    private readonly exec: ExecutionState,
    private readonly env: InterpreterEnv,
  ) {}

  /**
   * Runs `work`; if the history fills up meanwhile, the execution fails as AWS fails it: event 25,000 is
   * ExecutionFailed (States.Runtime), nothing the step began runs, every state is dropped. An Express
   * execution keeps no history, so it has no such limit.
   */
  guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!(error instanceof HistoryLimitReached)) throw error;
      const exec = this.exec;
      exec.status = 'FAILED';
      exec.failure = { error: StatesErrors.Runtime, cause: HISTORY_LIMIT_CAUSE };
      delete exec.output;
      delete exec.redrive;
      exec.frames = {};
      this.step.tasks = [];
      this.event(exec.lastEventId, 'ExecutionFailed', 'executionFailedEventDetails', { ...exec.failure });
    }
  }

  /** The `...StateAborted` events of an ending execution, as many as the history has room for. */
  abortStatesWithinLimit(): void {
    try {
      this.abortStates();
    } catch (error) {
      if (!(error instanceof HistoryLimitReached)) throw error;
    }
  }

  event(previousEventId: number, type: string, detailsKey?: string, details?: JsonObject): number {
    if (this.exec.lastEventId + 1 >= MAX_HISTORY_EVENTS && !ENDING_EVENTS.has(type) && !this.exec.meta.express) throw new HistoryLimitReached();
    const id = ++this.exec.lastEventId;
    this.step.events.push({
      id,
      previousEventId,
      timestamp: this.env.now,
      type,
      ...(detailsKey ? { detailsKey, details: details ?? {} } : {}),
    });
    return id;
  }

  newFrame(init: Pick<Frame, 'machine' | 'state' | 'input' | 'lastEventId'> & Partial<Frame>): Frame {
    const id = String(this.exec.nextFrame++);
    const frame: Frame = { id, phase: 'enter', enteredAt: this.env.now, retryCount: 0, attempts: [], ...init };
    this.exec.frames[id] = frame;
    return frame;
  }

  private stateOf(frame: Frame): State {
    const machine = resolveMachine(this.def as Definition, frame.machine);
    return machine.States[frame.state] as State;
  }

  /** The frame's current state's query language: its own, its machine's, or the definition's. */
  private jsonata(frame: Frame): boolean {
    const state = this.stateOf(frame) as State & { QueryLanguage?: string };
    const machine = resolveMachine(this.def as Definition, frame.machine) as Machine & { QueryLanguage?: string };
    return (state.QueryLanguage ?? machine.QueryLanguage ?? (this.def as Definition).QueryLanguage) === 'JSONata';
  }

  private scope(frame: Frame, states: JsonObject = {}, context: JsonObject = {}): JsonataScope {
    return { states: { input: frame.input, context: this.context(frame, context), ...states }, variables: frame.vars ?? {} };
  }

  /** Output and Assign of a JSONata state (or catcher, or choice rule), both from the same scope. */
  private outputAndAssign(frame: Frame, fields: JsonObject, scope: JsonataScope, fallback: Json): Json {
    const output = fields.Output !== undefined ? evaluateTemplate(fields.Output, scope, 'Output') : fallback;
    const assigned = evaluateAssign(fields.Assign, scope);
    if (Object.keys(assigned).length > 0) frame.vars = { ...(frame.vars ?? {}), ...assigned };
    return output;
  }

  /**
   * Variables a state assigned take effect when it ends: every value was read with the variables as
   * they were when it was entered. A branch or iteration has its own copy (AWS's inner scope), so what
   * it assigns is not seen outside it.
   */
  private setVariables(frame: Frame, assigned: JsonObject): void {
    if (Object.keys(assigned).length > 0) frame.vars = { ...(frame.vars ?? {}), ...assigned };
  }

  private pathEnv(frame: Frame, extra: JsonObject = {}): PathEnv {
    return {
      context: this.context(frame, extra),
      variables: frame.vars ?? {},
      ...(this.env.uuid ? { uuid: this.env.uuid } : {}),
      ...(this.env.random ? { random: this.env.random } : {}),
    };
  }

  private context(frame: Frame, extra: JsonObject): Json {
    const meta = this.exec.meta;
    return {
      Execution: {
        Id: meta.executionArn,
        Input: this.exec.input,
        Name: meta.name,
        RoleArn: meta.roleArn,
        StartTime: new Date(this.exec.startedAt).toISOString(),
        RedriveCount: this.exec.redriveCount ?? 0,
        ...(this.exec.redrivenAt !== undefined ? { RedriveTime: new Date(this.exec.redrivenAt).toISOString() } : {}),
      },
      State: { EnteredTime: new Date(frame.enteredAt).toISOString(), Name: frame.state, RetryCount: frame.retryCount },
      StateMachine: { Id: meta.stateMachineArn, Name: meta.stateMachineName },
      ...extra,
    };
  }

  /**
   * The execution ends while states are under way (stopped, timed out): each records its
   * `<Type>StateAborted` (Task, Wait, Parallel, Map; a Map iteration MapIterationAborted), innermost
   * first, as AWS's history does.
   */
  abortStates(): void {
    const frames = Object.values(this.exec.frames).sort((a, b) => Number(b.id) - Number(a.id));
    for (const frame of frames) {
      const type = this.stateOf(frame).Type;
      if (frame.parent !== undefined) {
        const parent = this.exec.frames[frame.parent];
        if (parent && this.stateOf(parent).Type === 'Map')
          this.event(frame.lastEventId, 'MapIterationAborted', 'mapIterationAbortedEventDetails', { name: parent.state, index: frame.index as number });
      }
      if (frame.phase === 'enter' || (type !== 'Task' && type !== 'Wait' && type !== 'Parallel' && type !== 'Map')) continue;
      frame.lastEventId = this.event(frame.lastEventId, `${type}StateAborted`);
    }
  }

  /** Runs every frame that can move until each waits; checks the machine's deadline first. */
  advance(): void {
    const exec = this.exec;
    if (exec.status !== 'RUNNING') return;
    if (exec.deadlineAt !== undefined && this.env.now >= exec.deadlineAt) {
      exec.status = 'TIMED_OUT';
      exec.failure = { error: StatesErrors.Timeout, cause: 'The execution timed out (TimeoutSeconds)' };
      exec.redrive = { frames: structuredClone(exec.frames) };
      this.abortStatesWithinLimit();
      exec.frames = {};
      this.event(exec.lastEventId, 'ExecutionTimedOut', 'executionTimedOutEventDetails', { ...exec.failure });
      return;
    }
    for (let guard = 0; guard < 100_000; guard++) {
      if (exec.status !== 'RUNNING') return;
      const ready = Object.values(exec.frames).find(
        (f) => f.phase === 'enter' || ((f.phase === 'wait' || f.phase === 'retry' || f.phase === 'task') && f.dueAt !== undefined && f.dueAt <= this.env.now),
      );
      if (!ready) return;
      if (ready.phase === 'enter') this.enter(ready);
      else if (ready.phase === 'wait') this.leave(ready, ready.input, 'Wait');
      else if (ready.phase === 'retry') {
        ready.phase = 'enter';
        delete ready.dueAt;
        this.enter(ready, true);
      } else this.completeTask(ready.id, ready.task?.attempt ?? 0, { status: 'FAILED', error: StatesErrors.Timeout, cause: 'The task timed out (TimeoutSeconds)' }, true);
    }
    throw new Error('the interpreter made 100,000 steps without waiting (a loop of Pass or Choice states?)');
  }

  private enter(frame: Frame, retrying = false): void {
    const state = this.stateOf(frame);
    this.exec.transitions++;
    if (!retrying) {
      frame.enteredAt = this.env.now;
      frame.lastEventId = this.event(frame.lastEventId, `${state.Type}StateEntered`, 'stateEnteredEventDetails', {
        name: frame.state,
        input: JSON.stringify(frame.input),
        inputDetails: { truncated: false },
      });
    }
    try {
      if (this.jsonata(frame)) return this.enterJsonata(frame, state);
      switch (state.Type) {
        case 'Pass': {
          const env = this.pathEnv(frame);
          const effective = effectiveInput(state, frame.input, env);
          const result = state.Result !== undefined ? state.Result : effective;
          const assigned = evaluateJsonPathAssign(state.Assign, result, env);
          const output = applySelectPath('OutputPath', state.OutputPath, applyResultPath(state.ResultPath, frame.input, result), env);
          this.setVariables(frame, assigned);
          return this.leave(frame, output, 'Pass');
        }
        case 'Succeed': {
          const output = applySelectPath('OutputPath', state.OutputPath, applySelectPath('InputPath', state.InputPath, frame.input, this.pathEnv(frame)), this.pathEnv(frame));
          return this.leave(frame, output, 'Succeed', true);
        }
        case 'Fail':
          return this.failState(frame, state);
        case 'Choice': {
          const env = this.pathEnv(frame);
          const input = applySelectPath('InputPath', state.InputPath, frame.input, env);
          const rule = matchChoice(state.Choices, input, env.context, env.variables);
          const next = (rule?.Next as string | undefined) ?? state.Default;
          if (next === undefined) throw new StatesError(StatesErrors.NoChoiceMatched, `No Choice Rules matched and no Default was specified in state '${frame.state}'`);
          // The matched rule's Assign, or the state's when the rule has none (or the Default is taken).
          const assigned = evaluateJsonPathAssign(rule?.Assign ?? state.Assign, input, env);
          const output = applySelectPath('OutputPath', state.OutputPath, input, env);
          this.setVariables(frame, assigned);
          return this.leave(frame, output, 'Choice', false, next);
        }
        case 'Wait':
          return this.wait(frame, state);
        case 'Task':
          return this.task(frame, state);
        case 'Parallel':
          return this.parallel(frame, state);
        case 'Map':
          return this.map(frame, state);
      }
    } catch (error) {
      if (error instanceof StatesError) return this.fail(frame, error.failure);
      throw error;
    }
  }

  private enterJsonata(frame: Frame, state: State): void {
    const fields = state as unknown as JsonObject;
    const scope = this.scope(frame);
    switch (state.Type) {
      case 'Pass':
        return this.leave(frame, this.outputAndAssign(frame, fields, scope, frame.input), 'Pass');
      case 'Succeed':
        return this.leave(frame, this.outputAndAssign(frame, fields, scope, frame.input), 'Succeed', true);
      case 'Fail': {
        const text = (field: string) => {
          const value = fields[field] === undefined ? undefined : evaluateTemplate(fields[field], scope, field);
          return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
        };
        return this.failFrame(frame, { error: text('Error'), cause: text('Cause') });
      }
      case 'Choice': {
        for (const rule of state.Choices) {
          const condition = typeof rule.Condition === 'boolean' ? rule.Condition : evaluateTemplate(rule.Condition ?? false, scope, 'Condition');
          if (condition !== true) continue;
          const source = rule.Output !== undefined || rule.Assign !== undefined ? rule : fields;
          return this.leave(frame, this.outputAndAssign(frame, source, scope, frame.input), 'Choice', false, rule.Next as string);
        }
        if (state.Default === undefined) throw new StatesError(StatesErrors.NoChoiceMatched, `No Choice Rules matched and no Default was specified in state '${frame.state}'`);
        return this.leave(frame, this.outputAndAssign(frame, fields, scope, frame.input), 'Choice', false, state.Default);
      }
      case 'Wait': {
        let dueAt: number;
        if (fields.Seconds !== undefined) {
          const seconds = evaluateTemplate(fields.Seconds, scope, 'Seconds');
          if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) throw new StatesError(StatesErrors.QueryEvaluationError, 'Seconds must evaluate to a non-negative integer');
          dueAt = this.env.now + seconds * 1000;
        } else {
          const stamp = evaluateTemplate(fields.Timestamp ?? null, scope, 'Timestamp');
          dueAt = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
          if (Number.isNaN(dueAt)) throw new StatesError(StatesErrors.QueryEvaluationError, 'Timestamp must evaluate to an ISO-8601 timestamp');
        }
        frame.input = this.outputAndAssign(frame, fields, scope, frame.input);
        frame.phase = 'wait';
        frame.dueAt = dueAt;
        if (dueAt <= this.env.now) this.leave(frame, frame.input, 'Wait');
        return;
      }
      case 'Task': {
        const token = waitsForAnswer(state.Resource) ? this.env.newToken() : undefined;
        const argScope = this.scope(frame, {}, token ? { Task: { Token: token } } : {});
        const input = fields.Arguments !== undefined ? evaluateTemplate(fields.Arguments, argScope, 'Arguments') : frame.input;
        const seconds = (field: string): number | undefined => {
          if (fields[field] === undefined) return undefined;
          const value = isJsonataExpression(fields[field]) ? evaluateTemplate(fields[field], argScope, field) : fields[field];
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new StatesError(StatesErrors.QueryEvaluationError, `${field} must evaluate to a positive integer`);
          return value;
        };
        return this.schedule(frame, state, input, token, seconds('TimeoutSeconds'), seconds('HeartbeatSeconds'));
      }
      case 'Parallel': {
        const input = fields.Arguments !== undefined ? evaluateTemplate(fields.Arguments, scope, 'Arguments') : frame.input;
        return this.startBranches(frame, state, input);
      }
      case 'Map': {
        const items = fields.Items !== undefined ? evaluateTemplate(fields.Items, scope, 'Items') : frame.input;
        if (!Array.isArray(items)) throw new StatesError(StatesErrors.QueryEvaluationError, `Map state '${frame.state}': Items must be an array`);
        return this.startMap(frame, state, frame.input, items);
      }
    }
  }

  private failState(frame: Frame, state: FailState): void {
    const env = this.pathEnv(frame);
    const read = (path: string | undefined, literal: string | undefined): string | undefined => {
      if (path === undefined) return literal;
      const value = isIntrinsic(path) ? evaluateIntrinsic(path, { input: frame.input, context: env.context, variables: env.variables ?? {} }) : evaluatePath(path, frame.input, env.context, env.variables);
      return typeof value === 'string' ? value : value === undefined ? undefined : JSON.stringify(value);
    };
    const failure = { error: read(state.ErrorPath, state.Error) ?? '', cause: read(state.CausePath, state.Cause) ?? '' };
    // A Fail state cannot be caught by itself: it fails its branch (or the execution).
    this.failFrame(frame, failure);
  }

  private wait(frame: Frame, state: WaitState): void {
    const env = this.pathEnv(frame);
    const input = applySelectPath('InputPath', state.InputPath, frame.input, env);
    let dueAt: number;
    if (state.Seconds !== undefined) dueAt = this.env.now + state.Seconds * 1000;
    else if (state.Timestamp !== undefined) dueAt = Date.parse(state.Timestamp);
    else if (state.SecondsPath !== undefined) {
      const seconds = evaluatePath(state.SecondsPath, input, env.context, env.variables);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
        throw new StatesError(StatesErrors.Runtime, `The SecondsPath parameter does not reference a valid integer: '${state.SecondsPath}'`);
      dueAt = this.env.now + seconds * 1000;
    } else {
      const stamp = evaluatePath(state.TimestampPath as string, input, env.context, env.variables);
      const t = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
      if (Number.isNaN(t)) throw new StatesError(StatesErrors.Runtime, `The TimestampPath parameter does not reference a valid ISO-8601 timestamp: '${state.TimestampPath}'`);
      dueAt = t;
    }
    this.setVariables(frame, evaluateJsonPathAssign(state.Assign, input, env));
    frame.input = input;
    frame.phase = 'wait';
    frame.dueAt = dueAt;
    if (dueAt <= this.env.now) this.leave(frame, input, 'Wait');
  }

  private task(frame: Frame, state: TaskState): void {
    const token = waitsForAnswer(state.Resource) ? this.env.newToken() : undefined;
    const env = this.pathEnv(frame, token ? { Task: { Token: token } } : {});
    const input = effectiveInput(state, frame.input, env);
    const timeoutSeconds = this.seconds(state.TimeoutSeconds, state.TimeoutSecondsPath, frame.input, env);
    const heartbeatSeconds = this.seconds(state.HeartbeatSeconds, state.HeartbeatSecondsPath, frame.input, env);
    this.schedule(frame, state, input, token, timeoutSeconds, heartbeatSeconds);
  }

  /** The task is scheduled with its effective input: TaskScheduled (or LambdaFunctionScheduled) and started. */
  private schedule(frame: Frame, state: TaskState, input: Json, token: string | undefined, timeoutSeconds: number | undefined, heartbeatSeconds: number | undefined): void {
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
    if (timeoutSeconds !== undefined && !token) frame.dueAt = this.env.now + timeoutSeconds * 1000;
    else delete frame.dueAt;
    const { type, name } = resourceParts(state.Resource);
    const lambda = state.Resource.startsWith('arn:aws:lambda:');
    if (lambda) {
      frame.lastEventId = this.event(frame.lastEventId, 'LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', {
        resource: state.Resource,
        input: JSON.stringify(input),
        inputDetails: { truncated: false },
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      });
      frame.lastEventId = this.event(frame.lastEventId, 'LambdaFunctionStarted');
    } else if (isActivity(state.Resource)) {
      frame.lastEventId = this.event(frame.lastEventId, 'ActivityScheduled', 'activityScheduledEventDetails', {
        resource: state.Resource,
        input: JSON.stringify(input),
        inputDetails: { truncated: false },
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      });
    } else {
      frame.lastEventId = this.event(frame.lastEventId, 'TaskScheduled', 'taskScheduledEventDetails', {
        resourceType: type,
        resource: name,
        region: this.exec.meta.region,
        parameters: JSON.stringify(input),
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      });
      frame.lastEventId = this.event(frame.lastEventId, 'TaskStarted', 'taskStartedEventDetails', { resourceType: type, resource: name });
    }
    this.step.tasks.push({ frameId: frame.id, task, stateName: frame.state });
  }

  private seconds(fixed: number | undefined, path: string | undefined, input: Json, env: PathEnv): number | undefined {
    if (fixed !== undefined) return fixed;
    if (path === undefined) return undefined;
    const value = evaluatePath(path, input, env.context, env.variables);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
      throw new StatesError(StatesErrors.Runtime, `${path} does not reference a positive integer`);
    return value;
  }

  completeTask(frameId: string, attempt: number, outcome: TaskOutcomeEvent, timedOut = false): void {
    const frame = this.exec.frames[frameId];
    if (!frame || frame.phase !== 'task' || !frame.task || frame.task.attempt !== attempt) return;
    const state = this.stateOf(frame) as TaskState;
    const lambda = state.Resource.startsWith('arn:aws:lambda:');
    const activity = isActivity(state.Resource);
    const { type, name } = resourceParts(state.Resource);
    delete frame.dueAt;
    if (outcome.status === 'SUCCEEDED') {
      frame.lastEventId = activity
        ? this.event(frame.lastEventId, 'ActivitySucceeded', 'activitySucceededEventDetails', { output: JSON.stringify(outcome.output), outputDetails: { truncated: false } })
        : lambda
        ? this.event(frame.lastEventId, 'LambdaFunctionSucceeded', 'lambdaFunctionSucceededEventDetails', { output: JSON.stringify(outcome.output), outputDetails: { truncated: false } })
        : this.event(frame.lastEventId, 'TaskSucceeded', 'taskSucceededEventDetails', { resourceType: type, resource: name, output: JSON.stringify(outcome.output), outputDetails: { truncated: false } });
      try {
        checkSize(outcome.output, 'The task result');
        const output = this.jsonata(frame)
          ? this.outputAndAssign(frame, state as unknown as JsonObject, this.scope(frame, { result: outcome.output }), outcome.output)
          : this.jsonPathOutput(frame, state, outcome.output);
        delete frame.task;
        this.leave(frame, output, 'Task');
      } catch (error) {
        if (!(error instanceof StatesError)) throw error;
        this.fail(frame, error.failure);
      }
      return;
    }
    const failure = { error: outcome.error, cause: outcome.cause };
    if (timedOut || outcome.error === StatesErrors.Timeout || outcome.error === StatesErrors.HeartbeatTimeout) {
      frame.lastEventId = activity
        ? this.event(frame.lastEventId, 'ActivityTimedOut', 'activityTimedOutEventDetails', { ...failure })
        : lambda
        ? this.event(frame.lastEventId, 'LambdaFunctionTimedOut', 'lambdaFunctionTimedOutEventDetails', { ...failure })
        : this.event(frame.lastEventId, 'TaskTimedOut', 'taskTimedOutEventDetails', { resourceType: type, resource: name, ...failure });
    } else {
      frame.lastEventId = activity
        ? this.event(frame.lastEventId, 'ActivityFailed', 'activityFailedEventDetails', { ...failure })
        : lambda
        ? this.event(frame.lastEventId, 'LambdaFunctionFailed', 'lambdaFunctionFailedEventDetails', { ...failure })
        : this.event(frame.lastEventId, 'TaskFailed', 'taskFailedEventDetails', { resourceType: type, resource: name, ...failure });
    }
    this.fail(frame, failure);
  }

  private parallel(frame: Frame, state: ParallelState): void {
    this.startBranches(frame, state, effectiveInput(state, frame.input, this.pathEnv(frame)));
  }

  private startBranches(frame: Frame, state: ParallelState, input: Json): void {
    frame.effective = input;
    frame.phase = 'children';
    frame.results = state.Branches.map(() => null);
    frame.lastEventId = this.event(frame.lastEventId, 'ParallelStateStarted');
    frame.children = state.Branches.map((branch, index) =>
      this.newFrame({ parent: frame.id, index, machine: [...frame.machine, 'States', frame.state, 'Branches', index], state: branch.StartAt, input, lastEventId: frame.lastEventId, ...(frame.vars ? { vars: frame.vars } : {}) }).id,
    );
  }

  private map(frame: Frame, state: MapState): void {
    const env = this.pathEnv(frame);
    const input = applySelectPath('InputPath', state.InputPath, frame.input, env);
    const items = applySelectPath('ItemsPath', state.ItemsPath ?? '$', input, env);
    if (!Array.isArray(items)) throw new StatesError(StatesErrors.Runtime, `Map state '${frame.state}': ItemsPath must select an array`);
    this.startMap(frame, state, input, items);
  }

  private startMap(frame: Frame, state: MapState, input: Json, items: Json[]): void {
    frame.effective = input;
    frame.phase = 'children';
    frame.items = items;
    frame.nextItem = 0;
    frame.failures = 0;
    frame.results = items.map(() => null);
    frame.children = [];
    frame.lastEventId = this.event(frame.lastEventId, 'MapStateStarted', 'mapStateStartedEventDetails', { length: items.length });
    if (items.length === 0) return this.finishChildren(frame);
    this.startItems(frame, state);
  }

  private startItems(frame: Frame, state: MapState): void {
    const items = frame.items as Json[];
    const limit = state.MaxConcurrency && state.MaxConcurrency > 0 ? state.MaxConcurrency : Number.POSITIVE_INFINITY;
    const children = frame.children as string[];
    while ((frame.nextItem as number) < items.length && children.length < limit) {
      const index = frame.nextItem as number;
      frame.nextItem = index + 1;
      const value = items[index] as Json;
      const item = { Map: { Item: { Index: index, Value: value } } };
      const itemInput =
        state.ItemSelector === undefined
          ? value
          : this.jsonata(frame)
            ? evaluateTemplate(state.ItemSelector, this.scope(frame, {}, item), 'ItemSelector')
            : applyTemplate('ItemSelector', state.ItemSelector, frame.effective ?? null, this.pathEnv(frame, item));
      const started = this.event(frame.lastEventId, 'MapIterationStarted', 'mapIterationStartedEventDetails', { name: frame.state, index });
      const child = this.newFrame({ parent: frame.id, index, machine: [...frame.machine, 'States', frame.state, 'ItemProcessor'], state: state.ItemProcessor.StartAt, input: itemInput, lastEventId: started, ...(frame.vars ? { vars: frame.vars } : {}) });
      children.push(child.id);
    }
  }

  /** A state finished with `output`: go to Next, or end the frame. */
  private leave(frame: Frame, output: Json, kind: string, end = false, next?: string): void {
    try {
      checkSize(output, 'The state output');
    } catch (error) {
      return this.fail(frame, (error as StatesError).failure);
    }
    const state = this.stateOf(frame);
    delete frame.dueAt;
    frame.lastEventId = this.event(frame.lastEventId, `${kind}StateExited`, 'stateExitedEventDetails', {
      name: frame.state,
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    const target = next ?? (end ? undefined : state.Next);
    if (target === undefined || (!next && state.End === true)) return this.endFrame(frame, output);
    frame.state = target;
    frame.input = output;
    frame.phase = 'enter';
    frame.retryCount = 0;
    frame.attempts = [];
    delete frame.task;
  }

  private endFrame(frame: Frame, output: Json): void {
    delete this.exec.frames[frame.id];
    if (frame.parent === undefined) {
      this.exec.status = 'SUCCEEDED';
      this.exec.output = output;
      this.event(frame.lastEventId, 'ExecutionSucceeded', 'executionSucceededEventDetails', { output: JSON.stringify(output), outputDetails: { truncated: false } });
      return;
    }
    const parent = this.exec.frames[frame.parent];
    if (!parent) return;
    (parent.results as (Json | null)[])[frame.index as number] = output;
    parent.children = (parent.children ?? []).filter((id) => id !== frame.id);
    const parentState = this.stateOf(parent);
    if (parentState.Type === 'Map') {
      parent.lastEventId = this.event(frame.lastEventId, 'MapIterationSucceeded', 'mapIterationSucceededEventDetails', { name: parent.state, index: frame.index as number });
      this.startItems(parent, parentState);
    }
    if (parent.children.length === 0 && (parentState.Type !== 'Map' || (parent.nextItem as number) >= (parent.items as Json[]).length)) this.finishChildren(parent);
  }

  private finishChildren(frame: Frame): void {
    const state = this.stateOf(frame) as ParallelState | MapState;
    const kind = state.Type;
    frame.lastEventId = this.event(frame.lastEventId, `${kind}StateSucceeded`);
    const results = frame.results as Json[];
    delete frame.results;
    delete frame.children;
    delete frame.items;
    delete frame.effective;
    try {
      const output = this.jsonata(frame)
        ? this.outputAndAssign(frame, state as unknown as JsonObject, this.scope(frame, { result: results }), results)
        : this.jsonPathOutput(frame, state, results);
      this.leave(frame, output, kind);
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      this.fail(frame, error.failure);
    }
  }

  /**
   * A JSONPath Task, Parallel or Map state's output from its result; its Assign reads the result after
   * ResultSelector as `$`.
   */
  private jsonPathOutput(frame: Frame, state: TaskState | ParallelState | MapState, result: Json): Json {
    const env = this.pathEnv(frame);
    let assigned: JsonObject = {};
    const output = stateOutput(state, frame.input, result, env, (selected) => {
      assigned = evaluateJsonPathAssign(state.Assign, selected, env);
    });
    this.setVariables(frame, assigned);
    return output;
  }

  /** A failure of the frame's current state: Retry, then Catch, then the frame fails. */
  private fail(frame: Frame, failure: StatesFailure): void {
    this.withFailureSnapshot(() => this.failOrRecover(frame, failure));
  }

  /**
   * The frames as they were when a failure began to propagate (the failing state still in place, a
   * Parallel's or Map's finished branches and items with their results): what RedriveExecution resumes
   * from if the failure ends the execution. Taken once per failure, at its outermost call.
   */
  private withFailureSnapshot(propagate: () => void): void {
    if (this.failing === 0) this.failureSnapshot = structuredClone(this.exec.frames);
    this.failing++;
    try {
      propagate();
    } finally {
      this.failing--;
    }
  }

  private failOrRecover(frame: Frame, failure: StatesFailure): void {
    const state = this.stateOf(frame);
    const retriers: Retrier[] = 'Retry' in state && state.Retry ? state.Retry : [];
    const catchers: Catcher[] = 'Catch' in state && state.Catch ? state.Catch : [];
    this.dropChildren(frame);
    const index = retriers.findIndex((r) => errorMatches(r.ErrorEquals, failure.error));
    if (index >= 0) {
      const retrier = retriers[index] as Retrier;
      const used = frame.attempts[index] ?? 0;
      if (used < (retrier.MaxAttempts ?? 3)) {
        frame.attempts[index] = used + 1;
        frame.retryCount++;
        frame.phase = 'retry';
        frame.dueAt = this.env.now + retryDelayMs(retrier, used, this.env.random ?? Math.random);
        return;
      }
    }
    const catcher = catchers.find((c) => errorMatches(c.ErrorEquals, failure.error));
    if (catcher) {
      const errorOutput = { Error: failure.error, Cause: failure.cause };
      let output: Json;
      try {
        output = this.jsonata(frame)
          ? this.outputAndAssign(frame, catcher as unknown as JsonObject, this.scope(frame, { errorOutput }), errorOutput)
          : this.caughtOutput(frame, catcher, errorOutput);
      } catch (error) {
        if (!(error instanceof StatesError)) throw error;
        return this.failFrame(frame, error.failure);
      }
      frame.lastEventId = this.event(frame.lastEventId, `${state.Type}StateExited`, 'stateExitedEventDetails', {
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
    this.failFrame(frame, failure);
  }

  /** A JSONPath catcher: its Assign reads the error output as `$`; ResultPath places it in the input. */
  private caughtOutput(frame: Frame, catcher: Catcher, errorOutput: JsonObject): Json {
    const assigned = evaluateJsonPathAssign(catcher.Assign, errorOutput, this.pathEnv(frame));
    const output = applyResultPath(catcher.ResultPath, frame.input, errorOutput);
    this.setVariables(frame, assigned);
    return output;
  }

  private dropChildren(frame: Frame): void {
    for (const id of frame.children ?? []) {
      const child = this.exec.frames[id];
      if (child) this.dropChildren(child);
      delete this.exec.frames[id];
    }
    delete frame.children;
    delete frame.results;
    delete frame.items;
  }

  /** The frame failed for good: the execution fails, or the parent's state does. */
  private failFrame(frame: Frame, failure: StatesFailure): void {
    this.withFailureSnapshot(() => this.failFrameNow(frame, failure));
  }

  private failFrameNow(frame: Frame, failure: StatesFailure): void {
    this.dropChildren(frame);
    delete this.exec.frames[frame.id];
    if (frame.parent === undefined) {
      const exec = this.exec;
      exec.status = 'FAILED';
      exec.failure = failure;
      if (this.failureSnapshot) exec.redrive = { frames: this.failureSnapshot };
      exec.frames = {};
      this.event(frame.lastEventId, 'ExecutionFailed', 'executionFailedEventDetails', { error: failure.error, cause: failure.cause });
      return;
    }
    const parent = this.exec.frames[frame.parent];
    if (!parent) return;
    const parentState = this.stateOf(parent);
    if (parentState.Type === 'Map') {
      parent.lastEventId = this.event(frame.lastEventId, 'MapIterationFailed', 'mapIterationFailedEventDetails', { name: parent.state, index: frame.index as number });
      parent.failures = (parent.failures ?? 0) + 1;
      parent.children = (parent.children ?? []).filter((id) => id !== frame.id);
      const total = (parent.items as Json[]).length;
      const toleratedCount = parentState.ToleratedFailureCount;
      const toleratedPercent = parentState.ToleratedFailurePercentage;
      const tolerates = toleratedCount !== undefined || toleratedPercent !== undefined;
      const within =
        tolerates &&
        (toleratedCount === undefined || parent.failures <= toleratedCount) &&
        (toleratedPercent === undefined || (parent.failures / total) * 100 <= toleratedPercent);
      if (within) {
        (parent.results as (Json | null)[])[frame.index as number] = { Error: failure.error, Cause: failure.cause };
        this.startItems(parent, parentState);
        if (parent.children.length === 0 && (parent.nextItem as number) >= total) this.finishChildren(parent);
        return;
      }
      parent.lastEventId = this.event(parent.lastEventId, 'MapStateFailed');
      return this.fail(parent, tolerates ? { error: StatesErrors.ExceedToleratedFailureThreshold, cause: `The Map state '${parent.state}' failed: more failed items than the tolerated threshold` } : failure);
    }
    parent.lastEventId = this.event(frame.lastEventId, 'ParallelStateFailed');
    this.fail(parent, failure);
  }
}

/** Tasks that wait for an answer on a token: `.waitForTaskToken`, and `.sync` (a nested execution's end answers it). */
export function waitsForAnswer(resource: string): boolean {
  return resource.endsWith('.waitForTaskToken') || resource.endsWith('.sync') || resource.endsWith('.sync:2') || isActivity(resource);
}

/** An activity's ARN as a Task's Resource (its history events are Activity*, not Task*). */
function isActivity(resource: string): boolean {
  return /^arn:aws:states:[^:]*:[^:]*:activity:/.test(resource);
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

function checkSize(value: Json, what: string): void {
  const text = JSON.stringify(value);
  if (text.length > MAX_PAYLOAD_BYTES / 4 && Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES)
    throw new StatesError(StatesErrors.DataLimitExceeded, `${what} has a size that exceeds the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES})`);
}

export function isMapOrParallel(state: State): state is MapState | ParallelState {
  return state.Type === 'Map' || state.Type === 'Parallel';
}

export { isObject };
