/**
 * StateMachineStore on its own: the catalog with revisions, executions started once per name, transitions
 * as compare-and-set on the version (a stale holder writes nothing), claims of due executions, and a
 * task token's answer waking the execution that waits for it.
 */
import { describe, expect, it } from 'vitest';
import type { NewExecution, StoredEvent } from '../../store/state-machine-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = 1_000_000;
const machineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:m';
const arnOf = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:m:${name}`;
const event = (id: number, type = 'PassStateEntered'): StoredEvent => ({ id, previousEventId: id - 1, timestamp: t0 + id, type, details: null });

function execution(name: string, revisionId: number, over: Partial<NewExecution> = {}): NewExecution {
  return {
    arn: arnOf(name),
    stateMachineArn: machineArn,
    name,
    revisionId,
    input: '{}',
    state: '{"n":0}',
    status: 'RUNNING',
    output: null,
    error: null,
    cause: null,
    startedAt: t0,
    stoppedAt: null,
    lastEventId: 1,
    leaseUntil: t0 + 60_000,
    dueAt: null,
    ...over,
  };
}

export function stateMachineStoreConformance(backend: BackendUnderTest): void {
  describe(`state machine store [${backend.name}]`, () => {
    const t = useStore(backend);
    const newMachine = (name = 'm', definition = '{"v":1}') => ({
      name,
      arn: name === 'm' ? machineArn : `${machineArn.slice(0, -1)}${name}`,
      type: 'STANDARD' as const,
      definition,
      roleArn: 'arn:aws:iam::000000000000:role/r',
      description: '',
      tags: { team: 'a' },
      managedBy: null,
      now: t0,
    });

    it('creates a machine once; a second create of the name returns the existing one', async () => {
      const first = await t.store.stateMachineCreate({ machine: newMachine() });
      expect(first).toMatchObject({ outcome: 'created', machine: { name: 'm', definition: '{"v":1}', tags: { team: 'a' } } });
      const second = await t.store.stateMachineCreate({ machine: newMachine('m', '{"v":2}') });
      expect(second).toMatchObject({ outcome: 'exists', machine: { definition: '{"v":1}' } });
    });

    it('a definition change makes a new revision; the old one stays readable', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const updated = await t.store.stateMachineUpdate({ name: 'm', definition: '{"v":2}', now: t0 + 5 });
      expect(updated?.revisionId).not.toBe(machine.revisionId);
      expect((await t.store.stateMachineRevision({ id: machine.revisionId }))?.definition).toBe('{"v":1}');
      const same = await t.store.stateMachineUpdate({ name: 'm', description: 'd', now: t0 + 6 });
      expect(same).toMatchObject({ revisionId: updated?.revisionId, description: 'd', definition: '{"v":2}' });
      expect(await t.store.stateMachineUpdate({ name: 'nope', now: t0 })).toBeUndefined();
    });

    it('lists machines by name with a cursor and deletes them', async () => {
      for (const name of ['c', 'a', 'b']) await t.store.stateMachineCreate({ machine: newMachine(name) });
      expect((await t.store.stateMachineList({ limit: 2 })).map((m) => m.name)).toEqual(['a', 'b']);
      expect((await t.store.stateMachineList({ after: 'b', limit: 2 })).map((m) => m.name)).toEqual(['c']);
      expect(await t.store.stateMachineDelete({ name: 'b' })).toBe(true);
      expect(await t.store.stateMachineDelete({ name: 'b' })).toBe(false);
      expect(await t.store.stateMachineGet({ name: 'b' })).toBeUndefined();
    });

    it('starts an execution once per name, with its first events', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      expect(await t.store.executionStart({ execution: execution('e', machine.revisionId), events: [event(1, 'ExecutionStarted')], callbacks: [] })).toEqual({ outcome: 'created' });
      const again = await t.store.executionStart({ execution: execution('e', machine.revisionId, { input: '{"x":1}' }), events: [event(1)], callbacks: [] });
      expect(again).toMatchObject({ outcome: 'exists', execution: { arn: arnOf('e'), input: '{}', version: 1 } });
      expect(await t.store.executionHistory({ arn: arnOf('e'), reverse: false, limit: 10 })).toEqual([event(1, 'ExecutionStarted')]);
    });

    it('applies a transition only at the version read; a stale one writes nothing', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      await t.store.executionStart({ execution: execution('e', machine.revisionId), events: [event(1)], callbacks: [] });
      const change = {
        arn: arnOf('e'), version: 1, state: '{"n":1}', status: 'RUNNING' as const, output: null, error: null, cause: null,
        stoppedAt: null, lastEventId: 2, events: [event(2)], callbacks: [], releasedCallbacks: [], leaseUntil: t0 + 60_000, dueAt: null, now: t0 + 10,
      };
      expect(await t.store.executionTransition(change)).toBe(true);
      expect(await t.store.executionTransition({ ...change, state: '{"n":99}', events: [event(3)] })).toBe(false);
      expect(await t.store.executionGet({ arn: arnOf('e') })).toMatchObject({ version: 2, state: '{"n":1}', lastEventId: 2 });
      expect((await t.store.executionHistory({ arn: arnOf('e'), reverse: false, limit: 10 })).map((e) => e.id)).toEqual([1, 2]);
    });

    it('claims executions whose wake instant has come, once, with a new version', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      await t.store.executionStart({ execution: execution('held', machine.revisionId), events: [], callbacks: [] });
      await t.store.executionStart({ execution: execution('due', machine.revisionId, { leaseUntil: null, dueAt: t0 + 5 }), events: [], callbacks: [] });
      await t.store.executionStart({ execution: execution('later', machine.revisionId, { leaseUntil: null, dueAt: t0 + 500 }), events: [], callbacks: [] });
      await t.store.executionStart({ execution: execution('done', machine.revisionId, { status: 'SUCCEEDED', leaseUntil: null }), events: [], callbacks: [] });
      expect(await t.store.executionNextWake()).toBe(t0 + 5);
      const claimed = await t.store.executionClaimDue({ now: t0 + 10, leaseUntil: t0 + 1000, limit: 10 });
      expect(claimed.map((e) => [e.name, e.version])).toEqual([['due', 2]]);
      expect(await t.store.executionClaimDue({ now: t0 + 10, leaseUntil: t0 + 1000, limit: 10 })).toEqual([]);
      // Held ones come back when their holder's lease ends (the holder died).
      const late = await t.store.executionClaimDue({ now: t0 + 60_000, leaseUntil: t0 + 70_000, limit: 10 });
      expect(late.map((e) => e.name).sort()).toEqual(['due', 'held', 'later']);
      expect(await t.store.executionRenew({ arn: arnOf('held'), version: 1, leaseUntil: t0 + 80_000 })).toBe(false);
      expect(await t.store.executionRenew({ arn: arnOf('held'), version: 2, leaseUntil: t0 + 80_000 })).toBe(true);
    });

    it('answering a token wakes the released execution that waits for it at once', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const callback = { id: 'cb1', createdAt: t0, timeoutAt: t0 + 1_000_000, heartbeatMs: null, context: null };
      await t.store.executionStart({ execution: execution('e', machine.revisionId, { leaseUntil: null, dueAt: t0 + 1_000_000 }), events: [], callbacks: [callback] });
      expect(await t.store.executionNextWake()).toBe(t0 + 1_000_000);
      await t.store.callbackComplete({ id: 'cb1', now: t0 + 50, completion: { status: 'SUCCEEDED', output: '{}' } });
      expect(await t.store.executionNextWake()).toBe(t0 + 50);
      expect((await t.store.executionClaimDue({ now: t0 + 50, leaseUntil: t0 + 999, limit: 5 })).map((e) => e.name)).toEqual(['e']);
    });

    it('a token answered while a node holds the execution wakes it when the holder releases it', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const callback = { id: 'cb2', createdAt: t0, timeoutAt: t0 + 1_000_000, heartbeatMs: null, context: null };
      await t.store.executionStart({ execution: execution('e', machine.revisionId), events: [], callbacks: [callback] });
      await t.store.callbackComplete({ id: 'cb2', now: t0 + 50, completion: { status: 'SUCCEEDED', output: '{}' } });
      expect(await t.store.executionNextWake()).toBe(t0 + 60_000);
      const release = {
        arn: arnOf('e'), version: 1, state: '{}', status: 'RUNNING' as const, output: null, error: null, cause: null,
        stoppedAt: null, lastEventId: 1, events: [], callbacks: [], releasedCallbacks: [], leaseUntil: null, dueAt: t0 + 1_000_000, now: t0 + 60,
      };
      expect(await t.store.executionTransition(release)).toBe(true);
      expect(await t.store.executionNextWake()).toBe(t0 + 60);
    });

    it('a token released by a transition, or of an execution that ended, is over (TIMED_OUT)', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const callback = (id: string) => ({ id, createdAt: t0, timeoutAt: t0 + 1_000_000, heartbeatMs: null, context: null });
      await t.store.executionStart({ execution: execution('e', machine.revisionId), events: [], callbacks: [callback('c1'), callback('c2')] });
      const change = {
        arn: arnOf('e'), version: 1, state: '{}', status: 'RUNNING' as const, output: null, error: null, cause: null,
        stoppedAt: null, lastEventId: 1, events: [], callbacks: [], releasedCallbacks: ['c1'], leaseUntil: null, dueAt: null, now: t0 + 10,
      };
      expect(await t.store.executionTransition(change)).toBe(true);
      expect(await t.store.callbackGet({ id: 'c1' })).toMatchObject({ status: 'TIMED_OUT', settledAt: t0 + 10 });
      expect(await t.store.callbackGet({ id: 'c2' })).toMatchObject({ status: 'WAITING' });
      expect(await t.store.executionTransition({ ...change, version: 2, status: 'ABORTED', releasedCallbacks: [], stoppedAt: t0 + 20, now: t0 + 20 })).toBe(true);
      expect(await t.store.callbackGet({ id: 'c2' })).toMatchObject({ status: 'TIMED_OUT', settledAt: t0 + 20 });
      expect(await t.store.callbackComplete({ id: 'c2', now: t0 + 30, completion: { status: 'SUCCEEDED', output: '{}' } })).toMatchObject({ outcome: 'finished' });
    });

    it('a finished child answers its parent’s token in its last transition, waking the parent', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const callback = { id: 'parent-token', createdAt: t0, timeoutAt: t0 + 1_000_000, heartbeatMs: null, context: null };
      await t.store.executionStart({ execution: execution('parent', machine.revisionId, { leaseUntil: null, dueAt: t0 + 1_000_000 }), events: [], callbacks: [callback] });
      await t.store.executionStart({ execution: execution('child', machine.revisionId), events: [], callbacks: [] });
      const finish = {
        arn: arnOf('child'), version: 1, state: '{}', status: 'SUCCEEDED' as const, output: '1', error: null, cause: null,
        stoppedAt: t0 + 40, lastEventId: 1, events: [], callbacks: [], releasedCallbacks: [], leaseUntil: null, dueAt: null, now: t0 + 40,
        answer: { callbackId: 'parent-token', completion: { status: 'SUCCEEDED' as const, output: '{"Status":"SUCCEEDED"}' } },
      };
      expect(await t.store.executionTransition(finish)).toBe(true);
      expect(await t.store.callbackGet({ id: 'parent-token' })).toMatchObject({ status: 'SUCCEEDED', output: '{"Status":"SUCCEEDED"}', settledAt: t0 + 40 });
      expect(await t.store.executionNextWake()).toBe(t0 + 40);
      // A stale transition answers nothing.
      expect(await t.store.executionTransition({ ...finish, answer: { callbackId: 'parent-token', completion: { status: 'FAILED', error: 'E', cause: '' } } })).toBe(false);
      expect((await t.store.callbackGet({ id: 'parent-token' }))?.status).toBe('SUCCEEDED');
    });

    it('a child that ends in its first step answers its parent’s token in its insert, waking the parent', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const callback = { id: 'parent-token', createdAt: t0, timeoutAt: t0 + 1_000_000, heartbeatMs: null, context: null };
      await t.store.executionStart({ execution: execution('parent', machine.revisionId, { leaseUntil: null, dueAt: t0 + 1_000_000 }), events: [], callbacks: [callback] });
      const answer = { callbackId: 'parent-token', completion: { status: 'SUCCEEDED' as const, output: '{"Status":"SUCCEEDED"}' } };
      const child = execution('child', machine.revisionId, { status: 'SUCCEEDED', leaseUntil: null, startedAt: t0 + 40, stoppedAt: t0 + 40 });
      expect(await t.store.executionStart({ execution: child, events: [], callbacks: [], answer })).toEqual({ outcome: 'created' });
      expect(await t.store.callbackGet({ id: 'parent-token' })).toMatchObject({ status: 'SUCCEEDED', output: '{"Status":"SUCCEEDED"}', settledAt: t0 + 40 });
      expect(await t.store.executionNextWake()).toBe(t0 + 40);
      // A start that finds the name taken inserts nothing and answers nothing.
      await t.store.callbackCreate({ callback: { ...callback, id: 'other-token' } });
      expect(await t.store.executionStart({ execution: child, events: [], callbacks: [], answer: { ...answer, callbackId: 'other-token' } })).toMatchObject({ outcome: 'exists' });
      expect((await t.store.callbackGet({ id: 'other-token' }))?.status).toBe('WAITING');
    });

    it('purges finished executions stopped before the cut-off, with their history, never running ones', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      const ended = (name: string, stoppedAt: number) =>
        execution(name, machine.revisionId, { status: 'SUCCEEDED', leaseUntil: null, stoppedAt, output: '1' });
      await t.store.executionStart({ execution: ended('old1', t0 + 1), events: [event(1), event(2)], callbacks: [] });
      await t.store.executionStart({ execution: ended('old2', t0 + 2), events: [event(1)], callbacks: [] });
      await t.store.executionStart({ execution: ended('recent', t0 + 100), events: [event(1)], callbacks: [] });
      await t.store.executionStart({ execution: execution('running', machine.revisionId), events: [event(1)], callbacks: [] });
      expect(await t.store.executionPurge({ stoppedBefore: t0 + 50, limit: 1 })).toBe(1);
      expect(await t.store.executionPurge({ stoppedBefore: t0 + 50, limit: 10 })).toBe(1);
      expect(await t.store.executionPurge({ stoppedBefore: t0 + 50, limit: 10 })).toBe(0);
      expect(await t.store.executionGet({ arn: arnOf('old1') })).toBeUndefined();
      expect(await t.store.executionHistory({ arn: arnOf('old1'), reverse: false, limit: 10 })).toEqual([]);
      expect((await t.store.executionList({ stateMachineArn: machineArn, limit: 10 })).map((e) => e.name).sort()).toEqual(['recent', 'running']);
    });

    it('lists executions newest first, by status, a page at a time', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      for (let i = 0; i < 5; i++)
        await t.store.executionStart({
          execution: execution(`e${i}`, machine.revisionId, { startedAt: t0 + i, status: i % 2 === 0 ? 'RUNNING' : 'SUCCEEDED' }),
          events: [],
          callbacks: [],
        });
      const first = await t.store.executionList({ stateMachineArn: machineArn, limit: 2 });
      expect(first.map((e) => e.name)).toEqual(['e4', 'e3']);
      const last = first.at(-1)!;
      const second = await t.store.executionList({ stateMachineArn: machineArn, limit: 2, after: { startedAt: last.startedAt, arn: last.arn } });
      expect(second.map((e) => e.name)).toEqual(['e2', 'e1']);
      expect((await t.store.executionList({ stateMachineArn: machineArn, status: 'SUCCEEDED', limit: 10 })).map((e) => e.name)).toEqual(['e3', 'e1']);
    });

    it('reads history forwards and backwards from a cursor', async () => {
      const { machine } = await t.store.stateMachineCreate({ machine: newMachine() });
      await t.store.executionStart({ execution: execution('e', machine.revisionId), events: [1, 2, 3, 4].map((i) => event(i)), callbacks: [] });
      expect((await t.store.executionHistory({ arn: arnOf('e'), reverse: false, afterId: 2, limit: 10 })).map((e) => e.id)).toEqual([3, 4]);
      expect((await t.store.executionHistory({ arn: arnOf('e'), reverse: true, limit: 3 })).map((e) => e.id)).toEqual([4, 3, 2]);
      expect((await t.store.executionHistory({ arn: arnOf('e'), reverse: true, afterId: 2, limit: 3 })).map((e) => e.id)).toEqual([1]);
    });
  });
}
