/**
 * Tables and item reads on PostgreSQL: the catalog, gets, queries, scans and TTL listings. Item writes
 * (and the stream records they append) are item-writes.ts. Keys are bytea, which compares as unsigned
 * bytes: DynamoDB's key order for the encodings of tables/keys.ts, as SQLite's BLOBs.
 *
 * A page (query or scan) is bounded by rows and by bytes. The byte bound is applied in SQL: each fetch
 * carries a running sum of item sizes and returns the item text only for rows inside the remaining
 * budget, so a page of large items never transfers the items past its end, and a fetch never reads
 * more than its row cap. Pages of small items take a second fetch sized from the first (see `pageOf`).
 */
import type { CatalogTableWrites } from '../catalog-store.js';
import type pg from 'pg';
import type { TableDefinition } from '../table-definition.js';
import type { EncodedKey } from '../table-definition.js';
import type { Notifier } from '../notifier.js';
import {
  indexBackfillChannel,
  streamChannel,
  tableCatalogChannel,
  type ItemRow,
  type StoredItem,
  type StoredTable,
  type TableStore,
} from '../table-store.js';
import { query, run, transaction, type Statement } from './connection.js';
import { dropTableBackfills, syncBackfills } from './index-backfills.js';

interface TableRow {
  id: number;
  name: string;
  definition: string;
  created_at: number;
  modified_at: number;
  index_version: number;
}

/** A row of a page fetch: `item` is null past the fetch's byte budget. */
interface PageRow {
  pk: Buffer;
  sk: Buffer;
  item: string | null;
  size: number;
}

type ItemQueryParams = Parameters<TableStore['itemQuery']>[0];

const TABLE_COLUMNS = 'id, name, definition, created_at, modified_at, index_version';

const sql = {
  byName: { name: 'sluice_table_by_name', text: `SELECT ${TABLE_COLUMNS} FROM tables WHERE name = $1` },
  byId: { name: 'sluice_table_by_id', text: `SELECT ${TABLE_COLUMNS} FROM tables WHERE id = $1` },
  list: { text: `SELECT ${TABLE_COLUMNS} FROM tables WHERE name LIKE $1 ESCAPE '\\' ORDER BY name` },
  // The shard counters are created with the table, in the same statement. A concurrent create of the
  // same name makes the INSERT do nothing; the caller then reads the winner's row.
  create: {
    text: `WITH created AS (
             INSERT INTO tables (name, definition, created_at, modified_at, index_version) VALUES ($1, $2, $3, $3, 1)
             ON CONFLICT (name) DO NOTHING RETURNING ${TABLE_COLUMNS}
           ),
           shards AS (
             INSERT INTO stream_shards (table_id, shard, last_seq)
             SELECT created.id, s, 0 FROM created, generate_series(0, $4::integer - 1) AS s
           )
           SELECT * FROM created`,
  },
  update: {
    // $4: the compare-and-set's expected definition text (null: unconditional).
    text: `UPDATE tables SET definition = $2, modified_at = $3
           WHERE name = $1 AND ($4::text IS NULL OR definition = $4::text) RETURNING ${TABLE_COLUMNS}`,
  },
  // An index change first waits for item writes in progress: they hold the row FOR KEY SHARE until they
  // commit, and FOR UPDATE conflicts with that. A write that starts meanwhile waits here, then re-checks
  // the row's index_version and finds it changed (see item-writes.ts).
  lockForIndexes: { text: 'SELECT id FROM tables WHERE name = $1 FOR UPDATE' },
  updateIndexes: {
    text: `UPDATE tables SET definition = $2, modified_at = $3, index_version = index_version + 1
           WHERE name = $1 AND ($4::text IS NULL OR definition = $4::text) RETURNING ${TABLE_COLUMNS}`,
  },
  dropIndexEntries: { text: 'DELETE FROM index_items WHERE table_id = $1 AND index_name = ANY($2::text[])' },
  // Waits for item writes in progress (they hold the row FOR KEY SHARE until they commit).
  deleteTable: { text: `DELETE FROM tables WHERE name = $1 RETURNING ${TABLE_COLUMNS}` },
  // A statement of its own, after the row is gone: its snapshot includes what those writes committed.
  deleteContents: {
    text: `WITH items_gone AS (DELETE FROM items WHERE table_id = $1),
                index_gone AS (DELETE FROM index_items WHERE table_id = $1),
                records_gone AS (DELETE FROM stream_records WHERE table_id = $1),
                shards_gone AS (DELETE FROM stream_shards WHERE table_id = $1),
                collections_gone AS (DELETE FROM item_collections WHERE table_id = $1)
           DELETE FROM stream_checkpoints WHERE table_id = $1`,
  },
  // One statement: one snapshot of every key asked, in the order asked.
  itemGetMany: {
    name: 'sluice_item_get_many',
    text: `SELECT i.pk, i.sk, i.item, i.size
           FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) WITH ORDINALITY AS k(table_id, pk, sk, ord)
           LEFT JOIN items i ON i.table_id = k.table_id AND i.pk = k.pk AND i.sk = k.sk
           ORDER BY k.ord`,
  },
  itemStats: {
    name: 'sluice_item_stats',
    text: 'SELECT count(*)::int AS count, coalesce(sum(size), 0)::bigint AS bytes FROM items WHERE table_id = $1',
  },
  itemGet: {
    name: 'sluice_item_get',
    text: 'SELECT item, size FROM items WHERE table_id = $1 AND pk = $2 AND sk = $3',
  },
  collectionBytes: { name: 'sluice_item_collection_bytes', text: 'SELECT bytes FROM item_collections WHERE table_id = $1 AND pk = $2' },
  // Due keys (oldest expiry first) and the next expiry after now, in one snapshot; always one row or more.
  expired: {
    text: `SELECT e.pk, e.sk, n.next_expires_at
           FROM (SELECT min(expires_at) AS next_expires_at FROM items WHERE table_id = $1 AND expires_at > $2) AS n
           LEFT JOIN LATERAL (
             SELECT pk, sk FROM items WHERE table_id = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3
           ) AS e ON true`,
  },
};

function toTable(row: TableRow): StoredTable {
  return {
    id: row.id,
    name: row.name,
    definition: JSON.parse(row.definition) as TableDefinition,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    indexVersion: row.index_version,
  };
}

/**
 * The page statement for a range: `where` narrows to the range (values are placeholders from $4 on),
 * `order` is the page order. $1 the row cap, $2 the byte budget, $3 the table. The running sum counts
 * the bytes of the rows before each one, so the row that reaches the budget still carries its item.
 */
function pageStatement(name: string, where: string, order: string): Statement {
  return {
    name,
    text: `SELECT pk, sk, size, CASE WHEN before < $2 THEN item END AS item
           FROM (
             SELECT pk, sk, size, item,
                    coalesce(sum(size) OVER (ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
             FROM items WHERE table_id = $3 AND ${where}
             ORDER BY ${order} LIMIT $1
           ) AS page`,
  };
}

/** The statement and values of a query page, from a fixed set of shapes (values are always placeholders). */
function queryShape(p: ItemQueryParams, after: Buffer | null): { statement: Statement; values: unknown[] } {
  const where = ['pk = $4'];
  const values: unknown[] = [p.pk];
  const shape: string[] = [p.forward ? 'f' : 'b'];
  const bound = (operator: string, sk: Buffer, tag: string) => {
    values.push(sk);
    where.push(`sk ${operator} $${values.length + 3}`);
    shape.push(tag);
  };
  if (p.lower) bound(p.lower.inclusive ? '>=' : '>', p.lower.sk, p.lower.inclusive ? 'L' : 'l');
  if (p.upper) bound(p.upper.inclusive ? '<=' : '<', p.upper.sk, p.upper.inclusive ? 'U' : 'u');
  if (after) bound(p.forward ? '>' : '<', after, 'a');
  const statement = pageStatement(
    `sluice_item_query_${shape.join('')}`,
    where.join(' AND '),
    p.forward ? 'sk' : 'sk DESC',
  );
  return { statement, values };
}

const scanFirst = pageStatement('sluice_item_scan_first', 'true', 'pk, sk');
const scanAfter = pageStatement('sluice_item_scan_after', '(pk, sk) > ($4, $5)', 'pk, sk');

/** Rows per fetch: the first fetch's cap, and the bounds of the next ones' (sized from the first). */
const FIRST_FETCH_ROWS = 1000;
const MAX_FETCH_ROWS = 100_000;

/**
 * Takes rows until `limit` rows or `maxBytes` bytes, as SQLite's pager: a row is taken while the page
 * has fewer than `limit` rows and fewer than `maxBytes` bytes; `truncated` when a row was left over.
 * `fetch(after, rows, budget)` returns up to `rows` rows after the key `after`, in page order.
 */
export async function pageOf<R extends { item: string | null; size: number }>(
  fetch: (after: R | null, rows: number, budget: number) => Promise<R[]>,
  limit: number,
  maxBytes: number,
): Promise<{ rows: Array<R & { item: string }>; truncated: boolean }> {
  const out: Array<R & { item: string }> = [];
  let bytes = 0;
  let after: R | null = null;
  let cap = FIRST_FETCH_ROWS;
  for (;;) {
    // A full page only needs to know whether one more row exists.
    const want = bytes >= maxBytes ? 1 : Math.min(limit + 1 - out.length, cap);
    const rows = await fetch(after, want, maxBytes - bytes);
    for (const row of rows) {
      if (out.length >= limit || bytes >= maxBytes) return { rows: out, truncated: true };
      // Inside the budget, so the fetch sent its item (see pageStatement).
      out.push(row as R & { item: string });
      bytes += row.size;
    }
    if (rows.length < want) return { rows: out, truncated: false };
    after = rows[rows.length - 1] ?? null;
    // Enough rows for the rest of the budget at the average size so far, and one to spare.
    const average = Math.max(1, bytes / Math.max(1, out.length));
    cap = Math.min(MAX_FETCH_ROWS, Math.max(FIRST_FETCH_ROWS, Math.ceil((maxBytes - bytes) / average) + 1));
  }
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export function createPostgresTableStore(
  pool: pg.Pool,
  notifier: Notifier,
): Pick<
  TableStore,
  | 'tableCreate'
  | 'tableGet'
  | 'tableGetById'
  | 'tableList'
  | 'tableUpdate'
  | 'tableDelete'
  | 'itemGet'
  | 'itemGetMany'
  | 'itemStats'
  | 'itemQuery'
  | 'itemScan'
  | 'itemExpiredKeys'
  | 'itemCollectionBytes'
> {
  return {
    async tableCreate(p) {
      // A loser of a concurrent create finds nothing in its own snapshot; the next statement sees the winner.
      for (;;) {
        const [created] = await run<TableRow>(pool, sql.create, [
          p.name,
          JSON.stringify(p.definition),
          p.now,
          p.definition.shardCount,
        ]);
        if (created) {
          notifier.publish(tableCatalogChannel);
          return { outcome: 'created', table: toTable(created) };
        }
        const [existing] = await run<TableRow>(pool, sql.byName, [p.name]);
        if (existing) return { outcome: 'exists', table: toTable(existing) };
      }
    },
    async tableGet(p) {
      const [row] = await run<TableRow>(pool, sql.byName, [p.name]);
      return row ? toTable(row) : undefined;
    },
    async tableGetById(p) {
      const [row] = await run<TableRow>(pool, sql.byId, [p.id]);
      return row ? toTable(row) : undefined;
    },
    async tableList(p) {
      return (await run<TableRow>(pool, sql.list, [`${escapeLike(p.prefix ?? '')}%`])).map(toTable);
    },
    async tableUpdate(p) {
      const values = [p.name, JSON.stringify(p.definition), p.now, p.expected ? JSON.stringify(p.expected) : null];
      const updated = await transaction(pool, async (client) => {
        if (p.indexesChanged) await query(client, sql.lockForIndexes, [p.name]);
        const [row] = await query<TableRow>(client, p.indexesChanged ? sql.updateIndexes : sql.update, values);
        if (!row) return undefined;
        if (p.indexesChanged && p.dropIndexes?.length) await query(client, sql.dropIndexEntries, [row.id, p.dropIndexes]);
        const leasesChanged = await syncBackfills(client, row.id, p.definition, p.backfillOwner);
        return { row, leasesChanged };
      });
      if (!updated) return undefined;
      notifier.publish(tableCatalogChannel);
      if (updated.leasesChanged) notifier.publish(indexBackfillChannel);
      return toTable(updated.row);
    },
    async tableDelete(p) {
      const row = await transaction(pool, async (client) => {
        const [deleted] = await query<TableRow>(client, sql.deleteTable, [p.name]);
        if (deleted) {
          await query(client, sql.deleteContents, [deleted.id]);
          await query(client, { text: dropTableBackfills }, [deleted.id]);
        }
        return deleted;
      });
      if (!row) return undefined;
      const table = toTable(row);
      notifier.publish(tableCatalogChannel);
      // Readers of the table's shards wake up and find it gone.
      for (let shard = 0; shard < table.definition.shardCount; shard++)
        notifier.publish(streamChannel(table.id, shard));
      return table;
    },
    async itemGet(p) {
      const [row] = await run<StoredItem>(pool, sql.itemGet, [p.tableId, p.key.pk, p.key.sk]);
      return row;
    },
    async itemGetMany(p) {
      const rows = await run<{ pk: Buffer | null; sk: Buffer | null; item: string | null; size: number | null }>(pool, sql.itemGetMany, [
        p.keys.map((k) => k.tableId),
        p.keys.map((k) => k.key.pk),
        p.keys.map((k) => k.key.sk),
      ]);
      return rows.map((row) => (row.item === null ? undefined : (row as ItemRow)));
    },
    async itemStats(p) {
      const [row] = await run<{ count: number; bytes: string }>(pool, sql.itemStats, [p.tableId]);
      return { count: row?.count ?? 0, bytes: Number(row?.bytes ?? 0) };
    },
    async itemQuery(p) {
      return pageOf<PageRow>(
        async (after, rows, budget) => {
          const shape = queryShape(p, after ? after.sk : p.startAfter);
          return run<PageRow>(pool, shape.statement, [rows, budget, p.tableId, ...shape.values]);
        },
        p.limit,
        p.maxBytes,
      );
    },
    async itemScan(p) {
      return pageOf<PageRow>(
        async (after, rows, budget) => {
          const from: EncodedKey | null = after ?? p.startAfter;
          return from
            ? run<PageRow>(pool, scanAfter, [rows, budget, p.tableId, from.pk, from.sk])
            : run<PageRow>(pool, scanFirst, [rows, budget, p.tableId]);
        },
        p.limit,
        p.maxBytes,
      );
    },
    async itemCollectionBytes(p) {
      const [row] = await run<{ bytes: number }>(pool, sql.collectionBytes, [p.tableId, p.pk]);
      return row?.bytes ?? 0;
    },
    async itemExpiredKeys(p) {
      const rows = await run<{ pk: Buffer | null; sk: Buffer | null; next_expires_at: number | null }>(
        pool,
        sql.expired,
        [p.tableId, p.now, p.limit],
      );
      const keys: EncodedKey[] = [];
      for (const row of rows) if (row.pk && row.sk) keys.push({ pk: row.pk, sk: row.sk });
      return { keys, nextExpiresAt: keys.length > 0 ? null : (rows[0]?.next_expires_at ?? null) };
    },
  };
}

/**
 * `catalogWrite`'s table rows (`sluice apply`), on the client of its transaction: the name of the first
 * table whose condition fails, or undefined when all were made. The table store's own SQL.
 */
export async function writeTablesIn(client: pg.PoolClient, writes: CatalogTableWrites): Promise<string | undefined> {
  for (const t of writes.creates) {
    const [created] = await query<TableRow>(client, sql.create, [t.name, JSON.stringify(t.definition), writes.now, t.definition.shardCount]);
    if (!created) return t.name;
  }
  for (const t of writes.updates) {
    // An index change first waits for item writes in progress, as tableUpdate's does.
    if (t.indexesChanged) await query(client, sql.lockForIndexes, [t.name]);
    const [updated] = await query<TableRow>(client, t.indexesChanged ? sql.updateIndexes : sql.update, [t.name, JSON.stringify(t.definition), writes.now, JSON.stringify(t.expected)]);
    if (!updated) return t.name;
    if (!t.indexesChanged) continue;
    if (t.dropIndexes?.length) await query(client, sql.dropIndexEntries, [updated.id, t.dropIndexes]);
    await syncBackfills(client, updated.id, t.definition, undefined);
  }
  for (const name of writes.deletes) {
    const [deleted] = await query<TableRow>(client, sql.deleteTable, [name]);
    if (!deleted) return name;
    await query(client, sql.deleteContents, [deleted.id]);
    await query(client, { text: dropTableBackfills }, [deleted.id]);
  }
  return undefined;
}
