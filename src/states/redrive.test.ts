/**
 * RedriveExecution on SQLite and PostgreSQL, with AWS's rules: a FAILED, TIMED_OUT or ABORTED STANDARD
 * execution that ended less than 14 days ago runs again from the states that failed (same ARN, input
 * and definition), keeping the results of the states, branches and items that succeeded; RedriveCount
 * grows; RUNNING, SUCCEEDED, expired and history-full executions are ExecutionNotRedrivable.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { describePostgres, openTestStore } from '../testkit/postgres.js';
import { useStateMachineNode } from '../testkit/state-machine-node.js';

const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
function suite(name: string, openBackend: () => Promise<Store>) {
  describe(`RedriveExecution [${name}]`, () => {
    const { open } = useStateMachineNode(openBackend);

    it('resumes from the failed state with its input; the states before it do not run again; RedriveCount is in $$', async () => {
      const { sluice, machines, ended } = await open();
      let healthy = false;
      const calls: unknown[] = [];
      await sluice.functions.create({
        name: 'flaky',
        handler: async (event: unknown) => {
          calls.push(event);
          if (!healthy) throw Object.assign(new Error('down'), { name: 'Down' });
          return 'ok';
        },
      });
      await machines.create({
        name: 'm',
        definition: {
          StartAt: 'Prep',
          States: {
            Prep: { Type: 'Pass', Parameters: { 'n.$': '$.n', prepared: true }, Next: 'Call' },
            Call: { Type: 'Task', Resource: fn('flaky'), Retry: [{ ErrorEquals: ['Down'], MaxAttempts: 1, IntervalSeconds: 1 }], ResultPath: '$.r', Next: 'Count' },
            Count: { Type: 'Pass', Parameters: { 'r.$': '$.r', 'redrives.$': '$$.Execution.RedriveCount' }, End: true },
          },
        },
      });
      const { executionArn } = await machines.startExecution('m', { name: 'once', input: { n: 1 } });
      expect(await ended(executionArn)).toMatchObject({ status: 'FAILED', error: 'Down', redriveStatus: 'REDRIVABLE', redriveCount: 0 });
      expect(calls).toHaveLength(2);
      healthy = true;
      await machines.redriveExecution(executionArn);
      const done = await ended(executionArn);
      expect(done).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ r: 'ok', redrives: 1 }), redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven' });
      expect(done.redriveDate).toBeInstanceOf(Date);
      // The failed task ran again with the input it had (fresh retries: one call sufficed); Prep did not run again.
      expect(calls).toHaveLength(3);
      expect(calls[2]).toEqual({ n: 1, prepared: true });
      const types = (await machines.history(executionArn)).events.map((e) => e.type);
      expect(types.filter((t) => t === 'PassStateEntered')).toHaveLength(2);
      expect(types.slice(types.indexOf('ExecutionFailed'))).toEqual([
        'ExecutionFailed', 'ExecutionRedriven', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded',
      ]);
      const redriven = (await machines.history(executionArn)).events.find((e) => e.type === 'ExecutionRedriven');
      expect(redriven?.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
      // ListExecutions' redriveFilter reads the stored redrive count.
      const other = await machines.startExecution('m', { name: 'never', input: { n: 2 } });
      await ended(other.executionArn);
      expect((await machines.listExecutions('m', { redriveFilter: 'REDRIVEN' })).executions.map((e) => e.name)).toEqual(['once']);
      expect((await machines.listExecutions('m', { redriveFilter: 'NOT_REDRIVEN' })).executions.map((e) => e.name)).toEqual(['never']);
      expect((await machines.listExecutions('m', { redriveFilter: 'REDRIVEN', statusFilter: 'SUCCEEDED' })).executions.map((e) => e.name)).toEqual(['once']);
    });

    it('a Parallel state redrives only the branch that failed; the other keeps its result', async () => {
      const { sluice, machines, ended } = await open();
      let healthy = false;
      let steady = 0;
      await sluice.functions.create({ name: 'steady', handler: async () => `steady ${++steady}` });
      await sluice.functions.create({
        name: 'flaky',
        handler: async () => {
          if (!healthy) throw Object.assign(new Error('down'), { name: 'Down' });
          return 'flaky ok';
        },
      });
      await machines.create({
        name: 'par',
        definition: {
          StartAt: 'P',
          States: {
            P: {
              Type: 'Parallel',
              End: true,
              Branches: [
                { StartAt: 'A', States: { A: { Type: 'Task', Resource: fn('steady'), End: true } } },
                { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, Next: 'B' }, B: { Type: 'Task', Resource: fn('flaky'), End: true } } },
              ],
            },
          },
        },
      });
      const { executionArn } = await machines.startExecution('par');
      expect((await ended(executionArn)).status).toBe('FAILED');
      healthy = true;
      await machines.redriveExecution(executionArn);
      expect(await ended(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify(['steady 1', 'flaky ok']) });
      expect(steady).toBe(1);
    });

    it('an ABORTED execution redrives from the state it was stopped in', async () => {
      const { machines, ended, clock } = await open();
      await machines.create({ name: 'w', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 5, Next: 'Done' }, Done: { Type: 'Pass', Result: 'done', End: true } } } });
      const { executionArn } = await machines.startExecution('w');
      await machines.stopExecution(executionArn, { error: 'Manual' });
      expect((await machines.describeExecution(executionArn)).redriveStatus).toBe('REDRIVABLE');
      await machines.redriveExecution(executionArn);
      await clock.advance(5_000);
      expect(await ended(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: '"done"' });
    });

    it("a repeated clientToken answers its redrive's date again and redrives nothing, for 15 minutes", async () => {
      const { machines, clock } = await open();
      await machines.create({ name: 'bad', definition: { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'E' } } } });
      const { executionArn } = await machines.startExecution('bad');
      const redrives = async () => (await machines.history(executionArn, { maxResults: 1000 })).events.filter((e) => e.type === 'ExecutionRedriven').length;
      const first = await machines.redriveExecution(executionArn, { clientToken: 'T1' });
      expect(await machines.describeExecution(executionArn)).toMatchObject({ status: 'FAILED', redriveCount: 1 });
      await clock.advance(1_000);
      expect(await machines.redriveExecution(executionArn, { clientToken: 'T1' })).toEqual(first);
      expect(await machines.describeExecution(executionArn)).toMatchObject({ redriveCount: 1 });
      expect(await redrives()).toBe(1);
      // Another token is another redrive.
      const second = await machines.redriveExecution(executionArn, { clientToken: 'T2' });
      expect(second.redriveDate.getTime()).toBe(first.redriveDate.getTime() + 1_000);
      expect(await redrives()).toBe(2);
      // Fifteen minutes after its redrive, T1 is a new request.
      await clock.advance(15 * 60_000);
      expect((await machines.redriveExecution(executionArn, { clientToken: 'T1' })).redriveDate.getTime()).toBe(first.redriveDate.getTime() + 1_000 + 15 * 60_000);
      expect(await machines.describeExecution(executionArn)).toMatchObject({ redriveCount: 3 });
    });

    it('while the redriven execution runs, its clientToken answers again; another token, or none, is refused', async () => {
      const { machines } = await open();
      await machines.create({ name: 'w', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 60, End: true } } } });
      const { executionArn } = await machines.startExecution('w');
      await machines.stopExecution(executionArn);
      const first = await machines.redriveExecution(executionArn, { clientToken: 'retry-me' });
      expect((await machines.describeExecution(executionArn)).status).toBe('RUNNING');
      expect(await machines.redriveExecution(executionArn, { clientToken: 'retry-me' })).toEqual(first);
      const refusal = { code: 'ExecutionNotRedrivable', message: expect.stringContaining('Execution is RUNNING') };
      await expect(machines.redriveExecution(executionArn, { clientToken: 'other' })).rejects.toMatchObject(refusal);
      await expect(machines.redriveExecution(executionArn)).rejects.toMatchObject(refusal);
    });

    it('answers again for the last 10 clientTokens only; a clientToken outside 1-64 characters is a ValidationException', async () => {
      const { machines } = await open();
      await machines.create({ name: 'bad', definition: { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'E' } } } });
      const { executionArn } = await machines.startExecution('bad');
      for (let i = 0; i < 11; i++) await machines.redriveExecution(executionArn, { clientToken: `t${i}` });
      await machines.redriveExecution(executionArn, { clientToken: 't1' });
      expect(await machines.describeExecution(executionArn)).toMatchObject({ redriveCount: 11 });
      await machines.redriveExecution(executionArn, { clientToken: 't0' });
      expect(await machines.describeExecution(executionArn)).toMatchObject({ redriveCount: 12 });
      for (const clientToken of ['', 'x'.repeat(65)])
        await expect(machines.redriveExecution(executionArn, { clientToken })).rejects.toMatchObject({ code: 'ValidationException', field: 'clientToken' });
    });

    it('refuses RUNNING, SUCCEEDED, ended over 14 days ago and history-full executions with ExecutionNotRedrivable', async () => {
      const { machines, clock } = await open();
      await machines.create({ name: 'wait', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 100, End: true } } } });
      await machines.create({ name: 'ok', definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } });
      await machines.create({ name: 'bad', definition: { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'E' } } } });
      await machines.create({ name: 'spin', definition: { StartAt: 'L', States: { L: { Type: 'Choice', Choices: [{ Variable: '$.s', BooleanEquals: true, Next: 'L' }], Default: 'E' }, E: { Type: 'Succeed' } } } });
      const running = await machines.startExecution('wait');
      const ok = await machines.startExecution('ok');
      const bad = await machines.startExecution('bad');
      const full = await machines.startExecution('spin', { input: { s: true } });
      const refusal = (reason: string) => ({ code: 'ExecutionNotRedrivable', message: expect.stringContaining(reason) });
      await expect(machines.redriveExecution(running.executionArn)).rejects.toMatchObject(refusal('Execution is RUNNING'));
      await expect(machines.redriveExecution(ok.executionArn)).rejects.toMatchObject(refusal('Execution is SUCCEEDED'));
      await expect(machines.redriveExecution(full.executionArn)).rejects.toMatchObject(refusal('Execution history event limit exceeded'));
      expect(await machines.describeExecution(bad.executionArn)).toMatchObject({ redriveStatus: 'REDRIVABLE' });
      await clock.advance(14 * 86_400_000 + 1_000);
      await expect(machines.redriveExecution(bad.executionArn)).rejects.toMatchObject(refusal('Execution redrivable period exceeded'));
      expect(await machines.describeExecution(bad.executionArn)).toMatchObject({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded' });
    }, 60_000);
  });
}

suite('sqlite', () => openStore('sqlite::memory:'));
describePostgres('RedriveExecution on PostgreSQL', () => {
  suite('postgres', () => openTestStore());
});
