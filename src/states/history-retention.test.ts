/**
 * On SQLite and PostgreSQL: the 25,000-event history limit as AWS enforces it (the execution fails,
 * event 25,000 being ExecutionFailed with States.Runtime), and the retention of finished executions
 * (`executionRetentionSeconds`: purged after it, by a timer armed when one ends; null keeps them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock, settle } from '../model/clock.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { describePostgres, openTestStore } from '../testkit/postgres.js';

const throwing = (error: unknown) => {
  throw error;
};

async function advanceUntil(clock: ManualClock, condition: () => Promise<boolean>, stepMs: number, maxSteps = 100): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i >= maxSteps) throw new Error('condition still false');
    await clock.advance(stepMs);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function suite(name: string, openBackend: () => Promise<Store>) {
  describe(`execution history limit and retention [${name}]`, () => {
    let sluice: Sluice | undefined;
    afterEach(async () => {
      await sluice?.close({ graceMs: 100 });
      sluice = undefined;
    });
    async function open(options: { executionRetentionSeconds?: number | null } = {}) {
      const clock = new ManualClock();
      const store = await openBackend();
      sluice = await Sluice.open({ store, clock, onBackgroundError: throwing, ...options });
      return { clock, store, machines: sluice.stateMachines };
    }

    it('an execution whose history reaches 25,000 events fails with States.Runtime; event 25,000 is stored as ExecutionFailed', async () => {
      const { machines, store } = await open();
      await machines.create({ name: 'spin', definition: { StartAt: 'Loop', States: { Loop: { Type: 'Choice', Choices: [{ Variable: '$.spin', BooleanEquals: true, Next: 'Loop' }], Default: 'End' }, End: { Type: 'Succeed' } } } });
      const { executionArn } = await machines.startExecution('spin', { input: { spin: true } });
      expect(await machines.describeExecution(executionArn)).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (25000).' });
      const last = await machines.history(executionArn, { reverseOrder: true, maxResults: 2 });
      expect(last.events.map((e) => [e.id, e.previousEventId, e.type])).toEqual([[25_000, 24_999, 'ExecutionFailed'], [24_999, 24_998, 'ChoiceStateExited']]);
      expect(await store.executionHistory({ arn: executionArn, reverse: false, afterId: 24_000, limit: 2_000 })).toHaveLength(1_000);
    }, 60_000);

    it('executionRetentionSeconds purges a finished execution and its history after that long, on a timer armed when it ended', async () => {
      const { machines, store, clock } = await open({ executionRetentionSeconds: 60 });
      await machines.create({ name: 'm', definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } });
      const ended = clock.now();
      const { executionArn } = await machines.startExecution('m');
      await clock.advance(59_000);
      await settle();
      expect((await machines.describeExecution(executionArn)).status).toBe('SUCCEEDED');
      await advanceUntil(clock, async () => (await store.executionGet({ arn: executionArn })) === undefined, 500);
      expect(await store.executionHistory({ arn: executionArn, reverse: false, limit: 10 })).toEqual([]);
      expect(clock.now() - ended).toBeLessThan(125_000);
    });

    it('null keeps finished executions (no purge timer at all)', async () => {
      const { machines, clock } = await open({ executionRetentionSeconds: null });
      await machines.create({ name: 'm', definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } });
      const { executionArn } = await machines.startExecution('m');
      await settle();
      expect(clock.pendingTimers).toBe(0);
      await clock.advance(400 * 86_400_000);
      expect((await machines.describeExecution(executionArn)).status).toBe('SUCCEEDED');
    });

    it('refuses a retention out of range before opening a store', async () => {
      await expect(Sluice.open({ store: 'sqlite::memory:', executionRetentionSeconds: 0 })).rejects.toMatchObject({ code: 'InvalidParameterValue', field: 'executionRetentionSeconds' });
    });
  });
}

suite('sqlite', () => openStore('sqlite::memory:'));
describePostgres('execution history limit and retention on PostgreSQL', () => {
  suite('postgres', () => openTestStore());
});
