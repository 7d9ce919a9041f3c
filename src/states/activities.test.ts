/**
 * Activities on SQLite and PostgreSQL: the catalog (create is idempotent, describe, list, delete), a
 * Task naming an activity's ARN waiting for a worker, GetActivityTask's long poll woken by the notifier
 * (no clock movement needed) or ending empty after 60 s, and the task token answered with
 * SendTaskSuccess / SendTaskFailure or timed out by its heartbeat, with AWS's Activity* history events.
 */
import { describe, expect, it } from 'vitest';
import { settle } from '../model/clock.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { describePostgres, openTestStore } from '../testkit/postgres.js';
import { useStateMachineNode } from '../testkit/state-machine-node.js';

function suite(name: string, openBackend: () => Promise<Store>) {
  describe(`activities [${name}]`, () => {
    const node = useStateMachineNode(openBackend);
    async function open() {
      const opened = await node.open();
      return { ...opened, activities: opened.machines.activities };
    }

    it('CreateActivity is idempotent; describe, list and delete; a missing one is ActivityDoesNotExist', async () => {
      const { activities } = await open();
      const a = await activities.create({ name: 'pack', tags: { team: 'x' } });
      expect(a.activityArn).toBe('arn:aws:states:us-east-1:000000000000:activity:pack');
      expect((await activities.create({ name: 'pack' })).creationDate).toEqual(a.creationDate);
      await activities.create({ name: 'ship' });
      expect((await activities.list()).activities.map((x) => x.name)).toEqual(['pack', 'ship']);
      const page = await activities.list({ maxResults: 1 });
      expect(page.activities.map((x) => x.name)).toEqual(['pack']);
      expect((await activities.list({ maxResults: 1, nextToken: page.nextToken! })).activities.map((x) => x.name)).toEqual(['ship']);
      expect(await activities.describe(a.activityArn)).toMatchObject({ name: 'pack' });
      await activities.delete(a.activityArn);
      await expect(activities.describe(a.activityArn)).rejects.toMatchObject({ code: 'ActivityDoesNotExist' });
      await expect(activities.create({ name: 'bad name' })).rejects.toMatchObject({ code: 'InvalidName', field: 'name' });
    });

    it('a worker long-polling GetActivityTask is woken when an execution schedules the task, and answers it', async () => {
      const { sluice, machines, activities, ended } = await open();
      const { activityArn } = await activities.create({ name: 'pack' });
      await machines.create({ name: 'm', definition: { StartAt: 'Pack', States: { Pack: { Type: 'Task', Resource: activityArn, Parameters: { 'item.$': '$.item' }, ResultPath: '$.packed', End: true } } } });
      let got: { taskToken?: string; input?: string } | undefined;
      const polling = activities.getTask(activityArn).then((task) => (got = task));
      await settle();
      expect(got).toBeUndefined();
      const { executionArn } = await machines.startExecution('m', { input: { item: 'book' } });
      // No clock movement: the notifier wakes the poll.
      for (let i = 0; i < 500 && got === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      await polling;
      expect(got?.input).toBe('{"item":"book"}');
      await sluice.callbacks.sendTaskSuccess(got!.taskToken!, '{"box":7}');
      expect(await ended(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ item: 'book', packed: { box: 7 } }) });
      const history = (await machines.history(executionArn)).events;
      expect(history.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
      expect(history[2]?.activityScheduledEventDetails).toMatchObject({ resource: activityArn, input: '{"item":"book"}' });
      // No workerName given: AWS's ActivityStartedEventDetails has none (it is optional).
      expect(history[3]?.activityStartedEventDetails).toEqual({});
      for (const workerName of ['', 'w'.repeat(81)])
        await expect(activities.getTask(activityArn, { workerName })).rejects.toMatchObject({ code: 'ValidationException', field: 'workerName' });
    });

    it('GetActivityTask answers {} after 60 s without a task; a waiting task is taken at once, oldest first', async () => {
      const { clock, machines, activities } = await open();
      const { activityArn } = await activities.create({ name: 'idle' });
      let got: object | undefined;
      const started = clock.now();
      const polling = activities.getTask(activityArn).then((task) => (got = task));
      // Step the clock (PostgreSQL answers asynchronously, so the poll's deadline timer comes a little later).
      for (let i = 0; i < 200 && got === undefined; i++) {
        await clock.advance(1_000);
        await settle();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await polling;
      expect(got).toEqual({});
      expect(clock.now() - started).toBeGreaterThanOrEqual(60_000);
      await machines.create({ name: 'two', definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: activityArn, End: true } } } });
      await machines.startExecution('two', { input: { n: 1 } });
      await machines.startExecution('two', { input: { n: 2 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await activities.getTask(activityArn)).input).toBe('{"n":1}');
      expect((await activities.getTask(activityArn)).input).toBe('{"n":2}');
      // A task whose execution was stopped before a worker took it is dropped, not handed out.
      const stopped = await machines.startExecution('two', { input: { n: 3 } });
      await machines.startExecution('two', { input: { n: 4 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await machines.stopExecution(stopped.executionArn);
      expect((await activities.getTask(activityArn)).input).toBe('{"n":4}');
    });

    it('a long poll under way answers {} at once when the engine closes', async () => {
      const { sluice: engine, activities } = await open();
      const { activityArn } = await activities.create({ name: 'closing' });
      const polling = activities.getTask(activityArn);
      await settle();
      const started = Date.now();
      await engine.close({ graceMs: 100 }); // closing again after the test is a no-op
      expect(await polling).toEqual({});
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('SendTaskFailure fails the task (ActivityFailed, caught by Catch); a missed heartbeat times it out (ActivityTimedOut)', async () => {
      const { sluice, clock, machines, activities, ended } = await open();
      const { activityArn } = await activities.create({ name: 'work' });
      await machines.create({
        name: 'm',
        definition: {
          StartAt: 'Work',
          States: {
            Work: { Type: 'Task', Resource: activityArn, HeartbeatSeconds: 5, Catch: [{ ErrorEquals: ['Broken'], ResultPath: '$.error', Next: 'Handled' }], End: true },
            Handled: { Type: 'Pass', End: true },
          },
        },
      });
      const failing = await machines.startExecution('m');
      const task = await activities.getTask(activityArn);
      await sluice.callbacks.sendTaskFailure(task.taskToken!, { error: 'Broken', cause: 'jammed' });
      expect((await ended(failing.executionArn)).status).toBe('SUCCEEDED');
      expect((await machines.history(failing.executionArn)).events.map((e) => e.type)).toContain('ActivityFailed');
      const silent = await machines.startExecution('m');
      await activities.getTask(activityArn);
      await clock.advance(6_000);
      expect(await ended(silent.executionArn)).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
      expect((await machines.history(silent.executionArn)).events.map((e) => e.type)).toContain('ActivityTimedOut');
    });
  });
}

suite('sqlite', () => openStore('sqlite::memory:'));
describePostgres('activities on PostgreSQL', () => {
  suite('postgres', () => openTestStore());
});
