/**
 * Property: executions whose tasks fail or hang at random, on nodes that die at random (leaving their
 * leases and tasks in flight), each end exactly once,
 * with the history AWS would record: ids 1..n without gaps, each previousEventId an earlier event, one
 * ExecutionStarted first and one terminal event last, matching the execution's final status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock } from '../model/clock.js';
import { openStore } from '../store/open.js';

const definition = {
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:flaky',
      Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['Fatal'], ResultPath: '$.error', Next: 'Recover' }],
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 2, Next: 'Both' },
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:flaky', Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1 }], End: true } } },
        { StartAt: 'B', States: { B: { Type: 'Pass', End: true } } },
      ],
      End: true,
    },
    Recover: { Type: 'Pass', End: true },
  },
};

const terminal = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);
const statusOf: Record<string, string> = { ExecutionSucceeded: 'SUCCEEDED', ExecutionFailed: 'FAILED', ExecutionTimedOut: 'TIMED_OUT', ExecutionAborted: 'ABORTED' };

describe('executions under failing tasks and dying nodes', () => {
  it('each end exactly once with a well-formed history', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('ok', 'ok', 'Transient', 'Fatal', 'Other', 'hang'), { minLength: 20, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 3 }),
        async (outcomes, killSteps) => {
          const dir = mkdtempSync(join(tmpdir(), 'sluice-states-prop-'));
          const clock = new ManualClock();
          const path = join(dir, 'db.sqlite');
          let call = 0;
          const nodes: Sluice[] = [];
          const open = async () => {
            const node = await Sluice.open({ store: await openStore(`sqlite:${path}`), clock, onBackgroundError: () => undefined });
            await node.functions.create({
              name: 'flaky',
              handler: async (event: unknown) => {
                const outcome = outcomes[call++ % outcomes.length];
                if (outcome === 'ok') return event;
                // A hung handler runs into the function's timeout (3 s) unless its node dies first.
                if (outcome === 'hang') return new Promise(() => undefined);
                const error = new Error(`outcome ${call}`);
                error.name = outcome as string;
                throw error;
              },
            });
            nodes.push(node);
            return node;
          };
          try {
            const first = await open();
            await first.stateMachines.create({ name: 'm', definition });
            const arns: string[] = [];
            for (let i = 0; i < 4; i++) arns.push((await first.stateMachines.startExecution('m', { name: `e${i}`, input: { i } })).executionArn);
            const live = () => nodes.filter((n) => !(n as unknown as { dead?: boolean }).dead);
            for (let step = 0; step < 60; step++) {
              if (killSteps.includes(step) && live().length > 0) {
                const victim = live()[0]!;
                (victim as unknown as { dead?: boolean }).dead = true;
                await victim.stateMachines.runner.stop(Date.now());
                await open();
              }
              // Nodes on one SQLite file in one process do not hear each other's notifications: poke them.
              for (const node of live()) node.stateMachines.runner.scheduleWake();
              await clock.advance(1_000);
            }
            await clock.advance(120_000);
            for (const node of live()) node.stateMachines.runner.scheduleWake();
            await clock.advance(120_000);
            const reader = live()[0]!;
            for (const arn of arns) {
              const execution = await reader.stateMachines.describeExecution(arn);
              const { events } = await reader.stateMachines.history(arn, { maxResults: 1000 });
              expect(execution.status).not.toBe('RUNNING');
              expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
              for (const e of events) expect(e.previousEventId).toBeLessThan(e.id);
              expect(events[0]?.type).toBe('ExecutionStarted');
              const ends = events.filter((e) => terminal.has(e.type));
              expect(ends).toHaveLength(1);
              expect(events.at(-1)).toBe(ends[0]);
              expect(statusOf[ends[0]!.type]).toBe(execution.status);
            }
          } finally {
            for (const node of nodes) await node.close({ graceMs: 50 }).catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
