import { describe, expect, it } from 'vitest';
import { runToEnd as run, testExecutionMeta, type Handler } from '../testkit/state-machine-run.js';
import { parseDefinition, validateDefinition } from './definition.js';
import { retryDelayMs, startExecution } from './interpreter.js';
import type { Json } from './json.js';

const ok = (output: Json): Handler => () => ({ status: 'SUCCEEDED', output });
const failing = (error: string, cause = ''): Handler => () => ({ status: 'FAILED', error, cause });
const F = 'arn:aws:lambda:us-east-1:000000000000:function:f';

describe('state types', () => {
  it('Pass with Result and ResultPath, then Succeed', () => {
    const r = run(
      { StartAt: 'P', States: { P: { Type: 'Pass', Result: { x: 1 }, ResultPath: '$.r', Next: 'S' }, S: { Type: 'Succeed' } } },
      { a: 1 },
    );
    expect(r.state.status).toBe('SUCCEEDED');
    expect(r.state.output).toEqual({ a: 1, r: { x: 1 } });
    expect(r.types).toEqual(['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded']);
    expect(r.events.map((e) => e.previousEventId)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('Choice picks the first matching rule, with And/Not and Path comparisons', () => {
    const def = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { And: [{ Variable: '$.n', NumericGreaterThan: 10 }, { Not: { Variable: '$.kind', StringEquals: 'x' } }], Next: 'Big' },
            { Variable: '$.n', NumericLessThanEqualsPath: '$.limit', Next: 'Small' },
            { Variable: '$.name', StringMatches: 'log-*.txt', Next: 'Log' },
          ],
          Default: 'Other',
        },
        Big: { Type: 'Pass', Result: 'big', End: true },
        Small: { Type: 'Pass', Result: 'small', End: true },
        Log: { Type: 'Pass', Result: 'log', End: true },
        Other: { Type: 'Pass', Result: 'other', End: true },
      },
    };
    expect(run(def, { n: 11, kind: 'y' }).state.output).toBe('big');
    expect(run(def, { n: 11, kind: 'x', limit: 20 }).state.output).toBe('small');
    expect(run(def, { n: 'nan', limit: 20, name: 'log-2026.txt' }).state.output).toBe('log');
    expect(run(def, { n: 'nan', limit: 20, name: 'x' }).state.output).toBe('other');
  });

  it('a Choice rule whose Variable or ...Path operand selects nothing fails the state with States.Runtime; IsPresent tests for it', () => {
    const def = (rule: object) => ({
      StartAt: 'C',
      States: { C: { Type: 'Choice', Choices: [{ ...rule, Next: 'Yes' }], Default: 'No' }, Yes: { Type: 'Pass', Result: 'yes', End: true }, No: { Type: 'Pass', Result: 'no', End: true } },
    });
    const missing = run(def({ Variable: '$.missing', StringEquals: 'x' }), {});
    expect(missing.state.failure).toEqual({ error: 'States.Runtime', cause: "Invalid path '$.missing': The choice state's condition path references an invalid value." });
    expect(run(def({ Variable: '$.n', NumericEqualsPath: '$.other' }), { n: 1 }).state.failure?.error).toBe('States.Runtime');
    // A value of the wrong type is a mismatch, not an error; IsPresent and a Not around it are how to test presence.
    expect(run(def({ Variable: '$.n', StringEquals: 'x' }), { n: 1 }).state.output).toBe('no');
    expect(run(def({ Variable: '$.missing', IsPresent: false }), {}).state.output).toBe('yes');
    expect(run(def({ And: [{ Variable: '$.a', IsPresent: true }, { Variable: '$.a', StringEquals: 'x' }] }), {}).state.output).toBe('no');
  });

  it('Choice with no match and no Default fails with States.NoChoiceMatched', () => {
    const r = run({ StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ Variable: '$.a', IsPresent: true, Next: 'E' }] }, E: { Type: 'Succeed' } } }, {});
    expect(r.state.status).toBe('FAILED');
    expect(r.state.failure?.error).toBe('States.NoChoiceMatched');
  });

  it('Wait for Seconds, SecondsPath, Timestamp and TimestampPath', () => {
    const def = {
      StartAt: 'W1',
      States: {
        W1: { Type: 'Wait', Seconds: 10, Next: 'W2' },
        W2: { Type: 'Wait', SecondsPath: '$.s', Next: 'W3' },
        W3: { Type: 'Wait', Timestamp: '2026-01-01T00:01:00Z', Next: 'W4' },
        W4: { Type: 'Wait', TimestampPath: '$.t', End: true },
      },
    };
    const r = run(def, { s: 5, t: '2026-01-01T00:02:00Z' });
    expect(r.state.status).toBe('SUCCEEDED');
    expect(r.elapsed).toBe(120_000);
    expect(r.types.filter((t) => t === 'WaitStateExited')).toHaveLength(4);
  });

  it('Fail with Error and Cause fails the execution', () => {
    const r = run({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'MyError', Cause: 'because' } } }, {});
    expect(r.state.failure).toEqual({ error: 'MyError', cause: 'because' });
    expect(r.types).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
  });

  it('Fail with ErrorPath and CausePath (an intrinsic)', () => {
    const r = run({ StartAt: 'F', States: { F: { Type: 'Fail', ErrorPath: '$.e', CausePath: "States.Format('bad {}', $.n)" } } }, { e: 'E1', n: 3 });
    expect(r.state.failure).toEqual({ error: 'E1', cause: 'bad 3' });
  });

  it('Task: Parameters, ResultSelector, ResultPath and OutputPath around a Lambda function', () => {
    const r = run(
      {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: F, Parameters: { 'who.$': '$.name' }, ResultSelector: { 'greeting.$': '$.msg' }, ResultPath: '$.result', End: true },
        },
      },
      { name: 'Ann' },
      { [F]: (input) => ({ status: 'SUCCEEDED', output: { msg: `hello ${(input as { who: string }).who}` } }) },
    );
    expect(r.state.output).toEqual({ name: 'Ann', result: { greeting: 'hello Ann' } });
    expect(r.types).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
  });

  it('the context object: Execution, State (RetryCount counts retries), StateMachine, as AWS documents it', () => {
    const r = run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, Parameters: { 'ctx.$': '$$' }, Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 2 }], End: true } } },
      { in: 1 },
      { [F]: (_input, attempt) => (attempt === 1 ? { status: 'FAILED', error: 'Flaky', cause: '' } : { status: 'SUCCEEDED', output: 'ok' }) },
    );
    expect(r.state.status).toBe('SUCCEEDED');
    const [first, second] = r.calls.map((c) => (c.input as { ctx: Json }).ctx);
    const start = new Date(Date.UTC(2026, 0, 1)).toISOString();
    expect(first).toEqual({
      Execution: { Id: testExecutionMeta.executionArn, Input: { in: 1 }, Name: 'e', RoleArn: testExecutionMeta.roleArn, StartTime: start, RedriveCount: 0 },
      State: { EnteredTime: start, Name: 'T', RetryCount: 0 },
      StateMachine: { Id: testExecutionMeta.stateMachineArn, Name: 'm' },
    });
    expect(second).toMatchObject({ State: { Name: 'T', RetryCount: 1 } });
  });

  it('a waitForTaskToken task gets $$.Task.Token in its Parameters', () => {
    const r = run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', Parameters: { QueueUrl: 'q', MessageBody: { 'token.$': '$$.Task.Token' } }, End: true } } },
      {},
    );
    expect(r.calls[0]?.input).toEqual({ QueueUrl: 'q', MessageBody: { token: 'token-1' } });
  });

  it('Parallel runs every branch and outputs their results in order', () => {
    const r = run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 5, Next: 'A2' }, A2: { Type: 'Pass', Result: 'a', End: true } } },
              { StartAt: 'B', States: { B: { Type: 'Task', Resource: F, End: true } } },
            ],
            ResultPath: '$.both',
            End: true,
          },
        },
      },
      { x: 1 },
      { [F]: ok('b') },
    );
    expect(r.state.output).toEqual({ x: 1, both: ['a', 'b'] });
    expect(r.types).toContain('ParallelStateStarted');
    expect(r.types).toContain('ParallelStateSucceeded');
    expect(r.elapsed).toBe(5000);
  });

  it('a failing branch fails the Parallel state, and its Catch handles the error', () => {
    const r = run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 100, End: true } } },
              { StartAt: 'B', States: { B: { Type: 'Fail', Error: 'Boom', Cause: 'b failed' } } },
            ],
            Catch: [{ ErrorEquals: ['Boom'], ResultPath: '$.error', Next: 'Handled' }],
            End: true,
          },
          Handled: { Type: 'Pass', End: true },
        },
      },
      { x: 1 },
    );
    expect(r.state.status).toBe('SUCCEEDED');
    expect(r.state.output).toEqual({ x: 1, error: { Error: 'Boom', Cause: 'b failed' } });
    expect(r.elapsed).toBe(0);
    expect(r.types).toContain('ParallelStateFailed');
  });

  it('Map runs the ItemProcessor per item with ItemSelector and MaxConcurrency', () => {
    const r = run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemsPath: '$.items',
            MaxConcurrency: 2,
            ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'tag.$': '$.tag' },
            ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } },
            ResultPath: '$.out',
            End: true,
          },
        },
      },
      { items: [1, 2, 3], tag: 't' },
      { [F]: (input) => ({ status: 'SUCCEEDED', output: (input as { value: number }).value * 10 }) },
    );
    expect(r.state.output).toEqual({ items: [1, 2, 3], tag: 't', out: [10, 20, 30] });
    expect(r.calls.map((c) => c.input)).toEqual([
      { value: 1, index: 0, tag: 't' },
      { value: 2, index: 1, tag: 't' },
      { value: 3, index: 2, tag: 't' },
    ]);
    expect(r.types.filter((t) => t === 'MapIterationSucceeded')).toHaveLength(3);
  });

  it('Map tolerates failed items up to ToleratedFailureCount, then fails with States.ExceedToleratedFailureThreshold', () => {
    const def = (count: number) => ({
      StartAt: 'M',
      States: { M: { Type: 'Map', ToleratedFailureCount: count, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } }, End: true } },
    });
    const handler: Handler = (input) => ((input as number) % 2 === 0 ? { status: 'FAILED', error: 'Odd', cause: '' } : { status: 'SUCCEEDED', output: input });
    const tolerated = run(def(2), [1, 2, 3, 4], { [F]: handler });
    expect(tolerated.state.status).toBe('SUCCEEDED');
    expect(tolerated.state.output).toEqual([1, { Error: 'Odd', Cause: '' }, 3, { Error: 'Odd', Cause: '' }]);
    const exceeded = run(def(1), [1, 2, 3, 4], { [F]: handler });
    expect(exceeded.state.failure?.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('MaxConcurrencyPath reads the iteration limit from the input: that many items start at once', () => {
    const def = (extra: object) =>
      parseDefinition(JSON.stringify({ StartAt: 'M', States: { M: { Type: 'Map', ItemsPath: '$.items', ...extra, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } }, End: true } } }));
    const env = { now: 0, newToken: () => 't', random: () => 0.5 };
    const started = (extra: object, input: Json) => startExecution(def(extra), testExecutionMeta, input, env);
    expect(started({ MaxConcurrencyPath: '$.limit' }, { items: [1, 2, 3, 4, 5], limit: 2 }).step.tasks).toHaveLength(2);
    expect(started({ MaxConcurrencyPath: '$.limit' }, { items: [1, 2, 3], limit: 0 }).step.tasks).toHaveLength(3);
    expect(started({ MaxConcurrency: 1 }, { items: [1, 2, 3] }).step.tasks).toHaveLength(1);
    const bad = started({ MaxConcurrencyPath: '$.limit' }, { items: [1], limit: 'two' });
    expect(bad.state.failure?.error).toBe('States.Runtime');
    // The limit holds for every iteration, not only the first ones: the run ends with every result.
    const r = run({ StartAt: 'M', States: { M: { Type: 'Map', ItemsPath: '$.items', MaxConcurrencyPath: '$.limit', ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } }, End: true } } }, { items: [1, 2, 3, 4, 5], limit: 2 });
    expect(r.state.output).toEqual([1, 2, 3, 4, 5]);
    expect(validateDefinition(JSON.stringify({ StartAt: 'M', States: { M: { Type: 'Map', MaxConcurrency: 1, MaxConcurrencyPath: '$.n', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } } })).map((d) => d.message)).toContain(
      'MaxConcurrency and MaxConcurrencyPath are exclusive',
    );
  });

  it('an empty Map outputs []', () => {
    const r = run({ StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } } }, []);
    expect(r.state.output).toEqual([]);
  });
});

describe('Retry and Catch', () => {
  it('retries with IntervalSeconds × BackoffRate^n, then succeeds', () => {
    const r = run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 3 }], End: true } } },
      {},
      { [F]: (_input, n) => (n < 3 ? { status: 'FAILED', error: 'Flaky', cause: '' } : { status: 'SUCCEEDED', output: 'ok' }) },
    );
    expect(r.state.output).toBe('ok');
    expect(r.calls.map((c) => c.at - Date.UTC(2026, 0, 1))).toEqual([0, 2000, 8000]);
  });

  it('gives up after MaxAttempts and fails with the task’s error', () => {
    const r = run({ StartAt: 'T', States: { T: { Type: 'Task', Resource: F, Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2 }], End: true } } }, {}, { [F]: failing('Flaky', 'c') });
    expect(r.calls).toHaveLength(3);
    expect(r.state.failure).toEqual({ error: 'Flaky', cause: 'c' });
  });

  it('MaxAttempts 0 never retries; the first matching retrier is the one used', () => {
    const r = run(
      {
        StartAt: 'T',
        States: { T: { Type: 'Task', Resource: F, Retry: [{ ErrorEquals: ['E'], MaxAttempts: 0 }, { ErrorEquals: ['States.ALL'], MaxAttempts: 5 }], End: true } },
      },
      {},
      { [F]: failing('E') },
    );
    expect(r.calls).toHaveLength(1);
  });

  it('MaxDelaySeconds caps the interval and JitterStrategy FULL draws from [0, interval)', () => {
    expect(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 10, BackoffRate: 2, MaxDelaySeconds: 15 }, 3, () => 0.5)).toBe(15_000);
    expect(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 10, BackoffRate: 2, JitterStrategy: 'FULL' }, 1, () => 0.25)).toBe(5000);
  });

  it('retries first, then catches with the error output at ResultPath', () => {
    const r = run(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: F,
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 1 }],
            Catch: [{ ErrorEquals: ['Other'], Next: 'No' }, { ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'Yes' }],
            End: true,
          },
          No: { Type: 'Fail' },
          Yes: { Type: 'Pass', End: true },
        },
      },
      { in: 1 },
      { [F]: failing('Boom', 'why') },
    );
    expect(r.calls).toHaveLength(2);
    expect(r.state.output).toEqual({ in: 1, err: { Error: 'Boom', Cause: 'why' } });
  });

  it('States.TaskFailed does not match States.Timeout; a task times out after TimeoutSeconds', () => {
    const r = run(
      {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: F, TimeoutSeconds: 5, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Failed' }, { ErrorEquals: ['States.Timeout'], Next: 'Late' }], End: true },
          Failed: { Type: 'Pass', Result: 'failed', End: true },
          Late: { Type: 'Pass', Result: 'late', End: true },
        },
      },
      {},
      { [F]: () => 'hang' },
    );
    expect(r.state.output).toBe('late');
    expect(r.elapsed).toBe(5000);
    expect(r.types).toContain('LambdaFunctionTimedOut');
  });

  it('TimeoutSecondsPath and HeartbeatSecondsPath read the deadlines from the state input', () => {
    const r = run({ StartAt: 'T', States: { T: { Type: 'Task', Resource: F, TimeoutSecondsPath: '$.limit', End: true } } }, { limit: 7 }, { [F]: () => 'hang' });
    expect(r.state.failure?.error).toBe('States.Timeout');
    expect(r.elapsed).toBe(7000);
    const token = parseDefinition(
      JSON.stringify({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', TimeoutSecondsPath: '$.t', HeartbeatSecondsPath: '$.h', Parameters: { QueueUrl: 'q', 'MessageBody.$': '$$.Task.Token' }, End: true } } }),
    );
    const started = startExecution(token, testExecutionMeta, { t: 60, h: 10 }, { now: 0, newToken: () => 'tok', random: () => 0.5 });
    expect(started.step.tasks[0]?.task).toMatchObject({ timeoutSeconds: 60, heartbeatSeconds: 10, token: 'tok' });
    const bad = run({ StartAt: 'T', States: { T: { Type: 'Task', Resource: F, TimeoutSecondsPath: '$.limit', End: true } } }, { limit: 'soon' });
    expect(bad.state.failure?.error).toBe('States.Runtime');
  });

  it('ToleratedFailurePercentage: failed items up to the percentage are tolerated, then States.ExceedToleratedFailureThreshold', () => {
    const def = (percent: number) => ({
      StartAt: 'M',
      States: { M: { Type: 'Map', ToleratedFailurePercentage: percent, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } }, End: true } },
    });
    const handler: Handler = (input) => ((input as number) <= 1 ? { status: 'FAILED', error: 'Low', cause: '' } : { status: 'SUCCEEDED', output: input });
    // One failed item of four is 25%.
    expect(run(def(25), [1, 2, 3, 4], { [F]: handler }).state.status).toBe('SUCCEEDED');
    expect(run(def(20), [1, 2, 3, 4], { [F]: handler }).state.failure?.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('States.ALL does not catch States.Runtime (a Parameters path that selects nothing)', () => {
    const r = run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, Parameters: { 'x.$': '$.missing' }, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'C' }], End: true }, C: { Type: 'Succeed' } } },
      {},
    );
    expect(r.state.status).toBe('FAILED');
    expect(r.state.failure?.error).toBe('States.Runtime');
  });

  it('a result over 256 KiB fails with States.DataLimitExceeded', () => {
    const r = run({ StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } }, {}, { [F]: ok('x'.repeat(300_000)) });
    expect(r.state.failure?.error).toBe('States.DataLimitExceeded');
  });

  it('the machine’s TimeoutSeconds times the execution out', () => {
    const r = run({ TimeoutSeconds: 3, StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 10, End: true } } }, {});
    expect(r.state.status).toBe('TIMED_OUT');
    expect(r.types.slice(-2)).toEqual(['WaitStateAborted', 'ExecutionTimedOut']);
  });
});

describe('the history limit', () => {
  it('an execution whose history reaches 25,000 events fails as AWS fails it: event 25,000 is ExecutionFailed (States.Runtime)', () => {
    // A Choice looping forever (two events per turn), as AWS's own reproduction does.
    const r = run({ StartAt: 'Loop', States: { Loop: { Type: 'Choice', Choices: [{ Variable: '$.spin', BooleanEquals: true, Next: 'Loop' }], Default: 'End' }, End: { Type: 'Succeed' } } }, { spin: true });
    expect(r.state.status).toBe('FAILED');
    expect(r.state.failure).toEqual({ error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (25000).' });
    expect(r.events).toHaveLength(25_000);
    const [beforeLast, last] = r.events.slice(-2);
    expect(last).toMatchObject({ id: 25_000, previousEventId: 24_999, type: 'ExecutionFailed', details: { error: 'States.Runtime' } });
    expect(beforeLast).toMatchObject({ id: 24_999, type: 'ChoiceStateExited' });
    expect(Object.keys(r.state.frames)).toHaveLength(0);
  });

  it('the limit can fall inside a step that schedules tasks (a Parallel of three in a loop)', () => {
    // A Parallel of three tasks in a loop: a step schedules several tasks, so the limit falls inside one.
    const F = 'arn:aws:lambda:us-east-1:000000000000:function:f';
    const branch = (n: number) => ({ StartAt: `T${n}`, States: { [`T${n}`]: { Type: 'Task', Resource: F, End: true } } });
    const r = run({ StartAt: 'P', States: { P: { Type: 'Parallel', Branches: [branch(1), branch(2), branch(3)], Next: 'P' } } }, {}, { [F]: () => ({ status: 'SUCCEEDED', output: {} }) }, { maxSteps: 20_000 });
    expect(r.state.failure?.cause).toContain('25000');
    expect(r.events.at(-1)).toMatchObject({ id: 25_000, type: 'ExecutionFailed' });
    expect(r.events.map((e) => e.id)).toEqual(Array.from({ length: 25_000 }, (_, i) => i + 1));
    expect(Object.keys(r.state.frames)).toHaveLength(0);
  });
});
