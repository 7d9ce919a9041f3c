/**
 * Index backfill leases (TableStore.backfill*): a table update keeps one lease per backfilling index
 * (created with the updater as owner, deleted once the index is ready or dropped, or the table deleted);
 * a lease is taken when free, expired or already the taker's, with a token that fences a former owner's
 * renewals; a renewal saves the progress, a release frees the lease keeping it. `catalogWrite`'s table
 * updates (`sluice apply`) change indexes the same way, with the added index's lease written free.
 */
import { describe, expect, it, vi } from 'vitest';
import type { IndexDefinition, TableDefinition } from '../../store/table-definition.js';
import { indexBackfillChannel } from '../../store/table-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = 1_700_000_000_000;
const index = (name: string, backfilling?: boolean): IndexDefinition => ({
  name,
  kind: 'global',
  partitionKey: { name: 'status', type: 'S' },
  sortKey: null,
  projection: { type: 'KEYS_ONLY' },
  ...(backfilling ? { backfilling: true } : {}),
});
const definitionOf = (indexes: IndexDefinition[]): TableDefinition => ({
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: null,
  stream: null,
  ttlAttribute: null,
  shardCount: 1,
  ...(indexes.length > 0 ? { indexes } : {}),
});

export function indexBackfillStoreConformance(backend: BackendUnderTest): void {
  describe(`index backfill leases [${backend.name}]`, () => {
    const t = useStore(backend);

    it('a table update keeps one lease per backfilling index, owned by the updater, and drops it when the index is ready', async () => {
      const { table } = await t.store.tableCreate({ name: 'tasks', definition: definitionOf([]), now: t0 });
      const heard = vi.fn();
      const unsubscribe = t.store.notifier.subscribe(indexBackfillChannel, heard);
      await t.store.tableUpdate({
        name: 'tasks',
        definition: definitionOf([index('by-status', true)]),
        now: t0,
        indexesChanged: true,
        backfillOwner: { owner: 'node-a', leaseUntil: t0 + 1000 },
      });
      expect(heard).toHaveBeenCalled();
      expect(await t.store.backfillList()).toEqual([
        { tableId: table.id, index: 'by-status', owner: 'node-a', token: 0, leaseUntil: t0 + 1000, after: null },
      ]);
      await t.store.tableUpdate({ name: 'tasks', definition: definitionOf([index('by-status')]), now: t0 });
      expect(await t.store.backfillList()).toEqual([]);
      unsubscribe();
    });

    it('a lease is taken when free, expired or already held by the taker; a former owner renews nothing', async () => {
      const { table } = await t.store.tableCreate({ name: 'tasks', definition: definitionOf([]), now: t0 });
      await t.store.tableUpdate({
        name: 'tasks',
        definition: definitionOf([index('by-status', true)]),
        now: t0,
        indexesChanged: true,
        backfillOwner: { owner: 'node-a', leaseUntil: t0 + 1000 },
      });
      const at = { tableId: table.id, index: 'by-status' };
      const a = await t.store.backfillAcquire({ ...at, owner: 'node-a', now: t0, leaseUntil: t0 + 1000 });
      expect(a).toMatchObject({ owner: 'node-a', token: 1 });
      // Held and not expired: node B gets nothing.
      expect(await t.store.backfillAcquire({ ...at, owner: 'node-b', now: t0 + 999, leaseUntil: t0 + 2000 })).toBeUndefined();
      const after = { pk: Buffer.from('k0500'), sk: Buffer.alloc(0) };
      expect(await t.store.backfillRenew({ ...at, owner: 'node-a', token: 1, leaseUntil: t0 + 1500, after })).toBe(true);
      // Expired: B takes it with the progress A saved, and A's renewals change nothing any more.
      const b = await t.store.backfillAcquire({ ...at, owner: 'node-b', now: t0 + 1500, leaseUntil: t0 + 2500 });
      expect(b).toMatchObject({ owner: 'node-b', token: 2, leaseUntil: t0 + 2500, after });
      expect(await t.store.backfillRenew({ ...at, owner: 'node-a', token: 1, leaseUntil: t0 + 9000, after: null })).toBe(false);
      // Released (B stops): free at once, the progress kept; anyone takes it.
      const heard = vi.fn();
      const unsubscribe = t.store.notifier.subscribe(indexBackfillChannel, heard);
      expect(await t.store.backfillRenew({ ...at, owner: 'node-b', token: 2, leaseUntil: t0 + 2000, after: null, release: true })).toBe(true);
      expect(heard).toHaveBeenCalled();
      unsubscribe();
      expect(await t.store.backfillAcquire({ ...at, owner: 'node-c', now: t0 + 1600, leaseUntil: t0 + 2600 })).toMatchObject({ owner: 'node-c', token: 3, after });
      await t.store.backfillEnd(at);
      expect(await t.store.backfillList()).toEqual([]);
    });

    it("catalogWrite changes indexes as tableUpdate does: version bumped, a dropped index's entries deleted, a free lease for an added one", async () => {
      const { table } = await t.store.tableCreate({ name: 'tasks', definition: definitionOf([index('by-status')]), now: t0 });
      await t.store.itemWrite({
        now: t0,
        writes: [{ tableId: table.id, key: { pk: Buffer.from('t-1'), sk: Buffer.alloc(0) }, shard: null, indexVersion: table.indexVersion, decide: () => ({ kind: 'put', item: '{}', size: 2, expiresAt: null, record: null }) }],
      });
      await t.store.indexBackfill({ tableId: table.id, index: 'by-status', after: null, limit: 10, entriesOf: (item) => [{ index: 'by-status', ipk: Buffer.from('open'), isk: Buffer.alloc(0), item, size: 2 }] });
      expect((await t.store.indexStats({ tableId: table.id })).map((row) => row.index)).toEqual(['by-status']);
      const heard = vi.fn();
      const unsubscribe = t.store.notifier.subscribe(indexBackfillChannel, heard);
      const next = definitionOf([{ ...index('by-owner', true), partitionKey: { name: 'owner', type: 'S' } }]);
      const update = { name: 'tasks', definition: next, expected: table.definition, indexesChanged: true, dropIndexes: ['by-status'] };
      expect(await t.store.catalogWrite({ puts: [], deletes: [], tables: { creates: [], updates: [update], deletes: [], now: t0 + 1 } })).toEqual({ written: true });
      await vi.waitFor(() => expect(heard).toHaveBeenCalled());
      unsubscribe();
      const updated = await t.store.tableGet({ name: 'tasks' });
      expect(updated?.indexVersion).toBe(table.indexVersion + 1);
      expect(updated?.definition).toEqual(next);
      expect(await t.store.indexStats({ tableId: table.id })).toEqual([]);
      // Free: whichever node's watcher reads it first takes it.
      expect(await t.store.backfillList()).toEqual([{ tableId: table.id, index: 'by-owner', owner: null, token: 0, leaseUntil: 0, after: null }]);
      // A table deleted by the batch (--prune) takes its leases with it.
      expect(await t.store.catalogWrite({ puts: [], deletes: [], tables: { creates: [], updates: [], deletes: ['tasks'], now: t0 + 2 } })).toEqual({ written: true });
      expect(await t.store.backfillList()).toEqual([]);
    });

    it('dropping a backfilling index, or the table, deletes its lease', async () => {
      await t.store.tableCreate({ name: 'a', definition: definitionOf([]), now: t0 });
      await t.store.tableCreate({ name: 'b', definition: definitionOf([]), now: t0 });
      for (const name of ['a', 'b'])
        await t.store.tableUpdate({ name, definition: definitionOf([index('by-status', true)]), now: t0, indexesChanged: true });
      expect((await t.store.backfillList()).map((lease) => lease.owner)).toEqual([null, null]);
      await t.store.tableUpdate({ name: 'a', definition: definitionOf([]), now: t0, indexesChanged: true, dropIndexes: ['by-status'] });
      await t.store.tableDelete({ name: 'b' });
      expect(await t.store.backfillList()).toEqual([]);
    });
  });
}
