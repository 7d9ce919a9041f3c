/**
 * Tables and items on SQLite. Each method is one synchronous better-sqlite3 transaction with
 * statements prepared once. Keys are BLOBs compared with memcmp, which is DynamoDB's order for the
 * encodings of tables/keys.ts. Item writes are in item-writes.ts, as on PostgreSQL.
 */
import type { TableDefinition } from '../table-definition.js';
import type { EncodedKey } from '../table-definition.js';
import type { Notifier } from '../notifier.js';
import {
  indexBackfillChannel,
  streamChannel,
  tableCatalogChannel,
  type ItemPage,
  type ItemRow,
  type StoredItem,
  type StoredTable,
  type TableStore,
} from '../table-store.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import type { CatalogTableWrites } from '../catalog-store.js';
import { createSqliteIndexItems } from './index-items.js';
import { createSqliteItemWrites } from './item-writes.js';
import { createSqliteIndexBackfills } from './index-backfills.js';

interface TableRow {
  id: number;
  name: string;
  definition: string;
  created_at: number;
  modified_at: number;
  index_version: number;
}

type ItemQueryParams = Parameters<TableStore['itemQuery']>[0];

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

/** Takes rows until `limit` rows or `maxBytes` bytes, reading no further than one row past the page. */
function page(rows: Iterable<ItemRow>, limit: number, maxBytes: number): ItemPage {
  const out: ItemRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (out.length >= limit || bytes >= maxBytes) return { rows: out, truncated: true };
    out.push(row);
    bytes += row.size;
  }
  return { rows: out, truncated: false };
}

/** SQL text of a query's range, built from a fixed set of shapes (values are always placeholders). */
function queryShape(p: ItemQueryParams): { sql: string; params: unknown[] } {
  const where = ['table_id = ?', 'pk = ?'];
  const params: unknown[] = [p.tableId, p.pk];
  if (p.lower) {
    where.push(p.lower.inclusive ? 'sk >= ?' : 'sk > ?');
    params.push(p.lower.sk);
  }
  if (p.upper) {
    where.push(p.upper.inclusive ? 'sk <= ?' : 'sk < ?');
    params.push(p.upper.sk);
  }
  if (p.startAfter) {
    where.push(p.forward ? 'sk > ?' : 'sk < ?');
    params.push(p.startAfter);
  }
  const order = p.forward ? 'ASC' : 'DESC';
  params.push(p.limit + 1);
  return {
    sql: `SELECT pk, sk, item, size FROM items WHERE ${where.join(' AND ')} ORDER BY sk ${order} LIMIT ?`,
    params,
  };
}

export function createSqliteTableStore(
  db: SqliteDatabase,
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
  | 'itemWrite'
  | 'itemQuery'
  | 'itemScan'
  | 'itemExpiredKeys'
  | 'indexQuery'
  | 'indexScan'
  | 'indexBackfill'
  | 'indexStats'
  | 'backfillList'
  | 'backfillAcquire'
  | 'backfillRenew'
  | 'backfillEnd'
  | 'itemCollectionBytes'
> {
  const indexItems = createSqliteIndexItems(db);
  const backfills = createSqliteIndexBackfills(db, notifier);
  const { itemWrite } = createSqliteItemWrites(db, notifier, indexItems);
  const sql = {
    tableByName: db.prepare<[string], TableRow>('SELECT * FROM tables WHERE name = ?'),
    tableById: db.prepare<[number], TableRow>('SELECT * FROM tables WHERE id = ?'),
    tableList: db.prepare<[string], TableRow>(
      "SELECT * FROM tables WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
    ),
    tableInsert: db.prepare(
      // index_version 1: indexes created with the table are kept from its first write.
      'INSERT INTO tables (name, definition, created_at, modified_at, index_version) VALUES (?, ?, ?, ?, 1)',
    ),
    tableUpdate: db.prepare(
      'UPDATE tables SET definition = ?, modified_at = ?, index_version = index_version + ? WHERE name = ?',
    ),
    // The compare-and-set: the stored text is JSON.stringify of the definition, as the caller's is.
    tableUpdateIf: db.prepare(
      'UPDATE tables SET definition = ?, modified_at = ?, index_version = index_version + ? WHERE name = ? AND definition = ?',
    ),
    tableDelete: db.prepare('DELETE FROM tables WHERE id = ?'),
    shardInsert: db.prepare('INSERT INTO stream_shards (table_id, shard, last_seq) VALUES (?, ?, 0)'),
    deleteItems: db.prepare('DELETE FROM items WHERE table_id = ?'),
    deleteShards: db.prepare('DELETE FROM stream_shards WHERE table_id = ?'),
    deleteRecords: db.prepare('DELETE FROM stream_records WHERE table_id = ?'),
    deleteCheckpoints: db.prepare('DELETE FROM stream_checkpoints WHERE table_id = ?'),
    deleteCollections: db.prepare('DELETE FROM item_collections WHERE table_id = ?'),
    collectionBytes: db.prepare<[number, Buffer], { bytes: number }>('SELECT bytes FROM item_collections WHERE table_id = ? AND pk = ?'),
    itemGet: db.prepare<[number, Buffer, Buffer], StoredItem>('SELECT item, size FROM items WHERE table_id = ? AND pk = ? AND sk = ?'),
    itemRow: db.prepare<[number, Buffer, Buffer], ItemRow>(
      'SELECT pk, sk, item, size FROM items WHERE table_id = ? AND pk = ? AND sk = ?',
    ),
    itemStats: db.prepare<[number], { count: number; bytes: number | null }>(
      'SELECT count(*) AS count, sum(size) AS bytes FROM items WHERE table_id = ?',
    ),
    scanFirst: db.prepare<[number, number], ItemRow>(
      'SELECT pk, sk, item, size FROM items WHERE table_id = ? ORDER BY pk, sk LIMIT ?',
    ),
    scanAfter: db.prepare<[number, Buffer, Buffer, number], ItemRow>(
      'SELECT pk, sk, item, size FROM items WHERE table_id = ? AND (pk, sk) > (?, ?) ORDER BY pk, sk LIMIT ?',
    ),
    expired: db.prepare<[number, number, number], { pk: Buffer; sk: Buffer }>(
      'SELECT pk, sk FROM items WHERE table_id = ? AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?',
    ),
    nextExpiry: db.prepare<[number, number], { next: number | null }>(
      'SELECT MIN(expires_at) AS next FROM items WHERE table_id = ? AND expires_at > ?',
    ),
  };
  const queryStatements = new Map<string, Statement<unknown[], ItemRow>>();

  const createTable = db.transaction((p: Parameters<TableStore['tableCreate']>[0]) => {
    const existing = sql.tableByName.get(p.name);
    if (existing) return { outcome: 'exists' as const, table: toTable(existing) };
    const id = Number(
      sql.tableInsert.run(p.name, JSON.stringify(p.definition), p.now, p.now).lastInsertRowid,
    );
    for (let shard = 0; shard < p.definition.shardCount; shard++) sql.shardInsert.run(id, shard);
    return { outcome: 'created' as const, table: toTable(sql.tableById.get(id)!) };
  });

  const updateTable = db.transaction((p: Parameters<TableStore['tableUpdate']>[0]) => {
    const bump = p.indexesChanged ? 1 : 0;
    const changed = p.expected
      ? sql.tableUpdateIf.run(JSON.stringify(p.definition), p.now, bump, p.name, JSON.stringify(p.expected))
      : sql.tableUpdate.run(JSON.stringify(p.definition), p.now, bump, p.name);
    if (changed.changes === 0) return undefined;
    const table = toTable(sql.tableByName.get(p.name)!);
    for (const index of p.dropIndexes ?? []) indexItems.dropIndex(table.id, index);
    const leasesChanged = backfills.sync(table.id, p.definition, p.backfillOwner);
    return { table, leasesChanged };
  });

  const deleteTable = db.transaction((p: { name: string }) => {
    const existing = sql.tableByName.get(p.name);
    if (!existing) return undefined;
    sql.deleteItems.run(existing.id);
    indexItems.dropTable(existing.id);
    backfills.dropTable(existing.id);
    sql.deleteRecords.run(existing.id);
    sql.deleteShards.run(existing.id);
    sql.deleteCheckpoints.run(existing.id);
    sql.deleteCollections.run(existing.id);
    sql.tableDelete.run(existing.id);
    return toTable(existing);
  });

  const getMany = db.transaction((p: Parameters<TableStore['itemGetMany']>[0]) =>
    p.keys.map(({ tableId, key }) => sql.itemRow.get(tableId, key.pk, key.sk)),
  );
  const expiredKeys = db.transaction((p: Parameters<TableStore['itemExpiredKeys']>[0]) => {
    const keys: EncodedKey[] = sql.expired
      .all(p.tableId, p.now, p.limit)
      .map((row) => ({ pk: row.pk, sk: row.sk }));
    const nextExpiresAt = keys.length > 0 ? null : (sql.nextExpiry.get(p.tableId, p.now)?.next ?? null);
    return { keys, nextExpiresAt };
  });

  const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

  return {
    async tableCreate(p) {
      const result = createTable(p);
      if (result.outcome === 'created') notifier.publish(tableCatalogChannel);
      return result;
    },
    async tableGet(p) {
      const row = sql.tableByName.get(p.name);
      return row ? toTable(row) : undefined;
    },
    async tableGetById(p) {
      const row = sql.tableById.get(p.id);
      return row ? toTable(row) : undefined;
    },
    async tableList(p) {
      return sql.tableList.all(`${escapeLike(p.prefix ?? '')}%`).map(toTable);
    },
    async tableUpdate(p) {
      const updated = updateTable(p);
      if (!updated) return undefined;
      notifier.publish(tableCatalogChannel);
      if (updated.leasesChanged) notifier.publish(indexBackfillChannel);
      return updated.table;
    },
    async tableDelete(p) {
      const table = deleteTable(p);
      if (table) {
        notifier.publish(tableCatalogChannel);
        // Readers of the table's shards wake up and find it gone.
        for (let shard = 0; shard < table.definition.shardCount; shard++)
          notifier.publish(streamChannel(table.id, shard));
      }
      return table;
    },
    async itemGet(p) {
      return sql.itemGet.get(p.tableId, p.key.pk, p.key.sk);
    },
    async itemGetMany(p) {
      return getMany(p);
    },
    async itemStats(p) {
      const row = sql.itemStats.get(p.tableId)!;
      return { count: row.count, bytes: row.bytes ?? 0 };
    },
    async itemQuery(p) {
      const shape = queryShape(p);
      let statement = queryStatements.get(shape.sql);
      if (!statement) {
        statement = db.prepare<unknown[], ItemRow>(shape.sql);
        queryStatements.set(shape.sql, statement);
      }
      return page(statement.iterate(...shape.params), p.limit, p.maxBytes);
    },
    async itemScan(p) {
      const rows = p.startAfter
        ? sql.scanAfter.iterate(p.tableId, p.startAfter.pk, p.startAfter.sk, p.limit + 1)
        : sql.scanFirst.iterate(p.tableId, p.limit + 1);
      return page(rows, p.limit, p.maxBytes);
    },
    async itemExpiredKeys(p) {
      return expiredKeys(p);
    },
    itemWrite,
    async itemCollectionBytes(p) {
      return sql.collectionBytes.get(p.tableId, p.pk)?.bytes ?? 0;
    },
    ...indexItems.store,
    ...backfills.store,
  };
}

/**
 * `catalogWrite`'s table rows (`sluice apply`), inside its transaction: the name of the first table whose
 * condition fails, or undefined when all were made. The same statements as the table store's create,
 * compare-and-set update (with its index change) and delete.
 */
export function sqliteTableRowWrites(db: SqliteDatabase, notifier: Notifier): (writes: CatalogTableWrites) => string | undefined {
  const indexItems = createSqliteIndexItems(db);
  const backfills = createSqliteIndexBackfills(db, notifier);
  const sql = {
    byName: db.prepare<[string], TableRow>('SELECT * FROM tables WHERE name = ?'),
    insert: db.prepare('INSERT INTO tables (name, definition, created_at, modified_at, index_version) VALUES (?, ?, ?, ?, 1)'),
    shardInsert: db.prepare('INSERT INTO stream_shards (table_id, shard, last_seq) VALUES (?, ?, 0)'),
    updateIf: db.prepare('UPDATE tables SET definition = ?, modified_at = ?, index_version = index_version + ? WHERE name = ? AND definition = ?'),
    deleteItems: db.prepare('DELETE FROM items WHERE table_id = ?'),
    deleteRecords: db.prepare('DELETE FROM stream_records WHERE table_id = ?'),
    deleteShards: db.prepare('DELETE FROM stream_shards WHERE table_id = ?'),
    deleteCheckpoints: db.prepare('DELETE FROM stream_checkpoints WHERE table_id = ?'),
    deleteCollections: db.prepare('DELETE FROM item_collections WHERE table_id = ?'),
    deleteTable: db.prepare('DELETE FROM tables WHERE id = ?'),
  };
  return (writes) => {
    for (const t of writes.creates) {
      if (sql.byName.get(t.name)) return t.name;
      const id = Number(sql.insert.run(t.name, JSON.stringify(t.definition), writes.now, writes.now).lastInsertRowid);
      for (let shard = 0; shard < t.definition.shardCount; shard++) sql.shardInsert.run(id, shard);
    }
    for (const t of writes.updates) {
      if (sql.updateIf.run(JSON.stringify(t.definition), writes.now, t.indexesChanged ? 1 : 0, t.name, JSON.stringify(t.expected)).changes !== 1) return t.name;
      if (!t.indexesChanged) continue;
      const { id } = sql.byName.get(t.name)!;
      for (const index of t.dropIndexes ?? []) indexItems.dropIndex(id, index);
      backfills.sync(id, t.definition, undefined);
    }
    for (const name of writes.deletes) {
      const existing = sql.byName.get(name);
      if (!existing) return name;
      sql.deleteItems.run(existing.id);
      indexItems.dropTable(existing.id);
      backfills.dropTable(existing.id);
      sql.deleteRecords.run(existing.id);
      sql.deleteShards.run(existing.id);
      sql.deleteCheckpoints.run(existing.id);
      sql.deleteCollections.run(existing.id);
      sql.deleteTable.run(existing.id);
    }
    return undefined;
  };
}
