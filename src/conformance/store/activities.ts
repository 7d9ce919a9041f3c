/**
 * ActivityStore on its own: GetActivityTask's claim takes the oldest task and records its token's start
 * (worker name, instant) and wakes the waiting execution in the same transaction, so no node can die
 * between handing a task out and recording that it was taken. Tasks whose token no longer waits are
 * dropped, never handed out. Tags (TagResource on an activity) change in one write.
 */
import { describe, expect, it } from 'vitest';
import { callbackIdOf, newTaskToken } from '../../callbacks/token.js';
import type { NewCallback } from '../../store/callback-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = 1_000_000;
const activityArn = 'arn:aws:states:us-east-1:000000000000:activity:work';
const machineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:m';

export function activityStoreConformance(backend: BackendUnderTest): void {
  describe(`activity store [${backend.name}]`, () => {
    const t = useStore(backend);
    const callback = (token: string, over: Partial<NewCallback> = {}): NewCallback => ({ id: callbackIdOf(token), createdAt: t0, timeoutAt: null, heartbeatMs: null, context: null, ...over });
    /** A task token with its callback, and the task enqueued for workers. */
    const enqueue = async (over: Partial<NewCallback> = {}, at = t0) => {
      const token = newTaskToken();
      await t.store.callbackCreate({ callback: callback(token, over) });
      await t.store.activityTaskEnqueue({ activityArn, task: { token, input: `{"token":"${token.slice(-6)}"}` }, now: at });
      return token;
    };

    it("a claim takes the oldest task and records its token's start by the worker in the same write", async () => {
      const first = await enqueue();
      const second = await enqueue({}, t0 + 1);
      const claimed = await t.store.activityTaskClaim({ activityArn, now: t0 + 10, workerName: 'w1' });
      expect(claimed?.token).toBe(first);
      expect(await t.store.callbackGet({ id: callbackIdOf(first) })).toMatchObject({ status: 'WAITING', startedAt: t0 + 10, workerName: 'w1' });
      expect(await t.store.callbackGet({ id: callbackIdOf(second) })).toMatchObject({ startedAt: null, workerName: null });
      expect((await t.store.activityTaskClaim({ activityArn, now: t0 + 20, workerName: null }))?.token).toBe(second);
      expect(await t.store.callbackGet({ id: callbackIdOf(second) })).toMatchObject({ startedAt: t0 + 20, workerName: null });
      expect(await t.store.activityTaskClaim({ activityArn, now: t0 + 30, workerName: 'w1' })).toBeUndefined();
    });

    it("keeps a token's first start when its task is handed out again (re-enqueued after a node died)", async () => {
      const token = await enqueue();
      await t.store.activityTaskClaim({ activityArn, now: t0 + 10, workerName: 'w1' });
      await t.store.activityTaskEnqueue({ activityArn, task: { token, input: '{}' }, now: t0 + 15 });
      expect((await t.store.activityTaskClaim({ activityArn, now: t0 + 20, workerName: 'w2' }))?.token).toBe(token);
      expect(await t.store.callbackGet({ id: callbackIdOf(token) })).toMatchObject({ startedAt: t0 + 10, workerName: 'w1' });
    });

    it('drops tasks whose token finished, passed its deadline or is gone, and hands out the next one', async () => {
      const finished = await enqueue();
      await t.store.callbackComplete({ id: callbackIdOf(finished), now: t0 + 5, completion: { status: 'SUCCEEDED', output: '{}' } });
      const late = await enqueue({ timeoutAt: t0 + 100 });
      await t.store.activityTaskEnqueue({ activityArn, task: { token: newTaskToken(), input: '{}' }, now: t0 });
      const live = await enqueue({ timeoutAt: t0 + 1_000 });
      expect((await t.store.activityTaskClaim({ activityArn, now: t0 + 100, workerName: 'w' }))?.token).toBe(live);
      expect(await t.store.callbackGet({ id: callbackIdOf(late) })).toMatchObject({ status: 'WAITING', startedAt: null });
      expect(await t.store.callbackGet({ id: callbackIdOf(finished) })).toMatchObject({ status: 'SUCCEEDED', startedAt: null });
      expect(await t.store.activityTaskClaim({ activityArn, now: t0 + 100, workerName: 'w' })).toBeUndefined();
      expect(await t.store.activityTaskClaim({ activityArn: `${activityArn}-other`, now: t0 + 100, workerName: 'w' })).toBeUndefined();
    });

    it('sets and removes tags in one write, and finds no activity that is not there', async () => {
      await t.store.activityCreate({ activity: { name: 'work', arn: activityArn, tags: { team: 'a', env: 'dev' }, createdAt: t0 } });
      const tagged = await t.store.activityTag({ name: 'work', set: { env: 'prod', owner: 'x' }, remove: ['team'] });
      expect(tagged?.tags).toEqual({ env: 'prod', owner: 'x' });
      expect((await t.store.activityGet({ name: 'work' }))?.tags).toEqual({ env: 'prod', owner: 'x' });
      expect(await t.store.activityTag({ name: 'missing', set: { a: 'b' }, remove: [] })).toBeUndefined();
    });

    it('wakes the released execution waiting on the token at once, to record ActivityStarted', async () => {
      const { machine } = await t.store.stateMachineCreate({
        machine: { name: 'm', arn: machineArn, type: 'STANDARD', definition: '{}', roleArn: 'arn:aws:iam::000000000000:role/r', description: '', tags: {}, managedBy: null, now: t0 },
      });
      const token = newTaskToken();
      await t.store.executionStart({
        execution: {
          arn: 'arn:aws:states:us-east-1:000000000000:execution:m:e', stateMachineArn: machineArn, name: 'e', revisionId: machine.revisionId,
          input: '{}', state: '{}', status: 'RUNNING', output: null, error: null, cause: null, startedAt: t0, stoppedAt: null, lastEventId: 1,
          leaseUntil: null, dueAt: t0 + 1_000_000,
        },
        events: [],
        callbacks: [callback(token, { timeoutAt: t0 + 1_000_000 })],
      });
      await t.store.activityTaskEnqueue({ activityArn, task: { token, input: '{}' }, now: t0 });
      expect(await t.store.executionNextWake()).toBe(t0 + 1_000_000);
      await t.store.activityTaskClaim({ activityArn, now: t0 + 50, workerName: 'w' });
      expect(await t.store.executionNextWake()).toBe(t0 + 50);
    });
  });
}
