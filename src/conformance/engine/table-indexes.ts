/**
 * Secondary indexes kept as entries written with their items (tables/indexes.ts): projections, sparse
 * indexes, entries moved and removed by updates and deletes, paging, the backfill of an index added to
 * a full table, the entries of a removed index dropped, and a write decided on an outdated definition
 * refused by the store.
 */
import { describe, expect, it } from 'vitest';
import type { IndexDefinition } from '../../store/table-definition.js';
import type { Item } from '../../tables/expressions/index.js';
import { encodeKey } from '../../tables/keys.js';
import { itemSize } from '../../tables/item-size.js';
import { toItemWrite } from '../../tables/writes.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

const byStatus = (projection: IndexDefinition['projection']): IndexDefinition => ({
  name: 'by-status',
  kind: 'global',
  partitionKey: { name: 'status', type: 'S' },
  sortKey: { name: 'at', type: 'N' },
  projection,
});

export function tableIndexConformance(backend: BackendUnderTest): void {
  describe(`table indexes [${backend.name}]`, () => {
    const t = useEngine(backend);
    const tables = () => t.sluice.tables;

    async function tasksTable(indexes: IndexDefinition[]) {
      return tables().createTable({
        name: 'tasks',
        partitionKey: { name: 'user', type: 'S' },
        sortKey: { name: 'id', type: 'N' },
        indexes,
      });
    }

    const queryStatus = async (status: string, extra: Record<string, unknown> = {}) =>
      tables().query({
        tableName: 'tasks',
        indexName: 'by-status',
        keyConditionExpression: '#s = :s',
        expressionAttributeNames: { '#s': 'status' },
        expressionAttributeValues: { ':s': status },
        ...extra,
      });

    /** The index's entries as the store holds them (the projected items), in index order. */
    async function entries(index: string): Promise<Item[]> {
      const table = await tables().require('tasks');
      const page = await t.sluice.store.indexScan({ tableId: table.id, index, startAfter: null, limit: 100_000, maxBytes: 1e9 });
      return page.rows.map((row) => JSON.parse(row.item) as Item);
    }

    it('keeps KEYS_ONLY, INCLUDE and ALL projections, and leaves out items without the index key (sparse)', async () => {
      await tasksTable([
        { ...byStatus({ type: 'KEYS_ONLY' }), name: 'keys' },
        { ...byStatus({ type: 'INCLUDE', nonKeyAttributes: ['note'] }), name: 'include' },
        { ...byStatus({ type: 'ALL' }), name: 'all' },
      ]);
      await tables().putItem({ tableName: 'tasks', item: { user: 'u1', id: 1, status: 'open', at: 5, note: 'n', extra: 'x' } });
      await tables().putItem({ tableName: 'tasks', item: { user: 'u1', id: 2, status: 'open' } }); // no sort key: absent
      await tables().putItem({ tableName: 'tasks', item: { user: 'u2', id: 1, note: 'none' } }); // no keys: absent
      const read = async (index: string) =>
        (
          await tables().query({
            tableName: 'tasks',
            indexName: index,
            keyConditionExpression: '#s = :s',
            expressionAttributeNames: { '#s': 'status' },
            expressionAttributeValues: { ':s': 'open' },
          })
        ).items;
      expect(await read('keys')).toEqual([{ user: 'u1', id: 1, status: 'open', at: 5 }]);
      expect(await read('include')).toEqual([{ user: 'u1', id: 1, status: 'open', at: 5, note: 'n' }]);
      expect(await read('all')).toEqual([{ user: 'u1', id: 1, status: 'open', at: 5, note: 'n', extra: 'x' }]);
      expect(await entries('keys')).toHaveLength(1);
      expect(await entries('all')).toHaveLength(1);
    });

    it('moves, refreshes and removes entries as items are updated and deleted', async () => {
      await tasksTable([byStatus({ type: 'INCLUDE', nonKeyAttributes: ['note'] })]);
      await tables().putItem({ tableName: 'tasks', item: { user: 'u1', id: 1, status: 'open', at: 5, note: 'a' } });
      // The index key changes: the entry moves to the new partition.
      await tables().updateItem({ tableName: 'tasks', key: { user: 'u1', id: 1 }, updateExpression: 'SET #s = :d', expressionAttributeNames: { '#s': 'status' }, expressionAttributeValues: { ':d': 'done' } });
      expect((await queryStatus('open')).items).toEqual([]);
      expect((await queryStatus('done')).items).toEqual([{ user: 'u1', id: 1, status: 'done', at: 5, note: 'a' }]);
      // A projected attribute changes: the entry is rewritten; an unprojected one: the entry is unchanged.
      await tables().updateItem({ tableName: 'tasks', key: { user: 'u1', id: 1 }, updateExpression: 'SET note = :n, unprojected = :o', expressionAttributeValues: { ':n': 'b', ':o': 1 } });
      expect((await queryStatus('done')).items).toEqual([{ user: 'u1', id: 1, status: 'done', at: 5, note: 'b' }]);
      // The index key is removed: the item leaves the index.
      await tables().updateItem({ tableName: 'tasks', key: { user: 'u1', id: 1 }, updateExpression: 'REMOVE #a', expressionAttributeNames: { '#a': 'at' } });
      expect(await entries('by-status')).toEqual([]);
      await tables().updateItem({ tableName: 'tasks', key: { user: 'u1', id: 1 }, updateExpression: 'SET #a = :a', expressionAttributeNames: { '#a': 'at' }, expressionAttributeValues: { ':a': 9 } });
      expect(await entries('by-status')).toHaveLength(1);
      // A put replacing the item, then a delete.
      await tables().putItem({ tableName: 'tasks', item: { user: 'u1', id: 1, status: 'open', at: 1 } });
      expect(await entries('by-status')).toEqual([{ user: 'u1', id: 1, status: 'open', at: 1 }]);
      await tables().deleteItem({ tableName: 'tasks', key: { user: 'u1', id: 1 } });
      expect(await entries('by-status')).toEqual([]);
      // A transaction's writes keep the index too; a cancelled one leaves it as it was.
      await tables().transactWriteItems([
        { put: { tableName: 'tasks', item: { user: 'u1', id: 1, status: 'open', at: 1 } } },
        { put: { tableName: 'tasks', item: { user: 'u1', id: 2, status: 'open', at: 2 } } },
      ]);
      await expectSluiceError(
        tables().transactWriteItems([
          { delete: { tableName: 'tasks', key: { user: 'u1', id: 1 } } },
          { put: { tableName: 'tasks', item: { user: 'u1', id: 2, status: 'x', at: 2 }, conditionExpression: 'attribute_not_exists(id)' } },
        ]),
        'TransactionCanceledException',
      );
      expect((await queryStatus('open')).items.map((item) => item.id)).toEqual([1, 2]);
    });

    it('pages through equal index keys in both directions, ordered by the table key', async () => {
      await tasksTable([byStatus({ type: 'KEYS_ONLY' })]);
      for (let i = 0; i < 7; i++)
        await tables().putItem({ tableName: 'tasks', item: { user: `u${i % 3}`, id: i, status: 'open', at: i < 4 ? 1 : 2 } });
      for (const forward of [true, false]) {
        const seen: Array<[unknown, unknown]> = [];
        let start: Item | undefined;
        do {
          const page = await queryStatus('open', { limit: 2, scanIndexForward: forward, exclusiveStartKey: start });
          seen.push(...page.items.map((item) => [item.at, `${String(item.user)}/${String(item.id)}`] as [unknown, unknown]));
          start = page.lastEvaluatedKey;
        } while (start);
        const expected = [
          [1, 'u0/0'], [1, 'u0/3'], [1, 'u1/1'], [1, 'u2/2'], [2, 'u0/6'], [2, 'u1/4'], [2, 'u2/5'],
        ];
        expect(seen).toEqual(forward ? expected : [...expected].reverse());
      }
      const between = await tables().query({
        tableName: 'tasks',
        indexName: 'by-status',
        keyConditionExpression: '#s = :s AND #a BETWEEN :lo AND :hi',
        filterExpression: '#u <> :u',
        expressionAttributeNames: { '#s': 'status', '#a': 'at', '#u': 'user' },
        expressionAttributeValues: { ':s': 'open', ':lo': 2, ':hi': 3, ':u': 'u1' },
      });
      expect(between).toMatchObject({ count: 2, scannedCount: 3 });
    });

    it('reads whole items through a local index with allAttributes', async () => {
      await tasksTable([
        { name: 'by-at', kind: 'local', partitionKey: { name: 'user', type: 'S' }, sortKey: { name: 'at', type: 'N' }, projection: { type: 'KEYS_ONLY' } },
      ]);
      await tables().putItem({ tableName: 'tasks', item: { user: 'u1', id: 1, at: 20, big: 'yes' } });
      await tables().putItem({ tableName: 'tasks', item: { user: 'u1', id: 2, at: 10 } });
      await tables().putItem({ tableName: 'tasks', item: { user: 'u2', id: 3, at: 15 } });
      const input = { tableName: 'tasks', indexName: 'by-at', keyConditionExpression: '#u = :u', expressionAttributeNames: { '#u': 'user' }, expressionAttributeValues: { ':u': 'u1' } };
      expect((await tables().query(input)).items).toEqual([{ user: 'u1', id: 2, at: 10 }, { user: 'u1', id: 1, at: 20 }]);
      expect((await tables().query({ ...input, allAttributes: true })).items).toEqual([
        { user: 'u1', id: 2, at: 10 },
        { user: 'u1', id: 1, at: 20, big: 'yes' },
      ]);
    });

    it('backfills a global index added to a table that holds items, and drops the entries of a removed one', async () => {
      await tasksTable([]);
      const count = 1234; // more than one backfill batch
      for (let i = 0; i < count; i += 25) {
        const puts = Array.from({ length: Math.min(25, count - i) }, (_, k) => ({
          tableName: 'tasks',
          put: { user: `u${(i + k) % 10}`, id: i + k, ...((i + k) % 2 === 0 ? { status: `s${(i + k) % 4}`, at: i + k } : {}) },
        }));
        await tables().batchWriteItem(puts);
      }
      const described = await tables().updateTable('tasks', { createIndex: byStatus({ type: 'KEYS_ONLY' }) });
      // Answered at once, as DynamoDB does: the index is CREATING (backfilling) until the backfill ends.
      expect(described.indexes?.[0]).toHaveProperty('backfilling', true);
      await tables().indexBackfillsSettled();
      expect((await tables().describeTable('tasks')).indexes?.[0]).not.toHaveProperty('backfilling');
      expect(await entries('by-status')).toHaveLength(count / 2);
      const s2 = await queryStatus('s2', { limit: 3 });
      expect(s2.items).toEqual([
        { user: 'u2', id: 2, status: 's2', at: 2 },
        { user: 'u6', id: 6, status: 's2', at: 6 },
        { user: 'u0', id: 10, status: 's2', at: 10 },
      ]);
      // Writes after the backfill keep it.
      await tables().putItem({ tableName: 'tasks', item: { user: 'zz', id: 0, status: 's2', at: -1 } });
      expect((await queryStatus('s2', { limit: 1 })).items).toEqual([{ user: 'zz', id: 0, status: 's2', at: -1 }]);

      await tables().updateTable('tasks', { deleteIndex: 'by-status' });
      expect(await entries('by-status')).toEqual([]);
    });

    it('ends a backfill with exactly the entries of the items, while writes change index keys meanwhile', async () => {
      await tasksTable([]);
      const count = 1500;
      for (let i = 0; i < count; i += 25)
        await tables().batchWriteItem(
          Array.from({ length: 25 }, (_, k) => ({ tableName: 'tasks', put: { user: `u${(i + k) % 7}`, id: i + k, status: 'a', at: i + k } })),
        );
      let writing = true;
      const writer = (async () => {
        let n = 0;
        while (writing || n < 50) {
          const id = (n * 7919) % count;
          const key = { user: `u${id % 7}`, id };
          if (n % 5 === 4) await tables().deleteItem({ tableName: 'tasks', key });
          else await tables().putItem({ tableName: 'tasks', item: { ...key, status: `b${n % 3}`, at: n } });
          n++;
        }
        return n;
      })();
      await tables().updateTable('tasks', { createIndex: byStatus({ type: 'ALL' }) });
      await tables().indexBackfillsSettled();
      writing = false;
      expect(await writer).toBeGreaterThanOrEqual(50);
      const items: Item[] = [];
      let start: Item | undefined;
      do {
        const page = await tables().scan({ tableName: 'tasks', ...(start ? { exclusiveStartKey: start } : {}) });
        items.push(...page.items);
        start = page.lastEvaluatedKey;
      } while (start);
      const key = (item: Item) => `${String(item.status)}|${String(item.at)}|${String(item.user)}|${String(item.id)}`;
      expect((await entries('by-status')).map(key).sort()).toEqual(items.map(key).sort());
    });

    it('leaves one entry per item when concurrent writes move the same items between index keys', async () => {
      await tasksTable([byStatus({ type: 'ALL' })]);
      await Promise.all(
        Array.from({ length: 8 }, async (_, writer) => {
          for (let n = 0; n < 15; n++) {
            const id = n % 3;
            await tables().updateItem({
              tableName: 'tasks',
              key: { user: 'u', id },
              updateExpression: 'SET #s = :s, #a = :a ADD hits :one',
              expressionAttributeNames: { '#s': 'status', '#a': 'at' },
              expressionAttributeValues: { ':s': `s${(writer + n) % 4}`, ':a': writer, ':one': 1 },
            });
          }
        }),
      );
      const items = (await tables().scan({ tableName: 'tasks' })).items;
      expect(items.reduce((sum, item) => sum + (item.hits as number), 0)).toBe(8 * 15);
      const key = (item: Item) => JSON.stringify([item.status, item.at, item.user, item.id, item.hits]);
      expect((await entries('by-status')).map(key).sort()).toEqual(items.map(key).sort());
    });

    /** Holds the store's backfill batches until `release` is called: the index stays CREATING meanwhile. */
    function holdBackfill(): { release: () => void; restore: () => void } {
      const store = t.sluice.store;
      const original = store.indexBackfill;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      store.indexBackfill = async (p) => {
        await gate;
        return original.call(store, p);
      };
      return { release, restore: () => (store.indexBackfill = original) };
    }

    async function fillTasks(count: number) {
      for (let i = 0; i < count; i += 25)
        await tables().batchWriteItem(
          Array.from({ length: 25 }, (_, k) => ({ tableName: 'tasks', put: { user: `u${(i + k) % 7}`, id: i + k, status: 'open', at: i + k } })),
        );
    }

    it('answers UpdateTable adding an index at once, refuses reads and other index changes until the background backfill ends', async () => {
      await tasksTable([]);
      await fillTasks(1200);
      const held = holdBackfill();
      try {
        const described = await tables().updateTable('tasks', { createIndex: byStatus({ type: 'ALL' }) });
        expect(described.indexes).toEqual([{ ...byStatus({ type: 'ALL' }), backfilling: true }]);
        expect((await tables().describeTable('tasks')).indexes?.[0]?.backfilling).toBe(true);
        await expectSluiceError(queryStatus('open'), 'ValidationException', /^Cannot read from backfilling global secondary index$/);
        const limit = /^Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table$/;
        await expectSluiceError(
          tables().updateTable('tasks', { createIndex: { ...byStatus({ type: 'KEYS_ONLY' }), name: 'second' } }),
          'LimitExceededException',
          limit,
        );
        // Other table changes are accepted meanwhile.
        await tables().updateTable('tasks', { tags: { team: 'a' } });
        held.release();
        await tables().indexBackfillsSettled();
      } finally {
        held.restore();
      }
      const active = await tables().describeTable('tasks');
      expect(active.indexes).toEqual([byStatus({ type: 'ALL' })]);
      expect(active.tags).toEqual({ team: 'a' });
      expect((await queryStatus('open', { limit: 2 })).items).toEqual([
        { user: 'u0', id: 0, status: 'open', at: 0 },
        { user: 'u1', id: 1, status: 'open', at: 1 },
      ]);
      expect(await entries('by-status')).toHaveLength(1200);
      // Once ACTIVE, the next index change is accepted; waitForIndex returns when it is ACTIVE too.
      const second = await tables().updateTable(
        'tasks',
        { createIndex: { ...byStatus({ type: 'KEYS_ONLY' }), name: 'second' } },
        { waitForIndex: true },
      );
      expect(second.indexes?.map((index) => [index.name, index.backfilling ?? false])).toEqual([
        ['by-status', false],
        ['second', false],
      ]);
    });

    it('refuses one of two concurrent UpdateTable calls adding an index: the loser re-reads and finds one CREATING', async () => {
      await tasksTable([]);
      await fillTasks(100);
      const held = holdBackfill();
      let outcomes: PromiseSettledResult<unknown>[];
      try {
        outcomes = await Promise.allSettled([
          tables().updateTable('tasks', { createIndex: { ...byStatus({ type: 'ALL' }), name: 'one' } }),
          tables().updateTable('tasks', { createIndex: { ...byStatus({ type: 'ALL' }), name: 'two' } }),
        ]);
        held.release();
        await tables().indexBackfillsSettled();
      } finally {
        held.restore();
      }
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
      expect((refused.reason as { code: string }).code).toBe('LimitExceededException');
      const indexes = (await tables().describeTable('tasks')).indexes ?? [];
      expect(indexes).toHaveLength(1);
      expect(indexes[0]!.backfilling).toBeUndefined();
    });

    it('deletes an index while it is CREATING (backfilling), as DynamoDB allows; deleting another index meanwhile is refused', async () => {
      await tasksTable([{ ...byStatus({ type: 'KEYS_ONLY' }), name: 'old' }]);
      await fillTasks(1200);
      const held = holdBackfill();
      try {
        await tables().updateTable('tasks', { createIndex: byStatus({ type: 'ALL' }) });
        await expectSluiceError(
          tables().updateTable('tasks', { deleteIndex: 'old' }),
          'LimitExceededException',
          /^Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table$/,
        );
        const deleted = await tables().updateTable('tasks', { deleteIndex: 'by-status' });
        expect(deleted.indexes?.map((index) => index.name)).toEqual(['old']);
        held.release();
        await tables().indexBackfillsSettled();
      } finally {
        held.restore();
      }
      // Its entries are gone, no lease is left, and the next index change is accepted at once.
      expect(await entries('by-status')).toEqual([]);
      expect(await t.sluice.store.backfillList()).toEqual([]);
      expect((await tables().describeTable('tasks')).indexes?.map((index) => index.name)).toEqual(['old']);
      await tables().updateTable('tasks', { deleteIndex: 'old' });
      expect((await tables().describeTable('tasks')).indexes).toBeUndefined();
    });

    it('writes no entry of an index dropped while its backfill was running', async () => {
      await tasksTable([]);
      await fillTasks(600);
      const held = holdBackfill();
      try {
        await tables().updateTable('tasks', { createIndex: byStatus({ type: 'ALL' }) });
        // Dropped by the store directly while the first batch waits (UpdateTable's delete is the test above).
        const table = await t.sluice.store.tableGet({ name: 'tasks' });
        const { indexes: _dropped, ...without } = table!.definition;
        await t.sluice.store.tableUpdate({ name: 'tasks', definition: without, now: 2, indexesChanged: true, dropIndexes: ['by-status'] });
        held.release();
        await tables().indexBackfillsSettled();
      } finally {
        held.restore();
      }
      expect(await entries('by-status')).toEqual([]);
      expect((await tables().describeTable('tasks')).indexes).toBeUndefined();
    });

    it('keeps a table change committed between the backfill reading the definition and marking the index ACTIVE', async () => {
      await tasksTable([]);
      await fillTasks(100);
      const store = t.sluice.store;
      const getById = store.tableGetById;
      let interloped = false;
      // The backfill reads the definition to mark the index ready; an UpdateTable commits right after.
      store.tableGetById = async (p) => {
        const current = await getById.call(store, p);
        if (!interloped && current?.definition.indexes?.some((index) => index.backfilling)) {
          interloped = true;
          await tables().updateTable('tasks', { tags: { late: 'yes' } });
        }
        return current;
      };
      try {
        await Promise.all([
          tables().updateTable('tasks', { createIndex: byStatus({ type: 'KEYS_ONLY' }) }),
          tables().updateTable('tasks', { stream: { viewType: 'KEYS_ONLY' } }),
        ]);
        await tables().indexBackfillsSettled();
      } finally {
        store.tableGetById = getById;
      }
      expect(interloped).toBe(true);
      const table = await tables().describeTable('tasks');
      expect(table.indexes).toEqual([byStatus({ type: 'KEYS_ONLY' })]);
      expect(table.tags).toEqual({ late: 'yes' });
      expect(table.stream?.viewType).toBe('KEYS_ONLY');
    });

    it('counts each index\'s items and size from its entries in DescribeTable (sparse indexes hold fewer)', async () => {
      await tasksTable([
        { ...byStatus({ type: 'KEYS_ONLY' }), name: 'keys' },
        { ...byStatus({ type: 'ALL' }), name: 'all' },
        { name: 'by-note', kind: 'local', partitionKey: { name: 'user', type: 'S' }, sortKey: { name: 'note', type: 'S' }, projection: { type: 'ALL' } },
      ]);
      const items: Item[] = Array.from({ length: 10 }, (_, id) => ({ user: 'u', id, status: 'open', at: id, ...(id < 3 ? { note: `n${id}` } : {}), body: 'x'.repeat(50) }));
      for (const item of items) await tables().putItem({ tableName: 'tasks', item });
      await tables().putItem({ tableName: 'tasks', item: { user: 'u', id: 99, body: 'no index keys' } });
      const described = await tables().describeTable('tasks', { counts: true });
      expect(described.itemCount).toBe(11);
      const sum = (list: Item[]) => list.reduce((total, item) => total + itemSize(item), 0);
      expect(described.indexCounts).toEqual({
        // ALL holds the whole items that carry the index keys; KEYS_ONLY the table's and the index's keys.
        all: { itemCount: 10, sizeBytes: sum(items) },
        keys: { itemCount: 10, sizeBytes: sum(items.map(({ user, id, status, at }) => ({ user, id, status, at }) as Item)) },
        'by-note': { itemCount: 3, sizeBytes: sum(items.slice(0, 3)) },
      });
      // Deletes leave the counts with the entries.
      await tables().deleteItem({ tableName: 'tasks', key: { user: 'u', id: 0 } });
      expect((await tables().describeTable('tasks', { counts: true })).indexCounts).toMatchObject({
        keys: { itemCount: 9 },
        all: { itemCount: 9 },
        'by-note': { itemCount: 2 },
      });
    });

    it('refuses reads of an index still backfilling', async () => {
      await tasksTable([]);
      const table = await tables().require('tasks');
      await t.sluice.store.tableUpdate({
        name: 'tasks',
        definition: { ...table.definition, indexes: [{ ...byStatus({ type: 'ALL' }), backfilling: true }] },
        now: 1,
        indexesChanged: true,
        // Held by a live node elsewhere: this engine must not take the backfill over and finish it.
        backfillOwner: { owner: 'another-node', leaseUntil: Number.MAX_SAFE_INTEGER },
      });
      await tables().updateTable('tasks', { ttlAttribute: 'ttl' }); // re-reads the stored definition
      await expectSluiceError(queryStatus('open'), 'ValidationException', /^Cannot read from backfilling global secondary index$/);
    });

    it('refuses a write decided on a definition whose indexes changed since, and the service decides again', async () => {
      await tasksTable([]);
      const stale = await tables().require('tasks');
      // Another node adds an index: this engine's cached definition is now outdated.
      await t.sluice.store.tableUpdate({
        name: 'tasks',
        definition: { ...stale.definition, indexes: [byStatus({ type: 'ALL' })] },
        now: 1,
        indexesChanged: true,
      });
      const item = { user: 'u1', id: 1, status: 'open', at: 1 };
      const { write } = toItemWrite(
        { table: stale, key: encodeKey(stale.definition, item), condition: undefined, change: () => item },
        1,
      );
      expect(await t.sluice.store.itemWrite({ writes: [write], now: 1 })).toEqual({ outcome: 'tableChanged', tableId: stale.id });
      // Through the service (still holding the stale definition in its cache): the entry is written.
      await tables().putItem({ tableName: 'tasks', item });
      expect(await entries('by-status')).toEqual([item]);
    });
  });
}
