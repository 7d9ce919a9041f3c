/**
 * Secondary index entries on SQLite (table index_items, migration 12): the statements an item write
 * runs to keep them, and the index reads. Entries are ordered by (ipk, isk, pk, sk) in the table's
 * primary key, so a query reads one index partition's range and nothing else: O(entries returned).
 */
import type { Statement } from 'better-sqlite3';
import type { EncodedKey } from '../table-definition.js';
import { hasIndex } from '../table-definition.js';
import type { IndexChanges, IndexPage, IndexRow, TableStore } from '../table-store.js';
import type { SqliteDatabase } from './database.js';

type IndexQueryParams = Parameters<TableStore['indexQuery']>[0];

const COLUMNS = 'ipk, isk, pk, sk, item, size';

function page(rows: Iterable<IndexRow>, limit: number, maxBytes: number): IndexPage {
  const out: IndexRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (out.length >= limit || bytes >= maxBytes) return { rows: out, truncated: true };
    out.push(row);
    bytes += row.size;
  }
  return { rows: out, truncated: false };
}

/** SQL of an index query page, from a fixed set of shapes (values are always placeholders). */
export function indexQuerySql(p: IndexQueryParams): { sql: string; params: unknown[] } {
  const where = ['table_id = ?', 'index_name = ?', 'ipk = ?'];
  const params: unknown[] = [p.tableId, p.index, p.ipk];
  if (p.lower) {
    where.push(p.lower.inclusive ? 'isk >= ?' : 'isk > ?');
    params.push(p.lower.sk);
  }
  if (p.upper) {
    where.push(p.upper.inclusive ? 'isk <= ?' : 'isk < ?');
    params.push(p.upper.sk);
  }
  if (p.startAfter) {
    where.push(p.forward ? '(isk, pk, sk) > (?, ?, ?)' : '(isk, pk, sk) < (?, ?, ?)');
    params.push(p.startAfter.isk, p.startAfter.pk, p.startAfter.sk);
  }
  const order = p.forward ? 'isk, pk, sk' : 'isk DESC, pk DESC, sk DESC';
  params.push(p.limit + 1);
  return {
    sql: `SELECT ${COLUMNS} FROM index_items WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`,
    params,
  };
}

/** The index entries of a database's tables, kept by the table and item writes. */
export type SqliteIndexItems = ReturnType<typeof createSqliteIndexItems>;

export function createSqliteIndexItems(db: SqliteDatabase) {
  const sql = {
    remove: db.prepare(
      'DELETE FROM index_items WHERE table_id = ? AND index_name = ? AND ipk = ? AND isk = ? AND pk = ? AND sk = ?',
    ),
    upsert: db.prepare(
      `INSERT INTO index_items (table_id, index_name, ipk, isk, pk, sk, item, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (table_id, index_name, ipk, isk, pk, sk) DO UPDATE SET item = excluded.item, size = excluded.size`,
    ),
    dropIndex: db.prepare('DELETE FROM index_items WHERE table_id = ? AND index_name = ?'),
    dropTable: db.prepare('DELETE FROM index_items WHERE table_id = ?'),
    tableDefinition: db.prepare<[number], { definition: string }>('SELECT definition FROM tables WHERE id = ?'),
    stats: db.prepare<[number], { index: string; count: number; bytes: number }>(
      'SELECT index_name AS "index", count(*) AS count, sum(size) AS bytes FROM index_items WHERE table_id = ? GROUP BY index_name',
    ),
    scanFirst: db.prepare<[number, string, number], IndexRow>(
      `SELECT ${COLUMNS} FROM index_items WHERE table_id = ? AND index_name = ? ORDER BY ipk, isk, pk, sk LIMIT ?`,
    ),
    scanAfter: db.prepare<[number, string, Buffer, Buffer, Buffer, Buffer, number], IndexRow>(
      `SELECT ${COLUMNS} FROM index_items WHERE table_id = ? AND index_name = ? AND (ipk, isk, pk, sk) > (?, ?, ?, ?)
       ORDER BY ipk, isk, pk, sk LIMIT ?`,
    ),
    itemsFirst: db.prepare<[number, number], { pk: Buffer; sk: Buffer; item: string }>(
      'SELECT pk, sk, item FROM items WHERE table_id = ? ORDER BY pk, sk LIMIT ?',
    ),
    itemsAfter: db.prepare<[number, Buffer, Buffer, number], { pk: Buffer; sk: Buffer; item: string }>(
      'SELECT pk, sk, item FROM items WHERE table_id = ? AND (pk, sk) > (?, ?) ORDER BY pk, sk LIMIT ?',
    ),
  };
  const queryStatements = new Map<string, Statement<unknown[], IndexRow>>();

  /** Applies one item's index changes; runs inside the item write's transaction. */
  function apply(tableId: number, key: EncodedKey, changes: IndexChanges | undefined): void {
    if (!changes) return;
    for (const e of changes.remove) sql.remove.run(tableId, e.index, e.ipk, e.isk, key.pk, key.sk);
    for (const e of changes.put) sql.upsert.run(tableId, e.index, e.ipk, e.isk, key.pk, key.sk, e.item, e.size);
  }

  const backfill = db.transaction((p: Parameters<TableStore['indexBackfill']>[0]): EncodedKey | null => {
    // A table deleted, or an index dropped, since the backfill began: nothing to write.
    const table = sql.tableDefinition.get(p.tableId);
    if (!table || !hasIndex(table.definition, p.index)) return null;
    const rows = p.after
      ? sql.itemsAfter.all(p.tableId, p.after.pk, p.after.sk, p.limit)
      : sql.itemsFirst.all(p.tableId, p.limit);
    for (const row of rows) {
      for (const e of p.entriesOf(row.item))
        sql.upsert.run(p.tableId, e.index, e.ipk, e.isk, row.pk, row.sk, e.item, e.size);
    }
    const last = rows[rows.length - 1];
    return last ? { pk: last.pk, sk: last.sk } : null;
  });

  return {
    apply,
    dropIndex: (tableId: number, index: string) => sql.dropIndex.run(tableId, index),
    dropTable: (tableId: number) => sql.dropTable.run(tableId),
    store: {
      async indexQuery(p) {
        const shape = indexQuerySql(p);
        let statement = queryStatements.get(shape.sql);
        if (!statement) {
          statement = db.prepare<unknown[], IndexRow>(shape.sql);
          queryStatements.set(shape.sql, statement);
        }
        return page(statement.iterate(...shape.params), p.limit, p.maxBytes);
      },
      async indexScan(p) {
        const s = p.startAfter;
        const rows = s
          ? sql.scanAfter.iterate(p.tableId, p.index, s.ipk, s.isk, s.pk, s.sk, p.limit + 1)
          : sql.scanFirst.iterate(p.tableId, p.index, p.limit + 1);
        return page(rows, p.limit, p.maxBytes);
      },
      async indexBackfill(p) {
        return backfill(p);
      },
      async indexStats(p) {
        return sql.stats.all(p.tableId);
      },
    } satisfies Pick<TableStore, 'indexQuery' | 'indexScan' | 'indexBackfill' | 'indexStats'>,
  };
}
