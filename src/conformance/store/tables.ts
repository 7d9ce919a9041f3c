/**
 * TableStore on its own: tables, items under byte-ordered keys, all-or-none writes decided by the
 * caller, key-ordered reads and pages, TTL expiry, and stream records with their per-shard sequence
 * and consumers' checkpoints. Items are opaque text here: DynamoDB's expressions, sizes and images
 * are the tables feature's (the engine suite).
 */
import { describe, expect, it, vi } from 'vitest';
import type { TableDefinition } from '../../store/table-definition.js';
import {
  streamChannel,
  tableCatalogChannel,
  type ItemDecision,
  type ItemWrite,
  type StoredTable,
  type StreamRecordDraft,
} from '../../store/table-store.js';
import type { Store } from '../../store/store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = 1_700_000_000_000;
const noSortKey = Buffer.alloc(0);
const key = (pk: string, sk?: string) => ({
  pk: Buffer.from(pk),
  sk: sk === undefined ? noSortKey : Buffer.from(sk),
});

const definitionOf = (overrides: Partial<TableDefinition> = {}): TableDefinition => ({
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  stream: null,
  ttlAttribute: null,
  shardCount: 2,
  ...overrides,
});

async function createTable(
  store: Store,
  name: string,
  overrides: Partial<TableDefinition> = {},
): Promise<StoredTable> {
  return (await store.tableCreate({ name, definition: definitionOf(overrides), now: t0 })).table;
}

const record = (eventName: StreamRecordDraft['eventName'], body: string): StreamRecordDraft => ({
  eventName,
  body,
  byService: false,
});

/** A write that puts `item` whatever is stored, with a stream record when the table has a stream. */
function put(
  table: StoredTable,
  k: { pk: Buffer; sk: Buffer },
  item: string,
  extra: { shard?: number | null; expiresAt?: number | null } = {},
): ItemWrite {
  const shard = extra.shard ?? null;
  return {
    tableId: table.id,
    key: k,
    shard,
    indexVersion: table.indexVersion,
    decide: (current): ItemDecision => ({
      kind: 'put',
      item,
      size: item.length,
      expiresAt: extra.expiresAt ?? null,
      record: shard === null ? null : record(current === undefined ? 'INSERT' : 'MODIFY', item),
    }),
  };
}

export function tableStoreConformance(backend: BackendUnderTest): void {
  describe(`table store [${backend.name}]`, () => {
    const t = useStore(backend);

    it('creates a table once, finds it by name, id and prefix, updates and deletes it', async () => {
      const created = await t.store.tableCreate({ name: 'orders', definition: definitionOf(), now: t0 });
      expect(created).toMatchObject({
        outcome: 'created',
        table: { name: 'orders', createdAt: t0, modifiedAt: t0 },
      });
      expect(created.table.definition).toEqual(definitionOf());
      const again = await t.store.tableCreate({
        name: 'orders',
        definition: definitionOf({ shardCount: 4 }),
        now: t0 + 1,
      });
      expect(again).toMatchObject({
        outcome: 'exists',
        table: { id: created.table.id, definition: { shardCount: 2 } },
      });
      await createTable(t.store, 'order_lines');
      await createTable(t.store, 'payments');
      expect(await t.store.tableGet({ name: 'orders' })).toEqual(created.table);
      expect(await t.store.tableGetById({ id: created.table.id })).toEqual(created.table);
      expect((await t.store.tableList({ prefix: 'order' })).map((table) => table.name).sort()).toEqual([
        'order_lines',
        'orders',
      ]);
      expect((await t.store.tableList({ prefix: 'order_' })).map((table) => table.name)).toEqual([
        'order_lines',
      ]);
      expect(await t.store.tableList({})).toHaveLength(3);

      const stream = { viewType: 'NEW_IMAGE' as const, label: '2026-01-01T00:00:00.000' };
      const updated = await t.store.tableUpdate({
        name: 'orders',
        definition: definitionOf({ stream, ttlAttribute: 'expires' }),
        now: t0 + 5,
      });
      expect(updated).toMatchObject({
        createdAt: t0,
        modifiedAt: t0 + 5,
        definition: { stream, ttlAttribute: 'expires' },
      });
      expect(
        await t.store.tableUpdate({ name: 'missing', definition: definitionOf(), now: t0 }),
      ).toBeUndefined();
      // A compare-and-set on the definition: applied while it is the one expected, refused once changed.
      const stale = updated!.definition;
      const tagged = await t.store.tableUpdate({
        name: 'orders',
        definition: { ...stale, tags: { a: '1' } },
        now: t0 + 6,
        expected: stale,
      });
      expect(tagged?.definition.tags).toEqual({ a: '1' });
      for (const indexesChanged of [false, true]) {
        expect(
          await t.store.tableUpdate({
            name: 'orders',
            definition: { ...stale, ttlAttribute: null },
            now: t0 + 7,
            expected: stale,
            indexesChanged,
          }),
        ).toBeUndefined();
      }
      expect((await t.store.tableGet({ name: 'orders' }))?.definition).toEqual(tagged!.definition);

      expect(await t.store.tableDelete({ name: 'orders' })).toMatchObject({ id: created.table.id });
      expect(await t.store.tableDelete({ name: 'orders' })).toBeUndefined();
      expect(await t.store.tableGet({ name: 'orders' })).toBeUndefined();
    });

    it('publishes the table catalog channel when a table is created', async () => {
      let heard = 0;
      const stop = t.store.notifier.subscribe(tableCatalogChannel, () => heard++);
      await createTable(t.store, 'orders');
      await vi.waitFor(() => expect(heard).toBeGreaterThanOrEqual(1));
      stop();
    });

    it('writes items by what decide returns for the stored item, and reads them singly, many at once and in sum', async () => {
      const table = await createTable(t.store, 'orders');
      const seen: Array<string | undefined> = [];
      const write = (item: string) =>
        t.store.itemWrite({
          now: t0,
          writes: [
            {
              tableId: table.id,
              key: key('a', '1'),
              shard: null,
              indexVersion: table.indexVersion,
              decide: (current) => {
                seen.push(current);
                return { kind: 'put', item, size: item.length, expiresAt: null, record: null };
              },
            },
          ],
        });
      expect(await write('first')).toEqual({ outcome: 'written', records: [] });
      await write('second!');
      expect(seen).toEqual([undefined, 'first']);
      await t.store.itemWrite({ now: t0, writes: [put(table, key('b'), 'bee')] });
      expect(await t.store.itemGet({ tableId: table.id, key: key('a', '1') })).toEqual({
        item: 'second!',
        size: 7,
      });
      expect(await t.store.itemGet({ tableId: table.id, key: key('a', '2') })).toBeUndefined();
      const many = await t.store.itemGetMany({
        keys: [
          { tableId: table.id, key: key('b') },
          { tableId: table.id, key: key('zz') },
          { tableId: table.id, key: key('a', '1') },
        ],
      });
      expect(many.map((row) => row?.item)).toEqual(['bee', undefined, 'second!']);
      expect(await t.store.itemStats({ tableId: table.id })).toEqual({ count: 2, bytes: 10 });

      const removed = await t.store.itemWrite({
        now: t0,
        writes: [
          { tableId: table.id, key: key('b'), shard: null, indexVersion: table.indexVersion, decide: () => ({ kind: 'delete', record: null }) },
          { tableId: table.id, key: key('a', '1'), shard: null, indexVersion: table.indexVersion, decide: () => ({ kind: 'none' }) },
        ],
      });
      expect(removed.outcome).toBe('written');
      expect(await t.store.itemStats({ tableId: table.id })).toEqual({ count: 1, bytes: 7 });
    });

    it('writes all or nothing: one failed decision cancels every write, with a reason per write', async () => {
      const table = await createTable(t.store, 'orders', {
        stream: { viewType: 'NEW_IMAGE', label: 'l' },
      });
      const outcome = await t.store.itemWrite({
        now: t0,
        writes: [
          put(table, key('a'), 'A', { shard: 0 }),
          {
            tableId: table.id,
            key: key('b'),
            shard: 1,
            indexVersion: table.indexVersion,
            decide: () => ({ kind: 'fail', reason: 'ConditionalCheckFailed' }),
          },
          put(table, key('c'), 'C', { shard: 1 }),
        ],
      });
      expect(outcome).toEqual({ outcome: 'cancelled', reasons: [null, 'ConditionalCheckFailed', null] });
      expect(await t.store.itemStats({ tableId: table.id })).toEqual({ count: 0, bytes: 0 });
      expect(await t.store.streamShards({ tableId: table.id })).toEqual([
        { shard: 0, firstSeq: null, lastSeq: 0 },
        { shard: 1, firstSeq: null, lastSeq: 0 },
      ]);
    });

    it('refuses a write to a table that is gone', async () => {
      const table = await createTable(t.store, 'orders');
      await t.store.tableDelete({ name: 'orders' });
      expect(await t.store.itemWrite({ now: t0, writes: [put(table, key('a'), 'A')] })).toEqual({
        outcome: 'tableGone',
        tableId: table.id,
      });
    });

    it('queries one partition in sort-key byte order, within bounds, either way, in pages', async () => {
      const table = await createTable(t.store, 'orders');
      const sortKeys = ['a', 'b', 'c', 'd', 'e'];
      await t.store.itemWrite({
        now: t0,
        writes: [
          ...sortKeys.map((sk) => put(table, key('p', sk), `p${sk}`)),
          put(table, key('q', 'a'), 'qa'),
          // 0xff sorts after every ASCII byte: keys compare as unsigned bytes.
          { ...put(table, { pk: Buffer.from('p'), sk: Buffer.from([0xff]) }, 'pff') },
        ],
      });
      const query = (extra: Partial<Parameters<Store['itemQuery']>[0]> = {}) =>
        t.store.itemQuery({
          tableId: table.id,
          pk: Buffer.from('p'),
          lower: null,
          upper: null,
          startAfter: null,
          forward: true,
          limit: 100,
          maxBytes: 1_000_000,
          ...extra,
        });
      const items = (page: { rows: Array<{ item: string }> }) => page.rows.map((row) => row.item);
      expect(items(await query())).toEqual(['pa', 'pb', 'pc', 'pd', 'pe', 'pff']);
      expect(await query()).toMatchObject({ truncated: false });
      expect(items(await query({ forward: false }))).toEqual(['pff', 'pe', 'pd', 'pc', 'pb', 'pa']);
      const bounded = await query({
        lower: { sk: Buffer.from('b'), inclusive: false },
        upper: { sk: Buffer.from('d'), inclusive: true },
      });
      expect(items(bounded)).toEqual(['pc', 'pd']);
      const firstPage = await query({ limit: 2 });
      expect(firstPage).toMatchObject({ truncated: true });
      expect(items(firstPage)).toEqual(['pa', 'pb']);
      expect(items(await query({ limit: 2, startAfter: Buffer.from('b') }))).toEqual(['pc', 'pd']);
      expect(items(await query({ forward: false, startAfter: Buffer.from('c'), limit: 10 }))).toEqual([
        'pb',
        'pa',
      ]);
      // The page ends with the row that reaches maxBytes (each item here is 2 or 3 bytes).
      const bySize = await query({ maxBytes: 3 });
      expect(items(bySize)).toEqual(['pa', 'pb']);
      expect(bySize.truncated).toBe(true);
    });

    it('scans every item in partition then sort-key order, in pages', async () => {
      const table = await createTable(t.store, 'orders');
      await t.store.itemWrite({
        now: t0,
        writes: [key('b', '1'), key('a', '2'), key('a', '1'), key('c', '0')].map((k) =>
          put(table, k, `${k.pk.toString()}${k.sk.toString()}`),
        ),
      });
      const other = await createTable(t.store, 'other');
      await t.store.itemWrite({ now: t0, writes: [put(other, key('a', '0'), 'elsewhere')] });
      const scan = (startAfter: { pk: Buffer; sk: Buffer } | null, limit = 100) =>
        t.store.itemScan({ tableId: table.id, startAfter, limit, maxBytes: 1_000_000 });
      expect((await scan(null)).rows.map((row) => row.item)).toEqual(['a1', 'a2', 'b1', 'c0']);
      const page = await scan(null, 2);
      expect(page).toMatchObject({ truncated: true });
      expect((await scan(key('a', '2'))).rows.map((row) => row.item)).toEqual(['b1', 'c0']);
    });

    it('lists the keys whose TTL is due, and the next expiry once none is', async () => {
      const table = await createTable(t.store, 'sessions', { ttlAttribute: 'expires' });
      await t.store.itemWrite({
        now: t0,
        writes: [
          put(table, key('a'), 'A', { expiresAt: t0 + 10 }),
          put(table, key('b'), 'B', { expiresAt: t0 + 20 }),
          put(table, key('c'), 'C', { expiresAt: null }),
        ],
      });
      const due = await t.store.itemExpiredKeys({ tableId: table.id, now: t0 + 15, limit: 10 });
      expect(due.keys.map((k) => k.pk.toString())).toEqual(['a']);
      const none = await t.store.itemExpiredKeys({ tableId: table.id, now: t0 + 5, limit: 10 });
      expect(none).toEqual({ keys: [], nextExpiresAt: t0 + 10 });
      const all = await t.store.itemExpiredKeys({ tableId: table.id, now: t0 + 25, limit: 10 });
      expect(all.keys.map((k) => k.pk.toString()).sort()).toEqual(['a', 'b']);
    });

    describe('streams', () => {
      const stream = { viewType: 'NEW_AND_OLD_IMAGES' as const, label: 'l' };

      it('numbers a shard’s records one by one in write order, and reads them in that order', async () => {
        const table = await createTable(t.store, 'orders', { stream });
        let heard = 0;
        const stop = t.store.notifier.subscribe(streamChannel(table.id, 1), () => heard++);
        const first = await t.store.itemWrite({
          now: t0,
          writes: [put(table, key('a'), 'a1', { shard: 1 }), put(table, key('b'), 'b1', { shard: 1 })],
        });
        expect(first).toEqual({
          outcome: 'written',
          records: [
            { tableId: table.id, shard: 1, seq: 1 },
            { tableId: table.id, shard: 1, seq: 2 },
          ],
        });
        await t.store.itemWrite({ now: t0 + 5, writes: [put(table, key('a'), 'a2', { shard: 1 })] });
        await t.store.itemWrite({ now: t0 + 6, writes: [put(table, key('z'), 'z1', { shard: 0 })] });
        await vi.waitFor(() => expect(heard).toBeGreaterThanOrEqual(2));
        stop();
        const read = await t.store.streamRead({ tableId: table.id, shard: 1, afterSeq: 0, limit: 10 });
        expect(read).toEqual([
          {
            shard: 1,
            seq: 1,
            pk: Buffer.from('a'),
            createdAt: t0,
            eventName: 'INSERT',
            body: 'a1',
            byService: false,
          },
          {
            shard: 1,
            seq: 2,
            pk: Buffer.from('b'),
            createdAt: t0,
            eventName: 'INSERT',
            body: 'b1',
            byService: false,
          },
          {
            shard: 1,
            seq: 3,
            pk: Buffer.from('a'),
            createdAt: t0 + 5,
            eventName: 'MODIFY',
            body: 'a2',
            byService: false,
          },
        ]);
        expect(
          (await t.store.streamRead({ tableId: table.id, shard: 1, afterSeq: 1, limit: 1 })).map(
            (r) => r.seq,
          ),
        ).toEqual([2]);
        expect(await t.store.streamShards({ tableId: table.id })).toEqual([
          { shard: 0, firstSeq: 1, lastSeq: 1 },
          { shard: 1, firstSeq: 1, lastSeq: 3 },
        ]);
        expect(await t.store.streamSeqBefore({ tableId: table.id, shard: 1, at: t0 + 5 })).toBe(2);
        expect(await t.store.streamSeqBefore({ tableId: table.id, shard: 1, at: t0 })).toBe(0);
      });

      it('wakes readers of a shard once per write that appends to it', async () => {
        const table = await createTable(t.store, 'orders', { stream, shardCount: 1 });
        let wakes = 0;
        const unsubscribe = t.store.notifier.subscribe(streamChannel(table.id, 0), () => wakes++);
        await t.store.itemWrite({
          now: t0,
          writes: [
            put(table, key('a', '1'), 'a', { shard: 0 }),
            put(table, key('b', '1'), 'b', { shard: 0 }),
          ],
        });
        unsubscribe();
        expect(wakes).toBe(1);
      });

      it('trims records created before a cut-off, keeping the sequence', async () => {
        const table = await createTable(t.store, 'orders', { stream });
        await t.store.itemWrite({ now: t0, writes: [put(table, key('a'), 'a1', { shard: 0 })] });
        await t.store.itemWrite({ now: t0 + 10, writes: [put(table, key('a'), 'a2', { shard: 0 })] });
        expect(await t.store.streamTrim({ tableId: table.id, createdBefore: t0 + 10 })).toEqual({
          trimmed: 1,
          oldestCreatedAt: t0 + 10,
        });
        expect(await t.store.streamShards({ tableId: table.id })).toContainEqual({
          shard: 0,
          firstSeq: 2,
          lastSeq: 2,
        });
        expect(await t.store.streamTrim({ tableId: table.id, createdBefore: t0 + 11 })).toEqual({
          trimmed: 1,
          oldestCreatedAt: null,
        });
        expect(await t.store.streamShards({ tableId: table.id })).toContainEqual({
          shard: 0,
          firstSeq: null,
          lastSeq: 2,
        });
        await t.store.itemWrite({ now: t0 + 20, writes: [put(table, key('a'), 'a3', { shard: 0 })] });
        expect(
          (await t.store.streamRead({ tableId: table.id, shard: 0, afterSeq: 0, limit: 10 })).map(
            (r) => r.seq,
          ),
        ).toEqual([3]);
      });

      it('keeps a consumer’s checkpoints per table, replaces them on save, and drops them with the table', async () => {
        const orders = await createTable(t.store, 'orders', { stream });
        const payments = await createTable(t.store, 'payments', { stream });
        await t.store.streamCheckpointSave({
          consumer: 'trigger-1',
          tableId: orders.id,
          checkpoints: [
            { shard: 0, seq: 4, state: null },
            { shard: 1, seq: 7, state: '{"window":1}' },
          ],
          now: t0,
        });
        await t.store.streamCheckpointSave({
          consumer: 'trigger-1',
          tableId: orders.id,
          checkpoints: [{ shard: 0, seq: 5, state: null }],
          now: t0 + 1,
        });
        await t.store.streamCheckpointSave({
          consumer: 'trigger-2',
          tableId: payments.id,
          checkpoints: [{ shard: 0, seq: 1, state: null }],
          now: t0,
        });
        const sorted = async (consumer: string) =>
          (await t.store.streamCheckpointList({ consumer })).sort((a, b) => a.shard - b.shard);
        expect(await sorted('trigger-1')).toEqual([
          { shard: 0, seq: 5, state: null },
          { shard: 1, seq: 7, state: '{"window":1}' },
        ]);
        await t.store.tableDelete({ name: 'orders' });
        expect(await sorted('trigger-1')).toEqual([]);
        expect(await sorted('trigger-2')).toEqual([{ shard: 0, seq: 1, state: null }]);
        await t.store.streamCheckpointDelete({ consumer: 'trigger-2' });
        expect(await sorted('trigger-2')).toEqual([]);
      });
    });
  });
}
