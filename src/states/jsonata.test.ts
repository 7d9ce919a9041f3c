import { describe, expect, it } from 'vitest';
import { runToEnd as run, testExecutionMeta } from '../testkit/state-machine-run.js';
import { parseDefinition, validateDefinition } from './definition.js';
import { startExecution } from './interpreter.js';

const F = 'arn:aws:lambda:us-east-1:000000000000:function:f';
const jsonata = (states: object, startAt = Object.keys(states)[0]) => ({ QueryLanguage: 'JSONata', StartAt: startAt, States: states });

describe('JSONata states', () => {
  it('Pass computes Output from $states.input; Assign sets variables read later as $name', () => {
    const r = run(
      jsonata({
        A: { Type: 'Pass', Assign: { total: '{% $sum($states.input.prices) %}', who: '{% $states.input.customer %}' }, Output: '{% $states.input.prices %}', Next: 'B' },
        B: { Type: 'Pass', Output: { summary: "{% 'Total for ' & $who & ': ' & $string($total) %}", count: '{% $count($states.input) %}' }, End: true },
      }),
      { prices: [10, 20, 5], customer: 'Ann' },
    );
    expect(r.state.output).toEqual({ summary: 'Total for Ann: 35', count: 3 });
  });

  it('Task: Arguments build the input ($states.context.Task.Token too); Output and Assign read $states.result', () => {
    const r = run(
      jsonata({
        T: {
          Type: 'Task',
          Resource: F,
          Arguments: { orderId: '{% $states.input.id %}', literal: 'kept as is', execution: '{% $states.context.Execution.Name %}' },
          Output: { charged: '{% $states.result.amount %}', id: '{% $states.input.id %}' },
          Assign: { lastAmount: '{% $states.result.amount %}' },
          Next: 'U',
        },
        U: { Type: 'Pass', Output: '{% $lastAmount * 2 %}', End: true },
      }),
      { id: 7 },
      { [F]: (input) => ({ status: 'SUCCEEDED', output: { amount: 21, got: input } }) },
    );
    expect(r.calls[0]?.input).toEqual({ orderId: 7, literal: 'kept as is', execution: 'e' });
    expect(r.state.output).toBe(42);
  });

  it('Choice rules use Condition; the first true one wins, Default otherwise', () => {
    const def = jsonata({
      C: {
        Type: 'Choice',
        Choices: [
          { Condition: '{% $states.input.n > 10 %}', Next: 'Big', Output: { size: 'big' } },
          { Condition: "{% $states.input.kind = 'x' %}", Next: 'X' },
        ],
        Default: 'Other',
      },
      Big: { Type: 'Succeed' },
      X: { Type: 'Pass', Output: 'x', End: true },
      Other: { Type: 'Pass', Output: 'other', End: true },
    });
    expect(run(def, { n: 11 }).state.output).toEqual({ size: 'big' });
    expect(run(def, { n: 1, kind: 'x' }).state.output).toBe('x');
    expect(run(def, { n: 1 }).state.output).toBe('other');
  });

  it('Wait for Seconds given by an expression', () => {
    const r = run(jsonata({ W: { Type: 'Wait', Seconds: '{% $states.input.delay %}', End: true } }), { delay: 7 });
    expect(r.elapsed).toBe(7000);
  });

  it('Map over Items with ItemSelector reading $states.context.Map.Item', () => {
    const r = run(
      jsonata({
        M: {
          Type: 'Map',
          Items: '{% $states.input.orders %}',
          ItemSelector: { index: '{% $states.context.Map.Item.Index %}', value: '{% $states.context.Map.Item.Value %}' },
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', Output: '{% $states.input.value * 10 + $states.input.index %}', End: true } } },
          Output: '{% $sum($states.result) %}',
          End: true,
        },
      }),
      { orders: [1, 2, 3] },
    );
    expect(r.state.output).toBe(63);
  });

  it('Map MaxConcurrency may be an expression: that many items start at once', () => {
    const machine = (limit: unknown) =>
      jsonata({ M: { Type: 'Map', Items: '{% $states.input.items %}', MaxConcurrency: limit, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: F, End: true } } }, End: true } });
    expect(validateDefinition(JSON.stringify(machine('{% $states.input.limit %}')))).toEqual([]);
    const def = parseDefinition(JSON.stringify(machine('{% $states.input.limit %}')));
    const env = { now: 0, newToken: () => 't', random: () => 0.5 };
    expect(startExecution(def, testExecutionMeta, { items: [1, 2, 3, 4, 5], limit: 2 }, env).step.tasks).toHaveLength(2);
    expect(startExecution(def, testExecutionMeta, { items: [1, 2, 3], limit: 0 }, env).step.tasks).toHaveLength(3);
    expect(startExecution(def, testExecutionMeta, { items: [1], limit: -1 }, env).state.failure?.error).toBe('States.QueryEvaluationError');
    expect(run(machine('{% $states.input.limit %}'), { items: [1, 2, 3, 4, 5], limit: 2 }).state.output).toEqual([1, 2, 3, 4, 5]);
    expect(validateDefinition(JSON.stringify(machine('two'))).map((d) => d.location)).toEqual(['/States/M/MaxConcurrency']);
  });

  it('the functions Step Functions adds to JSONata: $partition, $range, $hash, $random, $uuid, $parse', () => {
    const r = run(
      jsonata({
        P: {
          Type: 'Pass',
          Output: {
            partition: '{% $partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 4) %}',
            range: '{% $range(0, 10, 2) %}',
            hash: "{% $hash('input data', 'SHA-1') %}",
            seeded: '{% $random(7) = $random(7) %}',
            random: '{% $random() >= 0 and $random() < 1 %}',
            uuid: '{% $uuid() %}',
            parse: '{% $parse($states.input.text).foo %}',
          },
          End: true,
        },
      }),
      { text: '{"foo": "bar"}' },
    );
    expect(r.state.output).toEqual({
      partition: [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
      range: [0, 2, 4, 6, 8, 10],
      hash: 'aaff4a450a104cd177d28d18d74485e8cae074b7',
      seeded: true,
      random: true,
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      parse: 'bar',
    });
    const bad = run(jsonata({ P: { Type: 'Pass', Output: "{% $hash('x', 'CRC32') %}", End: true } }), {});
    expect(bad.state.failure?.error).toBe('States.QueryEvaluationError');
  });

  it('Parallel Arguments feed the branches; Output reads $states.result', () => {
    const r = run(
      jsonata({
        P: {
          Type: 'Parallel',
          Arguments: { x: '{% $states.input.x %}' },
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Pass', Output: '{% $states.input.x + 1 %}', End: true } } },
            { StartAt: 'B', States: { B: { Type: 'Pass', Output: '{% $states.input.x * 2 %}', End: true } } },
          ],
          Output: '{% $states.result[0] + $states.result[1] %}',
          End: true,
        },
      }),
      { x: 5 },
    );
    expect(r.state.output).toBe(16);
  });

  it('Catch Output reads $states.errorOutput; Fail takes Error and Cause from expressions', () => {
    const caught = run(
      jsonata({
        T: { Type: 'Task', Resource: F, Catch: [{ ErrorEquals: ['States.ALL'], Output: { failed: '{% $states.errorOutput.Error %}' }, Next: 'Done' }], End: true },
        Done: { Type: 'Succeed' },
      }),
      {},
      { [F]: () => ({ status: 'FAILED', error: 'Boom', cause: 'x' }) },
    );
    expect(caught.state.output).toEqual({ failed: 'Boom' });
    const failed = run(jsonata({ F: { Type: 'Fail', Error: "{% 'E' & $states.input.code %}", Cause: '{% $states.input.why %}' } }), { code: 42, why: 'no' });
    expect(failed.state.failure).toEqual({ error: 'E42', cause: 'no' });
  });

  it('an expression that fails to evaluate fails the state with States.QueryEvaluationError', () => {
    const r = run(jsonata({ P: { Type: 'Pass', Output: '{% $number("x") %}', End: true } }), {});
    expect(r.state.failure?.error).toBe('States.QueryEvaluationError');
  });

  it('an expression that returns nothing (undefined) fails the state, naming the field as AWS does', () => {
    const r = run(jsonata({ P: { Type: 'Pass', Output: { v: { w: ['{% $states.input.absent %}'] } }, End: true } }), {});
    expect(r.state.failure).toEqual({
      error: 'States.QueryEvaluationError',
      cause: "The JSONata expression '$states.input.absent' specified for the field 'Output/v/w[0]' returned nothing (undefined).",
    });
    // null is a value: it is written as null.
    expect(run(jsonata({ P: { Type: 'Pass', Output: { v: '{% $states.input.n %}' }, End: true } }), { n: null }).state.output).toEqual({ v: null });
  });

  it('validation refuses JSONPath fields in JSONata states and expressions that do not compile', () => {
    const diagnostics = validateDefinition(
      JSON.stringify(jsonata({ P: { Type: 'Pass', ResultPath: '$.x', Output: '{% $states.input. %}', End: true } })),
    );
    expect(diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: '/States/P/ResultPath' }),
        expect.objectContaining({ location: '/States/P/Output', message: expect.stringContaining('JSONata expression is not valid') }),
      ]),
    );
    expect(validateDefinition(JSON.stringify(jsonata({ C: { Type: 'Choice', Choices: [{ Variable: '$.a', IsNull: true, Next: 'C' }] } })))).toContainEqual(
      expect.objectContaining({ location: '/States/C/Choices[0]/Variable' }),
    );
  });

  it('a JSONPath machine may have a JSONata state', () => {
    const r = run({ StartAt: 'A', States: { A: { Type: 'Pass', Result: { n: 2 }, Next: 'B' }, B: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input.n * 3 %}', End: true } } }, {});
    expect(r.state.output).toBe(6);
  });
});
