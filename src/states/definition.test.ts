import { describe, expect, it } from 'vitest';
import { parseDefinition, validateDefinition } from './definition.js';

const valid = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };

describe('definition validation', () => {
  it('accepts a minimal machine', () => {
    expect(validateDefinition(JSON.stringify(valid))).toEqual([]);
  });

  it.each([
    ['not JSON', '{', 'INVALID_JSON_DESCRIPTION', '/'],
    ['a missing StartAt target', { StartAt: 'X', States: { A: { Type: 'Pass', End: true } } }, 'MISSING_TRANSITION_TARGET', '/StartAt'],
    ['a missing Next target', { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } }, 'MISSING_TRANSITION_TARGET', '/States/A/Next'],
    ['neither Next nor End', { StartAt: 'A', States: { A: { Type: 'Pass' } } }, 'MISSING_TRANSITION_TARGET', '/States/A'],
    ['an unknown type', { StartAt: 'A', States: { A: { Type: 'Nope' } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/Type'],
    ['an unknown field', { StartAt: 'A', States: { A: { Type: 'Pass', End: true, Foo: 1 } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/Foo'],
    ['an unreachable state', { StartAt: 'A', States: { A: { Type: 'Pass', End: true }, B: { Type: 'Pass', End: true } } }, 'MISSING_TRANSITION_TARGET', '/States/B'],
    ['a bad reference path', { StartAt: 'A', States: { A: { Type: 'Pass', ResultPath: '$.a[*]', End: true } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/ResultPath'],
    ['a bad Parameters path', { StartAt: 'A', States: { A: { Type: 'Pass', Parameters: { 'x.$': 'nope' }, End: true } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/Parameters/x.$'],
    ['an unknown intrinsic', { StartAt: 'A', States: { A: { Type: 'Pass', Parameters: { 'x.$': 'States.Nope(1)' }, End: true } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/Parameters/x.$'],
    [
      'States.ALL not last',
      { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:0:function:f', Retry: [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['E'] }], End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/A/Retry[0]/ErrorEquals',
    ],
    ['a Wait with two durations', { StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 1, Timestamp: '2026-01-01T00:00:00Z', End: true } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A'],
    ['a Choice rule without Next', { StartAt: 'A', States: { A: { Type: 'Choice', Choices: [{ Variable: '$.a', IsNull: true }] } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/Choices[0]'],
    [
      'a bad state inside a Parallel branch',
      { StartAt: 'P', States: { P: { Type: 'Parallel', Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass', Next: 'Y' } } }], End: true } } },
      'MISSING_TRANSITION_TARGET',
      '/States/P/Branches[0]/States/X/Next',
    ],
    ['HeartbeatSeconds not below TimeoutSeconds', { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:0:function:f', TimeoutSeconds: 5, HeartbeatSeconds: 5, End: true } } }, 'SCHEMA_VALIDATION_FAILED', '/States/A/HeartbeatSeconds'],
    [
      'a Distributed Map (INLINE only)',
      { StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/M/ItemProcessor/ProcessorConfig/Mode',
    ],
    [
      'a Distributed Map in JSONata',
      { QueryLanguage: 'JSONata', StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } } },
      'SCHEMA_VALIDATION_FAILED',
      '/States/M/ItemProcessor/ProcessorConfig/Mode',
    ],
    ['an unknown query language', { QueryLanguage: 'XPath', StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }, 'SCHEMA_VALIDATION_FAILED', '/QueryLanguage'],
  ])('reports %s with its location', (_name, definition, code, location) => {
    const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
    const diagnostics = validateDefinition(text);
    expect(diagnostics).toContainEqual(expect.objectContaining({ severity: 'ERROR', code, location }));
  });

  it('parseDefinition throws InvalidDefinition naming the problem', () => {
    expect(() => parseDefinition(JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } }))).toThrow(
      expect.objectContaining({ code: 'InvalidDefinition', message: expect.stringContaining("Missing 'Next' target: B at /States/A/Next") }),
    );
  });

  it('normalises the legacy Map spelling (Iterator, Parameters)', () => {
    const def = parseDefinition(
      JSON.stringify({ StartAt: 'M', States: { M: { Type: 'Map', Parameters: { 'v.$': '$$.Map.Item.Value' }, Iterator: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } } }),
    );
    expect(def.States.M).toMatchObject({ ItemSelector: { 'v.$': '$$.Map.Item.Value' }, ItemProcessor: { StartAt: 'P' } });
  });
});
