import { describe, expect, it } from 'vitest';
import { historyViolations } from './execution-history.js';

const good = [
  { id: 1, previousEventId: 0, type: 'ExecutionStarted' },
  { id: 2, previousEventId: 1, type: 'TaskStateEntered' },
  { id: 3, previousEventId: 2, type: 'LambdaFunctionScheduled' },
  { id: 4, previousEventId: 3, type: 'LambdaFunctionStarted' },
  { id: 5, previousEventId: 4, type: 'LambdaFunctionSucceeded' },
  { id: 6, previousEventId: 5, type: 'TaskStateExited' },
  { id: 7, previousEventId: 6, type: 'ExecutionSucceeded' },
];

describe('the history checker of the crash tests', () => {
  it('accepts a well-formed history', () => {
    expect(historyViolations('SUCCEEDED', good)).toEqual([]);
  });

  it('finds a task outcome applied twice, a gap, a second end and a wrong status', () => {
    const twice = [...good.slice(0, 5), { id: 6, previousEventId: 4, type: 'LambdaFunctionSucceeded' }, { id: 7, previousEventId: 6, type: 'ExecutionSucceeded' }];
    expect(historyViolations('SUCCEEDED', twice)).toEqual([expect.stringContaining('a transition applied twice')]);
    expect(historyViolations('SUCCEEDED', good.filter((e) => e.id !== 4))[0]).toMatch(/has id 5/);
    expect(historyViolations('SUCCEEDED', [...good, { id: 8, previousEventId: 7, type: 'ExecutionFailed' }])).toContain('2 terminal events: ExecutionSucceeded, ExecutionFailed');
    expect(historyViolations('FAILED', good)).toEqual(['ends with ExecutionSucceeded but the status is FAILED']);
  });

  it('allows a Parallel state to fan out to its branches', () => {
    const parallel = [
      { id: 1, previousEventId: 0, type: 'ExecutionStarted' },
      { id: 2, previousEventId: 1, type: 'ParallelStateEntered' },
      { id: 3, previousEventId: 2, type: 'ParallelStateStarted' },
      { id: 4, previousEventId: 3, type: 'PassStateEntered' },
      { id: 5, previousEventId: 3, type: 'PassStateEntered' },
      { id: 6, previousEventId: 5, type: 'ExecutionSucceeded' },
    ];
    expect(historyViolations('SUCCEEDED', parallel)).toEqual([]);
  });
});
