/**
 * Parallel and Map states: their branches and iterations are child frames of the frame that entered the
 * state. A Map starts at most MaxConcurrency iterations at a time (the next as one ends) and tolerates
 * the failures ToleratedFailureCount / ToleratedFailurePercentage allow; a Parallel fails with its first
 * failed branch. When every child has ended, the state leaves with their results in order.
 */
import type { MapState, ParallelState } from './definition.js';
import { StatesError, StatesErrors, type StatesFailure } from './errors.js';
import type { Frame } from './execution-state.js';
import { applySelectPath, applyTemplate, effectiveInput } from './io.js';
import type { Json, JsonObject } from './json.js';
import { evaluateTemplate } from './jsonata.js';
import type { Run } from './run.js';

export function parallel(run: Run, frame: Frame, state: ParallelState): void {
  startBranches(run, frame, state, effectiveInput(state, frame.input, run.pathEnv(frame)));
}

export function startBranches(run: Run, frame: Frame, state: ParallelState, input: Json): void {
  frame.effective = input;
  frame.phase = 'children';
  frame.results = state.Branches.map(() => null);
  frame.lastEventId = run.event(frame.lastEventId, 'ParallelStateStarted');
  frame.children = state.Branches.map((branch, index) =>
    run.newFrame({ parent: frame.id, index, machine: [...frame.machine, 'States', frame.state, 'Branches', index], state: branch.StartAt, input, lastEventId: frame.lastEventId, ...(frame.vars ? { vars: frame.vars } : {}) }).id,
  );
}

export function map(run: Run, frame: Frame, state: MapState): void {
  const env = run.pathEnv(frame);
  const input = applySelectPath('InputPath', state.InputPath, frame.input, env);
  const items = applySelectPath('ItemsPath', state.ItemsPath ?? '$', input, env);
  if (!Array.isArray(items)) throw new StatesError(StatesErrors.Runtime, `Map state '${frame.state}': ItemsPath must select an array`);
  delete frame.maxConcurrency;
  if (state.MaxConcurrencyPath !== undefined) {
    // Read once, when the state starts: the limit holds for every iteration, as MaxConcurrency does.
    const limit = applySelectPath('MaxConcurrencyPath', state.MaxConcurrencyPath, input, env);
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
      throw new StatesError(StatesErrors.Runtime, `Map state '${frame.state}': ${state.MaxConcurrencyPath} does not reference a non-negative integer`);
    frame.maxConcurrency = limit;
  }
  startMap(run, frame, state, input, items);
}

export function startMap(run: Run, frame: Frame, state: MapState, input: Json, items: Json[]): void {
  frame.effective = input;
  frame.phase = 'children';
  frame.items = items;
  frame.nextItem = 0;
  frame.failures = 0;
  frame.results = items.map(() => null);
  frame.children = [];
  frame.lastEventId = run.event(frame.lastEventId, 'MapStateStarted', 'mapStateStartedEventDetails', { length: items.length });
  if (items.length === 0) return finishChildren(run, frame);
  startItems(run, frame, state);
}

function startItems(run: Run, frame: Frame, state: MapState): void {
  const items = frame.items as Json[];
  const max = frame.maxConcurrency ?? state.MaxConcurrency;
  const limit = max && max > 0 ? max : Number.POSITIVE_INFINITY;
  const children = frame.children as string[];
  while ((frame.nextItem as number) < items.length && children.length < limit) {
    const index = frame.nextItem as number;
    frame.nextItem = index + 1;
    const value = items[index] as Json;
    const item = { Map: { Item: { Index: index, Value: value } } };
    const itemInput =
      state.ItemSelector === undefined
        ? value
        : run.jsonata(frame)
          ? evaluateTemplate(state.ItemSelector, run.scope(frame, {}, item), 'ItemSelector')
          : applyTemplate('ItemSelector', state.ItemSelector, frame.effective ?? null, run.pathEnv(frame, item));
    const started = run.event(frame.lastEventId, 'MapIterationStarted', 'mapIterationStartedEventDetails', { name: frame.state, index });
    const child = run.newFrame({ parent: frame.id, index, machine: [...frame.machine, 'States', frame.state, 'ItemProcessor'], state: state.ItemProcessor.StartAt, input: itemInput, lastEventId: started, ...(frame.vars ? { vars: frame.vars } : {}) });
    children.push(child.id);
  }
}

function finishChildren(run: Run, frame: Frame): void {
  const state = run.stateOf(frame) as ParallelState | MapState;
  const kind = state.Type;
  frame.lastEventId = run.event(frame.lastEventId, `${kind}StateSucceeded`);
  const results = frame.results as Json[];
  delete frame.results;
  delete frame.children;
  delete frame.items;
  delete frame.maxConcurrency;
  delete frame.effective;
  try {
    const output = run.jsonata(frame)
      ? run.outputAndAssign(frame, state as unknown as JsonObject, run.scope(frame, { result: results }), results)
      : run.jsonPathOutput(frame, state, results);
    run.leave(frame, output, kind);
  } catch (error) {
    if (!(error instanceof StatesError)) throw error;
    run.fail(frame, error.failure);
  }
}

/** A branch or iteration ended with `output`: its parent records it, starts the next item, or finishes. */
export function branchSucceeded(run: Run, frame: Frame, output: Json): void {
  const parent = run.exec.frames[frame.parent as string];
  if (!parent) return;
  (parent.results as (Json | null)[])[frame.index as number] = output;
  parent.children = (parent.children ?? []).filter((id) => id !== frame.id);
  const parentState = run.stateOf(parent);
  if (parentState.Type === 'Map') {
    parent.lastEventId = run.event(frame.lastEventId, 'MapIterationSucceeded', 'mapIterationSucceededEventDetails', { name: parent.state, index: frame.index as number });
    startItems(run, parent, parentState);
  }
  if (parent.children.length === 0 && (parentState.Type !== 'Map' || (parent.nextItem as number) >= (parent.items as Json[]).length)) finishChildren(run, parent);
}

/**
 * A branch or iteration failed for good: a Map within its tolerated failures records the error as the
 * item's result and goes on; otherwise the Map or Parallel state fails (Retry, Catch, ...).
 */
export function branchFailed(run: Run, frame: Frame, failure: StatesFailure): void {
  const parent = run.exec.frames[frame.parent as string];
  if (!parent) return;
  const parentState = run.stateOf(parent);
  if (parentState.Type === 'Map') {
    parent.lastEventId = run.event(frame.lastEventId, 'MapIterationFailed', 'mapIterationFailedEventDetails', { name: parent.state, index: frame.index as number });
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
      startItems(run, parent, parentState);
      if (parent.children.length === 0 && (parent.nextItem as number) >= total) finishChildren(run, parent);
      return;
    }
    parent.lastEventId = run.event(parent.lastEventId, 'MapStateFailed');
    return run.fail(parent, tolerates ? { error: StatesErrors.ExceedToleratedFailureThreshold, cause: `The Map state '${parent.state}' failed: more failed items than the tolerated threshold` } : failure);
  }
  parent.lastEventId = run.event(frame.lastEventId, 'ParallelStateFailed');
  run.fail(parent, failure);
}
