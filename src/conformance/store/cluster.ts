/**
 * The cluster store's behaviour, written once and run on both backends: node registry, fenced leases and
 * concurrency slots. Nodes are just ids here, so one store plays several nodes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../store/store.js';
import type { BackendUnderTest } from '../backend.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const beat = (store: Store, nodeId: string, groups: string[] = [], timeoutMs = 60_000, holdMs = 0) =>
  store.nodeHeartbeat({ nodeId, leaseMs: timeoutMs, nodeTimeoutMs: timeoutMs, holdMs, groups });
const acquire = (store: Store, nodeId: string, group: string, max: number, leaseMs = 60_000) =>
  store.leaseAcquire({ nodeId, group, max, leaseMs, graceMs: 0 });

export function clusterStoreConformance(backend: BackendUnderTest): void {
  describe(`cluster store [${backend.name}]`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await backend.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('registers nodes and lists the live ones in every heartbeat', async () => {
      await store.nodeRegister({ nodeId: 'b' });
      await store.nodeRegister({ nodeId: 'a' });
      const outcome = await beat(store, 'a');
      expect(outcome).toMatchObject({
        alive: true,
        nodes: ['a', 'b'],
        leases: 0,
        takeableGroups: [],
        reaped: [],
      });
      expect((await store.nodeList()).map((n) => [n.id, n.status])).toEqual([
        ['a', 'alive'],
        ['b', 'alive'],
      ]);
    });

    it('tells a node that never registered, or left, that it is not alive', async () => {
      expect((await beat(store, 'ghost')).alive).toBe(false);
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeLeave({ nodeId: 'a' });
      expect((await beat(store, 'a')).alive).toBe(false);
      expect((await store.nodeList())[0]?.status).toBe('stopped');
    });

    it('declares a silent node dead at the next heartbeat of another and frees its slots after', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await store.slotGrant({
        nodeId: 'a',
        holdMs: 0,
        changes: [{ scope: 'fn', limit: 2, want: 2, waiting: false, held: 0 }],
      });
      await sleep(250);
      const outcome = await beat(store, 'b', [], 200);
      expect(outcome).toMatchObject({ reaped: ['a'], released: [], nodes: ['b'] });
      const released = await beat(store, 'b', [], 200); // a held nothing: released at the next heartbeat
      expect(released).toMatchObject({ reaped: [], released: ['a'] });
      expect(await store.slotList({ scope: 'fn' })).toEqual([]);
      expect((await beat(store, 'b', [], 200)).released).toEqual([]); // once
      expect((await beat(store, 'a', [], 200)).alive).toBe(false);
    });

    // A node paused (SIGSTOP) past its lease wakes with its invocations running: the slots they use must
    // not go to others before those invocations' deadlines (the hold its last heartbeat reported).
    it("keeps a dead node's slots counted for its hold, then frees them", async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await beat(store, 'a', [], 200, 600);
      await store.slotGrant({
        nodeId: 'a',
        holdMs: 600,
        changes: [{ scope: 'fn', limit: 3, want: 2, waiting: false, held: 0 }],
      });
      await sleep(250);
      expect((await beat(store, 'b', [], 200)).reaped).toEqual(['a']);
      const ask = () =>
        store.slotGrant({
          nodeId: 'b',
          holdMs: 0,
          changes: [{ scope: 'fn', limit: 3, want: 3, waiting: true, held: 0 }],
        });
      expect((await ask())[0]!.granted).toBe(1);
      await sleep(100);
      expect((await beat(store, 'b', [], 200)).released).toEqual([]);
      expect((await ask())[0]!.granted).toBe(1);
      await sleep(600); // 200 ms timeout + 600 ms hold after a's last heartbeat
      expect((await beat(store, 'b', [], 200)).released).toEqual(['a']);
      expect((await ask())[0]!.granted).toBe(3);
    });

    it('keeps the slots of a node that rejoins within its hold, and drops them on a fresh start', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await beat(store, 'a', [], 200, 60_000);
      await store.slotGrant({
        nodeId: 'a',
        holdMs: 60_000,
        changes: [{ scope: 'fn', limit: 3, want: 2, waiting: false, held: 0 }],
      });
      await sleep(250);
      expect((await beat(store, 'b', [], 200)).reaped).toEqual(['a']);
      expect((await beat(store, 'a', [], 200)).alive).toBe(false);
      await store.nodeRegister({ nodeId: 'a', rejoin: true });
      expect(await store.slotList({ scope: 'fn' })).toEqual([{ nodeId: 'a', granted: 2, wanted: 2 }]);
      await store.nodeRegister({ nodeId: 'a' }); // a new process under the same id ran none of them
      expect(await store.slotList({ scope: 'fn' })).toEqual([]);
    });

    it('gives each free lease to one node and increments its token on every acquisition', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await store.leaseDeclare({ group: 'g', resources: ['g#0', 'g#1', 'g#2'] });
      await store.leaseDeclare({ group: 'g', resources: ['g#0', 'g#1', 'g#2'] });
      const first = await acquire(store, 'a', 'g', 2);
      expect(first).toEqual([
        { resource: 'g#0', nodeId: 'a', token: 1 },
        { resource: 'g#1', nodeId: 'a', token: 1 },
      ]);
      expect(await acquire(store, 'b', 'g', 5)).toEqual([{ resource: 'g#2', nodeId: 'b', token: 1 }]);
      expect(await acquire(store, 'b', 'g', 5)).toEqual([]);
      expect(await store.leaseRelease({ fences: [first[0]!] })).toBe(1);
      expect(await store.leaseRelease({ fences: [first[0]!] })).toBe(0);
      expect(await acquire(store, 'b', 'g', 5)).toEqual([{ resource: 'g#0', nodeId: 'b', token: 2 }]);
      expect((await store.leaseHeld({ nodeId: 'b' })).map((f) => f.resource)).toEqual(['g#0', 'g#2']);
    });

    it('reports groups with free leases, and those nobody took for a whole timeout as orphaned', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.leaseDeclare({ group: 'g', resources: ['g#0'] });
      await store.leaseDeclare({ group: 'other', resources: ['other#0'] });
      const fresh = await beat(store, 'a', ['g'], 300);
      expect(fresh.takeableGroups).toEqual(['g']);
      expect(fresh.orphanedGroups).toEqual([]); // declared just now: free, not yet declined by anyone
      await sleep(350);
      expect((await beat(store, 'a', ['g'], 300)).orphanedGroups).toEqual(['g']);
      await acquire(store, 'a', 'g', 1);
      expect((await beat(store, 'a', ['g'])).takeableGroups).toEqual([]);
    });

    it('lets another node take an expired lease; the heartbeat of the old owner no longer renews it', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await store.leaseDeclare({ group: 'g', resources: ['g#0'] });
      const [old] = await acquire(store, 'a', 'g', 1, 500);
      expect(await acquire(store, 'b', 'g', 1)).toEqual([]);
      await sleep(600);
      // (A lease timeout, not the default minute: a server restarted less than a timeout ago hands out no expired lease.)
      expect((await beat(store, 'b', ['g'], 500)).takeableGroups).toEqual(['g']);
      const [taken] = await acquire(store, 'b', 'g', 1, 500);
      expect(taken).toEqual({ resource: 'g#0', nodeId: 'b', token: old!.token + 1 });
      expect((await beat(store, 'a', ['g'])).leases).toBe(0);
    });

    it('a heartbeat renews the leases of its node', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await store.leaseDeclare({ group: 'g', resources: ['g#0'] });
      await acquire(store, 'a', 'g', 1, 1000);
      for (let i = 0; i < 4; i++) {
        await sleep(400);
        expect((await beat(store, 'a', ['g'], 1000)).leases).toBe(1);
      }
      expect(await acquire(store, 'b', 'g', 1)).toEqual([]);
    });

    it('writes a fenced checkpoint only while the fence holds the lease', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await store.leaseDeclare({ group: 'g', resources: ['g#0'] });
      const [fence] = await acquire(store, 'a', 'g', 1);
      const save = (f: typeof fence, seq: number) =>
        store.leaseCheckpointSave({
          fence: f!,
          consumer: 'c',
          tableId: 1,
          checkpoints: [{ shard: 0, seq, state: null }],
          now: 1,
        });
      expect(await save(fence, 10)).toBe(true);
      await store.leaseRelease({ fences: [fence!] });
      const [next] = await acquire(store, 'b', 'g', 1);
      expect(await save(fence, 99)).toBe(false);
      expect(await save(next, 20)).toBe(true);
      expect(await store.streamCheckpointList({ consumer: 'c' })).toEqual([
        { shard: 0, seq: 20, state: null },
      ]);
    });

    it('grants slots up to what the other nodes leave of the limit, and tells holders who waits', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      const grant = (nodeId: string, want: number, waiting = false) =>
        store.slotGrant({ nodeId, holdMs: 0, changes: [{ scope: 'fn', limit: 3, want, waiting, held: 0 }] });
      expect(await grant('a', 2)).toEqual([{ scope: 'fn', granted: 2, othersWaiting: false, final: false }]);
      expect(await grant('b', 2, true)).toEqual([{ scope: 'fn', granted: 1, othersWaiting: false, final: false }]);
      expect(await grant('a', 2)).toEqual([{ scope: 'fn', granted: 2, othersWaiting: true, final: false }]);
      expect(await grant('a', 0)).toEqual([{ scope: 'fn', granted: 0, othersWaiting: true, final: false }]);
      expect(await grant('b', 3)).toEqual([{ scope: 'fn', granted: 3, othersWaiting: false, final: false }]);
      expect(await store.slotList({ scope: 'fn' })).toEqual([
        { nodeId: 'a', granted: 0, wanted: 0 },
        { nodeId: 'b', granted: 3, wanted: 3 },
      ]);
    });

    it('calls a refusal final only once every other live holder was told someone waits, with none spare', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      const grant = (nodeId: string, want: number, held: number, waiting = false) =>
        store.slotGrant({ nodeId, holdMs: 0, changes: [{ scope: 'fn', limit: 1, want, waiting, held }] });
      // a holds the only slot, and wrote so before b began waiting: it was not told anyone waits, so not final yet.
      expect(await grant('a', 1, 1)).toEqual([{ scope: 'fn', granted: 1, othersWaiting: false, final: false }]);
      expect(await grant('b', 1, 0, true)).toEqual([{ scope: 'fn', granted: 0, othersWaiting: false, final: false }]);
      // a answers the wait with its slot still in use (and is told b waits): b's next refusal is final.
      expect(await grant('a', 1, 1)).toEqual([{ scope: 'fn', granted: 1, othersWaiting: true, final: false }]);
      expect(await grant('b', 1, 0, true)).toEqual([{ scope: 'fn', granted: 0, othersWaiting: false, final: true }]);
      // A holder with a spare slot is not final: it gives that slot back.
      expect(await grant('a', 1, 0)).toEqual([{ scope: 'fn', granted: 1, othersWaiting: true, final: false }]);
      expect((await grant('b', 1, 0, true))[0]).toMatchObject({ granted: 0, final: false });
      expect(await grant('a', 0, 0)).toEqual([{ scope: 'fn', granted: 0, othersWaiting: true, final: false }]);
      expect((await grant('b', 1, 0, true))[0]).toMatchObject({ granted: 1, final: false });
    });

    it('calls a refusal final at once when the asking node itself holds every slot, or the rest is a dead node\'s', async () => {
      await store.nodeRegister({ nodeId: 'a' });
      await store.nodeRegister({ nodeId: 'b' });
      await beat(store, 'a', [], 200, 60_000);
      const grant = (nodeId: string, want: number, held: number, waiting = false) =>
        store.slotGrant({ nodeId, holdMs: 60_000, changes: [{ scope: 'fn', limit: 2, want, waiting, held }] });
      expect((await grant('b', 1, 0))[0]).toMatchObject({ granted: 1 });
      expect((await grant('b', 2, 1, true))[0]).toMatchObject({ granted: 2, final: false });
      expect((await grant('b', 3, 2, true))[0]).toMatchObject({ granted: 2, final: true });
      expect((await grant('b', 1, 1))[0]).toMatchObject({ granted: 1 });
      // a takes the other slot, then falls silent and is declared dead: its slot stays counted for its hold.
      expect((await grant('a', 1, 0))[0]).toMatchObject({ granted: 1 });
      await sleep(250);
      expect((await beat(store, 'b', [], 200)).reaped).toEqual(['a']);
      expect((await grant('b', 2, 1, true))[0]).toMatchObject({ granted: 1, final: true });
    });

    it('grants nothing to a node that is not alive, and a leaving node gives everything back', async () => {
      expect(
        await store.slotGrant({
          nodeId: 'ghost',
          holdMs: 0,
          changes: [{ scope: 'fn', limit: 3, want: 1, waiting: false, held: 0 }],
        }),
      ).toEqual([{ scope: 'fn', granted: 0, othersWaiting: false, final: false }]);
      await store.nodeRegister({ nodeId: 'a' });
      await store.leaseDeclare({ group: 'g', resources: ['g#0'] });
      await acquire(store, 'a', 'g', 1);
      await store.slotGrant({
        nodeId: 'a',
        holdMs: 0,
        changes: [{ scope: 'fn', limit: 3, want: 3, waiting: false, held: 0 }],
      });
      await store.nodeLeave({ nodeId: 'a' });
      expect(await store.slotList({ scope: 'fn' })).toEqual([]);
      expect((await store.leaseList({ group: 'g' }))[0]?.owner).toBeNull();
      expect(await acquire(store, 'a', 'g', 1)).toEqual([]); // a stopped node takes nothing
    });

    it('never grants more than the limit to nodes asking at the same time', async () => {
      const nodes = ['a', 'b', 'c', 'd'];
      for (const nodeId of nodes) await store.nodeRegister({ nodeId });
      const asks = nodes.flatMap((nodeId) =>
        [1, 2, 3, 4, 5].map((want) =>
          store.slotGrant({
            nodeId,
            holdMs: 0,
            changes: [
              { scope: 'x', limit: 7, want, waiting: true, held: 0 },
              { scope: 'y', limit: 5, want, waiting: false, held: 0 },
            ],
          }),
        ),
      );
      await Promise.all(asks);
      const total = async (scope: string) =>
        (await store.slotList({ scope })).reduce((sum, row) => sum + row.granted, 0);
      expect(await total('x')).toBeLessThanOrEqual(7);
      expect(await total('y')).toBeLessThanOrEqual(5);
    });
  });
}
