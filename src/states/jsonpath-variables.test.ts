/**
 * Workflow variables in JSONPath states (Assign, `$name` paths), as AWS's variables page describes them:
 * Assign on Pass, Task, Choice (state or rule), Wait, Parallel, Map and Catch; `name.$` values are paths
 * or intrinsic functions; a state's assignments take effect when it ends (all read the variables as they
 * were when it was entered); Parallel branches and Map iterations read the outer variables but what
 * they assign stays inside; a variable is read with `$name` in any path field; ResultPath cannot name one.
 */
import { describe, expect, it } from 'vitest';
import { runToEnd as run, type Handler } from '../testkit/state-machine-run.js';
import { parseDefinition } from './definition.js';
import type { Json } from './json.js';

const F = 'arn:aws:lambda:us-east-1:000000000000:function:f';
const ok = (output: Json): Handler => () => ({ status: 'SUCCEEDED', output });

describe('JSONPath workflow variables', () => {
  it('Pass assigns static values, paths over its result and intrinsics; later states read $name in their paths', () => {
    const r = run(
      {
        StartAt: 'Set',
        States: {
          Set: { Type: 'Pass', Result: { id: 7, tags: ['a', 'b'] }, ResultPath: '$.r', Assign: { limit: 3, 'id.$': '$.id', 'count.$': 'States.ArrayLength($.tags)', 'who.$': '$$.Execution.Name' }, Next: 'Use' },
          Use: { Type: 'Pass', Parameters: { 'id.$': '$id', 'limit.$': '$limit', 'count.$': '$count', 'who.$': '$who', 'greeting.$': "States.Format('{} of {}', $id, $limit)" }, End: true },
        },
      },
      { x: 1 },
    );
    expect(r.state.status).toBe('SUCCEEDED');
    expect(r.state.output).toEqual({ id: 7, limit: 3, count: 2, who: expect.any(String), greeting: '7 of 3' });
  });

  it('every value of one Assign reads the variables as they were when the state was entered', () => {
    const r = run(
      {
        StartAt: 'A',
        States: {
          A: { Type: 'Pass', Assign: { x: 1 }, Next: 'B' },
          B: { Type: 'Pass', Assign: { x: 2, 'previous.$': '$x' }, Next: 'C' },
          C: { Type: 'Pass', Parameters: { 'x.$': '$x', 'previous.$': '$previous' }, End: true },
        },
      },
      {},
    );
    expect(r.state.output).toEqual({ x: 2, previous: 1 });
  });

  it('a Task assigns from its result after ResultSelector; a Catch from its error output', () => {
    const r = run(
      {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: F, ResultSelector: { 'total.$': '$.sum' }, Assign: { 'total.$': '$.total' }, ResultPath: null, Next: 'Boom' },
          Boom: { Type: 'Task', Resource: `${F}:boom`, Catch: [{ ErrorEquals: ['States.ALL'], Assign: { 'why.$': '$.Error' }, ResultPath: null, Next: 'Out' }], End: true },
          Out: { Type: 'Pass', Parameters: { 'total.$': '$total', 'why.$': '$why' }, End: true },
        },
      },
      {},
      { [F]: ok({ sum: 42 }), [`${F}:boom`]: () => ({ status: 'FAILED', error: 'Nope', cause: '' }) },
    );
    expect(r.state.output).toEqual({ total: 42, why: 'Nope' });
  });

  it('Choice: the matched rule’s Assign, else the state’s; Variable may be a variable; Wait reads SecondsPath from one', () => {
    const def = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { 'n.$': '$.n', pause: 5 }, Next: 'C' },
        C: {
          Type: 'Choice',
          Choices: [{ Variable: '$n', NumericGreaterThan: 10, Assign: { size: 'big' }, Next: 'W' }],
          Default: 'W',
          Assign: { size: 'small' },
        },
        W: { Type: 'Wait', SecondsPath: '$pause', Assign: { waited: true }, Next: 'Out' },
        Out: { Type: 'Pass', Parameters: { 'size.$': '$size', 'waited.$': '$waited' }, End: true },
      },
    };
    const big = run(def, { n: 11 });
    expect(big.state.output).toEqual({ size: 'big', waited: true });
    expect(big.elapsed).toBeGreaterThanOrEqual(5_000);
    expect(run(def, { n: 1 }).state.output).toEqual({ size: 'small', waited: true });
  });

  it('Parallel branches and Map iterations read outer variables; what they assign stays inside; the state’s own Assign reads its result', () => {
    const r = run(
      {
        StartAt: 'Init',
        States: {
          Init: { Type: 'Pass', Assign: { base: 10, inner: 'outer' }, Next: 'P' },
          P: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'B1', States: { B1: { Type: 'Pass', Assign: { inner: 'branch' }, Parameters: { 'v.$': '$base' }, Next: 'B2' }, B2: { Type: 'Pass', Parameters: { 'inner.$': '$inner' }, End: true } } },
            ],
            Assign: { 'fromBranch.$': '$[0].inner' },
            ResultPath: null,
            Next: 'M',
          },
          M: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', Parameters: { 'item.$': '$', 'base.$': '$base' }, Assign: { inner: 'iteration' }, End: true } } },
            Assign: { 'mapped.$': 'States.ArrayLength($)' },
            ResultPath: '$.mapped',
            Next: 'Out',
          },
          Out: { Type: 'Pass', Parameters: { 'inner.$': '$inner', 'fromBranch.$': '$fromBranch', 'mapped.$': '$mapped', 'results.$': '$.mapped' }, End: true },
        },
      },
      { items: [1, 2] },
    );
    expect(r.state.output).toEqual({ inner: 'outer', fromBranch: 'branch', mapped: 2, results: [{ item: 1, base: 10 }, { item: 2, base: 10 }] });
  });

  it('reading a variable never assigned fails the state with States.Runtime', () => {
    const r = run({ StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { 'x.$': '$missing' }, End: true } } }, {});
    expect(r.state.status).toBe('FAILED');
    expect(r.state.failure?.error).toBe('States.Runtime');
  });

  it('validation: Assign must be an object of valid names; ResultPath cannot name a variable; Succeed and Fail take no Assign', () => {
    const bad = (state: object) => () => parseDefinition(JSON.stringify({ StartAt: 'S', States: { S: state } }));
    expect(bad({ Type: 'Pass', Assign: { '1x': 1 }, End: true })).toThrow(/'1x' is not a valid variable name.*\/States\/S\/Assign\/1x/);
    expect(bad({ Type: 'Pass', Assign: { states: 1 }, End: true })).toThrow(/'states' is not a valid variable name/);
    expect(bad({ Type: 'Pass', Assign: [1], End: true })).toThrow(/Assign must be an object/);
    expect(bad({ Type: 'Pass', Assign: { 'x.$': 'not a path' }, End: true })).toThrow(/must be a valid JSONPath/);
    expect(bad({ Type: 'Pass', ResultPath: '$x', End: true })).toThrow(/ResultPath/);
    expect(bad({ Type: 'Succeed', Assign: { x: 1 } })).toThrow(/The field 'Assign' is not supported/);
    expect(() => parseDefinition(JSON.stringify({ StartAt: 'S', States: { S: { Type: 'Wait', SecondsPath: '$pause', Assign: { 'a.$': '$b.c[0]' }, End: true } } }))).not.toThrow();
  });
});
