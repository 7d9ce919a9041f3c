/**
 * EXPRESS state machines with AWS's semantics, on SQLite and PostgreSQL: StartSyncExecution (EXPRESS
 * only) answers with the outcome; names may repeat; describe, history, stop and list refuse Express
 * executions (AWS records none); the store keeps no history for them and drops their row a minute after
 * they end; they run for at most five minutes; `.waitForTaskToken` and `.sync` are refused; a
 * synchronous execution runs at most once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock, settle } from '../model/clock.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../testkit/postgres.js';
import { gate } from '../testkit/engine.js';
import { EXPRESS_RESULT_RETENTION_MS } from './service.js';

const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const pass = { StartAt: 'P', States: { P: { Type: 'Pass', Result: { ok: true }, ResultPath: '$.r', End: true } } };
const throwing = (error: unknown) => {
  throw error;
};

/** Waits (real time: PostgreSQL answers asynchronously) until `condition` holds. */
async function eventually(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition still false');
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Moves the manual clock in steps, with real pauses between (PostgreSQL answers asynchronously, so a
 * timer may be armed a little after the store is read), until `condition` holds.
 */
async function advanceUntil(clock: ManualClock, condition: () => boolean | Promise<boolean>, stepMs = 1_000, maxSteps = 400): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i >= maxSteps) throw new Error('condition still false');
    await clock.advance(stepMs);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Two stores on the same database (two nodes), and how to drop it. */
interface Backend {
  name: string;
  open(): Promise<{ stores: () => Promise<Store>; cleanup: () => Promise<void> }>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-express-'));
    return { stores: () => openStore(`sqlite:${join(dir, 'db.sqlite')}`), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const schema = freshSchemaName();
    return { stores: () => openTestStore({ schema, dropSchemaOnClose: false }), cleanup: () => dropSchema(schema) };
  },
};

function suite(backend: Backend) {
  describe(`EXPRESS state machines [${backend.name}]`, () => {
    let clock: ManualClock;
    let sluice: Sluice;
    let store: Store;
    let cleanup: () => Promise<void>;
    let stores: () => Promise<Store>;
    beforeEach(async () => {
      ({ stores, cleanup } = await backend.open());
      clock = new ManualClock();
      store = await stores();
      sluice = await Sluice.open({ store, clock, onBackgroundError: throwing });
    });
    afterEach(async () => {
      await sluice.close({ graceMs: 100 });
      await cleanup();
    });
    const machines = () => sluice.stateMachines;

    it('StartSyncExecution answers with the outcome; the store keeps no history and drops the row a minute after the end', async () => {
      const { stateMachineArn } = await machines().create({ name: 'fast', type: 'EXPRESS', definition: pass });
      const done = await machines().startSyncExecution(stateMachineArn, { name: 'run', input: '{"x":1}' });
      expect(done).toMatchObject({ status: 'SUCCEEDED', name: 'run', output: '{"x":1,"r":{"ok":true}}', input: '{"x":1}' });
      expect(done.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:express:fast:run:[0-9a-f-]{36}$/);
      expect(await store.executionHistory({ arn: done.executionArn, reverse: false, limit: 100 })).toEqual([]);
      expect(await store.executionGet({ arn: done.executionArn })).toBeDefined();
      await clock.advance(EXPRESS_RESULT_RETENTION_MS - 1_000);
      expect(await store.executionGet({ arn: done.executionArn })).toBeDefined();
      await advanceUntil(clock, async () => (await store.executionGet({ arn: done.executionArn })) === undefined, 100, 100);
    });

    it('a failure is an answer, not an error; names may repeat (each start is a new execution)', async () => {
      const { stateMachineArn } = await machines().create({ name: 'boom', type: 'EXPRESS', definition: { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Bad', Cause: 'why' } } } });
      const first = await machines().startSyncExecution(stateMachineArn, { name: 'same' });
      const second = await machines().startSyncExecution(stateMachineArn, { name: 'same' });
      expect(first).toMatchObject({ status: 'FAILED', error: 'Bad', cause: 'why', name: 'same' });
      expect(second.status).toBe('FAILED');
      expect(second.executionArn).not.toBe(first.executionArn);
    });

    it('describe, history and stop refuse Express executions; ListExecutions refuses the machine', async () => {
      const { stateMachineArn } = await machines().create({ name: 'quiet', type: 'EXPRESS', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 10, End: true } } } });
      const { executionArn } = await machines().startExecution(stateMachineArn);
      expect(executionArn).toContain(':express:quiet:');
      for (const call of [() => machines().describeExecution(executionArn), () => machines().history(executionArn), () => machines().stopExecution(executionArn), () => machines().describeStateMachineForExecution(executionArn)])
        await expect(call()).rejects.toMatchObject({ code: 'InvalidArn', message: expect.stringContaining('Resource type not valid in this context: express') });
      await expect(machines().listExecutions(stateMachineArn)).rejects.toMatchObject({ code: 'StateMachineTypeNotSupported', field: 'stateMachineArn' });
      // The asynchronous execution still runs to its end.
      await advanceUntil(clock, async () => (await store.executionGet({ arn: executionArn }))?.status === 'SUCCEEDED');
    });

    it('StartSyncExecution on a STANDARD machine is StateMachineTypeNotSupported; startAndWait serves both', async () => {
      const { stateMachineArn } = await machines().create({ name: 'std', definition: pass });
      await expect(machines().startSyncExecution(stateMachineArn)).rejects.toMatchObject({ code: 'StateMachineTypeNotSupported' });
      expect((await machines().startAndWait(stateMachineArn)).status).toBe('SUCCEEDED');
    });

    it('refuses .waitForTaskToken and .sync in an Express definition, naming where; nothing is stored', async () => {
      const definition = {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [{ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', Parameters: { QueueUrl: 'q', 'MessageBody.$': '$$.Task.Token' }, End: true } } }],
            End: true,
          },
        },
      };
      await expect(machines().create({ name: 'cb', type: 'EXPRESS', definition })).rejects.toMatchObject({
        code: 'InvalidDefinition',
        message: expect.stringContaining("Express state machine does not support the '.waitForTaskToken' service integration pattern at /States/P/Branches[0]/States/T/Resource"),
      });
      expect(await store.stateMachineGet({ name: 'cb' })).toBeUndefined();
      await machines().create({ name: 'ok', type: 'EXPRESS', definition: pass });
      const nested = { StartAt: 'N', States: { N: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: 'x' }, End: true } } };
      await expect(machines().update('ok', { definition: nested })).rejects.toMatchObject({ code: 'InvalidDefinition', message: expect.stringContaining("'.sync:2'") });
      // The same definition is fine for a STANDARD machine.
      await machines().create({ name: 'cb', definition });
    });

    it('an Express execution runs for at most five minutes: TIMED_OUT with States.Timeout', async () => {
      const { stateMachineArn } = await machines().create({ name: 'slow', type: 'EXPRESS', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 600, End: true } } } });
      const started = clock.now();
      let done = false;
      const pending = machines().startSyncExecution(stateMachineArn).finally(() => (done = true));
      await eventually(async () => (await store.executionList({ stateMachineArn, limit: 1 })).length === 1);
      await advanceUntil(clock, () => done);
      const result = await pending;
      expect(result).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      // Ended at five minutes (the Wait asked for ten), by the execution's own dates. The stop date is
      // when a node handled the timeout: the manual clock moves a second per step while PostgreSQL's
      // round trips take real time, so under load it lands some steps late (310 s seen once).
      const ran = result.stopDate!.getTime() - result.startDate.getTime();
      expect(ran).toBeGreaterThanOrEqual(300_000);
      expect(ran).toBeLessThan(360_000);
      expect(clock.now() - started).toBeGreaterThanOrEqual(300_000);
    });

    it('a synchronous execution runs at most once: a node that dies with its task in flight ends it FAILED, the task not run again', async () => {
      const other = await Sluice.open({ store: await stores(), clock, onBackgroundError: throwing });
      try {
        const hang = gate<string>();
        let otherCalls = 0;
        await sluice.functions.create({ name: 'work', handler: () => hang.promise });
        await other.functions.create({
          name: 'work',
          handler: async () => {
            otherCalls++;
            return 'again';
          },
        });
        const { stateMachineArn } = await machines().create({ name: 'once', type: 'EXPRESS', definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('work'), End: true } } } });
        void machines().startSyncExecution(stateMachineArn).catch(() => undefined);
        await eventually(() => machines().runner.heldCount === 1);
        const [row] = await store.executionList({ stateMachineArn, limit: 1 });
        // This node stops working (as if it died); its lease ends and the other node claims the execution.
        await machines().runner.stop(Date.now());
        await clock.advance(61_000);
        await advanceUntil(clock, async () => {
          other.stateMachines.runner.scheduleWake();
          return (await store.executionGet({ arn: row!.arn }))?.status !== 'RUNNING';
        });
        expect(await store.executionGet({ arn: row!.arn })).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: expect.stringContaining('at most once') });
        expect(otherCalls).toBe(0);
        hang.open('too late');
      } finally {
        await other.close({ graceMs: 100 });
      }
    });
  });
}

suite(sqlite);
describePostgres('EXPRESS state machines on PostgreSQL', () => {
  suite(postgres);
});
