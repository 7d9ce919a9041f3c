/**
 * Test support: runs an execution through the pure interpreter to its end, answering tasks with
 * handlers by resource and jumping the clock to each due instant, and returns its state, events and the
 * task calls made.
 */
import { parseDefinition, type Definition } from '../states/definition.js';
import type { ExecutionState } from '../states/execution-state.js';
import type { HistoryEvent } from '../states/history.js';
import { advanceExecution, completeTask, nextDueAt, startExecution, type TaskOutcomeEvent } from '../states/interpreter.js';
import type { Json } from '../states/json.js';

export const testExecutionMeta = {
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:e',
  name: 'e',
  stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
  stateMachineName: 'm',
  roleArn: 'arn:aws:iam::000000000000:role/sluice',
  region: 'us-east-1',
};

export type Handler = (input: Json, attempt: number) => TaskOutcomeEvent | 'hang';

/** Runs an execution to its end: tasks answered by `handlers` (by resource), time jumping to each due instant. */
export function runToEnd(definition: object, input: Json, handlers: Record<string, Handler> = {}, options: { maxSteps?: number } = {}) {
  const def: Definition = parseDefinition(JSON.stringify(definition));
  let now = Date.UTC(2026, 0, 1);
  let tokens = 0;
  const env = () => ({ now, newToken: () => `token-${++tokens}`, random: () => 0.5 });
  const started = startExecution(def, testExecutionMeta, input, env());
  const state: ExecutionState = started.state;
  const events: HistoryEvent[] = [...started.step.events];
  let pending = [...started.step.tasks];
  const calls: { resource: string; input: Json; at: number }[] = [];
  const attempts = new Map<string, number>();
  for (let i = 0; i < (options.maxSteps ?? 1000) && state.status === 'RUNNING'; i++) {
    const task = pending.shift();
    if (task) {
      const key = `${task.frameId}:${task.stateName}`;
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      calls.push({ resource: task.task.resource, input: task.task.input, at: now });
      const handler = handlers[task.task.resource];
      const outcome = handler ? handler(task.task.input, n) : ({ status: 'SUCCEEDED', output: task.task.input } as const);
      if (outcome === 'hang') continue;
      const step = completeTask(def, state, task.frameId, task.task.attempt, outcome, env());
      events.push(...step.events);
      pending.push(...step.tasks);
      continue;
    }
    const due = nextDueAt(state);
    if (due === undefined) break;
    now = Math.max(now, due);
    const step = advanceExecution(def, state, env());
    events.push(...step.events);
    pending = [...pending, ...step.tasks];
  }
  return { state, events, calls, types: events.map((e) => e.type), elapsed: now - Date.UTC(2026, 0, 1) };
}

