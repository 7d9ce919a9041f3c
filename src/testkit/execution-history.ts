/**
 * Test support: what every finished execution's history must look like, however its nodes died, as
 * AWS records it. Returns the broken rules (empty: the history is well formed):
 * - ids 1..n without gaps, each previousEventId an earlier event;
 * - ExecutionStarted first, exactly one terminal event, last, matching the execution's status;
 * - no transition applied twice: an event has at most one successor (previousEventId pointing at it),
 *   except a Parallel or Map state's start, which fans out to its branches; so a function's
 *   LambdaFunctionScheduled has one LambdaFunctionStarted, which has at most one outcome.
 */
const terminal: Record<string, string> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};
const fansOut = new Set(['ParallelStateStarted', 'MapStateStarted', 'MapIterationStarted']);

export interface CheckedEvent {
  id: number;
  previousEventId: number;
  type: string;
}

export function historyViolations(status: string, events: CheckedEvent[]): string[] {
  const broken: string[] = [];
  events.forEach((e, i) => {
    if (e.id !== i + 1) broken.push(`event #${i + 1} has id ${e.id}`);
    if (!(e.previousEventId < e.id)) broken.push(`event ${e.id} follows ${e.previousEventId}, not an earlier event`);
  });
  if (events[0]?.type !== 'ExecutionStarted') broken.push(`the first event is ${events[0]?.type}`);
  const ends = events.filter((e) => e.type in terminal);
  if (ends.length !== 1) broken.push(`${ends.length} terminal events: ${ends.map((e) => e.type).join(', ')}`);
  else {
    if (events.at(-1) !== ends[0]) broken.push(`the terminal event ${ends[0]!.id} is not the last`);
    if (terminal[ends[0]!.type] !== status) broken.push(`ends with ${ends[0]!.type} but the status is ${status}`);
  }
  const typeOf = new Map(events.map((e) => [e.id, e.type]));
  const successors = new Map<number, number[]>();
  for (const e of events) if (e.id > 1 || e.previousEventId > 0) successors.set(e.previousEventId, [...(successors.get(e.previousEventId) ?? []), e.id]);
  for (const [id, next] of successors) {
    const type = typeOf.get(id);
    if (next.length > 1 && !fansOut.has(type ?? '')) broken.push(`${type} ${id} has ${next.length} successors (${next.join(', ')}): a transition applied twice`);
  }
  for (const e of events) {
    if (e.type !== 'LambdaFunctionScheduled') continue;
    const started = (successors.get(e.id) ?? []).filter((id) => typeOf.get(id) === 'LambdaFunctionStarted');
    if (started.length !== 1) broken.push(`LambdaFunctionScheduled ${e.id} has ${started.length} LambdaFunctionStarted`);
  }
  return broken;
}
