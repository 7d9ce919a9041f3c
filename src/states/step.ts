/**
 * The interpreter's vocabulary, shared by its parts (interpreter.ts and the run-*.ts modules): what a
 * step returns, the limits it enforces, and how a Task's Resource reads. Pure, no imports of the run.
 */
import type { Machine, MapState, ParallelState, State } from './definition.js';
import { StatesError, StatesErrors } from './errors.js';
import type { TaskInFlight } from './execution-state.js';
import type { HistoryEvent } from './history.js';
import type { Json } from './json.js';

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

/** AWS's quota: an execution's history holds at most 25,000 events; the last one is its failure. */
export const MAX_HISTORY_EVENTS = 25_000;
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`;

/** Thrown by `Run.event` when one more event would leave no room for the execution's failure. */
export class HistoryLimitReached extends Error {}

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

/** Tasks that wait for an answer on a token: `.waitForTaskToken`, and `.sync` (a nested execution's end answers it). */
export function waitsForAnswer(resource: string): boolean {
  return resource.endsWith('.waitForTaskToken') || resource.endsWith('.sync') || resource.endsWith('.sync:2') || isActivity(resource);
}

/** An activity's ARN as a Task's Resource (its history events are Activity*, not Task*). */
export function isActivity(resource: string): boolean {
  return /^arn:aws:states:[^:]*:[^:]*:activity:/.test(resource);
}

export function checkSize(value: Json, what: string): void {
  const text = JSON.stringify(value);
  if (text.length > MAX_PAYLOAD_BYTES / 4 && Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES)
    throw new StatesError(StatesErrors.DataLimitExceeded, `${what} has a size that exceeds the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES})`);
}

export function isMapOrParallel(state: State): state is MapState | ParallelState {
  return state.Type === 'Map' || state.Type === 'Parallel';
}
