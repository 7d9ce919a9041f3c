/**
 * One call of the interpreter on one execution: a `Run` holds the step being built (its history events
 * and tasks) and the execution's state, and moves every frame until each waits (`advance`). It owns what
 * every state type shares: history events within AWS's limit, frames, the context object and scopes,
 * entering a state and leaving it. What a state does once entered lives beside it, one module per
 * subject: enter-jsonpath.ts and enter-jsonata.ts (each query language's states), task-state.ts (tasks
 * and their outcomes), branches.ts (Parallel and Map), retry-catch.ts (a state's failure: Retry, Catch,
 * then its frame). Those modules take the run as their first argument and call back only its public
 * methods, so nothing imports this file but for its type.
 */
import { branchSucceeded } from './branches.js';
import type { Definition, Machine, MapState, ParallelState, State, TaskState } from './definition.js';
import { enterJsonata } from './enter-jsonata.js';
import { enterJsonPath } from './enter-jsonpath.js';
import { StatesError, StatesErrors, type StatesFailure } from './errors.js';
import type { ExecutionState, Frame } from './execution-state.js';
import { evaluateJsonPathAssign, stateOutput, type PathEnv } from './io.js';
import type { Json, JsonObject } from './json.js';
import { evaluateAssign, evaluateTemplate, type JsonataScope } from './jsonata.js';
import { fail, failFrame } from './retry-catch.js';
import { checkSize, HISTORY_LIMIT_CAUSE, HistoryLimitReached, MAX_HISTORY_EVENTS, resolveMachine, type InterpreterEnv, type Step, type TaskOutcomeEvent } from './step.js';
import { completeTask } from './task-state.js';

const ENDING_EVENTS = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

export class Run {
  readonly step: Step = { events: [], tasks: [] };
  /** See retry-catch.ts `withFailureSnapshot`. */
  failureSnapshot: Record<string, Frame> | undefined;
  failing = 0;

  constructor(
    readonly def: Definition | undefined,
    readonly exec: ExecutionState,
    readonly env: InterpreterEnv,
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

  stateOf(frame: Frame): State {
    const machine = resolveMachine(this.def as Definition, frame.machine);
    return machine.States[frame.state] as State;
  }

  /** The frame's current state's query language: its own, its machine's, or the definition's. */
  jsonata(frame: Frame): boolean {
    const state = this.stateOf(frame) as State & { QueryLanguage?: string };
    const machine = resolveMachine(this.def as Definition, frame.machine) as Machine & { QueryLanguage?: string };
    return (state.QueryLanguage ?? machine.QueryLanguage ?? (this.def as Definition).QueryLanguage) === 'JSONata';
  }

  scope(frame: Frame, states: JsonObject = {}, context: JsonObject = {}): JsonataScope {
    return { states: { input: frame.input, context: this.context(frame, context), ...states }, variables: frame.vars ?? {}, uuid: this.env.uuid, random: this.env.random };
  }

  /** Output and Assign of a JSONata state (or catcher, or choice rule), both from the same scope. */
  outputAndAssign(frame: Frame, fields: JsonObject, scope: JsonataScope, fallback: Json): Json {
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
  setVariables(frame: Frame, assigned: JsonObject): void {
    if (Object.keys(assigned).length > 0) frame.vars = { ...(frame.vars ?? {}), ...assigned };
  }

  pathEnv(frame: Frame, extra: JsonObject = {}): PathEnv {
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
      if (this.jsonata(frame)) return enterJsonata(this, frame, state);
      return enterJsonPath(this, frame, state);
    } catch (error) {
      if (error instanceof StatesError) return this.fail(frame, error.failure);
      throw error;
    }
  }

  /** A state finished with `output`: go to Next, or end the frame. */
  leave(frame: Frame, output: Json, kind: string, end = false, next?: string): void {
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
    branchSucceeded(this, frame, output);
  }

  /**
   * A JSONPath Task, Parallel or Map state's output from its result; its Assign reads the result after
   * ResultSelector as `$`.
   */
  jsonPathOutput(frame: Frame, state: TaskState | ParallelState | MapState, result: Json): Json {
    const env = this.pathEnv(frame);
    let assigned: JsonObject = {};
    const output = stateOutput(state, frame.input, result, env, (selected) => {
      assigned = evaluateJsonPathAssign(state.Assign, selected, env);
    });
    this.setVariables(frame, assigned);
    return output;
  }

  /** A task's outcome (task-state.ts). */
  completeTask(frameId: string, attempt: number, outcome: TaskOutcomeEvent, timedOut = false): void {
    completeTask(this, frameId, attempt, outcome, timedOut);
  }

  /** A failure of the frame's current state: Retry, then Catch, then the frame fails (retry-catch.ts). */
  fail(frame: Frame, failure: StatesFailure): void {
    fail(this, frame, failure);
  }

  /** The frame failed for good: the execution fails, or the parent's state does (retry-catch.ts). */
  failFrame(frame: Frame, failure: StatesFailure): void {
    failFrame(this, frame, failure);
  }
}
