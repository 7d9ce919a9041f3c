/** Execution history events as GetExecutionHistory returns them (AWS's types and detail members). */
import type { Json, JsonObject } from './json.js';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  /** The one `...EventDetails` member of the event, by its AWS name (`stateEnteredEventDetails`). */
  detailsKey?: string;
  details?: JsonObject;
}

export type StateKind = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';

export function enteredType(kind: string): string {
  return `${kind}StateEntered`;
}

export function exitedType(kind: string): string {
  return `${kind}StateExited`;
}

/** A payload in history: JSON text, as AWS records it. */
export function payload(value: Json): string {
  return JSON.stringify(value);
}
