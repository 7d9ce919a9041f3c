/**
 * On SQLite a query on a secondary index is one range search of index_items' primary key, in the order
 * that key already has: no scan of the table or the index, no sort, so the LIMIT stops it after the
 * entries it returns (O(result)). Checked with EXPLAIN QUERY PLAN for every shape a query takes, on an
 * index of 10,000 entries. (PostgreSQL's row counters prove the same there: postgres/index-cost.test.ts.)
 * The store never runs ANALYZE; with statistics of a single table and index, SQLite may pick a skip-scan
 * and a sort for a resumed page instead, so the plan is checked as the store runs it, without them.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from './database.js';
import { indexQuerySql } from './index-items.js';
import { sqliteMigrations } from './migrations.js';

describe('SQLite index queries', () => {
  it('search a range of the index key, in key order, for every query shape', () => {
    const db = openSqliteDatabase({ path: ':memory:' }, sqliteMigrations);
    const insert = db.prepare(
      'INSERT INTO index_items (table_id, index_name, ipk, isk, pk, sk, item, size) VALUES (1, ?, ?, ?, ?, ?, ?, 10)',
    );
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++)
        insert.run('by-status', Buffer.from(`s${i % 100}`), Buffer.from([i >> 8, i & 0xff]), Buffer.from(`u${i}`), Buffer.alloc(0), '{}');
    })();
    const b = (text: string) => Buffer.from(text);
    for (const forward of [true, false])
      for (const lower of [null, { sk: b('a'), inclusive: true }, { sk: b('a'), inclusive: false }])
        for (const upper of [null, { sk: b('z'), inclusive: true }])
          for (const startAfter of [null, { ipk: b('s1'), isk: b('b'), pk: b('u1'), sk: b('') }]) {
            const { sql, params } = indexQuerySql({
              tableId: 1,
              index: 'by-status',
              ipk: b('s1'),
              lower,
              upper,
              startAfter,
              forward,
              limit: 10,
              maxBytes: 1e6,
            });
            const plan = db
              .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
              .all(...params)
              .map((row) => row.detail);
            expect(plan, sql).toHaveLength(1);
            expect(plan[0], sql).toMatch(/^SEARCH index_items USING PRIMARY KEY \(table_id=\? AND index_name=\? AND ipk=\?/);
            expect(plan.join(' '), sql).not.toMatch(/SCAN|TEMP B-TREE|(?<!index_)items\b/);
            expect(db.prepare(sql).all(...params).length).toBeLessThanOrEqual(11);
          }
    db.close();
  });
});
