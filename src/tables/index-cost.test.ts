/**
 * A query on a secondary index reads O(result) rows, not the partition or the table: 10,000 items, a
 * global index with 100 items per index partition and a local index with 100 items per table
 * partition; each query reads the entries it returns (and one more, to know a page is truncated) from
 * index_items and nothing from items. Before index entries were kept, every global index query read the
 * whole table (10,000 rows) and every local one the partition.
 *
 * Rows read are PostgreSQL's own counters (live rows read by sequential and index scans of items and
 * index_items), reported when a store's connections close: the table is loaded by one engine, counted,
 * queried by a second, counted again (as claim-cost.test.ts). Autovacuum is off for both tables so
 * nothing analyzes them meanwhile.
 */
import { afterEach, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { quoteIdentifier } from '../store/postgres/connection.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, withAdminClient } from '../testkit/postgres.js';

const ITEMS = 10_000;
const TABLES = ['items', 'index_items'];

let schema: string | undefined;
afterEach(async () => {
  if (schema) await dropSchema(schema);
  schema = undefined;
});

/** Live rows read per table (sequential scans and index fetches), once the counters stop moving. */
async function rowsRead(name: string): Promise<Record<string, number>> {
  return withAdminClient(async (client) => {
    const read = async () => {
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ relname: string; total: string }>(
        `SELECT relname, COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) AS total
         FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2)`,
        [name, TABLES],
      );
      return Object.fromEntries(rows.map((row) => [row.relname, Number(row.total)]));
    };
    let last = await read();
    for (let stable = 0; stable < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = await read();
      stable = JSON.stringify(now) === JSON.stringify(last) ? stable + 1 : 0;
      last = now;
    }
    return last;
  });
}

describePostgres('secondary index query cost on a 10,000-item table', () => {
  it('reads only the entries a query returns, from index_items, never the table', async () => {
    schema = freshSchemaName();
    const loader = await Sluice.open({ store: await openTestStore({ schema, dropSchemaOnClose: false }) });
    await loader.tables.createTable({
      name: 'tasks',
      partitionKey: { name: 'user', type: 'S' },
      sortKey: { name: 'id', type: 'N' },
      indexes: [
        { name: 'by-status', kind: 'global', partitionKey: { name: 'status', type: 'S' }, sortKey: { name: 'at', type: 'N' }, projection: { type: 'INCLUDE', nonKeyAttributes: ['note'] } },
        { name: 'by-at', kind: 'local', partitionKey: { name: 'user', type: 'S' }, sortKey: { name: 'at', type: 'N' }, projection: { type: 'ALL' } },
      ],
    });
    await withAdminClient(async (client) => {
      for (const table of TABLES)
        await client.query(`ALTER TABLE ${quoteIdentifier(schema!)}.${table} SET (autovacuum_enabled = false)`);
    });
    for (let start = 0; start < ITEMS; start += 100) {
      await loader.tables.transactWriteItems(
        Array.from({ length: 100 }, (_, k) => {
          const i = start + k;
          return { put: { tableName: 'tasks', item: { user: `u${i % 100}`, id: i, status: `s${Math.floor(i / 100)}`, at: i, note: 'n' } } };
        }),
      );
    }
    await loader.close();
    const before = await rowsRead(schema);

    const reader = await Sluice.open({ store: await openTestStore({ schema, dropSchemaOnClose: false }) });
    let returned = 0;
    let queries = 0;
    const query = async (input: Parameters<typeof reader.tables.query>[0]) => {
      const page = await reader.tables.query(input);
      returned += page.scannedCount;
      queries++;
      return page;
    };
    for (let q = 0; q < 10; q++) {
      const status = { tableName: 'tasks', indexName: 'by-status', keyConditionExpression: '#s = :s', expressionAttributeNames: { '#s': 'status' }, expressionAttributeValues: { ':s': `s${q * 7}` } };
      expect((await query({ ...status, limit: 10 })).items).toHaveLength(10);
      expect((await query(status)).items).toHaveLength(100);
      const local = await query({
        tableName: 'tasks',
        indexName: 'by-at',
        keyConditionExpression: '#u = :u AND #a >= :a',
        expressionAttributeNames: { '#u': 'user', '#a': 'at' },
        expressionAttributeValues: { ':u': `u${q}`, ':a': 5000 },
        limit: 10,
      });
      expect(local.items).toHaveLength(10);
    }
    await reader.close();
    const after = await rowsRead(schema);
    const items = (after.items ?? 0) - (before.items ?? 0);
    const entries = (after.index_items ?? 0) - (before.index_items ?? 0);
    if (process.env.INDEX_COST_DEBUG) console.log({ returned, queries, entries, items });
    expect(returned).toBe(1200);
    // Each query reads its entries plus at most one to know whether more follow.
    expect(entries).toBeLessThanOrEqual(returned + queries);
    expect(entries).toBeGreaterThanOrEqual(returned);
    expect(items).toBe(0);
  }, 180_000);
});
