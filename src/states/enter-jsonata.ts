/**
 * Entering a state in JSONata (`QueryLanguage: "JSONata"`): Arguments, Output, Assign and `{% %}`
 * expressions over `$states` (jsonata.ts) instead of JSONPath's paths. Pass, Succeed, Fail, Choice and
 * Wait are decided here; Task, Parallel and Map start in task-state.ts and branches.ts. A StatesError
 * thrown here fails the state (run.ts).
 */
import { startBranches, startMap } from './branches.js';
import type { State } from './definition.js';
import { StatesError, StatesErrors } from './errors.js';
import type { Frame } from './execution-state.js';
import type { JsonObject } from './json.js';
import { evaluateTemplate, isJsonataExpression } from './jsonata.js';
import type { Run } from './run.js';
import { waitsForAnswer } from './step.js';
import { schedule } from './task-state.js';

export function enterJsonata(run: Run, frame: Frame, state: State): void {
  const fields = state as unknown as JsonObject;
  const scope = run.scope(frame);
  switch (state.Type) {
    case 'Pass':
      return run.leave(frame, run.outputAndAssign(frame, fields, scope, frame.input), 'Pass');
    case 'Succeed':
      return run.leave(frame, run.outputAndAssign(frame, fields, scope, frame.input), 'Succeed', true);
    case 'Fail': {
      const text = (field: string) => {
        const value = fields[field] === undefined ? undefined : evaluateTemplate(fields[field], scope, field);
        return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
      };
      return run.failFrame(frame, { error: text('Error'), cause: text('Cause') });
    }
    case 'Choice': {
      for (const rule of state.Choices) {
        const condition = typeof rule.Condition === 'boolean' ? rule.Condition : evaluateTemplate(rule.Condition ?? false, scope, 'Condition');
        if (condition !== true) continue;
        const source = rule.Output !== undefined || rule.Assign !== undefined ? rule : fields;
        return run.leave(frame, run.outputAndAssign(frame, source, scope, frame.input), 'Choice', false, rule.Next as string);
      }
      if (state.Default === undefined) throw new StatesError(StatesErrors.NoChoiceMatched, `No Choice Rules matched and no Default was specified in state '${frame.state}'`);
      return run.leave(frame, run.outputAndAssign(frame, fields, scope, frame.input), 'Choice', false, state.Default);
    }
    case 'Wait': {
      let dueAt: number;
      if (fields.Seconds !== undefined) {
        const seconds = evaluateTemplate(fields.Seconds, scope, 'Seconds');
        if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) throw new StatesError(StatesErrors.QueryEvaluationError, 'Seconds must evaluate to a non-negative integer');
        dueAt = run.env.now + seconds * 1000;
      } else {
        const stamp = evaluateTemplate(fields.Timestamp ?? null, scope, 'Timestamp');
        dueAt = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
        if (Number.isNaN(dueAt)) throw new StatesError(StatesErrors.QueryEvaluationError, 'Timestamp must evaluate to an ISO-8601 timestamp');
      }
      frame.input = run.outputAndAssign(frame, fields, scope, frame.input);
      frame.phase = 'wait';
      frame.dueAt = dueAt;
      if (dueAt <= run.env.now) run.leave(frame, frame.input, 'Wait');
      return;
    }
    case 'Task': {
      const token = waitsForAnswer(state.Resource) ? run.env.newToken() : undefined;
      const argScope = run.scope(frame, {}, token ? { Task: { Token: token } } : {});
      const input = fields.Arguments !== undefined ? evaluateTemplate(fields.Arguments, argScope, 'Arguments') : frame.input;
      const seconds = (field: string): number | undefined => {
        if (fields[field] === undefined) return undefined;
        const value = isJsonataExpression(fields[field]) ? evaluateTemplate(fields[field], argScope, field) : fields[field];
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new StatesError(StatesErrors.QueryEvaluationError, `${field} must evaluate to a positive integer`);
        return value;
      };
      return schedule(run, frame, state, input, token, seconds('TimeoutSeconds'), seconds('HeartbeatSeconds'));
    }
    case 'Parallel': {
      const input = fields.Arguments !== undefined ? evaluateTemplate(fields.Arguments, scope, 'Arguments') : frame.input;
      return startBranches(run, frame, state, input);
    }
    case 'Map': {
      const items = fields.Items !== undefined ? evaluateTemplate(fields.Items, scope, 'Items') : frame.input;
      if (!Array.isArray(items)) throw new StatesError(StatesErrors.QueryEvaluationError, `Map state '${frame.state}': Items must be an array`);
      delete frame.maxConcurrency;
      if (isJsonataExpression(fields.MaxConcurrency)) {
        // Evaluated once, when the state starts; the limit then holds for every iteration.
        const limit = evaluateTemplate(fields.MaxConcurrency, scope, 'MaxConcurrency');
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
          throw new StatesError(StatesErrors.QueryEvaluationError, `Map state '${frame.state}': MaxConcurrency must evaluate to a non-negative integer`);
        frame.maxConcurrency = limit;
      }
      return startMap(run, frame, state, frame.input, items);
    }
  }
}
