/**
 * Secondary index entries on PostgreSQL (table index_items, migration 12): index reads and the backfill
 * of a new index. Item writes keep the entries in their own statement (item-writes.ts). Entries are
 * ordered by (ipk, isk, pk, sk) in the primary key, so a query is one index range scan of the entries it
 * returns (plus one), whatever the size of the table or of the index.
 */
import type pg from 'pg';
import type { EncodedKey } from '../table-definition.js';
import type { IndexRow, TableStore } from '../table-store.js';
import { query, run, transaction, type Statement } from './connection.js';
import { pageOf } from './tables.js';
import { hasIndex } from '../table-definition.js';

interface IndexPageRow extends Omit<IndexRow, 'item'> {
  item: string | null;
}

type IndexQueryParams = Parameters<TableStore['indexQuery']>[0];

/**
 * The page statement of an index range, as tables.ts's pageStatement: $1 the row cap, $2 the byte
 * budget, $3 the table, $4 the index; `where` uses placeholders from $5 on.
 */
function pageStatement(name: string, where: string, order: string): Statement {
  return {
    name,
    text: `SELECT ipk, isk, pk, sk, size, CASE WHEN before < $2 THEN item END AS item
           FROM (
             SELECT ipk, isk, pk, sk, size, item,
                    coalesce(sum(size) OVER (ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
             FROM index_items WHERE table_id = $3 AND index_name = $4 AND ${where}
             ORDER BY ${order} LIMIT $1
           ) AS page`,
  };
}

function queryShape(p: IndexQueryParams, after: IndexPageRow | null): { statement: Statement; values: unknown[] } {
  const values: unknown[] = [p.ipk];
  const where = ['ipk = $5'];
  const shape: string[] = [p.forward ? 'f' : 'b'];
  const next = (value: unknown) => {
    values.push(value);
    return `$${values.length + 4}`;
  };
  if (p.lower) {
    where.push(`isk ${p.lower.inclusive ? '>=' : '>'} ${next(p.lower.sk)}`);
    shape.push(p.lower.inclusive ? 'L' : 'l');
  }
  if (p.upper) {
    where.push(`isk ${p.upper.inclusive ? '<=' : '<'} ${next(p.upper.sk)}`);
    shape.push(p.upper.inclusive ? 'U' : 'u');
  }
  const start = after ?? p.startAfter;
  if (start) {
    where.push(`(isk, pk, sk) ${p.forward ? '>' : '<'} (${next(start.isk)}, ${next(start.pk)}, ${next(start.sk)})`);
    shape.push('a');
  }
  const order = p.forward ? 'isk, pk, sk' : 'isk DESC, pk DESC, sk DESC';
  return { statement: pageStatement(`sluice_index_query_${shape.join('')}`, where.join(' AND '), order), values };
}

const scanFirst = pageStatement('sluice_index_scan_first', 'true', 'ipk, isk, pk, sk');
const scanAfter = pageStatement('sluice_index_scan_after', '(ipk, isk, pk, sk) > ($5, $6, $7, $8)', 'ipk, isk, pk, sk');

// The backfill locks each item it reads and rewrites it unchanged: the new row version makes a
// concurrent optimistic write that decided on the old version start again (its xmin check fails), so it
// then removes or replaces the entry written here instead of missing it (see item-writes.ts).
const backfillItems: Statement = {
  name: 'sluice_index_backfill_items',
  text: `WITH picked AS (
           SELECT pk, sk FROM items WHERE table_id = $1 AND (pk, sk) > ($2, $3)
           ORDER BY pk, sk LIMIT $4 FOR UPDATE
         )
         UPDATE items i SET item = i.item FROM picked
         WHERE i.table_id = $1 AND i.pk = picked.pk AND i.sk = picked.sk
         RETURNING i.pk, i.sk, i.item`,
};
// Taken first in each batch: a table delete or an index change (both lock the row FOR UPDATE) then
// waits for the batch to commit, or the batch waits for them and finds the table or index gone, so no
// entry outlives its table or index.
const lockTable: Statement = {
  name: 'sluice_index_backfill_table',
  text: 'SELECT definition FROM tables WHERE id = $1 FOR KEY SHARE',
};
const upsertEntries: Statement = {
  name: 'sluice_index_backfill_upsert',
  text: `INSERT INTO index_items (table_id, index_name, ipk, isk, pk, sk, item, size)
         SELECT $1, $2, * FROM unnest($3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::text[], $8::integer[])
         ON CONFLICT (table_id, index_name, ipk, isk, pk, sk) DO UPDATE SET item = excluded.item, size = excluded.size`,
};

const indexStats: Statement = {
  name: 'sluice_index_stats',
  text: `SELECT index_name AS "index", count(*)::integer AS count, coalesce(sum(size), 0)::bigint AS bytes
         FROM index_items WHERE table_id = $1 GROUP BY index_name`,
};

export function createPostgresIndexItems(
  pool: pg.Pool,
): Pick<TableStore, 'indexQuery' | 'indexScan' | 'indexBackfill' | 'indexStats'> {
  return {
    async indexStats(p) {
      const rows = await run<{ index: string; count: number; bytes: string }>(pool, indexStats, [p.tableId]);
      return rows.map((row) => ({ index: row.index, count: row.count, bytes: Number(row.bytes) }));
    },
    async indexQuery(p) {
      return pageOf<IndexPageRow>(
        async (after, rows, budget) => {
          const shape = queryShape(p, after);
          return run<IndexPageRow>(pool, shape.statement, [rows, budget, p.tableId, p.index, ...shape.values]);
        },
        p.limit,
        p.maxBytes,
      );
    },
    async indexScan(p) {
      return pageOf<IndexPageRow>(
        async (after, rows, budget) => {
          const from = after ?? p.startAfter;
          return from
            ? run<IndexPageRow>(pool, scanAfter, [rows, budget, p.tableId, p.index, from.ipk, from.isk, from.pk, from.sk])
            : run<IndexPageRow>(pool, scanFirst, [rows, budget, p.tableId, p.index]);
        },
        p.limit,
        p.maxBytes,
      );
    },
    async indexBackfill(p) {
      return transaction(pool, async (client): Promise<EncodedKey | null> => {
        const [table] = await query<{ definition: string }>(client, lockTable, [p.tableId]);
        if (!table || !hasIndex(table.definition, p.index)) return null;
        const rows = await query<{ pk: Buffer; sk: Buffer; item: string }>(client, backfillItems, [
          p.tableId,
          p.after?.pk ?? Buffer.alloc(0),
          p.after?.sk ?? Buffer.alloc(0),
          p.limit,
        ]);
        if (rows.length === 0) return null;
        const entries = rows.flatMap((row) => p.entriesOf(row.item).map((e) => ({ ...e, pk: row.pk, sk: row.sk })));
        if (entries.length > 0) {
          await query(client, upsertEntries, [
            p.tableId,
            p.index,
            entries.map((e) => e.ipk),
            entries.map((e) => e.isk),
            entries.map((e) => e.pk),
            entries.map((e) => e.sk),
            entries.map((e) => e.item),
            entries.map((e) => e.size),
          ]);
        }
        // RETURNING gives no order: the batch's last key is its greatest.
        const last = rows.reduce((a, b) => (Buffer.compare(a.pk, b.pk) || Buffer.compare(a.sk, b.sk)) >= 0 ? a : b);
        return { pk: last.pk, sk: last.sk };
      });
    },
  };
}
